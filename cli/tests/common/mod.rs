//! What the CLI tests share: running `tdm` from the repository root,
//! reading its output, and copying a pack to edit.
#![allow(dead_code, clippy::unwrap_used)]

pub mod server;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `tdm ARGS` run in the repository root.
pub fn tdm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

/// Runs `command` with `input` on its standard input; its output.
pub fn with_input(mut command: Command, input: &str) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output and error together, for messages in failed assertions.
pub fn out(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// Copies the directory `from` (recursively) to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}
