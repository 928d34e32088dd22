//! A drug level's context from the patient's other FHIR resources: the
//! dose in effect when it was drawn (`MedicationRequest`,
//! `MedicationStatement`), the time of the last dose taken
//! (`MedicationAdministration`), the indication (`Condition`), the worst
//! current toxicity (`AdverseEvent` with a CTCAE grade, or a grade
//! `Observation`) and model covariates (body weight). Only resources of
//! the same patient are read; where two give different answers for one
//! field, the result is refused rather than one chosen.

use std::collections::HashMap;

use serde_json::Value;

use crate::interop::fhir_read::{self, Res, codings, names};
use crate::interop::{Built, Refusal, drug_named};
use crate::pack::{Drug, Pack};

/// Doses older than this before the sample are not read (the contract's limit).
const YEAR_S: i64 = 366 * 24 * 3600;

/// The resources a level's context is read from, by patient (indexed once:
/// a Bundle may hold thousands of levels and many more resources).
pub(crate) struct Context<'a> {
    pack: &'a Pack,
    by_patient: HashMap<String, Vec<Res<'a>>>,
    /// `Kind/id` and `fullUrl` -> the resource, for references.
    by_reference: HashMap<String, Res<'a>>,
}

/// A medication order or statement of the drug, read.
struct Use {
    path: String,
    start: Option<i64>,
    end: Option<i64>,
    active: bool,
    dose_mg: Option<f64>,
    interval_h: Option<f64>,
    product: Option<String>,
    regimen: Option<(String, String)>,
    /// `reasonReference` targets and `reasonCode` codings: why it is given.
    reasons: Vec<String>,
    reason_codes: Vec<(String, String)>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(resources: &'a [Res<'a>], pack: &'a Pack) -> Self {
        let mut by_patient: HashMap<String, Vec<Res<'a>>> = HashMap::new();
        let mut by_reference = HashMap::new();
        for r in resources {
            if let Some(p) = r.patient() {
                by_patient.entry(p).or_default().push(*r);
            }
            if let Some(id) = r.str("id") {
                by_reference.insert(format!("{}/{id}", r.kind()), *r);
            }
            if let Some(url) = r.full_url {
                by_reference.insert(url.to_owned(), *r);
            }
        }
        Context {
            pack,
            by_patient,
            by_reference,
        }
    }

    fn of_patient<'s>(
        &'s self,
        kind: &'s str,
        patient: &str,
    ) -> impl Iterator<Item = &'s Res<'a>> + 's {
        self.by_patient
            .get(patient)
            .into_iter()
            .flatten()
            .filter(move |r| r.kind() == kind)
    }

    /// The patient's medication resources of `kind` that give `drug`, with
    /// the product each names.
    fn giving<'s>(
        &'s self,
        kind: &'s str,
        patient: &str,
        drug: &'s Drug,
    ) -> impl Iterator<Item = (&'s Res<'a>, Option<String>)> + 's {
        self.of_patient(kind, patient).filter_map(move |r| {
            let (d, product) = self.medication_of(r)?;
            (d.name == drug.name).then_some((r, product))
        })
    }

    /// Adds to `b` what the patient's resources say about the level of
    /// `drug` drawn at `time`.
    pub(crate) fn apply(
        &self,
        b: &mut Built,
        patient: &str,
        drug: &Drug,
        time: Option<i64>,
    ) -> Result<(), Refusal> {
        let reasons = self.dosing(b, patient, drug, time)?;
        self.administrations(b, patient, drug, time)?;
        self.indication(b, patient, reasons)?;
        self.toxicity(b, patient, time)?;
        self.covariates(b, patient, time)
    }

    /// The resource of `kind` a reference points at.
    fn target(&self, kind: &str, reference: &str) -> Option<&Res<'a>> {
        self.by_reference
            .get(reference)
            .filter(|r| r.kind() == kind)
    }

    /// The drug a medication resource gives, with the product named.
    fn medication_of(&self, r: &Res<'_>) -> Option<(&'a Drug, Option<String>)> {
        let concept = match r.get("medicationCodeableConcept") {
            Some(c) => Some(c),
            None => {
                let target = fhir_read::reference(r.get("medicationReference"))?;
                self.target("Medication", &target)
                    .and_then(|m| m.get("code"))
            }
        };
        drug_named(self.pack, &names(concept))
    }

    /// The dose in effect; answers why it is given (its reasons), for the indication.
    fn dosing(
        &self,
        b: &mut Built,
        patient: &str,
        drug: &Drug,
        time: Option<i64>,
    ) -> Result<Option<Reasons>, Refusal> {
        let mut uses = Vec::new();
        for kind in ["MedicationRequest", "MedicationStatement"] {
            for (r, product) in self.giving(kind, patient, drug) {
                if let Some(u) = read_use(r, product, self.pack)? {
                    uses.push(u);
                }
            }
        }
        let current: Vec<&Use> = uses
            .iter()
            .filter(|u| match time {
                Some(t) if u.start.is_some() || u.end.is_some() => {
                    u.start.is_none_or(|s| s <= t) && u.end.is_none_or(|e| e >= t)
                }
                _ => u.active,
            })
            .collect();
        let Some(first) = current.iter().max_by_key(|u| u.start) else {
            return Ok(None);
        };
        if let Some(other) = current.iter().find(|u| {
            (u.dose_mg, u.interval_h, &u.product, &u.regimen)
                != (
                    first.dose_mg,
                    first.interval_h,
                    &first.product,
                    &first.regimen,
                )
        }) {
            return Err(Refusal::invalid(format!(
                "{} and {} both give {} at the sample's time, with different doses: which applies cannot be told",
                first.path, other.path, drug.name
            )));
        }
        if let Some(p) = &first.product {
            b.set("product", p.clone(), &first.path);
        }
        if let Some((regimen, at)) = &first.regimen {
            b.set("regimen", regimen.clone(), at);
        }
        if let Some(mg) = first.dose_mg {
            b.set("dose_mg", mg, &format!("{}.dosage", first.path));
        }
        if let Some(h) = first.interval_h {
            b.set("interval_h", h, &format!("{}.dosage.timing", first.path));
        }
        if let (Some(start), Some(t)) = (first.start, time)
            && t >= start
        {
            let days = (t - start) as f64 / 86400.0;
            b.set(
                "days_on_dose",
                (days * 100.0).round() / 100.0,
                &format!("{} (start)", first.path),
            );
        }
        Ok(Some(Reasons {
            path: first.path.clone(),
            references: first.reasons.clone(),
            codes: first.reason_codes.clone(),
        }))
    }

    fn administrations(
        &self,
        b: &mut Built,
        patient: &str,
        drug: &Drug,
        time: Option<i64>,
    ) -> Result<(), Refusal> {
        let Some(t) = time else { return Ok(()) };
        let mut given: Vec<(i64, Option<f64>, String)> = Vec::new();
        for (r, _) in self.giving("MedicationAdministration", patient, drug) {
            if r.str("status").is_some_and(|s| s != "completed") {
                continue;
            }
            let path = r.path();
            let Some(text) = r.str("effectiveDateTime") else {
                return Err(Refusal::missing(format!(
                    "{path}.effectiveDateTime: missing: when the dose was taken cannot be told"
                )));
            };
            let (_, at) = fhir_read::date_time(text, &format!("{path}.effectiveDateTime"))?;
            if at > t || t - at > YEAR_S {
                continue;
            }
            let mg = match r.get("dosage").and_then(|d| d.get("dose")) {
                Some(q) => Some(fhir_read::mg(q, &format!("{path}.dosage.dose"))?),
                None => None,
            };
            given.push((at, mg, path));
        }
        given.sort_by_key(|g| g.0);
        let Some(last) = given.last() else {
            return Ok(());
        };
        let hours = (t - last.0) as f64 / 3600.0;
        b.set("hours_since_dose", (hours * 100.0).round() / 100.0, &last.2);
        if !b.fields.contains_key("dose_mg")
            && let Some(mg) = last.1
        {
            b.set("dose_mg", mg, &format!("{}.dosage.dose", last.2));
        }
        // The administrations are not passed on as the doses given: a
        // record that holds only the last few would make a model fit them as
        // the patient's whole course. The order's regular dosing stands.
        Ok(())
    }

    /// The indication: the one the dose in effect gives as its reason
    /// (`reasonReference` to a Condition, or `reasonCode`); else the
    /// patient's one mapped active diagnosis. Two diagnoses and no reason
    /// are refused: which the level is judged for cannot be told.
    fn indication(
        &self,
        b: &mut Built,
        patient: &str,
        reasons: Option<Reasons>,
    ) -> Result<(), Refusal> {
        let codes = self.pack.codes();
        if let Some(reasons) = &reasons {
            let from_codes = reasons
                .codes
                .iter()
                .find_map(|(s, c)| codes.indication(s, c))
                .map(|i| (i.indication.clone(), format!("{}.reasonCode", reasons.path)));
            let from_refs = reasons.references.iter().find_map(|target| {
                let condition = self.target("Condition", target)?;
                codings(condition.get("code"))
                    .into_iter()
                    .find_map(|(s, c)| codes.indication(s, c))
                    .map(|i| (i.indication.clone(), format!("{}.code", condition.path())))
            });
            if let Some((indication, at)) = from_codes.or(from_refs) {
                b.set("indication", indication, &at);
                return Ok(());
            }
        }
        let mut found: Vec<(String, String)> = Vec::new();
        for r in self.of_patient("Condition", patient) {
            let status = codings(r.get("clinicalStatus"));
            if !status.is_empty()
                && !status
                    .iter()
                    .any(|(_, c)| matches!(*c, "active" | "recurrence" | "relapse"))
            {
                continue;
            }
            if codings(r.get("verificationStatus"))
                .iter()
                .any(|(_, c)| matches!(*c, "refuted" | "entered-in-error"))
            {
                continue;
            }
            for (system, code) in codings(r.get("code")) {
                if let Some(i) = codes.indication(system, code)
                    && !found.iter().any(|(x, _)| x == &i.indication)
                {
                    found.push((i.indication.clone(), r.path()));
                }
            }
        }
        match found.as_slice() {
            [] => Ok(()),
            [(indication, path)] => {
                b.set("indication", indication.clone(), &format!("{path}.code"));
                Ok(())
            }
            [(a, pa), (c, pc), ..] => Err(Refusal::invalid(format!(
                "{pa} ({a}) and {pc} ({c}) are both active diagnoses of the patient and the medication names no reason (reasonReference): which the level is judged for cannot be told"
            ))),
        }
    }

    /// The worst grade among the latest assessment of each adverse event
    /// at or before the sample (all of them when its time is unknown).
    fn toxicity(&self, b: &mut Built, patient: &str, time: Option<i64>) -> Result<(), Refusal> {
        let codes = self.pack.codes();
        let mut latest: Vec<(String, Option<i64>, u8, String)> = Vec::new();
        let mut note = |key: String, at: Option<i64>, grade: u8, path: String| {
            if let (Some(t), Some(a)) = (time, at)
                && a > t
            {
                return;
            }
            match latest.iter_mut().find(|l| l.0 == key) {
                Some(l) if l.1 <= at => *l = (key, at, grade, path),
                Some(_) => {}
                None => latest.push((key, at, grade, path)),
            }
        };
        for r in self.of_patient("AdverseEvent", patient) {
            let path = r.path();
            if codings(r.get("outcome"))
                .iter()
                .any(|(_, c)| *c == "resolved")
            {
                continue;
            }
            let Some((i, ext)) = r
                .get("extension")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .find(|(_, e)| {
                    e.get("url")
                        .and_then(Value::as_str)
                        .is_some_and(|u| codes.toxicity_grade_extensions.iter().any(|x| x == u))
                })
            else {
                continue;
            };
            let grade = grade(ext, &format!("{path}.extension[{i}]"))?;
            let key = codings(r.get("event")).first().map_or_else(
                || names(r.get("event")).join(" "),
                |(s, c)| format!("{s}|{c}"),
            );
            note(
                key,
                r.str("date").and_then(fhir_read::date_or_time),
                grade,
                path,
            );
        }
        for r in self.of_patient("Observation", patient) {
            if !codings(r.get("code"))
                .iter()
                .any(|(s, c)| codes.is_toxicity_observation(s, c))
            {
                continue;
            }
            let path = r.path();
            let grade = grade(r.value, &path)?;
            let key = names(r.get("focus")).join(" ");
            note(
                format!("observation {key}"),
                r.str("effectiveDateTime").and_then(fhir_read::date_or_time),
                grade,
                path,
            );
        }
        if let Some(worst) = latest.iter().max_by_key(|l| l.2) {
            b.set("toxicity_grade", worst.2, &worst.3);
        }
        Ok(())
    }

    fn covariates(&self, b: &mut Built, patient: &str, time: Option<i64>) -> Result<(), Refusal> {
        let codes = self.pack.codes();
        let mut best: Vec<(String, Option<i64>, f64, String)> = Vec::new();
        for r in self.of_patient("Observation", patient) {
            let Some(c) = codings(r.get("code"))
                .into_iter()
                .find_map(|(s, c)| codes.covariate(s, c))
            else {
                continue;
            };
            let path = r.path();
            let at = r.str("effectiveDateTime").and_then(fhir_read::date_or_time);
            if let (Some(t), Some(a)) = (time, at)
                && a > t
            {
                continue;
            }
            let q = r
                .get("valueQuantity")
                .ok_or_else(|| Refusal::missing(format!("{path}.valueQuantity: missing")))?;
            let (code, value) = (
                q.get("code").and_then(Value::as_str),
                q.get("value").and_then(Value::as_f64),
            );
            let (Some(value), true) = (value, code == Some(c.ucum.as_str())) else {
                return Err(Refusal::unit(format!(
                    "{path}.valueQuantity: {} is read in UCUM `{}` only, got `{}`",
                    c.input,
                    c.ucum,
                    code.unwrap_or("no code")
                )));
            };
            match best.iter_mut().find(|x| x.0 == c.input) {
                Some(x) if x.1 <= at => *x = (c.input.clone(), at, value, path),
                Some(_) => {}
                None => best.push((c.input.clone(), at, value, path)),
            }
        }
        for (input, _, value, path) in best {
            b.set(&input, value, &path);
        }
        Ok(())
    }
}

