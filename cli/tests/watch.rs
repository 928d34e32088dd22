//! `tdm watch` as the README shows it: a copy of ki-oncology whose CML
//! target is raised, then broken, then restored, with the samples
//! re-evaluated on each save. The session is compared with the README's,
//! line for line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::{copy_dir, root};

struct Watcher {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Watcher {
    /// Reads lines up to and including the first for which `done` holds.
    fn until(&mut self, done: impl Fn(&str) -> bool) {
        loop {
            // Only against a hang: a reload takes about 0.1 s.
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no such line; so far:\n{}", self.seen.join("\n")));
            let finished = done(&line);
            self.seen.push(line);
            if finished {
                return;
            }
        }
    }
}

const COMMAND: &str = "$ tdm watch wpack --samples examples/samples.csv\n";

fn readme_session() -> String {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let from = readme.find(COMMAND).unwrap();
    let block = &readme[from..from + readme[from..].find("```").unwrap()];
    block.lines().skip(1).collect::<Vec<_>>().join("\n")
}

/// `TRYCMD=overwrite` (as for the other examples) writes the session into
/// the README after a deliberate change; review the diff.
fn overwrite_readme(session: &str) {
    let path = root().join("README.md");
    let readme = fs::read_to_string(&path).unwrap();
    let from = readme.find(COMMAND).unwrap() + COMMAND.len();
    let to = from + readme[from..].find("```").unwrap();
    fs::write(
        &path,
        format!("{}{session}\n{}", &readme[..from], &readme[to..]),
    )
    .unwrap();
}

#[test]
fn the_readme_session_is_what_watch_prints() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules/ki-oncology"), &dir.path().join("wpack"));
    copy_dir(&root().join("examples"), &dir.path().join("examples"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(dir.path())
        .args(["watch", "wpack", "--samples", "examples/samples.csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let mut w = Watcher {
        child,
        lines: rx,
        seen: Vec::new(),
    };
    let file = dir.path().join("wpack/drugs/imatinib.yaml");
    let original = fs::read_to_string(&file).unwrap();
    w.until(|l| l.starts_with("watching wpack"));
    // The CML target raised to 1500.
    fs::write(
        &file,
        original.replacen("    lower: 1000\n", "    lower: 1500\n", 1),
    )
    .unwrap();
    w.until(|l| l.starts_with("samples: "));
    // A save that breaks the file: the last good pack stays.
    fs::write(&file, original.replacen("targets:\n", "targets: {\n", 1)).unwrap();
    w.until(|l| l.starts_with("drugs/imatinib.yaml:"));
    // Restored.
    fs::write(&file, &original).unwrap();
    w.until(|l| l.starts_with("samples: "));
    let session = w.seen.join("\n");
    if std::env::var("TRYCMD").is_ok_and(|v| v == "overwrite") {
        overwrite_readme(&session);
    }
    assert_eq!(session, readme_session());
}
