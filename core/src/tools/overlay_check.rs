//! What a pack that extends another takes away from its base: a target, an
//! indication or a dose level the base had and the override no longer has.
//! An override replaces a top-level key whole, so rewriting `targets:` to
//! change CML silently drops GIST; `tdm validate` warns of each such loss,
//! at the base's file and line (`--deny-warnings` refuses the pack).

use crate::pack::error::{PackError, Position, Problem, ProblemKind};
use crate::pack::model::{Drug, Pack};
use crate::pack::overlay::{base_of, is_overlay};
use crate::pack::source::PackSource;
use crate::pack::{LoadOptions, Plugins, load_pack_with};

/// Every target, indication and dose level of the base that the overlay's
/// resolved pack lacks, for the drugs both have. Empty for a pack that
/// extends none.
pub fn overlay_losses(source: impl Into<PackSource>) -> Result<Vec<Problem>, PackError> {
    let source = source.into();
    let files = source.read()?;
    if !is_overlay(&files[0].1) {
        return Ok(Vec::new());
    }
    let (base_source, prefix) = base_of(&source, &files[0].1)?;
    let options = LoadOptions {
        plugins: Plugins::VerifyOnly,
        ..LoadOptions::default()
    };
    let base = load_pack_with(base_source.clone(), &options)?;
    let resolved = load_pack_with(source, &options)?;
    let base_files = base_source.read()?;
    let mut losses = Vec::new();
    for drug in base.drugs() {
        let Some(over) = resolved.drug(&drug.name) else {
            continue; // disabled on purpose: `disable:` names it
        };
        let file = base_files
            .iter()
            .find(|(name, text)| name.starts_with("drugs/") && declares(text, &drug.name));
        let at = |needle: &str| -> (String, Position) {
            let (name, text) = file.map_or(("drugs/", ""), |(n, t)| (n.as_str(), t.as_str()));
            let line = text
                .lines()
                .position(|l| l.trim().trim_start_matches("- ").trim() == needle)
                .map_or(0, |i| i as u64 + 1);
            (format!("{prefix}{name}"), Position { line, column: 1 })
        };
        for loss in lost(drug, over, &resolved, &base) {
            let (file, position) = at(&loss.needle);
            losses.push(
                Problem::new(ProblemKind::Overlay, &file, position, loss.message).with_help(
                    "give it again in the override if it still applies, or say in the changelog why it is dropped",
                ),
            );
        }
    }
    Ok(losses)
}

/// Whether a drug file's text declares `drug: <name>`.
fn declares(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("drug:")
            .is_some_and(|v| v.trim().trim_matches('"').eq_ignore_ascii_case(name))
    })
}

struct Loss {
    /// Text on the base's line that holds what was lost.
    needle: String,
    message: String,
}

fn lost(base: &Drug, over: &Drug, resolved: &Pack, base_pack: &Pack) -> Vec<Loss> {
    let name = &base.name;
    let (of, by) = (&base_pack.id().name, &resolved.id().name);
    let mut out = Vec::new();
    for t in &base.targets {
        if !over.targets.iter().any(|o| o.id == t.id) {
            out.push(Loss {
                needle: format!("id: {}", t.id),
                message: format!("{by} drops target `{}` of {name} that {of} has", t.id),
            });
        }
    }
    let indications = |d: &Drug| -> Vec<String> {
        d.targets
            .iter()
            .flat_map(|t| t.indications.iter().map(|i| i.to_lowercase()))
            .collect()
    };
    let kept = indications(over);
    let mut seen = Vec::new();
    for t in &base.targets {
        for i in &t.indications {
            let key = i.to_lowercase();
            if !kept.contains(&key) && !seen.contains(&key) {
                seen.push(key);
                out.push(Loss {
                    needle: format!("id: {}", t.id),
                    message: format!(
                        "{by} has no target for {i} in {name}, which {of} has: such samples would be refused"
                    ),
                });
            }
        }
    }
    for level in &base.dosing.levels {
        let same = |l: &crate::pack::model::DoseLevel| {
            l.mg == level.mg && l.interval_h == level.interval_h
        };
        if !over.dosing.levels.iter().any(same) {
            out.push(Loss {
                needle: format!("mg: {}", crate::result::num::Num(level.mg)),
                message: format!("{by} drops the dose level {level} of {name} that {of} has"),
            });
        }
    }
    out
}