/// Why the dose in effect is given.
struct Reasons {
    path: String,
    references: Vec<String>,
    codes: Vec<(String, String)>,
}

/// A CTCAE grade, 0-5, from `valueInteger` or a `valueCodeableConcept`'s code.
fn grade(holder: &Value, path: &str) -> Result<u8, Refusal> {
    let read = match (
        holder.get("valueInteger"),
        holder.get("valueCodeableConcept"),
    ) {
        (Some(v), _) => v.as_u64(),
        (None, Some(cc)) => codings(Some(cc))
            .iter()
            .find_map(|(_, c)| c.parse::<u64>().ok()),
        (None, None) => None,
    };
    match read {
        Some(g) if g <= 5 => Ok(g as u8),
        _ => Err(Refusal::invalid(format!(
            "{path}: a CTCAE grade is a whole number from 0 to 5 (valueInteger or a coded valueCodeableConcept)"
        ))),
    }
}

/// A MedicationRequest or MedicationStatement read for its dose, or None
/// when its status says it was never in effect.
fn read_use(r: &Res<'_>, product: Option<String>, pack: &Pack) -> Result<Option<Use>, Refusal> {
    let path = r.path();
    let status = r.str("status").unwrap_or("unknown");
    if matches!(
        status,
        "cancelled" | "entered-in-error" | "draft" | "not-taken" | "intended" | "unknown"
    ) {
        return Ok(None);
    }
    let (key, dosages) = match r.get("dosageInstruction") {
        Some(d) => ("dosageInstruction", d),
        None => ("dosage", r.get("dosage").unwrap_or(&Value::Null)),
    };
    let dosages: &[Value] = dosages.as_array().map_or(&[], Vec::as_slice);
    if dosages.len() > 1 {
        return Err(Refusal::invalid(format!(
            "{path}.{key}: {} instructions: a dose that differs across the day cannot be one dose_mg",
            dosages.len()
        )));
    }
    let dosage = dosages.first();
    let at = format!("{path}.{key}[0]");
    let dose_mg = match dosage
        .and_then(|d| d.get("doseAndRate"))
        .and_then(|d| d.get(0))
    {
        Some(dr) => match dr.get("doseQuantity") {
            Some(q) => Some(fhir_read::mg(
                q,
                &format!("{at}.doseAndRate[0].doseQuantity"),
            )?),
            None => {
                return Err(Refusal::invalid(format!(
                    "{at}.doseAndRate[0]: a dose is read from doseQuantity"
                )));
            }
        },
        None => None,
    };
    let regimen = dosage
        .and_then(|d| d.get("additionalInstruction"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .find_map(|(i, cc)| {
            codings(Some(cc)).into_iter().find_map(|(s, c)| {
                pack.codes()
                    .regimen(s, c)
                    .map(|r| (r.to_owned(), format!("{at}.additionalInstruction[{i}]")))
            })
        });
    let timing = dosage.and_then(|d| d.get("timing"));
    let interval_h = interval(timing, &format!("{at}.timing"))?;
    let period = r.get("effectivePeriod").or_else(|| {
        timing
            .and_then(|t| t.get("repeat"))
            .and_then(|x| x.get("boundsPeriod"))
    });
    let start = period
        .and_then(|p| p.get("start"))
        .and_then(Value::as_str)
        .or_else(|| r.str("effectiveDateTime"))
        .and_then(fhir_read::date_or_time);
    let end = period
        .and_then(|p| p.get("end"))
        .and_then(Value::as_str)
        .and_then(fhir_read::date_or_time);
    let reasons = r
        .get("reasonReference")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| fhir_read::reference(Some(v)))
        .collect();
    let reason_codes = r
        .get("reasonCode")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|cc| codings(Some(cc)))
        .map(|(s, c)| (s.to_owned(), c.to_owned()))
        .collect();
    Ok(Some(Use {
        path,
        start,
        end,
        active: status == "active",
        dose_mg,
        interval_h,
        product,
        regimen,
        reasons,
        reason_codes,
    }))
}

