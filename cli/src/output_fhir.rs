//! `--format fhir`: the results as one FHIR R4 Bundle (type `collection`),
//! for an EHR to file. Each judged sample is an `Observation` of the
//! exposure, with its interpretation (L, N, H of HL7's
//! ObservationInterpretation), the target as `referenceRange` and the
//! rationale as a note; a proposed dose is a `MedicationRequest` with
//! `intent: proposal` that names the Observation as its reason; a sample
//! that could not be judged is an `OperationOutcome` saying why. Every
//! resource carries the pack name, version and digest and the engine as
//! `meta.tag`s.
//!
//! The drug level is coded by text only: the pack holds no confirmed LOINC
//! codes yet, and a code is never guessed. Entry ids are name-based UUIDs
//! (v5) of the pack digest and the result's place in the output, so the
//! same input gives the same Bundle.

use std::io::{self, Write};

use serde_json::{Value, json};
use tdm_core::EvalResult;
use tdm_core::result::{Assessment, Classification};

use crate::output::Writer;

const UCUM: &str = "http://unitsofmeasure.org";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const PACK_TAG: &str = "urn:tdm:pack";
const ENGINE_TAG: &str = "urn:tdm:engine";

pub(crate) struct Fhir<W> {
    pub(crate) out: W,
    /// Results written before (by this writer or an earlier part).
    pub(crate) count: u64,
    pub(crate) begun: bool,
}

impl<W: Write> Writer for Fhir<W> {
    fn begin(&mut self) -> io::Result<()> {
        if !self.begun {
            self.begun = true;
            self.out
                .write_all(b"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[")?;
        }
        Ok(())
    }

    fn write(&mut self, result: &EvalResult) -> io::Result<()> {
        self.begin()?;
        // Every result has at least one entry: only the Bundle's very first
        // entry goes without a comma.
        let mut first = self.count == 0;
        for resource in resources(result, self.count) {
            self.out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            serde_json::to_writer(&mut self.out, &resource)?;
        }
        self.count += 1;
        Ok(())
    }

    fn finish(&mut self, _: &str) -> io::Result<()> {
        self.begin()?;
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The entries of one result: its Observation (and proposal), or its
/// OperationOutcome.
fn resources(result: &EvalResult, index: u64) -> Vec<Value> {
    let id = |kind: &str| {
        let name = format!("{}/{index}/{kind}", result.pack.digest);
        format!(
            "urn:uuid:{}",
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes())
        )
    };
    let meta = meta(result);
    let Some(a) = &result.assessment else {
        let outcome = json!({
            "resourceType": "OperationOutcome",
            "meta": meta,
            "issue": [{
                "severity": "error",
                "code": "invalid",
                "details": {"text": format!("{} {}", label(result), result.error_code.map(|c| c.as_str()).unwrap_or("error"))},
                "diagnostics": result.error.clone().unwrap_or_default(),
            }],
        });
        return vec![entry(&id("outcome"), outcome)];
    };
    let observation_id = id("observation");
    let mut entries = vec![entry(&observation_id, observation(result, a, &meta))];
    if let Some(proposal) = proposal(result, a, Some(&observation_id)) {
        entries.push(entry(&id("proposal"), proposal));
    }
    entries
}

/// The pack name, version and digest and the engine, as `meta.tag`s.
fn meta(result: &EvalResult) -> Value {
    json!({"tag": [
        {"system": PACK_TAG, "code": format!("{}|{}", result.pack.name, result.pack.version), "display": result.pack.digest},
        {"system": ENGINE_TAG, "code": result.engine},
    ]})
}

fn entry(full_url: &str, resource: Value) -> Value {
    json!({"fullUrl": full_url, "resource": resource})
}

/// `S-001 (imatinib)`: how an outcome names its sample.
fn label(result: &EvalResult) -> String {
    format!(
        "sample {} ({})",
        result.id.as_deref().unwrap_or("without id"),
        result.drug.as_deref().unwrap_or("drug unknown")
    )
}

fn observation(result: &EvalResult, a: &Assessment, meta: &Value) -> Value {
    let drug = result.drug.as_deref().unwrap_or("drug");
    let measure = a.exposure.measure.as_str();
    let mut o = json!({
        "resourceType": "Observation",
        "meta": meta,
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": {"text": format!("{drug} {measure} ({})", a.exposure.unit)},
        "subject": subject(result),
        "valueQuantity": quantity(a.exposure.value, &a.exposure.unit),
        "note": [{"text": result.rationale.clone().unwrap_or_default()}],
    });
    if let Some(sample) = &result.id {
        o["identifier"] = json!([{"system": "urn:tdm:sample", "value": sample}]);
        // A sample read from FHIR is named by its Observation: the advice
        // is derived from it.
        if let Some(reference) = fhir_reference(sample, "Observation") {
            o["derivedFrom"] = json!([{"reference": reference}]);
        }
    }
    if let Some(when) = result.sampled_at.as_deref().and_then(fhir_date_time) {
        o["effectiveDateTime"] = json!(when);
    }
    if let Some(code) = a.classification.and_then(interpretation) {
        o["interpretation"] =
            json!([{"coding": [{"system": INTERPRETATION, "code": code.0, "display": code.1}]}]);
    }
    let mut range =
        json!({"text": format!("target {} ({})", a.target.id, a.target.references.join(", "))});
    if let Some(low) = a.target.lower {
        range["low"] = quantity(low, &a.target.unit);
    }
    if let Some(high) = a.target.upper {
        range["high"] = quantity(high, &a.target.unit);
    }
    o["referenceRange"] = json!([range]);
    o
}

/// The next dose as a `MedicationRequest` with `intent: proposal`, for
/// the reason given (the Observation it rests on); None without a next dose.
pub(crate) fn proposal(result: &EvalResult, a: &Assessment, reason: Option<&str>) -> Option<Value> {
    let (Some(mg), Some(hours)) = (a.next_dose_mg, a.next_interval_h) else {
        return None;
    };
    let mut notes = vec![json!({"text": format!("advice: {}", a.advice.as_str())})];
    notes.extend(
        a.conditions
            .iter()
            .map(|c| json!({"text": format!("condition: {c}")})),
    );
    let mut request = json!({
        "resourceType": "MedicationRequest",
        "meta": meta(result),
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": {"text": result.drug.as_deref().unwrap_or("drug")},
        "subject": subject(result),
        "note": notes,
        "dosageInstruction": [{
            "text": format!("{} mg every {} h", tdm_core::result::fmt_num(mg), tdm_core::result::fmt_num(hours)),
            "timing": {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}},
            "doseAndRate": [{"doseQuantity": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}}],
        }],
    });
    if let Some(reason) = reason {
        request["reasonReference"] = json!([{"reference": reason}]);
    }
    Some(request)
}

