//! Is the sample a steady-state trough, and if it was drawn earlier, may it
//! be extrapolated to one? (Wang et al. 2009; van Eerden et al. 2021.)

use crate::input::sample::Sample;
use crate::pack::model::{Drug, Policy, TroughCorrection};
use crate::result::num::Num;
use crate::result::{IntervalFrom, Measure, SteadyState, SteadyStateFrom, Trough};

use super::analytes::Measured;
use super::{Context, Notes};

/// The outcome of the timing checks.
pub(crate) struct Timing {
    pub interval_h: f64,
    pub interval_from: IntervalFrom,
    /// Multiply each analyte by its factor to get its trough value; `None`: no correction.
    pub factors: Option<Vec<f64>>,
    /// The half-lives used, per analyte (parent first).
    pub half_lives: Vec<Option<f64>>,
    pub trough: Trough,
    pub steady_state_days: Option<f64>,
    pub steady_state_from: SteadyStateFrom,
    pub steady_state: SteadyState,
    /// Why the sample cannot be interpreted (-> repeat_sample).
    pub invalid: Option<String>,
    pub warnings: Vec<String>,
}

/// The timing stage: steady state and trough for the analytes the target
/// counts; its warnings go with the result's.
pub(crate) fn stage(
    cx: &Context<'_>,
    measured: &Measured,
    measure: Measure,
    notes: &mut Notes,
) -> Timing {
    let mut t = check(
        cx.drug,
        &cx.pack.policy,
        cx.sample,
        &measured.counted,
        measure == Measure::Auc,
    );
    notes.warnings.append(&mut t.warnings);
    let uses_pk =
        t.factors.is_some() || matches!(t.steady_state, SteadyState::Yes | SteadyState::No);
    if let (true, Some(why)) = (uses_pk, &cx.drug.pk_unconfirmed) {
        notes
            .warnings
            .push(format!("pharmacokinetic facts of {}: {why}", cx.drug.name));
    }
    t
}

/// The share of steady state reached after `days` on a dose, from zero:
/// `1 - 2^(-days * 24 / t_half)` (first-order accumulation).
pub(crate) fn steady_state_share(days: f64, half_life_h: f64) -> f64 {
    1.0 - (-(days * 24.0) / half_life_h).exp2()
}

/// How far the level rises above the trough over an interval:
/// `2^(tau / t_half)`, the peak-to-trough ratio.
pub(crate) fn peak_to_trough(interval_h: f64, half_life_h: f64) -> f64 {
    (interval_h / half_life_h).exp2()
}

impl Timing {
    /// The value is a trough: drawn at it, corrected to it, or predicted.
    pub(crate) fn at_trough(&self) -> bool {
        matches!(
            self.trough,
            Trough::MeasuredAtTrough | Trough::Corrected | Trough::Predicted
        )
    }
}

/// `Cmin = C(t) * 2^(-(tau - t) / t_half)`.
pub fn log_linear_factor(hours_since_dose: f64, interval_h: f64, half_life_h: f64) -> f64 {
    (-(interval_h - hours_since_dose) / half_life_h).exp2()
}

/// Checks timing for a Cmin sample whose value sums the analytes `sum_of`.
pub(crate) fn check(
    drug: &Drug,
    policy: &Policy,
    sample: &Sample,
    sum_of: &[usize],
    is_auc: bool,
) -> Timing {
    let (interval_h, interval_from) = match sample.interval_h {
        Some(i) => (i, IntervalFrom::Sample),
        None => (drug.dosing.interval_h, IntervalFrom::Pack),
    };
    let half_lives: Vec<Option<f64>> = drug.analytes.iter().map(|a| a.half_life_h).collect();
    let mut t = Timing {
        interval_h,
        interval_from,
        factors: None,
        half_lives,
        trough: Trough::NotApplicable,
        steady_state_days: None,
        steady_state_from: SteadyStateFrom::Unknown,
        steady_state: SteadyState::Unknown,
        invalid: None,
        warnings: Vec::new(),
    };
    steady_state(drug, policy, sample, &mut t);
    if !is_auc {
        trough(drug, policy, sample, sum_of, &mut t);
    }
    t
}

