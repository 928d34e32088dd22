//! The committee flow with real keys made by `ssh-keygen`: approvers sign
//! (with `tdm sign` and with `ssh-keygen -Y sign` alone), `ssh-keygen -Y
//! verify` accepts what `tdm sign` wrote, and a pack that is unsigned,
//! tampered with, signed by an untrusted or revoked key, or signed too few
//! times is refused by every command that answers, with a message naming
//! which. A running service keeps its last good pack, and stops answering
//! when the approval of the pack in use stops holding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::server::{get, post, sample, start_in};
use common::{out, root, stdout, tdm};

/// A pack copy, two approvers' keys (a, b), an outsider's (c), and the
/// allowed-signers file listing a and b.
struct Committee {
    dir: tempfile::TempDir,
}

impl Committee {
    fn new() -> Committee {
        let dir = tempfile::tempdir().unwrap();
        tdm_tests::copy_into(
            &root().join("rules/ki-oncology"),
            &dir.path().join("ki-oncology"),
        );
        // The README's example signature is not this committee's.
        fs::remove_file(dir.path().join("ki-oncology/signatures.yaml")).unwrap();
        let c = Committee { dir };
        for key in ["a", "b", "c"] {
            keygen(&c.path(key), "");
        }
        let allowed = format!(
            "# approvers of the TDM committee\na.smit@hospital.example {}\nb.berg@hospital.example namespaces=\"tdm-pack\" {}\n",
            c.public("a"),
            c.public("b")
        );
        fs::write(c.path("allowed_signers"), allowed).unwrap();
        c
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn pack(&self) -> String {
        self.path("ki-oncology").display().to_string()
    }

    fn public(&self, key: &str) -> String {
        let text = fs::read_to_string(self.path(&format!("{key}.pub"))).unwrap();
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn allowed(&self) -> String {
        self.path("allowed_signers").display().to_string()
    }

    fn sign(&self, key: &str, signer: &str) -> std::process::Output {
        let key = self.path(key).display().to_string();
        tdm(&[
            "sign",
            &self.pack(),
            "--key",
            &key,
            "--signer",
            signer,
            "--role",
            "hospital pharmacist",
        ])
    }

    /// `tdm sign --statement-file STATEMENT --signature-file approval.txt.sig`
    /// for the pharmacologist: a signature made with ssh-keygen, added.
    fn add_pharmacologists(&self, statement: &Path) -> std::process::Output {
        let (pack, signature) = (self.pack(), self.path("approval.txt.sig"));
        tdm(&[
            "sign",
            &pack,
            "--signer",
            "b.berg@hospital.example",
            "--role",
            "clinical pharmacologist",
            "--statement-file",
            &statement.display().to_string(),
            "--signature-file",
            &signature.display().to_string(),
        ])
    }

    /// `tdm verify` with the committee's trusted keys.
    fn verify(&self, extra: &[&str]) -> std::process::Output {
        let (pack, allowed) = (self.pack(), self.allowed());
        let mut args = vec!["verify", pack.as_str(), "--trusted-keys", &allowed];
        args.extend_from_slice(extra);
        tdm(&args)
    }

    /// `tdm eval` of one imatinib sample with signatures required.
    fn eval(&self, extra: &[&str]) -> std::process::Output {
        self.eval_pack(&self.pack(), extra)
    }

    /// `tdm eval --pack PACK` of one imatinib sample with signatures required.
    fn eval_pack(&self, pack: &str, extra: &[&str]) -> std::process::Output {
        let allowed = self.allowed();
        let mut args = vec![
            "eval",
            "--pack",
            pack,
            "--require-signature",
            "--trusted-keys",
            &allowed,
        ];
        args.extend_from_slice(&[
            "--drug",
            "imatinib",
            "--value",
            "800",
            "--unit",
            "ng/mL",
            "--indication",
            "CML",
            "--dose-mg",
            "400",
            "--hours-since-dose",
            "24",
            "--days-on-dose",
            "30",
            "--toxicity-grade",
            "0",
        ]);
        args.extend_from_slice(extra);
        tdm(&args)
    }
}

/// The command refused the pack (exit 3), saying `why`.
fn refused_for(o: &std::process::Output, why: &str) {
    assert_eq!(o.status.code(), Some(3), "{}", out(o));
    assert!(out(o).contains(why), "{}", out(o));
}

fn keygen(path: &Path, passphrase: &str) {
    let status = Command::new("ssh-keygen")
        .args([
            "-q", "-t", "ed25519", "-N", passphrase, "-C", "test key", "-f",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen must be installed (openssh-client)");
    assert!(status.success());
}

/// The entries of `signatures.yaml` as (statement, signature) texts.
fn entries(pack: &Path) -> Vec<(String, String)> {
    let text = fs::read_to_string(pack.join("signatures.yaml")).unwrap();
    let value = tdm_core::pack::yaml_to_json(&text, "signatures.yaml").unwrap();
    value["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["statement"].as_str().unwrap().to_owned(),
                e["signature"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `ssh-keygen -Y verify` of one entry: the independent check.
fn ssh_keygen_verifies(c: &Committee, signer: &str, statement: &str, signature: &str) -> bool {
    let sig = c.path("entry.sig");
    fs::write(&sig, signature).unwrap();
    let mut command = Command::new("ssh-keygen");
    command
        .args(["-Y", "verify", "-n", "tdm-pack", "-I", signer, "-f"])
        .arg(c.path("allowed_signers"))
        .arg("-s")
        .arg(&sig);
    common::with_input(command, statement).status.success()
}

#[test]
fn the_committee_signs_and_the_pack_is_used_only_then() {
    let c = Committee::new();
    // Unsigned: refused, and the message says so.
    let refused = c.eval(&[]);
    refused_for(
        &refused,
        "the pack is not signed (no entry in signatures.yaml)",
    );

    // The pharmacist signs with tdm sign.
    let signed = c.sign("a", "a.smit@hospital.example");
    assert_eq!(signed.status.code(), Some(0), "{}", out(&signed));
    assert!(stdout(&signed).contains("signed ki-oncology 1.5.0 (sha256:"));

    // The pharmacologist signs with ssh-keygen alone, from the statement.
    let statement = tdm(&[
        "sign",
        &c.pack(),
        "--signer",
        "b.berg@hospital.example",
        "--role",
        "clinical pharmacologist",
        "--statement",
    ]);
    let statement_file = c.path("approval.txt");
    fs::write(&statement_file, stdout(&statement)).unwrap();
    let status = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", "tdm-pack", "-f"])
        .arg(c.path("b"))
        .arg(&statement_file)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let added = c.add_pharmacologists(&statement_file);
    assert_eq!(added.status.code(), Some(0), "{}", out(&added));

    // A statement saved with Windows line ends cannot be kept as signed.
    let crlf = c.path("approval-crlf.txt");
    fs::write(&crlf, stdout(&statement).replace('\n', "\r\n")).unwrap();
    let refused = c.add_pharmacologists(&crlf);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        out(&refused).contains("Windows line ends"),
        "{}",
        out(&refused)
    );

    // ssh-keygen accepts what tdm sign wrote, and both entries are there.
    let entries = entries(&c.path("ki-oncology"));
    assert_eq!(entries.len(), 2);
    assert!(ssh_keygen_verifies(
        &c,
        "a.smit@hospital.example",
        &entries[0].0,
        &entries[0].1
    ));
    assert!(ssh_keygen_verifies(
        &c,
        "b.berg@hospital.example",
        &entries[1].0,
        &entries[1].1
    ));
    assert!(!ssh_keygen_verifies(
        &c,
        "b.berg@hospital.example",
        &entries[0].0,
        &entries[0].1
    ));

    let verified = c.verify(&["--min-signatures", "2"]);
    assert_eq!(verified.status.code(), Some(0), "{}", out(&verified));
    assert!(stdout(&verified).contains("approved: 2 valid signatures of 2 required"));
    let json: Value = serde_json::from_str(&stdout(&c.verify(&["--format", "json"]))).unwrap();
    assert_eq!(
        (json["approved"].as_bool(), json["valid"].as_u64()),
        (Some(true), Some(2))
    );
    assert_eq!(
        json["signatures"][1]["statement"]["role"],
        "clinical pharmacologist"
    );

    let answered = c.eval(&["--min-signatures", "2", "--format", "ndjson"]);
    assert_eq!(answered.status.code(), Some(0), "{}", out(&answered));
    let result: Value = serde_json::from_str(stdout(&answered).trim()).unwrap();
    assert_eq!(result["advice"], "increase_dose");
    assert_eq!(
        result["pack"]["digest"].as_str(),
        json["pack"]["digest"].as_str()
    );
    // Three approvers are not there.
    let too_few = c.eval(&["--min-signatures", "3"]);
    refused_for(&too_few, "2 valid signatures of 3 required");
    // tdm test refuses the same way.
    let allowed = c.allowed();
    let tested = tdm(&[
        "test",
        &c.pack(),
        "--require-signature",
        "--trusted-keys",
        &allowed,
    ]);
    assert_eq!(tested.status.code(), Some(0), "{}", out(&tested));
}

#[test]
fn a_tampered_pack_or_statement_is_refused_naming_why() {
    let c = Committee::new();
    assert!(c.sign("a", "a.smit@hospital.example").status.success());
    // A drug file changed after signing.
    let drug = c.path("ki-oncology/drugs/imatinib.yaml");
    let original = fs::read_to_string(&drug).unwrap();
    fs::write(&drug, original.replacen("lower: 1000", "lower: 900", 1)).unwrap();
    for refused in [c.eval(&[]), c.verify(&[])] {
        refused_for(&refused, "changed after it was signed");
    }
    // A comment or a reformatting is no change of content.
    fs::write(&drug, format!("# reviewed\n{original}")).unwrap();
    assert_eq!(c.eval(&[]).status.code(), Some(0));

    // The statement edited (another role) no longer matches its signature.
    let sigs = c.path("ki-oncology/signatures.yaml");
    let text = fs::read_to_string(&sigs).unwrap();
    fs::write(
        &sigs,
        text.replace("role: hospital pharmacist", "role: committee chair"),
    )
    .unwrap();
    let refused = c.verify(&[]);
    refused_for(&refused, "does not match the statement");
}

#[test]
fn untrusted_revoked_and_protected_keys() {
    let c = Committee::new();
    // c is not in the allowed signers; a's key does not sign for b.
    assert!(c.sign("c", "a.smit@hospital.example").status.success());
    let refused = c.verify(&[]);
    assert!(
        out(&refused).contains("not among the trusted keys"),
        "{}",
        out(&refused)
    );
    assert!(c.sign("a", "b.berg@hospital.example").status.success());
    assert!(out(&c.verify(&[])).contains("trusted, but not for `b.berg@hospital.example`"));
    // a signs as a: approved, until a's key is revoked.
    assert!(c.sign("a", "a.smit@hospital.example").status.success());
    assert_eq!(c.verify(&[]).status.code(), Some(0));
    let revoked = c.path("revoked_keys");
    fs::write(&revoked, format!("{}\n", c.public("a"))).unwrap();
    let revoked = revoked.display().to_string();
    let refused = c.eval(&["--revoked-keys", &revoked]);
    refused_for(&refused, "is revoked");

    // A key with a passphrase is for ssh-keygen, which asks for it.
    keygen(&c.path("locked"), "a passphrase");
    let locked = c.sign("locked", "a.smit@hospital.example");
    assert_eq!(locked.status.code(), Some(2));
    assert!(
        out(&locked).contains("ssh-keygen -Y sign"),
        "{}",
        out(&locked)
    );
    // A broken allowed-signers file names its line.
    fs::write(
        c.path("allowed_signers"),
        "a.smit@hospital.example ssh-ed25519 AAAA\n",
    )
    .unwrap();
    let broken = c.eval(&[]);
    refused_for(&broken, "allowed_signers:1:");
}

#[test]
fn an_overlay_needs_its_base_signed_too() {
    let c = Committee::new();
    // local/hospital-overlay extends ../../ki-oncology: the committee's copy.
    let next = c.path("local/hospital-overlay");
    tdm_tests::copy_into(&root().join("rules/examples/hospital-overlay"), &next);
    let text = fs::read_to_string(next.join("pack.yaml")).unwrap();
    assert!(text.contains("pack: ../../ki-oncology"));
    let next = next.display().to_string();
    let key = c.path("a").display().to_string();
    let sign = |pack: &str| {
        tdm(&[
            "sign",
            pack,
            "--key",
            &key,
            "--signer",
            "a.smit@hospital.example",
            "--role",
            "pharmacist",
        ])
    };
    assert!(sign(&next).status.success());
    let allowed = c.allowed();
    let eval = || c.eval_pack(&next, &[]);
    let refused = eval();
    refused_for(&refused, "the base pack `../../ki-oncology` cannot be used");
    assert!(out(&refused).contains("not signed"), "{}", out(&refused));
    let verify = tdm(&["verify", &next, "--trusted-keys", &allowed]);
    assert_eq!(verify.status.code(), Some(3));
    assert!(stdout(&verify).contains("the pack it extends is not approved"));
    assert!(sign(&c.pack()).status.success());
    assert_eq!(eval().status.code(), Some(0), "{}", out(&eval()));
}

/// The service: starts only with an approved pack, keeps it when a
/// tampered one appears, and stops answering when its approval is revoked.
#[test]
fn the_service_keeps_the_last_approved_pack_and_honours_a_revocation() {
    let c = Committee::new();
    assert!(c.sign("a", "a.smit@hospital.example").status.success());
    let revoked = c.path("revoked_keys");
    fs::write(&revoked, "# none yet\n").unwrap();
    let (allowed, revoked_arg) = (c.allowed(), revoked.display().to_string());
    let flags = [
        "--require-signature",
        "--trusted-keys",
        &allowed,
        "--revoked-keys",
        &revoked_arg,
        "--poll",
        "60000",
    ];
    let server = start_in(&c.path("ki-oncology"), &flags, c.dir.path());
    let (status, ready) = get(&server.base, "/readyz");
    assert_eq!(
        (status, ready["signatures"].as_str()),
        (200, Some("1 valid of 1 required"))
    );
    let (_, info) = get(&server.base, "/v1/pack");
    assert_eq!(
        info["signatures"]["signatures"][0]["statement"]["signer"],
        "a.smit@hospital.example"
    );
    let digest = info["digest"].clone();

    // Tampered on disk: the reload is refused and the signed pack answers.
    let drug = c.path("ki-oncology/drugs/imatinib.yaml");
    let original = fs::read_to_string(&drug).unwrap();
    fs::write(&drug, original.replacen("lower: 1000", "lower: 900", 1)).unwrap();
    let info = reload_until(&server, |info| !info["last_reload_error"].is_null());
    assert!(
        info["last_reload_error"]
            .as_str()
            .unwrap()
            .contains("changed after it was signed")
    );
    let (status, result) = post(&server.base, &sample(), None);
    assert_eq!((status, &result["pack"]["digest"]), (200, &digest));

    // The key is revoked: the pack in use is no longer approved.
    fs::write(&revoked, format!("{}\n", c.public("a"))).unwrap();
    let info = reload_until(&server, |info| !info["pack_refused"].is_null());
    assert!(
        info["pack_refused"].as_str().unwrap().contains("revoked"),
        "{info}"
    );
    let (status, body) = post(&server.base, &sample(), None);
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no longer approved")
    );
    assert_eq!(get(&server.base, "/readyz").0, 503);

    // b signs the content on disk: the service answers again, with it.
    fs::write(&revoked, "# none\n").unwrap();
    let key = c.path("b").display().to_string();
    let signed = tdm(&[
        "sign",
        &c.pack(),
        "--key",
        &key,
        "--signer",
        "b.berg@hospital.example",
        "--role",
        "pharmacologist",
    ]);
    assert!(signed.status.success());
    let info = reload_until(&server, |info| info["digest"] != digest);
    assert!(
        info["pack_refused"].is_null() && info["last_reload_error"].is_null(),
        "{info}"
    );
    assert_eq!(post(&server.base, &sample(), None).0, 200);
}

/// Sends SIGHUP until `/v1/pack` satisfies `done` (5 s at most).
fn reload_until(server: &common::server::Server, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        Command::new("kill")
            .args(["-HUP", &server.child.id().to_string()])
            .status()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let (_, info) = get(&server.base, "/v1/pack");
        if done(&info) || Instant::now() > deadline {
            return info;
        }
    }
}

/// `tdm watch` waits for a signed pack, says why once, and starts when an
/// approver signs.
#[test]
fn watch_waits_for_the_signature() {
    use std::io::{BufRead, BufReader};
    let c = Committee::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .args([
            "watch",
            &c.pack(),
            "--require-signature",
            "--trusted-keys",
            &c.allowed(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut until = |done: &dyn Fn(&str) -> bool, seen: &mut Vec<String>| loop {
        let line = lines.next().expect("watch ended early").unwrap();
        let finished = done(&line);
        seen.push(line);
        if finished {
            return;
        }
    };
    until(&|l| l.starts_with("waiting for a valid pack"), &mut seen);
    // Waiting a while does not repeat the reason.
    std::thread::sleep(Duration::from_millis(1200));
    assert!(c.sign("a", "a.smit@hospital.example").status.success());
    until(&|l| l.contains(": valid, "), &mut seen);
    let _ = child.kill();
    let _ = child.wait();
    let reasons = seen
        .iter()
        .filter(|l| l.contains("the pack is not signed"))
        .count();
    assert_eq!(reasons, 1, "{seen:#?}");
    assert!(
        seen.last()
            .unwrap()
            .starts_with("pack ki-oncology 1.5.0 (sha256:")
    );
}
