//! Packs that extend another: an institution's pack names a base pack and a
//! version requirement, and gives only what differs.
//!
//! ```yaml
//! extends: {pack: ../../ki-oncology, version: "^1.0"}
//! disable: [vandetanib]        # base drugs not used here
//! policy: {...}                # each policy key given replaces the base's
//! sources: {...}               # added to the base's
//! ```
//!
//! A drug file of the overlay replaces, key by key at its top level, the
//! base's file for the same drug (`targets:` replaces the base's targets);
//! a drug the base lacks is added. The resolved pack is written out as the
//! files the loader takes, so it gets every check and its own digest, and
//! every line keeps the file it came from: a problem is reported in the
//! file and line an author edits.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::pack::error::{PackError, Position, Problem, ProblemKind};
use crate::pack::source::{PackFiles, PackSource};

/// Checks that a base pack is valid on its own and gives its version (the
/// loader's check, passed in so that resolving needs no loader).
pub(crate) type CheckBase<'a> = dyn Fn(&PackSource, &PackFiles) -> Result<String, PackError> + 'a;

/// Where a line of a resolved file came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, relative to the overlay pack (`../../ki-oncology/drugs/imatinib.yaml`).
    pub file: String,
    /// Its line there, 1-based.
    pub line: u64,
}

/// One file of a resolved pack: its text and the origin of each line.
#[derive(Debug, Clone)]
pub struct ResolvedFile {
    /// Relative name in the resolved pack (`drugs/imatinib.yaml`).
    pub name: String,
    /// The text the loader reads.
    pub text: String,
    /// One origin per line of `text`.
    pub origins: Vec<Origin>,
}

impl ResolvedFile {
    /// A file taken as it is: every line from `prefix` + `name`.
    pub(crate) fn as_is(name: &str, text: &str, prefix: &str) -> Self {
        ResolvedFile {
            name: name.to_owned(),
            text: text.to_owned(),
            origins: (1..=text.lines().count() as u64)
                .map(|line| Origin {
                    file: format!("{prefix}{name}"),
                    line,
                })
                .collect(),
        }
    }
}

/// The base an overlay names, as written in its manifest.
struct Extends {
    pack: String,
    requirement: Option<String>,
    disable: Vec<String>,
}

const MAX_DEPTH: usize = 8;

/// The base an overlay's manifest names, and how its files are named seen
/// from the overlay (`../../ki-oncology/`).
pub(crate) fn base_of(
    source: &PackSource,
    manifest: &str,
) -> Result<(PackSource, String), PackError> {
    let refuse = |why: String| {
        let problem = Problem::new(
            ProblemKind::Overlay,
            "pack.yaml",
            Position {
                line: line_of_key(manifest, "extends"),
                column: 1,
            },
            why,
        );
        PackError::invalid(source.location(), vec![problem])
    };
    let extends = read_extends(manifest).map_err(refuse)?;
    let base = source.join(&extends.pack).map_err(refuse)?;
    Ok((base, format!("{}/", extends.pack.trim_end_matches('/'))))
}

/// Whether a manifest extends another pack.
pub(crate) fn is_overlay(manifest: &str) -> bool {
    manifest.lines().any(|l| top_key(l) == Some("extends"))
}

