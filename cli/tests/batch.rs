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
