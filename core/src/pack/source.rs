//! Where a pack's files come from: a directory, a directory as it was at a
//! git revision, or texts in memory. Every command reads a pack through
//! this one reader, so `tdm diff pack@rev` sees the same files as
//! `tdm eval pack`: the manifest, `drugs/*.yaml` (or `.yml`),
//! `scripts/*.rhai` and `codes/*.yaml`.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::pack::error::{PackError, Position, Problem, ProblemKind};
use crate::pack::yaml::MAX_FILE_BYTES;

/// Where a pack is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSource {
    /// A pack directory on disk.
    Dir(PathBuf),
    /// A pack directory as it was at a revision of the git repository
    /// that holds it (`rules/ki-oncology@v1.0.0`), read without a checkout.
    Git {
        /// The directory, relative to the working directory.
        dir: PathBuf,
        /// Any revision git understands: a tag, a commit, `HEAD~1`.
        rev: String,
    },
    /// Files given as `(relative name, text)`: `pack.yaml`, `drugs/*.yaml`,
    /// `scripts/*.rhai`, `codes/*.yaml`. Native plugins cannot be loaded from texts.
    Texts(Arc<[(String, String)]>),
}

/// The pack's text files, manifest first, then scripts, then drugs, then
/// code maps, each group in name order.
pub(crate) type PackFiles = Vec<(String, String)>;

impl PackSource {
    /// `DIR` or `DIR@REV`. A path that exists is a directory even when its
    /// name holds an `@`.
    pub fn parse(spec: &str) -> PackSource {
        if !Path::new(spec).exists()
            && let Some((dir, rev)) = spec.rsplit_once('@')
            && !dir.is_empty()
            && !rev.is_empty()
        {
            return PackSource::Git {
                dir: PathBuf::from(dir),
                rev: rev.to_owned(),
            };
        }
        PackSource::Dir(PathBuf::from(spec))
    }

    /// Texts in memory, manifest first.
    pub fn texts(files: impl Into<Vec<(String, String)>>) -> PackSource {
        PackSource::Texts(files.into().into())
    }

    /// The directory of a pack on disk (`None` for a git revision or texts).
    pub fn dir(&self) -> Option<&Path> {
        match self {
            PackSource::Dir(dir) => Some(dir),
            _ => None,
        }
    }

    /// How messages name the pack: its directory, `DIR@REV`, or `<memory>`.
    pub fn location(&self) -> PathBuf {
        PathBuf::from(self.to_string())
    }

    /// The pack at `relative` to this one (an overlay's base), read the same
    /// way: the base of a pack at a revision is read at that revision too.
    pub(crate) fn join(&self, relative: &str) -> Result<PackSource, String> {
        match self {
            PackSource::Dir(dir) => Ok(PackSource::Dir(dir.join(relative))),
            PackSource::Git { dir, rev } => Ok(PackSource::Git {
                dir: normalise(&dir.join(relative)),
                rev: rev.clone(),
            }),
            PackSource::Texts(_) => {
                Err("a pack given as texts cannot name a base pack by its path".into())
            }
        }
    }

    /// Reads the pack's text files, manifest first.
    pub(crate) fn read(&self) -> Result<PackFiles, PackError> {
        match self {
            PackSource::Dir(dir) => crate::pack::files::read_dir(dir),
            PackSource::Git { dir, rev } => read_git(dir, rev),
            PackSource::Texts(files) => Ok(files.to_vec()),
        }
    }

    /// A file of the pack that may be absent (`signatures.yaml`), read
    /// with the same limits as the pack's own files.
    pub(crate) fn read_optional(&self, name: &str) -> Result<Option<String>, Problem> {
        let unreadable = |why: String| {
            Problem::new(
                ProblemKind::File,
                name,
                Position::default(),
                format!("cannot be read: {why}"),
            )
        };
        match self {
            PackSource::Dir(dir) => {
                if std::fs::symlink_metadata(dir.join(name)).is_err() {
                    return Ok(None);
                }
                crate::pack::files::read_one(dir, name)
                    .map(Some)
                    .map_err(|e| unreadable(e.to_string()))
            }
            PackSource::Git { dir, rev } => {
                let object = git_object(dir, rev, name);
                if git(&["cat-file", "-e", &object]).is_err() {
                    return Ok(None);
                }
                git(&["show", &object]).map(Some).map_err(unreadable)
            }
            PackSource::Texts(files) => Ok(files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone())),
        }
    }

    /// One file's text as the author wrote it (for pointing at a line of
    /// an overlay), when it can be read.
    pub(crate) fn read_text(&self, name: &str) -> Option<String> {
        match self {
            PackSource::Dir(dir) => crate::pack::files::read_one(dir, name).ok(),
            PackSource::Git { dir, rev } => git(&["show", &git_object(dir, rev, name)]).ok(),
            PackSource::Texts(files) => files
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone()),
        }
    }
}

impl fmt::Display for PackSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackSource::Dir(dir) => write!(f, "{}", dir.display()),
            PackSource::Git { dir, rev } => write!(f, "{}@{rev}", dir.display()),
            PackSource::Texts(_) => f.write_str("<memory>"),
        }
    }
}

impl From<&Path> for PackSource {
    fn from(dir: &Path) -> Self {
        PackSource::Dir(dir.to_path_buf())
    }
}

