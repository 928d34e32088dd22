//! `--format fhir`: the Bundle is valid FHIR to an independent
//! implementation (Python's fhir.resources, tests/oracle/fhir_validate.py),
//! and says what the JSON results say: one Observation per judged sample
//! with its value, interpretation and target, one proposal per next dose
//! that names its Observation, one OperationOutcome per error, every
//! resource stamped with the pack. The same bytes whatever `--jobs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::fs;
use std::process::Command;

use serde_json::Value;

mod common;

use common::{out, root, stdout, tdm};

fn validate(path: &std::path::Path) -> String {
    let checked = Command::new("python3")
        .arg(root().join("tests/oracle/fhir_validate.py"))
        .arg(path)
        .output()
        .expect("python3 runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(
        checked.status.success(),
        "fhir.resources (pip install fhir.resources) refused it:\n{said}"
    );
    said
}

fn eval(format: &str, input: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "eval",
        "--pack",
        "rules/ki-oncology",
        "--format",
        format,
        "-q",
    ];
    args.extend_from_slice(extra);
    args.push(input);
    let o = tdm(&args);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", out(&o));
    stdout(&o)
}

#[test]
fn the_bundle_is_valid_and_says_what_the_results_say() {
    let dir = tempfile::tempdir().unwrap();
    for input in [
        "examples/samples.csv",
        "examples/history.csv",
        "examples/bad-batch.ndjson",
    ] {
        let bundle_text = eval("fhir", input, &[]);
        let file = dir.path().join("bundle.json");
        fs::write(&file, &bundle_text).unwrap();
        assert!(validate(&file).contains("valid Bundle"));

        let bundle: Value = serde_json::from_str(&bundle_text).unwrap();
        let results: Vec<Value> = eval("ndjson", input, &[])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let entries = bundle["entry"].as_array().unwrap();
        let of = |kind: &str| -> Vec<&Value> {
            entries
                .iter()
                .map(|e| &e["resource"])
                .filter(|r| r["resourceType"] == kind)
                .collect()
        };
        let ok: Vec<&Value> = results.iter().filter(|r| r["status"] == "ok").collect();
        let observations = of("Observation");
        assert_eq!(observations.len(), ok.len(), "{input}");
        assert_eq!(
            of("OperationOutcome").len(),
            results.len() - ok.len(),
            "{input}"
        );
        for (o, r) in observations.iter().zip(&ok) {
            assert_eq!(o["status"], "final");
            assert_eq!(o["valueQuantity"]["value"], r["exposure"]["value"]);
            let code = match r["classification"].as_str() {
                Some("below") => Some("L"),
                Some("within") => Some("N"),
                Some("above") => Some("H"),
                _ => None,
            };
            assert_eq!(
                o["interpretation"][0]["coding"][0]["code"].as_str(),
                code,
                "{input}"
            );
            assert_eq!(o["referenceRange"][0]["low"]["value"], r["target"]["lower"]);
            assert_eq!(o["note"][0]["text"], r["rationale"]);
            assert_eq!(o["meta"]["tag"][0]["display"], r["pack"]["digest"]);
        }
        // Each proposal names an Observation of the Bundle and doses as advised.
        let urls: HashMap<&str, &Value> = entries
            .iter()
            .map(|e| (e["fullUrl"].as_str().unwrap(), &e["resource"]))
            .collect();
        let proposals = of("MedicationRequest");
        let dosed: Vec<&&Value> = ok
            .iter()
            .filter(|r| r["next_dose_mg"].is_number())
            .collect();
        assert_eq!(proposals.len(), dosed.len(), "{input}");
        for (p, r) in proposals.iter().zip(dosed) {
            assert_eq!(p["intent"], "proposal");
            let reason = p["reasonReference"][0]["reference"].as_str().unwrap();
            assert_eq!(urls[reason]["resourceType"], "Observation");
            let dose = &p["dosageInstruction"][0];
            assert_eq!(
                dose["doseAndRate"][0]["doseQuantity"]["value"],
                r["next_dose_mg"]
            );
            assert_eq!(dose["timing"]["repeat"]["period"], r["next_interval_h"]);
        }
    }
}

#[test]
fn the_same_bundle_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("batch.csv");
    let generated = tdm(&[
        "gen-samples",
        "--pack",
        "rules/ki-oncology",
        "--n",
        "3000",
        "--seed",
        "7",
        "--format",
        "csv",
    ]);
    fs::write(&batch, &generated.stdout).unwrap();
    let batch = batch.to_str().unwrap();
    let one = eval("fhir", batch, &["--jobs", "1"]);
    let two = eval("fhir", batch, &["--jobs", "2"]);
    assert!(one == two, "the Bundle depends on --jobs");
    let file = dir.path().join("bundle.json");
    fs::write(&file, &one).unwrap();
    let said = validate(&file);
    assert!(said.contains("OperationOutcome"), "{said}");
    let bundle: Value = serde_json::from_str(&one).unwrap();
    let urls: std::collections::HashSet<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls.len(),
        bundle["entry"].as_array().unwrap().len(),
        "entry ids are unique"
    );
}
