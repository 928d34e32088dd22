//! Sentences for people: bounds and the one-sentence rationale.

use crate::model::{Basis, Lower, Target, fmt_num};
use crate::result::{Assessment, Classification};

/// `>= 1000 ng/mL`, `50–100 ng/mL`, `<= 100 ng/mL`; `dose_mg` resolves a
/// dose-normalised lower bound.
pub(crate) fn bounds(t: &Target, dose_mg: Option<f64>) -> String {
    let unit = t.measure.quantity().canonical();
    let lower = match (t.lower, dose_mg) {
        (Some(Lower::Fixed(v)), _) => Some(fmt_sig(v)),
        (Some(Lower::PerMgDose(k)), Some(d)) => Some(fmt_sig(k * d)),
        (Some(Lower::PerMgDose(k)), None) => Some(format!("{} per mg of dose", fmt_num(k))),
        (None, _) => None,
    };
    match (lower, t.upper) {
        (Some(l), Some(u)) => format!("{l}–{} {unit}", fmt_sig(u)),
        (Some(l), None) => format!(">= {l} {unit}"),
        (None, Some(u)) => format!("<= {} {unit}", fmt_sig(u)),
        (None, None) => String::new(),
    }
}

/// Three significant digits, as a laboratory reports a level.
pub(crate) fn fmt_sig(value: f64) -> String {
    fmt_num(round_sig(value, 3))
}

/// `value` rounded to `digits` significant digits (never into the integer
/// part: 1234.5 stays 1235 with 3 digits).
pub fn round_sig(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let decimals = (digits - 1 - value.abs().log10().floor() as i32).max(0);
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// The rationale: what was measured, against what, and what to do.
pub(crate) fn rationale(
    a: &Assessment,
    target: &Target,
    dose_mg: Option<f64>,
    reason: &str,
) -> String {
    let e = &a.exposure;
    let mut what = format!("{} {} {}", target.measure.label(), fmt_sig(e.value), e.unit);
    if e.analytes.len() > 1 {
        let parts: Vec<&str> = e.analytes.iter().map(|x| x.name.as_str()).collect();
        what.push_str(&format!(" ({})", parts.join(" + ")));
    }
    if e.parent_only {
        what.push_str(" (parent only)");
    }
    let by_script = |hook: &str| {
        a.script
            .as_ref()
            .filter(|s| s.hooks.iter().any(|h| h == hook))
            .map(|s| format!(" (by {} `{}`)", s.kind, s.file))
            .unwrap_or_default()
    };
    if let Some(c) = &e.corrected_from {
        match c.half_life_h {
            Some(h) => what.push_str(&format!(
                " (extrapolated from {} {} at {} h, t½ {} h)",
                fmt_sig(c.value),
                e.unit,
                fmt_num(c.hours_since_dose),
                fmt_num(h)
            )),
            None => what.push_str(&format!(
                " (trough predicted from {} {} at {} h)",
                fmt_sig(c.value),
                e.unit,
                fmt_num(c.hours_since_dose)
            )),
        }
    }
    what.push_str(&by_script("exposure"));
    // Name the scope only when the target itself is specific to it.
    let scope = [
        (&target.indications, a.indication.as_deref()),
        (&target.regimens, a.regimen.as_deref()),
    ]
    .into_iter()
    .find(|(list, _)| !list.is_empty())
    .map(|(list, given)| {
        let name = given
            .and_then(|g| list.iter().find(|x| x.eq_ignore_ascii_case(g)))
            .map_or_else(|| list.join("/"), Clone::clone);
        format!("{name} ")
    })
    .unwrap_or_default();
    let kind = match target.basis {
        Basis::Threshold => "target",
        Basis::PopulationMean => "population mean",
    };
    let refs = if target.references.is_empty() {
        String::new()
    } else {
        format!("; ref {}", target.references.join(", "))
    };
    let evidence = format!("{:?}", target.evidence).to_lowercase();
    let position = match a.classification {
        Some(Classification::Below) => "is below",
        Some(Classification::Within) => {
            if target.basis == Basis::PopulationMean {
                "is at or above"
            } else {
                "is within"
            }
        }
        Some(Classification::Above) => "is above",
        None => "cannot be judged against",
    };
    let value = match target.basis {
        Basis::PopulationMean => bounds(target, dose_mg).trim_start_matches(">= ").to_owned(),
        Basis::Threshold => bounds(target, dose_mg),
    };
    let value = format!("{value}{}", by_script("target"));
    format!("{what} {position} the {scope}{kind} of {value} ({evidence}{refs}): {reason}.")
}
