//! Reading FHIR R4 datatypes: resources and their paths, codings,
//! references, date-times and quantities. Every failure names the element.

use serde_json::Value;

use crate::interop::{Refusal, UCUM};
use crate::pack::Codes;

/// A resource of the document and the path that names it in messages and
/// in results: `Observation/abc` when it has an id, else its `fullUrl`,
/// else its place in the Bundle.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Res<'a> {
    pub value: &'a Value,
    pub full_url: Option<&'a str>,
    pub place: usize,
}

impl<'a> Res<'a> {
    pub(crate) fn kind(&self) -> &'a str {
        self.str("resourceType").unwrap_or("")
    }

    pub(crate) fn path(&self) -> String {
        match (self.str("id"), self.full_url) {
            (Some(id), _) => format!("{}/{id}", self.kind()),
            (None, Some(url)) => url.to_owned(),
            (None, None) => format!("Bundle.entry[{}].resource", self.place),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.value.get(key)
    }

    pub(crate) fn str(&self, key: &str) -> Option<&'a str> {
        self.value.get(key).and_then(Value::as_str)
    }

    /// The patient the resource is about (`subject`, or `patient` where R4
    /// names it so), as a normalised reference.
    pub(crate) fn patient(&self) -> Option<String> {
        reference(self.get("subject").or_else(|| self.get("patient")))
    }
}

/// A reference's target: `Patient/p1` also for an absolute URL ending so
/// (`https://ehr.example/fhir/Patient/p1`); a `urn:uuid:` as it is.
pub(crate) fn reference(v: Option<&Value>) -> Option<String> {
    let text = v?.get("reference")?.as_str()?.trim();
    if text.is_empty() {
        return None;
    }
    if text.starts_with("urn:") {
        return Some(text.to_owned());
    }
    let parts: Vec<&str> = text.trim_end_matches('/').rsplit('/').take(2).collect();
    match parts.as_slice() {
        [id, kind] => Some(format!("{kind}/{id}")),
        _ => Some(text.to_owned()),
    }
}

/// The (system, code) pairs of a CodeableConcept.
pub(crate) fn codings(cc: Option<&Value>) -> Vec<(&str, &str)> {
    cc.and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    Some((
                        c.get("system").and_then(Value::as_str).unwrap_or(""),
                        c.get("code").and_then(Value::as_str)?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The words of a CodeableConcept: its text and each coding's display.
pub(crate) fn names(cc: Option<&Value>) -> Vec<&str> {
    let Some(cc) = cc else { return Vec::new() };
    let displays = cc
        .get("coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("display").and_then(Value::as_str));
    cc.get("text")
        .and_then(Value::as_str)
        .into_iter()
        .chain(displays)
        .collect()
}

/// A date-time (`effectiveDateTime`, `authoredOn`, `boundsPeriod.start`):
/// the text as given and its instant. A date alone is not a time of day
/// and is refused; so is anything FHIR does not allow.
pub(crate) fn date_time(text: &str, element: &str) -> Result<(String, i64), Refusal> {
    if crate::input::time::is_date(text) {
        return Err(Refusal::invalid(format!(
            "{element}: `{text}` is a date without a time of day: the hours between dose and sample cannot be told"
        )));
    }
    crate::input::time::parse(text)
        .map(|t| (text.to_owned(), t))
        .ok_or_else(|| {
            Refusal::invalid(format!(
                "{element}: `{text}` is not a FHIR dateTime such as 2026-11-24T08:30:00+01:00"
            ))
        })
}

/// A date-time that may be only a date (a period's start, a diagnosis):
/// a date reads as its first instant.
pub(crate) fn date_or_time(text: &str) -> Option<i64> {
    if crate::input::time::is_date(text) {
        crate::input::time::parse(&format!("{text}T00:00"))
    } else {
        crate::input::time::parse(text)
    }
}

/// A measured level as the contract reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Level {
    pub value: f64,
    /// The contract unit.
    pub unit: String,
    /// The laboratory reported it below its limit of quantification (`<`).
    pub below: bool,
}

/// The `valueQuantity` of an Observation or component at `path`, its UCUM
/// code mapped to a contract unit.
pub(crate) fn level(holder: &Value, path: &str, codes: &Codes) -> Result<Level, Refusal> {
    if let Some(reason) = holder.get("dataAbsentReason") {
        let said = names(Some(reason)).into_iter().next();
        let coded = codings(Some(reason)).into_iter().next().map(|c| c.1);
        let why = said.or(coded).unwrap_or("no reason given");
        return Err(Refusal::missing(format!(
            "{path}.dataAbsentReason: the result has no value ({why})"
        )));
    }
    let Some(q) = holder.get("valueQuantity") else {
        let other = holder
            .as_object()
            .and_then(|o| o.keys().find(|k| k.starts_with("value")).cloned());
        return Err(match other {
            Some(k) => Refusal::invalid(format!(
                "{path}.{k}: a drug level is read from valueQuantity, not {k}"
            )),
            None => Refusal::missing(format!("{path}.valueQuantity: missing")),
        });
    };
    let at = |e: &str| format!("{path}.valueQuantity.{e}");
    let value = q
        .get("value")
        .and_then(Value::as_f64)
        .ok_or_else(|| Refusal::missing(format!("{}: missing or not a number", at("value"))))?;
    let below = match q.get("comparator").and_then(Value::as_str) {
        None => false,
        Some("<" | "<=") => true,
        Some(c) => {
            return Err(Refusal::invalid(format!(
                "{}: `{c}`: a level above the assay's range is not a known level",
                at("comparator")
            )));
        }
    };
    let shown = q.get("unit").and_then(Value::as_str);
    let Some(code) = q.get("code").and_then(Value::as_str) else {
        let said = shown.map_or(String::new(), |u| format!(" (the text `{u}` is not read)"));
        return Err(Refusal::unit(format!(
            "{}: missing: a unit is read from its UCUM code only{said}; units are never guessed",
            at("code")
        )));
    };
    match q.get("system").and_then(Value::as_str) {
        Some(UCUM) => {}
        other => {
            return Err(Refusal::unit(format!(
                "{}: `{}` is not UCUM ({UCUM}): units are never guessed",
                at("system"),
                other.unwrap_or("missing")
            )));
        }
    }
    let unit = codes.unit(code).ok_or_else(|| {
        let known: Vec<&str> = codes.units.iter().map(|(u, _)| u.as_str()).collect();
        Refusal::unit(format!(
            "{}: UCUM `{code}` is not a unit the pack reads (it reads {})",
            at("code"),
            known.join(", ")
        ))
    })?;
    Ok(Level {
        value,
        unit: unit.to_owned(),
        below,
    })
}

/// A `Quantity` in mg (a dose): UCUM `mg` only.
pub(crate) fn mg(q: &Value, path: &str) -> Result<f64, Refusal> {
    let value = q
        .get("value")
        .and_then(Value::as_f64)
        .ok_or_else(|| Refusal::missing(format!("{path}.value: missing or not a number")))?;
    let code = q.get("code").and_then(Value::as_str);
    let system = q.get("system").and_then(Value::as_str);
    if code == Some("mg") && system == Some(UCUM) {
        Ok(value)
    } else {
        Err(Refusal::unit(format!(
            "{path}: a dose is read in UCUM `mg` only, got code `{}` of `{}`",
            code.unwrap_or("missing"),
            system.unwrap_or("no system")
        )))
    }
}