/// Resolves the overlay in `dir` (its files as read) to the files of the
/// resolved pack. `origin_prefix` places the files relative to the pack
/// the user named (for a base of a base).
pub(crate) fn resolve(
    source: &PackSource,
    files: PackFiles,
    depth: usize,
    prefix: &str,
    check_base: &CheckBase<'_>,
) -> Result<Vec<ResolvedFile>, PackError> {
    let dir = source.location();
    let refuse = |file: &str, line: u64, message: String, help: &str| {
        let problem = Problem::new(
            ProblemKind::Overlay,
            &format!("{prefix}{file}"),
            Position { line, column: 1 },
            message,
        )
        .with_help(help);
        PackError::invalid(dir.to_path_buf(), vec![problem])
    };
    let own = |name: &str, text: &str| ResolvedFile::as_is(name, text, prefix);
    let manifest = files.first().map(|f| f.1.clone()).unwrap_or_default();
    let extends_line = line_of_key(&manifest, "extends");
    let extends = read_extends(&manifest).map_err(|why| {
        refuse(
            "pack.yaml",
            extends_line,
            why,
            "write `extends: {pack: <directory of the base pack>, version: \"^1.0\"}`",
        )
    })?;
    if depth >= MAX_DEPTH {
        return Err(refuse(
            "pack.yaml",
            extends_line,
            format!("packs extend each other more than {MAX_DEPTH} deep (a loop?)"),
            "an overlay extends a published pack, which extends none",
        ));
    }

    let base_prefix = format!("{prefix}{}/", extends.pack.trim_end_matches('/'));
    // The base, read once: resolved if it extends another in turn, and
    // valid on its own, of a version the overlay accepts.
    let unusable = |e: PackError| {
        refuse(
            "pack.yaml",
            extends_line,
            format!(
                "the base pack `{}` cannot be used: {e}{}",
                extends.pack,
                e.problems()
                    .first()
                    .map(|p| format!(" (first: {p})"))
                    .unwrap_or_default()
            ),
            "fix the base pack, or point `extends.pack` at a valid one",
        )
    };
    let base_source = source.join(&extends.pack).map_err(|why| {
        refuse(
            "pack.yaml",
            extends_line,
            why,
            "load the pack from its directory",
        )
    })?;
    let base_files = base_source.read().map_err(unusable)?;
    let base: Vec<ResolvedFile> = if is_overlay(&base_files[0].1) {
        resolve(
            &base_source,
            base_files,
            depth + 1,
            &base_prefix,
            check_base,
        )
        .map_err(unusable)?
    } else {
        base_files
            .iter()
            .map(|(name, text)| ResolvedFile::as_is(name, text, &base_prefix))
            .collect()
    };
    let texts: Vec<(String, String)> = base
        .iter()
        .map(|f| (f.name.clone(), f.text.clone()))
        .collect();
    let base_version = check_base(&base_source, &texts).map_err(unusable)?;
    if let Some(req) = &extends.requirement {
        match version_matches(req, &base_version) {
            Some(true) => {}
            Some(false) => {
                return Err(refuse(
                    "pack.yaml",
                    extends_line,
                    format!(
                        "the base pack `{}` is version {}, which does not meet `{req}`",
                        extends.pack, base_version
                    ),
                    "update the requirement after reviewing the base's changes (`tdm diff`)",
                ));
            }
            None => {
                return Err(refuse(
                    "pack.yaml",
                    extends_line,
                    format!("`{req}` is not a version requirement"),
                    "write `1.2.3`, `^1.2`, `~1.2.3` or `>=1.2.0`",
                ));
            }
        }
    }
    let drug_of = |text: &str| -> Option<String> {
        crate::pack::yaml::to_json_value(text, "drug")
            .ok()
            .and_then(|v| v.get("drug").and_then(Value::as_str).map(str::to_lowercase))
    };
    // Overlay drug files by the drug they name.
    let mut overlay_drugs: BTreeMap<String, ResolvedFile> = BTreeMap::new();
    let mut added = Vec::new();
    let mut scripts = Vec::new();
    for (name, text) in files.iter().skip(1) {
        if name.starts_with("drugs/") {
            match drug_of(text) {
                Some(drug) => {
                    overlay_drugs.insert(drug, own(name, text));
                }
                // Not readable as a drug: loaded as is, to be reported there.
                None => added.push(own(name, text)),
            }
        } else {
            scripts.push(own(name, text));
        }
    }
    let mut resolved = vec![merge_manifest(&base[0], &own("pack.yaml", &manifest))];
    let mut known = Vec::new();
    for file in &base[1..] {
        if !file.name.starts_with("drugs/") {
            if !scripts.iter().any(|s| s.name == file.name) {
                resolved.push(file.clone());
            }
            continue;
        }
        let drug = drug_of(&file.text).unwrap_or_default();
        known.push(drug.clone());
        if extends
            .disable
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&drug))
        {
            continue;
        }
        match overlay_drugs.remove(&drug) {
            Some(over) => resolved.push(merge_blocks(file, &over, &[])),
            None => resolved.push(file.clone()),
        }
    }
    for d in &extends.disable {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(d)) {
            return Err(refuse(
                "pack.yaml",
                line_of_key(&manifest, "disable"),
                format!("`{d}` is not a drug of the base pack `{}`", extends.pack),
                "list drugs of the base pack by name",
            ));
        }
    }
    resolved.extend(overlay_drugs.into_values());
    resolved.extend(added);
    resolved.extend(scripts);
    Ok(resolved)
}

/// The overlay's manifest over the base's: `sources` and `policy` merged
/// key by key; the identity, dates, changelog and approval are the
/// overlay's own (the base's do not carry over); `extends` and `disable`
/// dropped.
fn merge_manifest(base: &ResolvedFile, overlay: &ResolvedFile) -> ResolvedFile {
    const OWN: [&str; 9] = [
        "name",
        "version",
        "title",
        "description",
        "effective",
        "changelog",
        "approval",
        "extends",
        "disable",
    ];
    let mut base = base.clone();
    let (pre, blocks) = split(&base);
    let kept: Vec<Block> = blocks
        .into_iter()
        .filter(|b| !OWN.contains(&b.key.as_str()))
        .collect();
    base = assemble(&base.name, &base, pre, kept);
    let mut merged = merge_blocks(&base, overlay, &["sources", "policy"]);
    let (pre, blocks) = split(&merged);
    let kept: Vec<Block> = blocks
        .into_iter()
        .filter(|b| !matches!(b.key.as_str(), "extends" | "disable"))
        .collect();
    merged = assemble(&merged.name, &merged, pre, kept);
    merged
}

