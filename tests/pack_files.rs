//! The files a pack is read from: only regular files inside the pack,
//! through a byte cap, and one real pack even while a Kubernetes ConfigMap
//! swaps the versioned directory behind its `..data` link.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use tdm_core::{PackError, load_pack};

fn base() -> tempfile::TempDir {
    tdm_tests::assemble(None)
}

/// Loads in a thread, so that a reader that hangs fails the test instead of
/// hanging it.
fn load_within(dir: &Path, limit: Duration) -> Result<tdm_core::Pack, PackError> {
    let (send, receive) = mpsc::channel();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        let _ = send.send(load_pack(&dir));
    });
    receive
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("loading the pack did not finish in {limit:?}"))
}

#[test]
fn a_fifo_in_drugs_is_refused_not_waited_on() {
    let dir = base();
    let fifo = dir.path().join("drugs/zz.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let error = load_within(dir.path(), Duration::from_secs(10)).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("zz.yaml") && message.contains("not a regular file"),
        "{message}"
    );
}

#[test]
fn a_link_to_a_device_is_refused_without_reading_it() {
    let dir = base();
    symlink("/dev/zero", dir.path().join("drugs/zz.yaml")).unwrap();
    let error = load_within(dir.path(), Duration::from_secs(10)).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("zz.yaml") && message.contains("refused"),
        "{message}"
    );
}

#[test]
fn a_link_out_of_the_pack_is_refused_and_its_content_never_shown() {
    let dir = base();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yaml");
    fs::write(&secret, "root:x:0:0:the secret line\n").unwrap();
    symlink(&secret, dir.path().join("drugs/zz.yaml")).unwrap();
    let error = load_pack(dir.path()).unwrap_err();
    let message = format!("{error} {error:?}");
    assert!(message.contains("outside the pack directory"), "{message}");
    assert!(!message.contains("the secret line"), "{message}");
}

#[test]
fn a_pack_swapped_under_load_is_always_one_of_the_two_versions() {
    let source = base();
    let mount = tempfile::tempdir().unwrap();
    let m = mount.path();
    tdm_tests::two_versions(m, source.path());
    let digest = |v: &str| {
        load_pack(m.join(format!("..{v}")))
            .unwrap()
            .id()
            .digest
            .clone()
    };
    let real = [digest("1.0.1"), digest("1.0.2")];
    assert_ne!(real[0], real[1]);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut flip = false;
            while !stop.load(Ordering::Relaxed) {
                tdm_tests::point(m, if flip { "1.0.1" } else { "1.0.2" });
                flip = !flip;
                std::thread::sleep(Duration::from_micros(500));
            }
        });
        let _stop = tdm_tests::StopOnDrop(&stop);
        let mut loads = 0;
        for _ in 0..300 {
            if let Ok(pack) = load_pack(m) {
                loads += 1;
                let d = &pack.id().digest;
                assert!(real.contains(d), "a torn pack: {d} is neither version");
            }
        }
        assert!(loads > 250, "only {loads} of 300 loads succeeded");
    });
}
