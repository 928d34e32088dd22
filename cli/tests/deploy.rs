//! The deployment examples run as written: the systemd unit's ExecStart and
//! the Dockerfile's ENTRYPOINT and CMD are started as they stand (with the
//! test's own paths in place of /etc/tdm, /pack, ...) on a signed pack, and
//! answer /readyz with the signatures verified; SIGTERM ends them cleanly.
//! Where `systemd-analyze` is installed it checks the unit too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;

use common::root;
use common::server::agent;

/// A signed pack, its trusted keys, an empty revocation list and a token.
fn setup(dir: &Path) {
    tdm_tests::copy_into(&root().join("rules/ki-oncology"), &dir.join("pack"));
    let key = dir.join("key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen (openssh-client)");
    assert!(made.success());
    let public = fs::read_to_string(dir.join("key.pub")).unwrap();
    fs::write(
        dir.join("allowed_signers"),
        format!("ops@hospital.example {public}"),
    )
    .unwrap();
    fs::write(dir.join("revoked_keys"), "").unwrap();
    fs::write(dir.join("tokens"), "deploy-token\n").unwrap();
    let signed = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .args([
            "sign",
            dir.join("pack").to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ])
        .args(["--signer", "ops@hospital.example", "--role", "pharmacist"])
        .output()
        .unwrap();
    assert!(signed.status.success());
}

/// Starts `args` (the binary first), waits for /readyz, stops it with SIGTERM.
fn serves(args: &[String]) {
    let mut command = Command::new(&args[0]);
    command.args(&args[1..]).stderr(Stdio::null());
    let mut server = common::server::spawn(command);
    let base = server.base.clone();
    let mut response = agent().get(format!("{base}/readyz")).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let ready: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(ready["signatures"], "1 valid of 1 required");
    let evaluated = agent()
        .post(format!("{base}/v1/evaluate"))
        .header("Authorization", "Bearer deploy-token")
        .send_json(common::server::sample())
        .unwrap();
    assert_eq!(evaluated.status().as_u16(), 200);
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(
        server.child.wait().unwrap().success(),
        "SIGTERM ends it cleanly"
    );
}

/// Our paths for the example's.
fn localised(arg: &str, dir: &Path) -> String {
    let d = dir.display();
    let replaced = arg
        .replace("/usr/local/bin/tdm", env!("CARGO_BIN_EXE_tdm"))
        .replace("/etc/tdm/", &format!("{d}/"))
        .replace("/var/lib/tdm/", &format!("{d}/"))
        .replace("/run/secrets/tdm-tokens", &format!("{d}/tokens"))
        .replace("/trust/", &format!("{d}/"))
        .replace("/audit/", &format!("{d}/"))
        // Off loopback in production; on this machine, a free port of it.
        .replace("0.0.0.0:7878", "127.0.0.1:0");
    if replaced == "/pack" {
        format!("{d}/pack")
    } else {
        replaced
    }
}

#[test]
fn the_systemd_units_command_serves_a_signed_pack() {
    let unit = fs::read_to_string(root().join("examples/deploy/tdm.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    assert!(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let args: Vec<String> = exec
        .split_whitespace()
        .map(|a| localised(a, dir.path()))
        .collect();
    serves(&args);
    assert!(
        dir.path().join("decisions.ndjson").exists(),
        "the audit log is written"
    );

    // systemd's own check of the unit, with the binary where it names it.
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok()
    {
        let local = dir.path().join("tdm.service");
        fs::write(
            &local,
            unit.replace("/usr/local/bin/tdm", env!("CARGO_BIN_EXE_tdm")),
        )
        .unwrap();
        let checked = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&local)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&checked.stderr);
        // Only what concerns this unit: the host may lack a user `tdm` or a
        // running systemd, which the check then reports on its own lines.
        let about_unit: Vec<&str> = said
            .lines()
            .filter(|l| l.contains("tdm.service:"))
            .collect();
        assert!(about_unit.is_empty(), "{said}");
    }
}

#[test]
fn the_dockerfiles_command_serves_a_signed_pack() {
    let text = fs::read_to_string(root().join("examples/deploy/Dockerfile")).unwrap();
    let stages = text.lines().filter(|l| l.starts_with("FROM ")).count();
    assert_eq!(stages, 2, "a build stage and a slim runtime stage");
    let user = text.lines().find_map(|l| l.strip_prefix("USER ")).unwrap();
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "not root: {user}"
    );
    let array = |key: &str| -> Vec<String> {
        let line = text.lines().find_map(|l| l.strip_prefix(key)).unwrap();
        serde_json::from_str(line).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let args: Vec<String> = array("ENTRYPOINT ")
        .into_iter()
        .chain(array("CMD "))
        .map(|a| localised(&a, dir.path()))
        .collect();
    serves(&args);
}
