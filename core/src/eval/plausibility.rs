//! Step 0 of the decision tree, version 2 (design.md, "Decision"): is the
//! value possible, and probable, for the patient's dose and sampling time?
//!
//! The expected trough is the population mean scaled to the patient's daily
//! dose (exposure in proportion to the dose). A value drawn away from the
//! trough may be up to the peak-to-trough ratio higher. A value under 1/100
//! of the expected trough or over 100 times the expected peak is refused as
//! a likely unit slip (mg/L sent as ng/mL is 1,000 times too low); outside
//! the 0.5–99.5th percentile of a log-normal with the source's CV (or the
//! pack's default) it is improbable: verified before any change.

use super::exposure::Combined;
use super::text::Sig;
use super::timing::Timing;
use super::{Context, EvalError, Notes};
use crate::pack::model::{Measure, Target};
use crate::result::num::{Num, tidy};
use crate::result::{CvFrom, ErrorCode, Expected, SteadyState};

/// The standard normal quantile of 0.995: the 0.5–99.5th percentile range
/// is the median times `exp(±Z * sigma)`.
const Z_995: f64 = 2.575_829_303_548_901;

/// Beyond this factor of the expected level a value is impossible.
const IMPOSSIBLE: f64 = 100.0;

/// Where the value stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Plausible {
    /// Within the expected range, or not checked.
    Yes,
    /// Outside the 0.5–99.5th percentile: `high` above it.
    Improbable { high: bool },
    /// Impossible, but kept because the toxicity is acted on all the same.
    Impossible,
}

/// The check and what reproduces it.
pub(crate) struct Plausibility {
    pub verdict: Plausible,
    pub expected: Option<Expected>,
}

/// Checks the value; refuses an impossible one unless `toxic` (toxicity is
/// acted on whatever the value: step 1 overrides step 0).
pub(crate) fn check(
    cx: &Context<'_>,
    target: &Target,
    combined: &Combined,
    timing: &Timing,
    undetectable: bool,
    toxic: bool,
    notes: &mut Notes,
) -> Result<Plausibility, EvalError> {
    let none = Plausibility {
        verdict: Plausible::Yes,
        expected: None,
    };
    if target.measure == Measure::Auc {
        notes.warnings.push(
            "the plausibility of an AUC is not checked (the pack's expected levels are troughs)"
                .into(),
        );
        return Ok(none);
    }
    let Some(expected) = expected(cx, target, timing) else {
        return Ok(none);
    };
    // A value not at trough is judged as measured, against the range widened
    // to the peak; a trough (or a value corrected to one) against the trough.
    let value = if timing.at_trough() {
        combined.total
    } else {
        combined.raw_total
    };
    let low = !undetectable && value < expected.impossible_below;
    let high = value > expected.impossible_above;
    if low || high {
        let dose = sentence!(&cx.drug.name, " ", Num(expected.daily_dose_mg), " mg/day");
        let mut why = impossible(value, &combined.exposure.unit, &expected, low, &dose);
        if !toxic {
            return Err(EvalError::new(ErrorCode::ImplausibleValue, why));
        }
        why.push_str(", but the toxicity is acted on all the same");
        notes.warnings.push(why);
        return Ok(Plausibility {
            verdict: Plausible::Impossible,
            expected: Some(expected),
        });
    }
    let improbable_low = !undetectable && expected.improbable_below.is_some_and(|b| value < b);
    let improbable_high = expected.improbable_above.is_some_and(|b| value > b);
    let verdict = match (improbable_low, improbable_high) {
        (true, _) => Plausible::Improbable { high: false },
        (_, true) => Plausible::Improbable { high: true },
        _ => Plausible::Yes,
    };
    Ok(Plausibility {
        verdict,
        expected: Some(expected),
    })
}

