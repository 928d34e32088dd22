//! FHIR R4 in: an EHR's Bundle goes in unchanged and the same advice comes
//! out as from the CSV of the same patients; what cannot be mapped is an
//! error naming the resource and element, never a guess. The fixture
//! Bundle is valid FHIR to an independent implementation (fhir.resources).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::{Value, json};

mod common;

use common::{out, root, stdout, tdm, with_input};

const LAB: &str = "http://lab.example.org/tdm";
const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

fn results(pack: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["eval", "--pack", pack, "--format", "ndjson", "-q"];
    all.extend_from_slice(args);
    let o = tdm(&all);
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", out(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The results of a Bundle given on standard input.
fn bundle_results(pack: &str, bundle: &Value) -> Vec<Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdm"));
    command.current_dir(root()).args([
        "eval",
        "--pack",
        pack,
        "--input-format",
        "fhir",
        "--format",
        "ndjson",
        "-q",
        "-",
    ]);
    let o = with_input(command, &bundle.to_string());
    assert!(o.status.code().is_some_and(|c| c <= 1), "{}", out(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn bundle(resources: Vec<Value>) -> Value {
    let entry: Vec<Value> = resources
        .into_iter()
        .map(|r| json!({"resource": r}))
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "entry": entry})
}

fn level(id: &str, patient: &str, code: (&str, &str, &str), quantity: Value) -> Value {
    json!({
        "resourceType": "Observation", "id": id, "status": "final",
        "code": {"coding": [{"system": code.0, "code": code.1, "display": code.2}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": "2026-11-24T08:00:00+01:00",
        "valueQuantity": quantity,
    })
}

fn ng_ml(value: f64) -> Value {
    json!({"value": value, "unit": "ng/mL", "system": UCUM, "code": "ng/mL"})
}

fn imatinib_order(id: &str, patient: &str, mg: f64) -> Value {
    json!({
        "resourceType": "MedicationRequest", "id": id, "status": "active", "intent": "order",
        "medicationCodeableConcept": {"text": "Glivec 400 mg"},
        "subject": {"reference": format!("Patient/{patient}")},
        "dosageInstruction": [{
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d",
                                  "boundsPeriod": {"start": "2026-10-25T08:00:00+01:00"}}},
            "doseAndRate": [{"doseQuantity": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}}],
        }],
    })
}

/// An active CML diagnosis (ICD-10-CM C92.10, below the mapped C92.1).
fn cml(patient: &str) -> Value {
    json!({
        "resourceType": "Condition", "id": format!("cml-{patient}"),
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C92.10"}]},
        "subject": {"reference": format!("Patient/{patient}")},
    })
}

fn imatinib(id: &str, patient: &str, value: f64) -> Value {
    level(
        id,
        patient,
        (
            LOINC,
            "57844-3",
            "Imatinib [Mass/volume] in Serum or Plasma",
        ),
        ng_ml(value),
    )
}

#[test]
fn a_bundle_gives_the_same_results_as_the_csv_of_the_same_patients() {
    let pack = "examples/packs/hospital-lab";
    let from_csv = results(pack, &["examples/interop/patients.csv"]);
    let from_fhir = results(pack, &["examples/interop/patients.fhir.json"]);
    assert_eq!(from_csv.len(), 4);
    assert_eq!(from_fhir.len(), 4);
    for (mut c, f) in from_csv.into_iter().zip(from_fhir) {
        c.as_object_mut().unwrap().remove("line");
        assert_eq!(c, f, "CSV and FHIR differ for {}", f["id"]);
        assert_eq!(f["status"], "ok", "{f}");
    }
}

#[test]
fn each_field_comes_from_its_resource() {
    let r = results(
        "examples/packs/hospital-lab",
        &["examples/interop/patients.fhir.json"],
    );
    let (imatinib, sunitinib, pazopanib, ponatinib) = (&r[0], &r[1], &r[2], &r[3]);
    // Condition C92.10 lies below the mapped C92.1: CML. Order start 30
    // days and the last administration 10 h before the draw.
    assert_eq!(imatinib["indication"], "CML");
    assert_eq!(imatinib["sampling"]["days_on_dose"], 30.0);
    assert_eq!(imatinib["sampling"]["hours_since_dose"], 10.0);
    assert_eq!(imatinib["advice"], "increase_dose");
    assert_eq!(imatinib["next_dose_mg"], 600.0);
    assert!(
        imatinib["rationale"]
            .as_str()
            .unwrap()
            .contains("increase the dose from 400 mg once daily to 600 mg once daily")
    );
    // The metabolite from its own Observation of the same draw; the 4/2
    // schedule from the order's additionalInstruction; weight and grade.
    assert_eq!(sunitinib["regimen"], "intermittent");
    assert_eq!(sunitinib["exposure"]["value"], 43.0);
    assert_eq!(sunitinib["exposure"]["analytes"][1]["measured"], 11.0);
    assert_eq!(sunitinib["model"]["levels_used"], 2);
    assert_eq!(sunitinib["next_dose_mg"], 62.5);
    // mg/L and nmol/L read through their UCUM codes.
    assert_eq!(
        pazopanib["exposure"]["analytes"][0]["measured_unit"],
        "mg/L"
    );
    assert_eq!(pazopanib["exposure"]["value"], 14200.0);
    assert_eq!(
        ponatinib["exposure"]["analytes"][0]["measured_unit"],
        "nmol/L"
    );
    assert_eq!(ponatinib["advice"], "interpret_only");
}

