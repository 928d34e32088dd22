//! The exposure against the target's bounds: below, within or above, and
//! the toxicity signals it passes. A sample the timing stage found unusable
//! is not classified.

use super::exposure::Combined;
use super::text::Sig;
use super::timing::Timing;
use super::{Context, EvalError, Notes};
use crate::pack::model::{Lower, Target};

use crate::result::{Classification, ErrorCode, SteadyState, Trough};

/// The bounds as they apply to this sample, and where the exposure falls.
pub(crate) struct Judged {
    /// The lower bound, resolved for a dose-normalised target.
    pub lower: Option<f64>,
    /// `None` when the sample cannot be interpreted.
    pub classification: Option<Classification>,
    /// A toxicity signal was passed (and warned of).
    pub signal_exceeded: bool,
    /// Before steady state, for a sample drawn at trough: where the level
    /// already stands (it is not classified, and may still rise).
    pub early: Option<Classification>,
    /// The level's percentile among patients on the reference's dose.
    pub percentile: Option<f64>,
}

pub(crate) fn classify(
    cx: &Context<'_>,
    target: &Target,
    combined: &Combined,
    timing: &Timing,
    notes: &mut Notes,
) -> Result<Judged, EvalError> {
    let total = combined.total;
    let lower = match target.lower {
        Some(Lower::Fixed(v)) => Some(v),
        Some(Lower::PerMgDose(k)) => Some(
            k * cx.sample.dose_mg.ok_or_else(|| {
                EvalError::new(
                    ErrorCode::MissingField,
                    "field `dose_mg` is required: this target is dose-normalised (per mg of dose)",
                )
            })?,
        ),
        None => None,
    };
    // The toxicity signals a usable level passes; and those of a level
    // before steady state, which only rises as the patient gets there.
    let signal_exceeded = (timing.invalid.is_none() || timing.steady_state == SteadyState::No)
        && signals(cx, combined, notes);
    let class = if lower.is_some_and(|l| total < l) {
        Classification::Below
    } else if target.upper.is_some_and(|u| total > u) {
        Classification::Above
    } else {
        Classification::Within
    };
    let early = (timing.steady_state == SteadyState::No
        && timing.trough != Trough::NotInterpretable)
        .then_some(class);
    let percentile = match timing.invalid {
        None => percentile(cx, target, total, timing, notes),
        Some(_) => None,
    };
    Ok(Judged {
        lower,
        classification: timing.invalid.is_none().then_some(class),
        signal_exceeded,
        early,
        percentile,
    })
}

/// The percentile of a level against a population-mean reference with a
/// spread, when the patient takes the reference's dose; otherwise the
/// mismatch is said (ponatinib 15 mg after response is not "under-exposed").
fn percentile(
    cx: &Context<'_>,
    target: &Target,
    total: f64,
    timing: &Timing,
    notes: &mut Notes,
) -> Option<f64> {
    let spread = target.spread?;
    let mean = target.population_mean?;
    let reference = crate::pack::model::DoseLevel {
        mg: spread.dose_mg,
        interval_h: cx.drug.dosing.interval_h,
        label: true,
        note: None,
        unconfirmed: None,
    };
    match cx.sample.dose_mg {
        Some(mg) if (mg * 24.0 / timing.interval_h - reference.daily_mg()).abs() > 1e-9 => {
            notes.warnings.push(sentence!(
                "the population reference is for ",
                &reference,
                ", not the patient's ",
                crate::result::num::Num(mg),
                " mg: the level is not placed among those patients (a lower dose gives lower levels by design)"
            ));
            None
        }
        Some(_) => spread.percentile(total, mean),
        None => {
            notes.warnings.push(sentence!(
                "dose_mg not given: the level is placed among patients on ",
                &reference
            ));
            spread.percentile(total, mean)
        }
    }
}

/// A warning for each toxicity signal the exposure passes; whether any.
fn signals(cx: &Context<'_>, combined: &Combined, notes: &mut Notes) -> bool {
    let (total, e) = (combined.total, &combined.exposure);
    let mut any = false;
    for s in &cx.drug.signals {
        if total > s.above {
            any = true;
            let refs = if s.references.is_empty() {
                String::new()
            } else {
                format!(" (ref {})", s.references.join(", "))
            };
            notes.warnings.push(format!(
                "{} {} {} is above {} {}: {}{refs}",
                e.measure.label(),
                Sig(total),
                e.unit,
                Sig(s.above),
                e.unit,
                s.effect
            ));
        }
    }
    any
}
