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

/// The layout a Kubernetes ConfigMap mounts: `mount/..data` links to the
/// versioned directory `..VERSION` and the pack's entries (`pack.yaml`,
/// `drugs`) link through `..data`. Adds the version `version`, a copy of
/// `source` with that version; [`point`] makes it current.
pub fn configmap(mount: &Path, version: &str, source: &Path) {
    let versioned = mount.join(format!("..{version}"));
    copy_into(source, &versioned);
    let pack = versioned.join("pack.yaml");
    let text = fs::read_to_string(&pack).unwrap();
    fs::write(
        &pack,
        text.replace("version: \"0.1.0\"", &format!("version: \"{version}\"")),
    )
    .unwrap();
}

/// Points `..data` at `version` in one atomic rename, as the kubelet does,
/// and links the pack's entries through it the first time.
pub fn point(mount: &Path, version: &str) {
    for entry in ["pack.yaml", "drugs"] {
        let link = mount.join(entry);
        if fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{entry}"), &link).unwrap();
        }
    }
    let tmp = mount.join("..data_tmp");
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(format!("..{version}"), &tmp).unwrap();
    fs::rename(&tmp, mount.join("..data")).unwrap();
}

/// The ConfigMap layout at `mount` with two versions of `source`, 1.0.1
/// and 1.0.2, that differ in testinib's lower bound as well as in the
/// version; 1.0.1 is current.
pub fn two_versions(mount: &Path, source: &Path) {
    configmap(mount, "1.0.1", source);
    configmap(mount, "1.0.2", source);
    let drug = mount.join("..1.0.2/drugs/testinib.yaml");
    let text = fs::read_to_string(&drug).unwrap();
    fs::write(&drug, text.replace("lower: 1000", "lower: 1100")).unwrap();
    point(mount, "1.0.1");
}

/// Sets its flag when dropped, however the scope ends (a failed assertion
/// included): threads that loop until the flag is set then stop, and a
/// failure fails the test instead of hanging it.
pub struct StopOnDrop<'a>(pub &'a std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