/// The expected level for the sample, from the target's population mean
/// (or the drug's, for a target that gives none) and its spread.
fn expected(cx: &Context<'_>, target: &Target, timing: &Timing) -> Option<Expected> {
    let drug = cx.drug;
    let with_mean = |t: &&Target| t.measure == Measure::Cmin && t.population_mean.is_some();
    let reference = Some(target)
        .filter(with_mean)
        .or_else(|| drug.targets.iter().filter(|t| t.primary).find(with_mean))
        .or_else(|| drug.targets.iter().find(with_mean))?;
    let mean = reference.population_mean?;
    let reference_daily = match &reference.spread {
        Some(s) => s.dose_mg * 24.0 / drug.dosing.interval_h,
        None => drug.dosing.levels.get(drug.dosing.standard)?.daily_mg(),
    };
    let daily = cx
        .sample
        .dose_mg
        .map_or(reference_daily, |mg| mg * 24.0 / timing.interval_h);
    let at_dose = mean * daily / reference_daily;
    let (cv, cv_from, geometric) = match (&reference.spread, cx.pack.policy.default_cv) {
        (Some(s), _) => (Some(s.cv), CvFrom::Source, s.geometric),
        (None, Some(cv)) => (Some(cv), CvFrom::Pack, false),
        (None, None) => (None, CvFrom::None, false),
    };
    let swing = swing(drug.half_life_h, timing);
    let range = cv.map(|cv| improbable_range(at_dose, cv, geometric, swing));
    // Before steady state the level has not yet accumulated: the lower
    // bounds fall with the share reached (from zero: the lowest it can be).
    let reached = match (
        timing.steady_state,
        cx.sample.days_on_dose,
        drug.half_life_h,
    ) {
        (SteadyState::No, Some(days), Some(h)) => super::timing::steady_state_share(days, h),
        _ => 1.0,
    };
    Some(Expected {
        value: tidy(at_dose),
        daily_dose_mg: tidy(daily),
        cv: cv.unwrap_or(0.0),
        cv_from,
        swing: tidy(swing),
        steady_state_reached: tidy(reached),
        improbable_below: range.map(|r| tidy(r.0 * reached)),
        improbable_above: range.map(|r| tidy(r.1)),
        impossible_below: tidy(at_dose * reached / IMPOSSIBLE),
        impossible_above: tidy(at_dose * swing * IMPOSSIBLE),
    })
}

/// The 0.5th and 99.5th percentiles of a log-normal population around
/// `mean` with coefficient of variation `cv` (variance ln(1 + CV²)); the
/// mean is the median when `geometric`, else median = mean / sqrt(1 + CV²).
/// The upper percentile is widened by `swing` for a value not at trough.
pub(crate) fn improbable_range(mean: f64, cv: f64, geometric: bool, swing: f64) -> (f64, f64) {
    let variance = (1.0 + cv * cv).ln();
    let median = if geometric {
        mean
    } else {
        mean / (1.0 + cv * cv).sqrt()
    };
    let spread = (Z_995 * variance.sqrt()).exp();
    (median / spread, median * spread * swing)
}

/// How much higher than the trough a value may be when it was not drawn at
/// (or corrected to) the trough: the peak-to-trough ratio
/// `2^(interval / half-life)`; unbounded without a half-life, so then
/// capped at 10 (a drug given once daily with a 7 h half-life).
fn swing(half_life_h: Option<f64>, timing: &Timing) -> f64 {
    if timing.at_trough() {
        return 1.0;
    }
    match half_life_h {
        Some(h) => super::timing::peak_to_trough(timing.interval_h, h).min(1e6),
        None => 10.0,
    }
}

fn impossible(value: f64, unit: &str, e: &Expected, low: bool, dose: &str) -> String {
    let (side, bound) = if low {
        ("below 1/100 of", e.value)
    } else {
        ("above 100 times", e.value * e.swing)
    };
    let slip = if low {
        "a value in mg/L or µg/mL sent as ng/mL is 1,000 times too low"
    } else {
        "a value in ng/mL sent as mg/L or µg/mL is 1,000 times too high"
    };
    sentence!(
        "field `value`: ",
        Sig(value),
        " ",
        unit,
        " is impossible for ",
        dose,
        ": ",
        side,
        " the expected level of about ",
        Sig(bound),
        " ",
        unit,
        " (the population mean at this dose",
        if low { "" } else { ", at its peak" },
        "); check the unit (",
        slip,
        "), the dose and the sample; the value is not judged"
    )
}

#[cfg(test)]
mod tests {
    use super::improbable_range;

    /// Reference values from Python's `statistics.NormalDist` (an
    /// independent inverse normal CDF):
    /// `exp(NormalDist(log(median), sqrt(log(1 + cv**2))).inv_cdf(p))`.
    #[test]
    fn ranges_match_an_independent_log_normal() {
        let cases = [
            (
                1170.0,
                0.6,
                false,
                1.0,
                240.49174572593822,
                4185.358273352573,
            ),
            (
                34.2,
                0.454,
                true,
                1.0,
                11.213748855530175,
                104.30410160498478,
            ),
            (
                24000.0,
                0.38,
                false,
                2.0,
                8711.225699690363,
                115556.76196508892,
            ),
        ];
        for (mean, cv, geometric, swing, low, high) in cases {
            let (l, h) = improbable_range(mean, cv, geometric, swing);
            assert!((l / low - 1.0).abs() < 1e-12, "{mean}: {l} vs {low}");
            assert!((h / high - 1.0).abs() < 1e-12, "{mean}: {h} vs {high}");
        }
    }
}
