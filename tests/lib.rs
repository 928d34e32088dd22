//! Cross-crate tests live in this package's test targets; this library
//! holds what they share: assembling a temporary pack from files in the
//! repository.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

/// The repository's `tests/` directory.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Copies every file under `from` into `to` (made if missing), keeping the
/// layout and replacing what is there.
pub fn copy_into(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_into(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// A temporary pack: `tests/broken/_base` with `overlay`'s files laid over it.
pub fn assemble(overlay: Option<&Path>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_into(&tests_dir().join("broken/_base"), dir.path());
    if let Some(overlay) = overlay {
        copy_into(overlay, dir.path());
    }
    dir
}
