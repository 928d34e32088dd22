//! The audit log: a record per decision written before the decision is
//! given, traceable to the exact pack, engine and input; patient data kept
//! out unless asked for; a decision that cannot be recorded (a full disk,
//! `/dev/full`) is not given; rotation by size; and the service's JSON log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

mod common;

use common::server::{agent, post, sample, start, start_logged};
use common::{out, root, stdout, tdm};

fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// sha256 by coreutils: an implementation independent of ours.
fn sha256sum(text: &str) -> String {
    let output = common::with_input(Command::new("sha256sum"), text);
    let hex = String::from_utf8(output.stdout).unwrap();
    format!("sha256:{}", hex.split_whitespace().next().unwrap())
}

/// `tdm eval` on the shipped pack, NDJSON out, recording to `log`.
fn eval_audited(log: &str, rest: &[&str]) -> std::process::Output {
    let mut args = vec![
        "eval",
        "--pack",
        "rules/ki-oncology",
        "--format",
        "ndjson",
        "-q",
        "--audit-log",
        log,
    ];
    args.extend_from_slice(rest);
    tdm(&args)
}

#[test]
fn every_decision_of_a_batch_is_recorded_and_traceable() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.ndjson");
    let input = root().join("examples/samples.ndjson");
    let o = eval_audited(log.to_str().unwrap(), &[input.to_str().unwrap()]);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", out(&o));
    let results: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = lines(&log);
    assert_eq!(records.len(), results.len(), "one record per decision");
    let by_id: std::collections::HashMap<&str, &Value> = records
        .iter()
        .map(|r| (r["decision_id"].as_str().unwrap(), r))
        .collect();
    assert_eq!(by_id.len(), records.len(), "decision ids are unique");
    let text = fs::read_to_string(&input).unwrap();
    let given: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    for (result, line) in results.iter().zip(&given) {
        let record = by_id[result["decision_id"]
            .as_str()
            .expect("the result names its decision")];
        assert_eq!(record["pack"], result["pack"]);
        assert_eq!(record["engine"], result["engine"]);
        assert_eq!(record["advice"], result["advice"]);
        assert_eq!(record["next_dose_mg"], result["next_dose_mg"]);
        assert_eq!(record["status"], result["status"]);
        assert_eq!(record["input_sha256"], sha256sum(line.trim()), "{line}");
        assert!(record["caller"].as_str().unwrap().starts_with("cli:"));
        // Patient identifiers and values stay out.
        assert!(record.get("input").is_none() && record.get("patient").is_none());
        if let Some(patient) = result["patient"].as_str() {
            assert!(!record.to_string().contains(patient));
        }
    }
}

#[test]
fn with_include_input_the_sample_and_result_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.ndjson");
    let o = eval_audited(
        log.to_str().unwrap(),
        &["--audit-include-input", "examples/samples.csv"],
    );
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", out(&o));
    let first = &lines(&log)[0];
    assert_eq!(first["input"]["patient"], "P-01");
    assert_eq!(first["input"]["value"], "1400");
    assert_eq!(first["result"]["exposure"]["value"], 785.497);
    // A CSV row is hashed as the JSON object of its cells.
    assert_eq!(
        first["input_sha256"],
        sha256sum(&first["input"].to_string())
    );
}

#[test]
fn a_decision_that_cannot_be_recorded_is_not_given() {
    // eval: every record gets its error result, in its place.
    let o = eval_audited("/dev/full", &["examples/samples.csv"]);
    assert_eq!(o.status.code(), Some(1));
    let results: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 10);
    for r in &results {
        assert_eq!(
            (&r["status"], &r["error_code"]),
            (&json!("error"), &json!("audit")),
            "{r}"
        );
        assert!(
            r["error"]
                .as_str()
                .unwrap()
                .contains("No space left on device")
        );
        assert!(r.get("advice").is_none());
    }
    // serve: one sample is answered 503; an array's elements are errors.
    let server = start(
        &root().join("rules/ki-oncology"),
        &["--audit-log", "/dev/full"],
    );
    let (status, body) = post(&server.base, &sample(), None);
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().unwrap().contains("audit log"));
    let (status, many) = post(&server.base, &json!([sample(), sample()]), None);
    assert_eq!(status, 200);
    assert!(
        many.as_array()
            .unwrap()
            .iter()
            .all(|r| r["error_code"] == "audit")
    );
}