/// Hours between doses from a Timing: `repeat` (frequency per period), or
/// the HL7 v3 GTSAbbreviation code QD, BID, TID or QID.
fn interval(timing: Option<&Value>, path: &str) -> Result<Option<f64>, Refusal> {
    let Some(timing) = timing else {
        return Ok(None);
    };
    if let Some(repeat) = timing.get("repeat") {
        let period = repeat.get("period").and_then(Value::as_f64);
        if let Some(period) = period {
            let frequency = repeat
                .get("frequency")
                .and_then(Value::as_f64)
                .unwrap_or(1.0);
            let hours = match repeat.get("periodUnit").and_then(Value::as_str) {
                Some("h") => 1.0,
                Some("d") => 24.0,
                Some("wk") => 168.0,
                other => {
                    return Err(Refusal::invalid(format!(
                        "{path}.repeat.periodUnit: `{}`: a dosing period is read in h, d or wk",
                        other.unwrap_or("missing")
                    )));
                }
            };
            if frequency > 0.0 && period > 0.0 {
                return Ok(Some(period * hours / frequency));
            }
            return Err(Refusal::invalid(format!(
                "{path}.repeat: frequency and period must be positive"
            )));
        }
    }
    let per_day = codings(timing.get("code"))
        .iter()
        .find_map(|(_, c)| match *c {
            "QD" => Some(1.0),
            "BID" => Some(2.0),
            "TID" => Some(3.0),
            "QID" => Some(4.0),
            _ => None,
        });
    Ok(per_day.map(|n| 24.0 / n))
}
