//! `tdm validate`: every problem of one or more packs, for people or tools.

use clap::{Args, ValueEnum};
use serde_json::json;
use std::path::PathBuf;
use tdm_core::pack::Problem;
use tdm_core::tools::{load_cases, overlay_losses};
use tdm_core::{LoadOptions, Pack, PackError, PackSource, Plugins, load_pack_with};

use crate::context;
use crate::exit::Exit;

/// Arguments of `tdm validate`.
#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// Pack directories.
    #[arg(value_name = "PACK", required = true)]
    pub packs: Vec<PathBuf>,
    /// How problems are printed: `human` (snippets, on standard error),
    /// `plain` (one line each, on standard output), `json` (for tools, on standard output).
    #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    /// The previous version of the pack (a directory or `DIR@REV`): flags
    /// content changed under the same version, a version that went down,
    /// and a major clinical change under a patch-level bump.
    #[arg(long, value_name = "OLD_PACK")]
    pub against: Option<String>,
    /// Refuse a pack with warnings too: a pack that extends another and
    /// drops a target, an indication or a dose level of its base.
    #[arg(long)]
    pub deny_warnings: bool,
}
/// Renderings of pack problems.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ErrorFormat {
    /// Snippets with a caret and help lines.
    Human,
    /// `file:line:column: message`, one per line.
    Plain,
    /// A JSON object per pack with every problem.
    Json,
}