/// A top-level key and its lines (indices into the file's lines).
#[derive(Debug, Clone)]
struct Block {
    key: String,
    lines: Vec<usize>,
}

/// The name of a top-level key (`targets:` at column 0), if the line has one.
fn top_key(line: &str) -> Option<&str> {
    let first = line.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let (key, _) = line.split_once(':')?;
    Some(key.trim())
}

fn line_of_key(text: &str, key: &str) -> u64 {
    text.lines()
        .position(|l| top_key(l) == Some(key))
        .map_or(1, |i| i as u64 + 1)
}

/// The lines before the first key, and the top-level blocks.
fn split(file: &ResolvedFile) -> (Vec<usize>, Vec<Block>) {
    let mut pre = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    for (i, line) in file.text.lines().enumerate() {
        match top_key(line) {
            Some(key) => blocks.push(Block {
                key: key.to_owned(),
                lines: vec![i],
            }),
            None => match blocks.last_mut() {
                Some(b) => b.lines.push(i),
                None => pre.push(i),
            },
        }
    }
    (pre, blocks)
}

/// The second-level entries of a block written in block style: the key line,
/// then one group of lines per child key. `None` when the value is on the
/// key's line (flow style), which can only be replaced whole.
fn children(file: &ResolvedFile, block: &Block) -> Option<(usize, Vec<Block>)> {
    let lines: Vec<&str> = file.text.lines().collect();
    let head = lines[block.lines[0]];
    let after = head.split_once(':').map_or("", |(_, v)| v).trim();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let indent = block.lines[1..]
        .iter()
        .map(|&i| lines[i])
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.len() - l.trim_start().len())?;
    let mut out: Vec<Block> = Vec::new();
    for &i in &block.lines[1..] {
        let line = lines[i];
        let own_indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        let starts_child = own_indent == indent
            && !body.is_empty()
            && !body.starts_with('#')
            && !body.starts_with('-');
        match (starts_child, body.split_once(':')) {
            (true, Some((key, _))) => out.push(Block {
                key: key.trim().to_owned(),
                lines: vec![i],
            }),
            _ => match out.last_mut() {
                Some(b) => b.lines.push(i),
                None => return None,
            },
        }
    }
    Some((block.lines[0], out))
}

/// `base` with the overlay's top-level keys replacing its own, and the
/// overlay's new keys added; keys in `merge_children` merged one level down.
fn merge_blocks(
    base: &ResolvedFile,
    overlay: &ResolvedFile,
    merge_children: &[&str],
) -> ResolvedFile {
    let (pre, base_blocks) = split(base);
    let (_, over_blocks) = split(overlay);
    let mut out: Vec<(String, Origin)> = pre.iter().map(|&i| line(base, i)).collect();
    for b in &base_blocks {
        let over = over_blocks.iter().find(|o| o.key == b.key);
        match over {
            None => out.extend(b.lines.iter().map(|&i| line(base, i))),
            Some(o) if merge_children.contains(&b.key.as_str()) => {
                match (children(base, b), children(overlay, o)) {
                    (Some((head, base_kids)), Some((_, over_kids))) => {
                        out.push(line(base, head));
                        for k in &base_kids {
                            match over_kids.iter().find(|x| x.key == k.key) {
                                Some(x) => out.extend(x.lines.iter().map(|&i| line(overlay, i))),
                                None => out.extend(k.lines.iter().map(|&i| line(base, i))),
                            }
                        }
                        for x in over_kids
                            .iter()
                            .filter(|x| !base_kids.iter().any(|k| k.key == x.key))
                        {
                            out.extend(x.lines.iter().map(|&i| line(overlay, i)));
                        }
                    }
                    _ => out.extend(o.lines.iter().map(|&i| line(overlay, i))),
                }
            }
            Some(o) => out.extend(o.lines.iter().map(|&i| line(overlay, i))),
        }
    }
    for o in over_blocks
        .iter()
        .filter(|o| !base_blocks.iter().any(|b| b.key == o.key))
    {
        out.extend(o.lines.iter().map(|&i| line(overlay, i)));
    }
    from_lines(&base.name, out)
}

fn line(file: &ResolvedFile, i: usize) -> (String, Origin) {
    let text = file.text.lines().nth(i).unwrap_or_default().to_owned();
    let origin = file.origins.get(i).cloned().unwrap_or(Origin {
        file: file.name.clone(),
        line: i as u64 + 1,
    });
    (text, origin)
}

