//! HL7 v2.5.1 ORU^R01 in: a LIS's messages go in unchanged and the same
//! advice comes out as from the FHIR Bundle (and so the CSV) of the same
//! patients. What tdm reads from each OBX is compared field by field with
//! an independent parser (Python's hl7apy, tests/oracle/hl7_fields.py).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::Value;

mod common;

use common::{out, root, stdout, tdm, with_input};

const PACK: &str = "examples/packs/hospital-lab";

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run(args: &[&str]) -> Vec<Value> {
    let o = tdm(args);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", out(&o));
    lines(&stdout(&o))
}

/// The results of HL7 messages given on standard input.
fn eval_hl7(messages: &str) -> Vec<Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdm"));
    command.current_dir(root()).args([
        "eval",
        "--pack",
        PACK,
        "--input-format",
        "hl7",
        "--format",
        "ndjson",
        "-q",
        "-",
    ]);
    let o = with_input(command, messages);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", out(&o));
    lines(&stdout(&o))
}

/// An HL7 TS as the contract's date-time, written here independently of tdm.
fn iso(ts: &str) -> String {
    let (clock, zone) = ts.split_at(12);
    format!(
        "{}-{}-{}T{}:{}{}:{}",
        &clock[..4],
        &clock[4..6],
        &clock[6..8],
        &clock[8..10],
        &clock[10..12],
        &zone[..3],
        &zone[3..]
    )
}

#[test]
fn what_tdm_reads_matches_hl7apy_field_by_field() {
    let oracle = Command::new("python3")
        .arg(root().join("tests/oracle/hl7_fields.py"))
        .arg(root().join("examples/interop/patients.hl7"))
        .output()
        .expect("python3 runs");
    assert!(
        oracle.status.success(),
        "hl7apy (pip install hl7apy) failed: {}",
        String::from_utf8_lossy(&oracle.stderr)
    );
    let segments = lines(&String::from_utf8_lossy(&oracle.stdout));
    assert_eq!(segments.len(), 6);
    let read = run(&["convert", "--pack", PACK, "examples/interop/patients.hl7"]);
    assert_eq!(read.len(), 4, "one sample per drug level: {read:?}");
    let mut compared = 0;
    for s in &segments {
        let parent_id = format!("{}/OBX-1", s["control"].as_str().unwrap());
        let sample = read.iter().find(|r| r["id"] == parent_id.as_str()).unwrap();
        assert_eq!(sample["patient"], s["patient"]);
        assert_eq!(
            sample["sampled_at"],
            iso(s["obr_7"].as_str().unwrap()).as_str()
        );
        assert_eq!(s["status"], "F");
        match (s["code"].as_str().unwrap(), s["set_id"].as_str().unwrap()) {
            (_, "1") => {
                assert_eq!(sample["value"], s["value"], "{sample}");
                // The UCUM codes of these units are the contract's spelling.
                assert_eq!(sample["unit"], s["unit"], "{sample}");
            }
            ("SU12662", _) => {
                assert_eq!(sample["metabolites"]["N-desethylsunitinib"], s["value"]);
                assert_eq!(s["unit"], sample["unit"]);
            }
            ("29463-7", _) => {
                assert_eq!(sample["weight_kg"], s["value"]);
                assert_eq!(s["unit"], "kg");
            }
            other => panic!("an OBX the fixture does not have: {other:?}"),
        }
        compared += 1;
    }
    assert_eq!(compared, 6);
}

/// A result without what differs by format: its id, patient and line, the
/// spelling of its time, the sample names in model predictions.
fn normalised(mut r: Value) -> Value {
    let o = r.as_object_mut().unwrap();
    for key in ["id", "patient", "line", "sampled_at"] {
        o.remove(key);
    }
    if let Some(predictions) = r["model"]["predictions"].as_array_mut() {
        for p in predictions {
            let p = p.as_object_mut().unwrap();
            p.remove("sample");
            p.remove("sampled_at");
        }
    }
    r
}

#[test]
fn messages_give_the_same_advice_as_the_fhir_bundle() {
    let from_hl7 = run(&[
        "eval",
        "--pack",
        PACK,
        "--format",
        "ndjson",
        "-q",
        "examples/interop/patients.hl7",
    ]);
    let from_fhir = run(&[
        "eval",
        "--pack",
        PACK,
        "--format",
        "ndjson",
        "-q",
        "examples/interop/patients.fhir.json",
    ]);
    assert_eq!(from_hl7.len(), 4);
    for (h, f) in from_hl7.into_iter().zip(from_fhir) {
        assert_eq!(h["status"], "ok", "{h}");
        for key in [
            "exposure",
            "sampling",
            "target",
            "advice",
            "next_dose_mg",
            "regimen",
            "indication",
        ] {
            assert_eq!(h[key], f[key], "{key} of {}", h["drug"]);
        }
        if matches!(h["drug"].as_str(), Some("sunitinib" | "pazopanib")) {
            // The Bundle also carries a grade 1 adverse event, which an ORU
            // message has no segment for: the advice is the same, the
            // condition "only if the current dose is tolerated" is added.
            assert!(
                h["conditions"]
                    .to_string()
                    .contains("only if the current dose is tolerated")
            );
            continue;
        }
        assert_eq!(normalised(h), normalised(f));
    }
}