pub(crate) fn run(args: &ValidateArgs) -> Exit {
    let mut reports = Vec::new();
    let mut all_valid = true;
    // The last pack loaded: what `--against` compares.
    let mut loaded: Option<Pack> = None;
    for dir in &args.packs {
        // The pack and its test cases: a case file an editor flags must fail here too.
        // Plugins' pins are checked; the libraries are not loaded.
        let options = LoadOptions {
            plugins: Plugins::VerifyOnly,
            trust: None,
        };
        let outcome = load_pack_with(PackSource::parse(&dir.to_string_lossy()), &options)
            .and_then(|pack| load_cases(dir).map(|cases| (pack, cases.len())));
        let outcome = outcome.and_then(|(pack, cases)| {
            let losses = overlay_losses(PackSource::parse(&dir.to_string_lossy()))?;
            Ok((pack, cases, losses))
        });
        match outcome {
            Ok((pack, cases, losses)) => {
                let models = tdm_core::tools::model_warnings(&pack);
                // A model that disagrees with the tables is shown, never refused:
                // refusing would push an author to "fix" a real disagreement.
                let refused = args.deny_warnings && !losses.is_empty();
                all_valid &= !refused;
                match args.error_format {
                    ErrorFormat::Json => reports.push(json!({
                        "pack": dir.display().to_string(), "valid": !refused, "name": pack.id().name,
                        "version": pack.id().version, "digest": pack.id().digest, "drugs": pack.drugs().len(),
                        "cases": cases, "problems": [],
                        "warnings": losses.iter().map(problem_json).chain(models.iter().map(|(drug, model, message)| json!({
                            "kind": "model", "drug": drug, "model": model, "message": message,
                        }))).collect::<Vec<_>>(),
                    })),
                    _ => {
                        println!(
                            "{}: valid — {} {} ({}), {} drugs, {} test cases",
                            dir.display(),
                            pack.id().name,
                            pack.id().version,
                            pack.id().digest,
                            pack.drugs().len(),
                            cases
                        );
                        for w in &losses {
                            println!("{}: warning: {w}", dir.display());
                        }
                        for (_, _, message) in &models {
                            println!("{}: warning: {message}", dir.display());
                        }
                        if refused {
                            println!(
                                "{}: refused: {} warning(s) and --deny-warnings",
                                dir.display(),
                                losses.len()
                            );
                        }
                    }
                }
                loaded = Some(pack);
            }
            Err(error) => {
                all_valid = false;
                match args.error_format {
                    ErrorFormat::Human => eprintln!("{:?}", miette::Report::new(error)),
                    ErrorFormat::Plain => print!("{}", plain(&error)),
                    ErrorFormat::Json => reports.push(as_json(dir, &error)),
                }
            }
        }
    }
    let mut version_problems = Vec::new();
    if let (Some(old), true) = (&args.against, all_valid) {
        let [dir] = args.packs.as_slice() else {
            eprintln!(
                "error: --against compares one pack with its previous version; give one PACK"
            );
            return Exit::Usage;
        };
        let old = match context::load_pack(old, false) {
            Ok(p) => p,
            Err(e) => return e.report(),
        };
        // Every pack given was valid, so the one pack is loaded.
        let Some(new) = &loaded else {
            return Exit::PackRefused;
        };
        version_problems = against(&old, new);
        match args.error_format {
            ErrorFormat::Json => {
                if let Some(report) = reports.last_mut() {
                    report["against"] = json!({
                        "version": old.id().version, "digest": old.id().digest, "problems": version_problems,
                    });
                }
            }
            _ if version_problems.is_empty() => println!(
                "{}: version {} against {}: consistent",
                dir.display(),
                new.id().version,
                old.id().version
            ),
            _ => {
                for p in &version_problems {
                    println!("{}: {p}", dir.display());
                }
            }
        }
    }
    if args.error_format == ErrorFormat::Json {
        let out = if args.packs.len() == 1 {
            reports.remove(0)
        } else {
            json!(reports)
        };
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    if !all_valid {
        Exit::PackRefused
    } else if !version_problems.is_empty() {
        Exit::Failures
    } else {
        Exit::Ok
    }
}

/// MAJOR.MINOR.PATCH of a version the loader checked (pre-release and
/// build ignored).
fn triple(version: &str) -> (u64, u64, u64) {
    semver::Version::parse(version).map_or((0, 0, 0), |v| (v.major, v.minor, v.patch))
}

/// What is wrong with `new`'s version, given the `old` pack it follows.
fn against(old: &Pack, new: &Pack) -> Vec<String> {
    let mut problems = Vec::new();
    let (was, is) = (triple(&old.id().version), triple(&new.id().version));
    if old.id().digest != new.id().digest && old.id().version == new.id().version {
        problems.push(format!(
            "the content changed ({} -> {}) but the version is still {}: raise it",
            crate::commands::diff::short(&old.id().digest),
            crate::commands::diff::short(&new.id().digest),
            new.id().version
        ));
    }
    if old.id().digest != new.id().digest
        && !new
            .changelog()
            .iter()
            .any(|e| e.version == new.id().version)
    {
        problems.push(format!(
            "version {} has no changelog entry saying what changed",
            new.id().version
        ));
    }
    if is < was {
        problems.push(format!(
            "the version went down: {} -> {}",
            old.id().version,
            new.id().version
        ));
    }
    let diff = tdm_core::tools::diff_packs(old, new);
    let patch_only = is > was && is.0 == was.0 && is.1 == was.1;
    if patch_only {
        let major: Vec<String> = diff
            .changes
            .iter()
            .filter(|c| c.impact == tdm_core::tools::Impact::Major)
            .map(|c| {
                format!(
                    "{}{}",
                    c.drug
                        .as_deref()
                        .map(|d| format!("{d}: "))
                        .unwrap_or_default(),
                    c.what
                )
            })
            .collect();
        if !major.is_empty() {
            problems.push(format!(
                "a major clinical change under a patch-level bump ({} -> {}): {}; raise the minor or major version",
                old.id().version,
                new.id().version,
                major.join("; ")
            ));
        }
    }
    problems
}

/// One line per problem: `file:line:column: message`, then its help indented.
pub(crate) fn plain(error: &PackError) -> String {
    let mut out = String::new();
    match error {
        PackError::Io { .. } => out.push_str(&format!("{error}\n")),
        PackError::Invalid { path, problems, .. } => {
            for p in problems {
                out.push_str(&format!("{}/{p}\n", path.display()));
                if let Some(help) = &p.help {
                    out.push_str(&format!("    help: {help}\n"));
                }
            }
            out.push_str(&format!("{error}\n"));
        }
    }
    out
}

fn problem_json(p: &Problem) -> serde_json::Value {
    json!({
        "kind": p.kind.as_str(), "file": p.file, "line": p.position.line,
        "column": p.position.column, "message": p.message, "help": p.help,
    })
}

fn as_json(dir: &std::path::Path, error: &PackError) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = match error {
        PackError::Io { path, error } => vec![json!({
            "kind": "file", "file": path.display().to_string(), "line": null, "column": null,
            "message": format!("cannot read the file: {error}"), "help": null,
        })],
        PackError::Invalid { problems, .. } => problems.iter().map(problem_json).collect(),
    };
    json!({"pack": dir.display().to_string(), "valid": false, "problems": problems})
}