#[test]
fn the_log_rotates_by_size_and_keeps_as_many_files_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.ndjson");
    for _ in 0..3 {
        let o = eval_audited(
            log.to_str().unwrap(),
            &[
                "--audit-max-bytes",
                "2000",
                "--audit-keep",
                "3",
                "examples/samples.csv",
            ],
        );
        assert!(o.status.code().is_some_and(|c| c <= 1));
    }
    let mut files: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "audit.ndjson",
            "audit.ndjson.1",
            "audit.ndjson.2",
            "audit.ndjson.3"
        ]
    );
    for f in &files {
        let size = fs::metadata(dir.path().join(f)).unwrap().len();
        assert!(size <= 2000, "{f}: {size} bytes");
        for record in lines(&dir.path().join(f)) {
            assert!(record["decision_id"].is_string());
        }
    }
}

#[test]
fn the_service_returns_the_decision_id_and_names_the_caller() {
    let dir = tempfile::tempdir().unwrap();
    let (log, tokens, stderr) = (
        dir.path().join("audit.ndjson"),
        dir.path().join("tokens"),
        dir.path().join("stderr"),
    );
    fs::write(
        &tokens,
        "# one per client system\nlab-system-secret\npharmacy-secret\n",
    )
    .unwrap();
    let server = start_logged(
        &root().join("rules/ki-oncology"),
        &[
            "--audit-log",
            log.to_str().unwrap(),
            "--token-file",
            tokens.to_str().unwrap(),
            "--log-format",
            "json",
        ],
        &stderr,
    );
    let mut with_patient = sample();
    with_patient["patient"] = json!("P-SECRET-77");
    let mut response = agent()
        .post(format!("{}/v1/evaluate", server.base))
        .header("Authorization", "Bearer pharmacy-secret")
        .send_json(&with_patient)
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let header = response
        .headers()
        .get("x-decision-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["decision_id"], header.as_str());
    let (_, _) = post(
        &server.base,
        &json!([sample(), sample()]),
        Some("lab-system-secret"),
    );

    // SIGTERM: in-flight work finishes, the log is flushed, the service ends.
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    let mut server = server;
    assert!(server.child.wait().unwrap().success());

    let records = lines(&log);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["decision_id"], header.as_str());
    let callers: HashSet<&str> = records
        .iter()
        .map(|r| r["caller"].as_str().unwrap())
        .collect();
    assert_eq!(callers.len(), 2, "each token has its own id: {callers:?}");
    assert!(
        callers
            .iter()
            .all(|c| c.starts_with("token:") && c.len() == 14)
    );
    assert!(!fs::read_to_string(&log).unwrap().contains("secret"));

    // The log: JSON lines, the decision id beside its request, no patient.
    let log_lines: Vec<Value> = fs::read_to_string(&stderr)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let events: Vec<&str> = log_lines
        .iter()
        .map(|l| l["event"].as_str().unwrap())
        .collect();
    assert_eq!(events.first(), Some(&"start"));
    assert_eq!(events.last(), Some(&"stop"));
    let first_request = log_lines.iter().find(|l| l["event"] == "request").unwrap();
    assert_eq!(first_request["decision_id"], header.as_str());
    assert_eq!(first_request["status"], 200);
    assert!(first_request["time"].as_str().unwrap().ends_with('Z'));
    assert!(!fs::read_to_string(&stderr).unwrap().contains("P-SECRET-77"));
    assert!(!fs::read_to_string(&log).unwrap().contains("P-SECRET-77"));
}

#[test]
fn csv_and_table_outputs_name_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.ndjson");
    let log = log.to_str().unwrap();
    let o = tdm(&[
        "eval",
        "--pack",
        "rules/ki-oncology",
        "--format",
        "csv",
        "-q",
        "--audit-log",
        log,
        "examples/samples.csv",
    ]);
    let mut rows = csv::Reader::from_reader(o.stdout.as_slice());
    let column = rows
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "decision_id")
        .unwrap();
    let ids: Vec<String> = rows
        .records()
        .map(|r| r.unwrap()[column].to_owned())
        .collect();
    let records = lines(Path::new(log));
    let logged: Vec<&str> = records
        .iter()
        .map(|r| r["decision_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 10);
    assert!(ids.iter().all(|id| logged.contains(&id.as_str())));
    assert!(
        records
            .iter()
            .all(|r| r["engine_commit"].as_str().is_some_and(|c| !c.is_empty()))
    );

    let table = tdm(&[
        "eval",
        "--pack",
        "rules/ki-oncology",
        "-q",
        "--audit-log",
        log,
        "examples/samples.csv",
    ]);
    assert_eq!(stdout(&table).matches("    decision: ").count(), 10);
    // Without an audit log the column is there, empty.
    let plain = tdm(&[
        "eval",
        "--pack",
        "rules/ki-oncology",
        "--format",
        "csv",
        "-q",
        "examples/samples.csv",
    ]);
    let mut rows = csv::Reader::from_reader(plain.stdout.as_slice());
    assert!(rows.records().all(|r| r.unwrap()[column].is_empty()));
}