/// The patient as the sample named them; a Reference needs no more than a
/// display, so none is made up when the sample named nobody.
fn subject(result: &EvalResult) -> Value {
    match &result.patient {
        Some(p) => match fhir_reference(p, "Patient") {
            Some(reference) => json!({"reference": reference}),
            None => json!({"identifier": {"system": "urn:tdm:patient", "value": p}, "display": p}),
        },
        None => json!({"display": "patient not named in the sample"}),
    }
}

/// `text` as a FHIR reference to a resource of `kind`: `Patient/p1` (an id
/// of FHIR's syntax: 1-64 letters, digits, `-` and `.`) or a `urn:uuid:`.
pub(crate) fn fhir_reference<'a>(text: &'a str, kind: &str) -> Option<&'a str> {
    let id_ok = |id: &str| {
        (1..=64).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    let is_uuid = text
        .strip_prefix("urn:uuid:")
        .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok());
    let is_kind = text
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(id_ok);
    (is_uuid || is_kind).then_some(text)
}

fn quantity(value: f64, unit: &str) -> Value {
    // UCUM writes a product with `.`: ng*h/mL is ng.h/mL.
    let code = unit.replace('*', ".");
    json!({"value": value, "unit": unit, "system": UCUM, "code": code})
}

fn interpretation(c: Classification) -> Option<(&'static str, &'static str)> {
    match c {
        Classification::Below => Some(("L", "Low")),
        Classification::Within => Some(("N", "Normal")),
        Classification::Above => Some(("H", "High")),
        // A classification added later has no code here until one is chosen.
        _ => None,
    }
}

/// A FHIR dateTime: with a time, FHIR needs seconds and an offset. A time
/// given with an offset is written as its instant; one without is written as
/// its date alone (its offset is not known, and is not guessed).
fn fhir_date_time(given: &str) -> Option<String> {
    if let Ok(at) = given.parse::<jiff::Timestamp>() {
        return Some(at.to_string());
    }
    let date = given.get(..10)?;
    date.parse::<jiff::civil::Date>()
        .ok()
        .map(|_| date.to_owned())
}

#[cfg(test)]
mod tests {
    use super::fhir_date_time;

    #[test]
    fn times_without_an_offset_keep_their_date_only() {
        assert_eq!(
            fhir_date_time("2026-03-02T09:10").as_deref(),
            Some("2026-03-02")
        );
        assert_eq!(
            fhir_date_time("2026-03-02T09:10:00+01:00").as_deref(),
            Some("2026-03-02T08:10:00Z")
        );
        assert_eq!(fhir_date_time("2026-03-02").as_deref(), Some("2026-03-02"));
        assert_eq!(fhir_date_time("March"), None);
    }
}