impl From<PathBuf> for PackSource {
    fn from(dir: PathBuf) -> Self {
        PackSource::Dir(dir)
    }
}

impl From<&PathBuf> for PackSource {
    fn from(dir: &PathBuf) -> Self {
        PackSource::Dir(dir.clone())
    }
}

impl From<&str> for PackSource {
    fn from(dir: &str) -> Self {
        PackSource::Dir(PathBuf::from(dir))
    }
}

impl From<&PackSource> for PackSource {
    fn from(source: &PackSource) -> Self {
        source.clone()
    }
}

/// Whether `name` (relative to the pack) is a file the loader reads, and
/// in which group: 0 the manifest, 1 a script, 2 a drug file.
pub(crate) fn group(name: &str) -> Option<u8> {
    let in_dir = |dir: &str, exts: &[&str]| {
        name.strip_prefix(dir).is_some_and(|rest| {
            !rest.contains('/')
                && exts
                    .iter()
                    .any(|e| rest.len() > e.len() && rest.ends_with(e))
        })
    };
    if name == "pack.yaml" {
        Some(0)
    } else if in_dir("scripts/", &[".rhai"]) {
        Some(1)
    } else if in_dir("drugs/", &[".yaml", ".yml"]) {
        Some(2)
    } else if in_dir("codes/", &[".yaml", ".yml"]) {
        Some(3)
    } else {
        None
    }
}

/// Puts the manifest first, then scripts, then drugs, then code maps, each
/// in name order (the code maps name drugs).
pub(crate) fn order(files: &mut PackFiles) {
    files.sort_by(|a, b| (group(&a.0), &a.0).cmp(&(group(&b.0), &b.0)));
}

/// The pack's files at `rev`, read with git without checking anything out.
fn read_git(dir: &Path, rev: &str) -> Result<PackFiles, PackError> {
    let location = PathBuf::from(format!("{}@{rev}", dir.display()));
    let refuse = |message: String| PackError::Io {
        path: location.clone(),
        error: std::io::Error::other(message),
    };
    let prefix = dir.to_string_lossy();
    let prefix = prefix.trim_end_matches('/');
    let listing = git(&["ls-tree", "-r", "--name-only", rev, "--", prefix]).map_err(refuse)?;
    let mut files = Vec::new();
    for path in listing.lines() {
        let Some(name) = path.strip_prefix(prefix).map(|n| n.trim_start_matches('/')) else {
            continue;
        };
        if group(name).is_none() {
            continue;
        }
        let object = git_object(dir, rev, name);
        let size: u64 = git(&["cat-file", "-s", &object])
            .map_err(refuse)?
            .trim()
            .parse()
            .unwrap_or(u64::MAX);
        if size > MAX_FILE_BYTES {
            return Err(refuse(format!(
                "`{name}` is {size} bytes; pack files are limited to {MAX_FILE_BYTES} bytes"
            )));
        }
        let bytes = git_bytes(&["show", &object]).map_err(refuse)?;
        files.push((
            name.to_owned(),
            crate::pack::files::utf8(bytes, &location, name)?,
        ));
    }
    order(&mut files);
    if files.first().is_none_or(|(name, _)| name != "pack.yaml") {
        return Err(refuse("no pack.yaml at that revision".into()));
    }
    Ok(files)
}

fn git_object(dir: &Path, rev: &str, name: &str) -> String {
    format!("{rev}:./{}", dir.join(name).display())
}

fn git(args: &[&str]) -> Result<String, String> {
    String::from_utf8(git_bytes(args)?).map_err(|_| "git gave text that is not UTF-8".to_owned())
}

fn git_bytes(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// `a/b/../c` as `a/c`, without touching the disk (the path is read from
/// a revision, not from the working tree).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_is_a_directory_or_a_directory_at_a_revision() {
        assert_eq!(
            PackSource::parse("rules/x@v1.0.0"),
            PackSource::Git {
                dir: "rules/x".into(),
                rev: "v1.0.0".into()
            }
        );
        assert_eq!(
            PackSource::parse("rules/x"),
            PackSource::Dir("rules/x".into())
        );
        assert_eq!(PackSource::parse("@"), PackSource::Dir("@".into()));
    }

    #[test]
    fn the_loader_reads_yaml_drug_and_code_files_and_rhai_scripts_only() {
        assert_eq!(group("pack.yaml"), Some(0));
        assert_eq!(group("scripts/a.rhai"), Some(1));
        assert_eq!(group("drugs/a.yaml"), Some(2));
        assert_eq!(group("drugs/a.yml"), Some(2));
        assert_eq!(group("codes/loinc.yaml"), Some(3));
        assert_eq!(group("codes/a.rhai"), None);
        assert_eq!(group("drugs/.yml"), None);
        assert_eq!(group("drugs/sub/a.yaml"), None);
        assert_eq!(group("tests/a.yaml"), None);
        assert_eq!(group("drugs/a.yaml.bak"), None);
    }

    #[test]
    fn a_base_at_a_revision_is_named_without_dot_dots() {
        let overlay = PackSource::Git {
            dir: "rules/examples/hospital".into(),
            rev: "HEAD".into(),
        };
        assert_eq!(
            overlay.join("../../ki-oncology").unwrap(),
            PackSource::Git {
                dir: "rules/ki-oncology".into(),
                rev: "HEAD".into()
            }
        );
    }
}
