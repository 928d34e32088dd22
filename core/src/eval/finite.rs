//! The last gate before a result leaves evaluation: every number in it is
//! finite. The input bounds keep conversions and corrections inside the
//! double range; this holds whatever a pack, script or plugin computed.

use crate::result::{Assessment, Exposure};

/// Every number of the assessment is finite.
pub(crate) fn all_finite(a: &Assessment) -> bool {
    let opt = |v: Option<f64>| v.is_none_or(f64::is_finite);
    exposure_finite(&a.exposure)
        && opt(a.sampling.hours_since_dose)
        && a.sampling.interval_h.is_finite()
        && opt(a.sampling.days_on_dose)
        && opt(a.sampling.steady_state_days)
        && opt(a.target.lower)
        && opt(a.target.upper)
        && opt(a.target.population_mean)
        && opt(a.next_dose_mg)
        && opt(a.next_interval_h)
}

fn exposure_finite(e: &Exposure) -> bool {
    let opt = |v: Option<f64>| v.is_none_or(f64::is_finite);
    let analytes = e.analytes.iter().all(|a| {
        a.measured.is_finite() && a.value.is_finite() && opt(a.at_trough) && opt(a.half_life_h)
    });
    let corrected = e.corrected_from.as_ref().is_none_or(|c| {
        c.value.is_finite()
            && c.hours_since_dose.is_finite()
            && c.interval_h.is_finite()
            && opt(c.half_life_h)
            && opt(c.model_ratio)
    });
    let expected = e.expected.as_ref().is_none_or(|x| {
        [
            x.value,
            x.daily_dose_mg,
            x.cv,
            x.swing,
            x.steady_state_reached,
            x.impossible_below,
            x.impossible_above,
        ]
        .iter()
        .all(|v| v.is_finite())
            && opt(x.improbable_below)
            && opt(x.improbable_above)
    });
    e.value.is_finite() && analytes && corrected && expected && opt(e.population_percentile)
}