fn steady_state(drug: &Drug, policy: &Policy, sample: &Sample, t: &mut Timing) {
    if let Some(days) = drug.steady_state_days {
        t.steady_state_days = Some(days);
        t.steady_state_from = SteadyStateFrom::Pack;
    } else if let Some(h) = drug.half_life_h {
        t.steady_state_days = Some(policy.steady_state_half_lives * h / 24.0);
        t.steady_state_from = SteadyStateFrom::HalfLives;
    }
    match (sample.days_on_dose, t.steady_state_days) {
        (None, _) => {
            t.steady_state = SteadyState::Assumed;
            t.warnings
                .push("days_on_dose not given: the sample is taken to be at steady state".into());
        }
        (Some(_), None) => {
            t.steady_state = SteadyState::Unknown;
            t.warnings.push(format!(
                "time to steady state of {} is not known (no confirmed value or half-life): steady state cannot be checked",
                drug.name
            ));
        }
        (Some(days), Some(needed)) if days < needed => {
            t.steady_state = SteadyState::No;
            let how = if t.steady_state_from == SteadyStateFrom::Pack {
                "per the pack".to_owned()
            } else {
                format!(
                    "estimated as {} half-lives of {} h; no confirmed value",
                    Num(policy.steady_state_half_lives),
                    Num(drug.half_life_h.unwrap_or_default())
                )
            };
            t.invalid = Some(format!(
                "not at steady state: {} day{} on the current dose, steady state after about {} days ({how}); repeat the sample on or after day {}",
                Num(days),
                if days == 1.0 { "" } else { "s" },
                super::text::Sig(needed),
                needed.ceil()
            ));
        }
        (Some(_), Some(_)) => {
            t.steady_state = SteadyState::Yes;
            if t.steady_state_from == SteadyStateFrom::HalfLives {
                t.warnings.push(sentence!(
                    "time to steady state of ",
                    &drug.name,
                    " is not confirmed: estimated as ",
                    Num(policy.steady_state_half_lives),
                    " half-lives (",
                    super::text::Sig(t.steady_state_days.unwrap_or_default()),
                    " days)"
                ));
            }
        }
    }
}

/// How far from the trough time a sample still counts as a trough.
struct Tolerance {
    hours: f64,
    /// Why, when the half-life made it shorter than the pack's tolerance.
    why: String,
}

/// A level changes by less than this share between the sampling time and
/// the trough when taken as a trough uncorrected (design.md, "Decision",
/// a local convention: "less than about 5 %").
const TROUGH_CHANGE: f64 = 0.05;

/// The pack's tolerance, shortened for a short half-life so that a sample
/// taken as a trough is within 5 % of it: `|tau - t| <= t½ * log2(1 / 0.95)`.
/// The shortest half-life of the analytes counted decides.
fn trough_tolerance(policy: &Policy, t: &Timing, sum_of: &[usize]) -> Tolerance {
    let shortest = sum_of
        .iter()
        .filter_map(|&i| t.half_lives[i])
        .fold(f64::INFINITY, f64::min);
    let by_half_life = shortest * (1.0 / (1.0 - TROUGH_CHANGE)).log2();
    if by_half_life < policy.trough_tolerance_h {
        Tolerance {
            hours: by_half_life,
            why: format!(
                ", where a half-life of {} h changes the level by less than 5 %",
                Num(shortest)
            ),
        }
    } else {
        Tolerance {
            hours: policy.trough_tolerance_h,
            why: String::new(),
        }
    }
}