#[test]
fn the_fixture_is_valid_fhir_and_the_answer_is_derived_from_its_observations() {
    let dir = tempfile::tempdir().unwrap();
    let o = tdm(&[
        "eval",
        "--pack",
        "examples/packs/hospital-lab",
        "--format",
        "fhir",
        "-q",
        "examples/interop/patients.fhir.json",
    ]);
    let answer = dir.path().join("answer.json");
    std::fs::write(&answer, stdout(&o)).unwrap();
    let checked = Command::new("python3")
        .arg(root().join("tests/oracle/fhir_validate.py"))
        .arg(root().join("examples/interop/patients.fhir.json"))
        .arg(&answer)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "fhir.resources refused: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let answer: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let observations: Vec<&Value> = answer["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Observation")
        .collect();
    assert_eq!(observations.len(), 4);
    assert_eq!(
        observations[0]["derivedFrom"][0]["reference"],
        "Observation/obs-01"
    );
    assert_eq!(observations[0]["subject"]["reference"], "Patient/P-01");
}

#[test]
fn a_missing_unit_code_is_refused_naming_the_element() {
    let mut q = ng_ml(1400.0);
    q.as_object_mut().unwrap().remove("code");
    let r = bundle_results(
        "rules/ki-oncology",
        &bundle(vec![
            imatinib("x1", "A", 0.0),
            level("x2", "A", (LOINC, "57844-3", "Imatinib"), q),
        ]),
    );
    assert_eq!(r[1]["status"], "error");
    assert_eq!(r[1]["error_code"], "unit");
    let message = r[1]["error"].as_str().unwrap();
    assert!(
        message.starts_with("Observation/x2.valueQuantity.code: missing"),
        "{message}"
    );
    assert!(message.contains("the text `ng/mL` is not read") && message.contains("never guessed"));
    // A unit in another system than UCUM, and a UCUM code the pack does not map.
    let mut other = ng_ml(1400.0);
    other["system"] = json!("http://example.org/units");
    let mut unmapped = ng_ml(1400.0);
    unmapped["code"] = json!("ng/dL");
    let r = bundle_results(
        "rules/ki-oncology",
        &bundle(vec![
            level("y1", "A", (LOINC, "57844-3", "Imatinib"), other),
            level("y2", "A", (LOINC, "57844-3", "Imatinib"), unmapped),
        ]),
    );
    assert!(
        r[0]["error"]
            .as_str()
            .unwrap()
            .contains("y1.valueQuantity.system")
    );
    assert!(
        r[1]["error"]
            .as_str()
            .unwrap()
            .contains("UCUM `ng/dL` is not a unit the pack reads")
    );
}

#[test]
fn an_unknown_code_that_reads_like_a_drug_is_an_error_with_a_suggestion() {
    let creatinine = level(
        "crea",
        "A",
        (
            LOINC,
            "2160-0",
            "Creatinine [Mass/volume] in Serum or Plasma",
        ),
        json!({"value": 0.9, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}),
    );
    let local = level(
        "z1",
        "A",
        (LAB, "IMAT-X", "Imatinib, plasma"),
        ng_ml(1400.0),
    );
    let r = bundle_results("rules/ki-oncology", &bundle(vec![creatinine, local]));
    // The creatinine is not a drug level: no result; the local imatinib code is.
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["error_code"], "unknown_code");
    assert_eq!(r[0]["id"], "Observation/z1");
    let message = r[0]["error"].as_str().unwrap();
    assert!(
        message.contains("`IMAT-X` of `http://lab.example.org/tdm` is not in the pack's code maps")
    );
    assert!(message.contains("reads like imatinib"));
    assert!(message.contains("57844-3 of http://loinc.org"), "{message}");
    assert!(message.contains("overlay's codes/ file"));
}

