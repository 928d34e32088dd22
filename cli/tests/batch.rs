//! Batches on several threads: the same bytes as on one, in input order,
//! and a reader that goes away stops the batch cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{root, tdm};

/// 2,100 generated samples (four chunks and a part, a few of them bad) as `format`.
fn samples(dir: &Path, format: &str) -> String {
    let generated = tdm(&[
        "gen-samples",
        "--n",
        "2100",
        "--seed",
        "4",
        "--format",
        format,
    ]);
    assert_eq!(generated.status.code(), Some(0));
    let path = dir.join(format!("samples.{format}"));
    std::fs::write(&path, &generated.stdout).unwrap();
    path.to_str().unwrap().to_owned()
}

fn eval(file: &str, format: &str, jobs: &str) -> Output {
    tdm(&[
        "eval",
        "--pack",
        "rules/ki-oncology",
        "--format",
        format,
        "--jobs",
        jobs,
        file,
    ])
}

#[test]
fn every_output_format_is_the_same_on_one_or_several_threads() {
    let dir = tempfile::tempdir().unwrap();
    let csv = samples(dir.path(), "csv");
    for format in ["ndjson", "csv", "json", "table"] {
        let one = eval(&csv, format, "1");
        // Bad records are among the samples: exit 1, and still every result.
        assert_eq!(one.status.code(), Some(1), "{format}");
        for jobs in ["2", "3"] {
            let several = eval(&csv, format, jobs);
            assert_eq!(several.status.code(), Some(1), "{format} --jobs {jobs}");
            assert!(
                one.stdout == several.stdout,
                "{format}: --jobs {jobs} wrote other bytes than --jobs 1"
            );
            assert_eq!(one.stderr, several.stderr, "{format} --jobs {jobs}");
        }
    }
}

#[test]
fn results_are_in_input_order_one_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let ndjson = samples(dir.path(), "ndjson");
    let input: Vec<serde_json::Value> = std::fs::read_to_string(&ndjson)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let o = eval(&ndjson, "json", "2");
    let results: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(results.len(), input.len());
    for (i, (sample, result)) in input.iter().zip(&results).enumerate() {
        assert_eq!(result["line"], i + 1, "record {i}");
        if let Some(id) = sample["id"].as_str() {
            assert_eq!(result["id"], id, "record {i}");
        }
    }
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("2100 records: "),
        "the summary counts every record"
    );
}

#[test]
fn a_reader_that_goes_away_stops_the_batch_with_exit_5() {
    let dir = tempfile::tempdir().unwrap();
    let csv = samples(dir.path(), "csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(root())
        .args([
            "eval",
            "--pack",
            "rules/ki-oncology",
            "--format",
            "ndjson",
            &csv,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // stdout is closed here, as `| head -c 100` would.
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// 150 patients with 20 samples each, interleaved (a patient's samples lie
/// in different chunks): each sample's fit uses exactly the patient's
/// samples listed before it, on one thread as on several.
#[test]
fn a_patients_earlier_samples_are_fitted_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("histories.ndjson");
    let mut text = String::new();
    for week in 0..20u32 {
        for patient in 0..150u32 {
            let day = 1 + week * 7;
            let (month, day) = (1 + (day - 1) / 28, 1 + (day - 1) % 28);
            text += &format!(
                r#"{{"id": "P{patient}-{week}", "patient": "P{patient}", "sampled_at": "2026-{month:02}-{day:02}T09:00", "drug": "imatinib", "indication": "CML", "value": {}, "unit": "ng/mL", "dose_mg": 400, "hours_since_dose": 24, "toxicity_grade": 0}}"#,
                700 + (patient * 37 + week * 11) % 900
            );
            text.push('\n');
        }
    }
    std::fs::write(&path, text).unwrap();
    let file = path.to_str().unwrap();
    let one = eval(file, "ndjson", "1");
    assert_eq!(one.status.code(), Some(0), "{}", common::out(&one));
    let two = eval(file, "ndjson", "2");
    assert!(
        one.stdout == two.stdout,
        "--jobs 2 wrote other bytes than --jobs 1"
    );
    let results: Vec<serde_json::Value> = String::from_utf8(one.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 3000);
    for (i, r) in results.iter().enumerate() {
        let week = i / 150;
        assert_eq!(r["model"]["levels_used"], week + 1, "{}", r["id"]);
        let first = &r["model"]["predictions"][0];
        assert_eq!(first["sample"], format!("P{}-0", i % 150), "{}", r["id"]);
    }
}
