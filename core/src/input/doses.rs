//! `doses`: the doses given before a sample, each `{"at": date-time, "mg":
//! number}`, for a population model's fit (design.md, "Model-informed
//! dosing"). A list, so JSON and NDJSON only; it needs `sampled_at`, and
//! every dose must come before the sample, within a year of it.

use serde_json::Value;

use crate::input::fields::Field;
use crate::input::time;

/// At most this many doses in one sample: a year of twice-daily doses.
pub const MAX_DOSES: usize = 730;
/// The oldest dose read, hours before the sample.
const MAX_HOURS_BEFORE: f64 = 366.0 * 24.0;

/// One dose given before the sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dose {
    /// Hours from the dose to the sample (not negative).
    pub hours_before: f64,
    /// mg.
    pub mg: f64,
}

/// The doses of `field`, checked against `sampled_at`.
pub(crate) fn read(
    field: Option<Field<'_>>,
    sampled_at: Option<&str>,
    mg_range: (f64, f64),
) -> Result<Vec<Dose>, String> {
    let items = match field {
        None => return Ok(Vec::new()),
        Some(Field::Json(Value::Array(items))) => items,
        Some(Field::Cell(s)) if s.trim().is_empty() => return Ok(Vec::new()),
        Some(Field::Cell(_)) => {
            return Err(
                "field `doses` is a list of {at, mg}: give it in JSON or NDJSON, not CSV".into(),
            );
        }
        Some(other) => {
            return Err(format!(
                "field `doses` must be a list of {{\"at\": date-time, \"mg\": number}}, got {}",
                other.describe()
            ));
        }
    };
    let Some(sampled) = sampled_at.and_then(time::parse) else {
        return Err("field `doses` needs `sampled_at`: dose times are read against it".into());
    };
    if items.len() > MAX_DOSES {
        return Err(format!(
            "field `doses` lists {} doses: at most {MAX_DOSES}",
            items.len()
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let n = i + 1;
            let at = item.get("at").and_then(Value::as_str);
            let mg = item.get("mg").and_then(Value::as_f64);
            let keys_ok = item.as_object().is_some_and(|o| o.keys().all(|k| k == "at" || k == "mg"));
            let (Some(at), Some(mg), true) = (at, mg, keys_ok) else {
                return Err(format!("field `doses`: dose {n} must be {{\"at\": date-time, \"mg\": number}} and nothing else"));
            };
            let Some(t) = time::parse(at) else {
                return Err(format!("field `doses`: dose {n} has `at` \"{at}\", not a date and time such as 2026-11-24T08:30"));
            };
            let hours_before = (sampled - t) as f64 / 3600.0;
            if !(0.0..=MAX_HOURS_BEFORE).contains(&hours_before) {
                return Err(format!("field `doses`: dose {n} at {at} is not before the sample and within a year of it"));
            }
            if !(mg_range.0..=mg_range.1).contains(&mg) {
                return Err(format!("field `doses`: dose {n} of {mg} mg is outside {}-{} mg", mg_range.0, mg_range.1));
            }
            Ok(Dose { hours_before, mg })
        })
        .collect()
}