#[test]
fn another_patients_medication_is_never_used() {
    let r = bundle_results(
        "rules/ki-oncology",
        &bundle(vec![
            imatinib_order("order-b", "B", 400.0),
            cml("A"),
            cml("C"),
            imatinib("level-a", "A", 1400.0),
            imatinib_order("order-a", "A", 600.0),
            json!({
                "resourceType": "MedicationAdministration", "id": "given-a", "status": "completed",
                "medicationCodeableConcept": {"text": "imatinib"},
                "subject": {"reference": "Patient/A"},
                "effectiveDateTime": "2026-11-23T08:00:00+01:00",
            }),
            imatinib("level-c", "C", 1400.0),
        ]),
    );
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["patient"], "Patient/A");
    assert_eq!(
        r[0]["exposure"]["expected"]["daily_dose_mg"], 600.0,
        "{}",
        r[0]
    );
    assert_eq!(r[0]["sampling"]["hours_since_dose"], 24.0);
    // Patient C has no order: no dose is taken from A's or B's.
    assert_eq!(r[1]["patient"], "Patient/C");
    assert!(r[1]["next_dose_mg"].is_null());
    assert!(
        r[1]["warnings"]
            .to_string()
            .contains("the dose (dose_mg) is needed"),
        "{}",
        r[1]
    );
}

#[test]
fn ambiguous_and_incomplete_resources_are_refused_not_chosen() {
    let mut preliminary = imatinib("p1", "A", 1400.0);
    preliminary["status"] = json!("preliminary");
    let mut date_only = imatinib("d1", "D", 1400.0);
    date_only["effectiveDateTime"] = json!("2026-11-24");
    let mut above = imatinib("g1", "G", 5000.0);
    above["valueQuantity"]["comparator"] = json!(">");
    let mut below = imatinib("l1", "L", 100.0);
    below["valueQuantity"]["comparator"] = json!("<");
    let orphan = level(
        "m1",
        "M",
        (LAB, "SU12662", "N-desethylsunitinib"),
        ng_ml(11.0),
    );
    let mut resources: Vec<Value> = ["A", "T", "D", "G", "L"].into_iter().map(cml).collect();
    resources.extend([
        preliminary,
        imatinib_order("o1", "T", 400.0),
        imatinib_order("o2", "T", 600.0),
        imatinib("t1", "T", 1400.0),
        date_only,
        above,
        below,
        orphan,
    ]);
    let r = bundle_results("examples/packs/hospital-lab", &bundle(resources));
    let error = |i: usize| r[i]["error"].as_str().unwrap_or_default().to_owned();
    assert_eq!(r.len(), 6, "{r:?}");
    assert!(
        error(0).contains("p1.status: `preliminary`"),
        "{}",
        error(0)
    );
    assert!(
        error(1).contains("MedicationRequest/o")
            && error(1).contains("different doses: which applies cannot be told"),
        "{}",
        error(1)
    );
    assert!(
        error(2).contains("d1.effectiveDateTime: `2026-11-24` is a date without a time of day")
    );
    assert!(
        error(3).contains("g1.valueQuantity.comparator: `>`"),
        "{}",
        error(3)
    );
    // `<` is a level below the limit of quantification: judged as such.
    assert_eq!(r[4]["status"], "ok", "{}", r[4]);
    assert!(
        r[4]["rationale"].as_str().unwrap().contains("undetectable"),
        "{}",
        r[4]["rationale"]
    );
    assert!(
        error(5).contains("without a level of sunitinib drawn at the same time"),
        "{}",
        error(5)
    );
}

#[test]
fn code_maps_are_checked_when_the_pack_loads() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("lab");
    std::fs::create_dir_all(pack.join("codes")).unwrap();
    std::fs::write(
        pack.join("pack.yaml"),
        format!(
            "name: lab\nversion: \"1.0.0\"\ntitle: t\nextends: {{pack: {}}}\nsources:\n  lab: {{citation: the lab}}\n",
            root().join("rules/ki-oncology").display()
        ),
    )
    .unwrap();
    std::fs::write(
        pack.join("codes/local.yaml"),
        "analytes:\n  - {system: s, code: A, display: a, drug: aspirin, source: lab}\n  - {system: http://loinc.org, code: 57844-3, display: b, drug: imatinib, source: lab}\nunits:\n  - {ucum: ng/dL, unit: ng/dL, source: lab}\nindications:\n  - {system: s, code: X, display: x, indication: gout, source: nowhere}\n",
    )
    .unwrap();
    let o = tdm(&["validate", pack.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let said = out(&o);
    for expected in [
        "`aspirin` is not a drug of the pack",
        "code `57844-3` of `http://loinc.org` is already mapped at codes/",
        "`ng/dL` is not a unit of the input contract",
        "source `nowhere` does not start with a known source id",
        "codes/local.yaml:2",
    ] {
        assert!(said.contains(expected), "missing {expected:?} in:\n{said}");
    }
}
