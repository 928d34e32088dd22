//! Reading a pack directory so that what is loaded is one real pack: the
//! directory is resolved once (through a Kubernetes ConfigMap's `..data`
//! link to the versioned directory behind it) and every file is read beneath
//! that resolved directory; if the link moved while the files were read, the
//! read starts over, so a pack swapped underneath is never read half old and
//! half new. Only regular files inside the pack are read (a FIFO would hang
//! the reader, `/dev/zero` would never end, a link to `/etc/passwd` would
//! leak its content into an error), each through a byte cap.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::pack::error::{PackError, Position, Problem, ProblemKind};
use crate::pack::source::{PackFiles, group, order};
use crate::pack::yaml::MAX_FILE_BYTES;

/// How many times a read is started over when the pack moved during it.
const ATTEMPTS: usize = 20;

/// Reads the pack's text files, manifest first.
pub(crate) fn read_dir(dir: &Path) -> Result<PackFiles, PackError> {
    for _ in 0..ATTEMPTS {
        let root = Root::of(dir)?;
        let files = read_beneath(dir, &root)?;
        // The files are the pack only if the link still points where it did.
        if resolved_root(dir)? == root.resolved {
            return Ok(files);
        }
    }
    Err(io_error(
        dir,
        format!("the pack directory kept changing while it was read ({ATTEMPTS} attempts)"),
    ))
}

/// One file of the pack, read as `read_dir` reads it.
pub(crate) fn read_one(dir: &Path, name: &str) -> Result<String, PackError> {
    read_file(dir, &Root::of(dir)?, name)
}

/// Where a pack's files may lie: beneath the resolved directory
/// (`pack/..2026_v1`), or the mount directory itself (`pack/`).
struct Root {
    resolved: PathBuf,
    mount: Option<PathBuf>,
}

impl Root {
    fn of(dir: &Path) -> Result<Root, PackError> {
        Ok(Root {
            resolved: resolved_root(dir)?,
            mount: fs::canonicalize(dir).ok(),
        })
    }

    fn holds(&self, real: &Path) -> bool {
        real.starts_with(&self.resolved) || self.mount.as_ref().is_some_and(|m| real.starts_with(m))
    }
}

/// The directory the manifest really lies in: `pack/..2026_v1` when
/// `pack/pack.yaml` links there through `..data`.
fn resolved_root(dir: &Path) -> Result<PathBuf, PackError> {
    let manifest = fs::canonicalize(dir.join("pack.yaml")).map_err(|e| PackError::Io {
        path: dir.join("pack.yaml"),
        error: e,
    })?;
    Ok(manifest
        .parent()
        .map_or_else(|| dir.to_path_buf(), Path::to_path_buf))
}

fn read_beneath(dir: &Path, root: &Root) -> Result<PackFiles, PackError> {
    let mut names = vec!["pack.yaml".to_owned()];
    for sub in ["drugs", "scripts", "codes"] {
        let path = root.resolved.join(sub);
        // Each directory may be absent: a pack without drugs is refused
        // by the loader, with its reason; an overlay may add only codes.
        if !path.is_dir() {
            continue;
        }
        let io = |error| PackError::Io {
            path: dir.join(sub),
            error,
        };
        for entry in fs::read_dir(&path).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = format!("{sub}/{}", entry.file_name().to_string_lossy());
            if group(&name).is_some() {
                names.push(name);
            }
        }
    }
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        let text = read_file(dir, root, &name)?;
        files.push((name, text));
    }
    order(&mut files);
    Ok(files)
}

/// Reads a regular file inside the pack through the byte cap. The content
/// of a file that is not the pack's is never read, so never shown.
fn read_file(dir: &Path, root: &Root, name: &str) -> Result<String, PackError> {
    let shown = dir.join(name);
    let refuse = |message: String| io_error(&shown, message);
    let real = fs::canonicalize(root.resolved.join(name)).map_err(|e| PackError::Io {
        path: shown.clone(),
        error: e,
    })?;
    if !root.holds(&real) {
        return Err(refuse(
            "the file links to a place outside the pack directory: refused".into(),
        ));
    }
    let meta = fs::metadata(&real).map_err(|e| PackError::Io {
        path: shown.clone(),
        error: e,
    })?;
    if !meta.is_file() {
        return Err(refuse(
            "not a regular file (a pipe, a device or a directory): refused".into(),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(refuse(format!(
            "the file is {} bytes; pack files are limited to {MAX_FILE_BYTES} bytes",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs::File::open(&real)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| PackError::Io {
            path: shown.clone(),
            error: e,
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(refuse(format!(
            "the file grew past {MAX_FILE_BYTES} bytes while it was read; pack files are limited to {MAX_FILE_BYTES} bytes"
        )));
    }
    utf8(bytes, dir, name)
}

fn io_error(path: &Path, message: String) -> PackError {
    PackError::Io {
        path: path.to_path_buf(),
        error: std::io::Error::new(std::io::ErrorKind::InvalidData, message),
    }
}

/// The text of a file's bytes, or where its first byte that is not UTF-8 is.
pub(crate) fn utf8(bytes: Vec<u8>, dir: &Path, name: &str) -> Result<String, PackError> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count() as u64
            + 1;
        let problem = Problem::new(
            ProblemKind::File,
            name,
            Position { line, column },
            "the file is not UTF-8 text",
        )
        .with_help("save the file with UTF-8 encoding");
        PackError::invalid(dir.to_path_buf(), vec![problem])
    })
}
