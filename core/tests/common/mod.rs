//! What the MAP tests share: the independent implementation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

/// The answers of `tests/oracle/map_oracle.py` to `input`.
pub fn oracle(input: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/oracle/map_oracle.py");
    let mut child = std::process::Command::new("python3")
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the oracle (CI installs numpy and scipy)");
    serde_json::to_writer(child.stdin.take().unwrap(), &input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the oracle failed (is scipy installed?)"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