const MSH: &str = "MSH|^~\\&|LIS|LAB|EHR|HOSP|20261124120000+0100||ORU^R01|M9|P|2.5.1";

#[test]
fn what_cannot_be_read_is_refused_naming_the_segment_and_field() {
    let messages = [
        // No unit.
        format!("{MSH}\rPID|1||P1\rOBR|1|||TDM|||202611240800+0100\rOBX|1|NM|PAZO^Pazopanib^99LAB||14.2||||||F"),
        // A unit outside UCUM, a preliminary result, a local code like imatinib.
        format!("{MSH}\rPID|1||P2\rOBR|1|||TDM|||202611240800+0100\rOBX|1|NM|PAZO^Pazopanib^99LAB||14.2|mg/L^^ISO+|||||F\rOBX|2|NM|PAZO^Pazopanib^99LAB||15|mg/L^^UCUM|||||P\rOBX|3|NM|IMA9^Imatinib plasma^99XYZ||1400|ng/mL^^UCUM|||||F"),
        // Not a result message at all.
        "MSH|^~\\&|ADT|HOSP|||20261124||ADT^A01|A1|P|2.5.1\rPID|1||P3".to_owned(),
        // Other separators; a date without a time of day in OBR-7.
        "MSH#:*!@#LIS#LAB#####ORU:R01#M10#P#2.5.1\rPID#1##P4\rDG1#1##C92.10:CML!T!x:I10C\rOBR#1######20261124\rOBX#1#SN#57844-3:Imatinib!F!x:LN##<:50#ng/mL::UCUM#####F".to_owned(),
    ];
    let r = eval_hl7(&messages.join("\r"));
    let error = |i: usize| r[i]["error"].as_str().unwrap_or_default().to_owned();
    assert_eq!(r.len(), 6, "{r:?}");
    assert_eq!(r[0]["error_code"], "unit");
    assert!(
        error(0).starts_with("OBX-6 (line 4): missing: units are never guessed"),
        "{}",
        error(0)
    );
    assert!(
        error(1).contains("OBX-6 (line 8): coding system `ISO+` is not UCUM"),
        "{}",
        error(1)
    );
    assert!(
        error(2).contains("OBX-11 (line 9): result status `P`"),
        "{}",
        error(2)
    );
    assert_eq!(r[3]["error_code"], "unknown_code");
    assert!(
        error(3).contains("`IMA9` of `99XYZ` is not in the pack's code maps"),
        "{}",
        error(3)
    );
    assert!(
        error(3).contains("57844-3 of http://loinc.org")
            && error(3).contains("IMAT of http://lab.example.org/tdm"),
        "{}",
        error(3)
    );
    assert!(
        error(4).contains("message A1 (line 11) is ADT^A01, not ORU^R01"),
        "{}",
        error(4)
    );
    assert_eq!(r[5]["id"], "M10/OBX-1");
    assert_eq!(r[5]["line"], 17);
    assert!(
        error(5).contains(
            "OBR-7 (line 16): `20261124` is not an HL7 date and time with hours and minutes"
        ),
        "{}",
        r[5]
    );
}

#[test]
fn a_result_below_the_limit_and_a_hex_escape_are_read() {
    let message = "MSH#:*!@#LIS#LAB#####ORU:R01#M11#P#2.5.1\rPID#1##P!X4135!\rDG1#1##C92.10:CML:I10C\rRXE#:Q24H:::202610250800+0100#IMAT:imatinib#400##mg\rRXA#0#1#202611232200+0100##IMAT:imatinib#400#mg\rOBR#1######202611240800+0100\rOBX#1#SN#57844-3:Imatinib!F!x:LN##<:50#ng/mL::UCUM#####F";
    let r = eval_hl7(message);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["patient"], "PA5", "\\X4135\\ is `A5`: {}", r[0]);
    assert_eq!(r[0]["status"], "ok", "{}", r[0]);
    assert!(
        r[0]["rationale"].as_str().unwrap().contains("undetectable"),
        "{}",
        r[0]["rationale"]
    );
    assert_eq!(r[0]["sampling"]["hours_since_dose"], 10.0);
}