fn trough(drug: &Drug, policy: &Policy, sample: &Sample, sum_of: &[usize], t: &mut Timing) {
    let tau = t.interval_h;
    let Some(hours) = sample.hours_since_dose else {
        untimed(drug, policy, sum_of, t);
        return;
    };
    let tolerance = trough_tolerance(policy, t, sum_of);
    let near_trough = (hours - tau).abs() <= tolerance.hours;
    match &drug.correction {
        TroughCorrection::LogLinear { valid_from_h } if hours >= *valid_from_h && hours <= tau => {
            let mut factors = vec![1.0; drug.analytes.len()];
            for &i in sum_of {
                match t.half_lives[i] {
                    Some(h) => factors[i] = log_linear_factor(hours, tau, h),
                    None => {
                        t.trough = Trough::NotInterpretable;
                        t.invalid.get_or_insert(format!(
                            "drawn {} h after the dose, not at trough ({} h), and no half-life of {} is given to extrapolate it; repeat the sample at trough",
                            Num(hours),
                            Num(tau),
                            drug.analytes[i].name
                        ));
                        return;
                    }
                }
            }
            t.trough = if hours == tau {
                Trough::MeasuredAtTrough
            } else {
                Trough::Corrected
            };
            if hours < tau {
                t.factors = Some(factors);
            }
        }
        _ if near_trough => {
            t.trough = Trough::MeasuredAtTrough;
            if hours != tau {
                t.warnings.push(format!(
                    "drawn {} h after the dose, within {} h of the trough time ({} h){}: taken as a trough without correction",
                    Num(hours),
                    Num(crate::result::num::round_sig(tolerance.hours, 2)),
                    Num(tau),
                    tolerance.why
                ));
            }
        }
        TroughCorrection::LogLinear { valid_from_h } => {
            t.trough = Trough::NotInterpretable;
            let why = if hours < *valid_from_h {
                format!(
                    "earlier than {} h, from when log-linear extrapolation is valid for {} (absorption phase)",
                    Num(*valid_from_h),
                    drug.name
                )
            } else {
                format!(
                    "later than the dosing interval ({} h): a dose may have been missed or delayed",
                    Num(tau)
                )
            };
            t.invalid.get_or_insert(format!(
                "drawn {} h after the dose, {why}; repeat the sample at trough (just before the next dose)",
                Num(hours)
            ));
        }
        TroughCorrection::None { reason } => {
            t.trough = Trough::NotInterpretable;
            t.invalid.get_or_insert(format!(
                "drawn {} h after the dose, not at trough ({} h), and {} has no validated trough correction ({reason}); repeat the sample just before the next dose",
                Num(hours),
                Num(tau),
                drug.name
            ));
        }
    }
}

/// A sample without a time after the dose is taken as a trough only where
/// the level hardly varies over the interval: its peak-to-trough ratio
/// `2^(interval / half-life)` is at most the pack's limit (design.md,
/// "Decision", step 2). Otherwise it is repeated, with the time to draw.
fn untimed(drug: &Drug, policy: &Policy, sum_of: &[usize], t: &mut Timing) {
    let shortest = sum_of
        .iter()
        .map(|&i| t.half_lives[i])
        .try_fold(f64::INFINITY, |m, h| h.map(|h| m.min(h)));
    let swing = shortest.map(|h| peak_to_trough(t.interval_h, h));
    match (swing, policy.untimed_trough_max_swing) {
        (Some(swing), Some(max)) if swing <= max => {
            t.trough = Trough::AssumedTrough;
            t.warnings.push(sentence!(
                "hours_since_dose not given: the sample is taken to be a trough (the level of ",
                &drug.name,
                " varies at most ",
                super::text::Sig(swing),
                "-fold over the dosing interval)"
            ));
        }
        (swing, _) => {
            t.trough = Trough::NotInterpretable;
            let varies = match (swing, shortest) {
                (Some(swing), Some(h)) => sentence!(
                    "the level of ",
                    &drug.name,
                    " varies up to ",
                    super::text::Sig(swing),
                    "-fold over the dosing interval (half-life ",
                    Num(h),
                    " h, interval ",
                    Num(t.interval_h),
                    " h)"
                ),
                _ => sentence!(
                    "the half-life of ",
                    &drug.name,
                    " is not known, so a level at an unknown time cannot be read as a trough"
                ),
            };
            t.invalid.get_or_insert(sentence!(
                "hours_since_dose not given, and ",
                &varies,
                ": give the time of sampling, or repeat the sample just before the next dose"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::log_linear_factor;

    #[test]
    fn factor_is_one_at_trough_and_below_one_before() {
        assert_eq!(log_linear_factor(24.0, 24.0, 18.0), 1.0);
        let f = log_linear_factor(10.0, 24.0, 18.0);
        assert!(f < 1.0 && f > 0.0);
        // One half-life before the trough halves the value.
        assert!((log_linear_factor(6.0, 24.0, 18.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn wang_2009_example_magnitude() {
        // imatinib, ke 0.041/h (t½ ≈ 16.9 h): 3 h before trough the value falls ~12 %.
        let f = log_linear_factor(21.0, 24.0, std::f64::consts::LN_2 / 0.041);
        assert!((f - (-0.041f64 * 3.0).exp()).abs() < 1e-12);
    }
}