fn assemble(name: &str, file: &ResolvedFile, pre: Vec<usize>, blocks: Vec<Block>) -> ResolvedFile {
    let mut out: Vec<(String, Origin)> = pre.iter().map(|&i| line(file, i)).collect();
    for b in &blocks {
        out.extend(b.lines.iter().map(|&i| line(file, i)));
    }
    from_lines(name, out)
}

fn from_lines(name: &str, lines: Vec<(String, Origin)>) -> ResolvedFile {
    let mut text = String::new();
    let mut origins = Vec::with_capacity(lines.len());
    for (l, o) in lines {
        text.push_str(&l);
        text.push('\n');
        origins.push(o);
    }
    ResolvedFile {
        name: name.to_owned(),
        text,
        origins,
    }
}

fn read_extends(manifest: &str) -> Result<Extends, String> {
    let value = crate::pack::yaml::to_json_value(manifest, "pack.yaml").map_err(|p| p.message)?;
    let extends = value.get("extends").ok_or("`extends` is missing")?;
    let pack = extends
        .get("pack")
        .and_then(Value::as_str)
        .ok_or("`extends` needs `pack`: the directory of the base pack, relative to this one")?
        .to_owned();
    let requirement = match extends.get("version") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`extends.version` must be text, e.g. \"^1.0\"".into()),
    };
    if let Some(other) = extends
        .as_object()
        .and_then(|m| m.keys().find(|k| !matches!(k.as_str(), "pack" | "version")))
    {
        return Err(format!(
            "unknown key `{other}` in `extends` (allowed: pack, version)"
        ));
    }
    let disable = match value.get("disable") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or("`disable` lists drug names")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`disable` must be a list of drug names".into()),
    };
    Ok(Extends {
        pack,
        requirement,
        disable,
    })
}

/// Whether `version` meets `req`, with Cargo's semantics (the `semver`
/// crate): `^1.2` (same major, at least 1.2; `^0.2` keeps 0.2), `~1.2.3`,
/// `>=1.2.0`, and a bare `1.2.3` meaning exactly that version, as a
/// committee reads it. A pre-release meets only a requirement that names
/// one. `None` when either cannot be read.
pub(crate) fn version_matches(req: &str, version: &str) -> Option<bool> {
    let req = req.trim();
    let bare = req.starts_with(|c: char| c.is_ascii_digit());
    let req = if bare {
        semver::VersionReq::parse(&format!("={req}"))
    } else {
        semver::VersionReq::parse(req)
    }
    .ok()?;
    Some(req.matches(&semver::Version::parse(version.trim()).ok()?))
}

/// Moves problems found in resolved files to the file and line they came from.
pub(crate) fn relocate(
    error: PackError,
    files: &[ResolvedFile],
    texts: &dyn Fn(&str) -> Option<Arc<str>>,
) -> PackError {
    match error {
        PackError::Invalid { path, problems, .. } => {
            let moved = problems
                .into_iter()
                .map(|mut p| {
                    let origin = files
                        .iter()
                        .find(|f| f.name == p.file)
                        .and_then(|f| f.origins.get(p.position.line.saturating_sub(1) as usize));
                    if let Some(o) = origin {
                        p.file = o.file.clone();
                        p.position.line = o.line;
                        p.text = texts(&o.file);
                    }
                    p
                })
                .collect();
            PackError::invalid(path, moved)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::version_matches;

    #[test]
    fn version_requirements() {
        assert_eq!(version_matches("^1.0", "1.0.1"), Some(true));
        assert_eq!(version_matches("^1.0", "2.0.0"), Some(false));
        assert_eq!(version_matches("^1.2", "1.1.9"), Some(false));
        assert_eq!(version_matches("~1.0.1", "1.0.5"), Some(true));
        assert_eq!(version_matches("~1.0.1", "1.1.0"), Some(false));
        assert_eq!(version_matches(">=1.0.0", "3.1.0"), Some(true));
        assert_eq!(version_matches("1.0.1", "1.0.1"), Some(true));
        assert_eq!(version_matches("1.0.1", "1.0.2"), Some(false));
        assert_eq!(version_matches("one", "1.0.0"), None);
    }

    #[test]
    fn requirements_read_as_cargo_reads_them() {
        // A pre-release does not meet a requirement that names none.
        assert_eq!(version_matches("^0.2", "0.2.0-rc.1"), Some(false));
        // `^0.0` is 0.0.x only; `^0.2` is 0.2.x only.
        assert_eq!(version_matches("^0.0", "0.1.0"), Some(false));
        assert_eq!(version_matches("^0.2", "0.3.0"), Some(false));
        // Leading zeros are not a version.
        assert_eq!(version_matches("^1.0", "01.0.0"), None);
    }
}
