//! What each dose level would do for this patient, and the one the model
//! points to (design.md, "Model-informed dosing": the recommendation
//! rule). Beside the tree's advice, never instead of it: the tree still
//! decides whether the dose changes at all (toxicity, conditions, a sample
//! to repeat), and the result says where the two differ and why.

use crate::eval::Context;
use crate::eval::advise::Advised;
use crate::eval::model_fit::{Fitted, Z_90};
use crate::pack::model::{DoseLevel, Lower, Target};
use crate::pk::{self, Dosing, sir};
use crate::result::Advice;
use crate::result::model::{FitDetail, ModelDose, ModelFit, ModelRecommendation};

/// Below this many effective draws the probabilities are not given.
const MIN_EFFECTIVE_DRAWS: f64 = 100.0;

/// The model block with the patient's half-life, the dose table and the
/// recommendation.
pub(crate) fn add(
    cx: &Context<'_>,
    target: &Target,
    advised: &Advised,
    fitted: Fitted<'_>,
    warnings: &mut Vec<String>,
) -> ModelFit {
    let Fitted {
        mut block,
        model,
        patient,
        fit,
        analyte,
        ..
    } = fitted;
    let Some(current) = block
        .trough
        .as_ref()
        .map(|t| t.dose_mg * 24.0 / t.interval_h)
    else {
        block.detail = Some(Box::new(FitDetail {
            patient,
            fit,
            analyte,
        }));
        return block;
    };
    let say = |warnings: &mut Vec<String>, why: String| {
        warnings.push(format!("population model `{}`: {why}", model.model.id));
    };
    let posterior =
        sir::posterior(&model.model, &patient, &fit).filter(|p| p.effective >= MIN_EFFECTIVE_DRAWS);
    if posterior.is_none() {
        say(
            warnings,
            "the posterior could not be sampled well enough (importance sampling): no probabilities".into(),
        );
    }
    let lower = match target.lower {
        Some(Lower::Fixed(v)) => Some(v),
        _ => None,
    };
    let limit = target
        .upper
        .or_else(|| cx.drug.signals.iter().map(|s| s.above).reduce(f64::min));
    let (low, high) = model.doses_mg;
    let mut levels: Vec<&DoseLevel> = cx
        .drug
        .dosing
        .levels
        .iter()
        .filter(|l| (low..=high).contains(&l.daily_mg()))
        .collect();
    levels.sort_by(|a, b| a.daily_mg().total_cmp(&b.daily_mg()));
    let mut per_interval: Vec<(f64, Vec<(f64, f64)>)> = Vec::new();
    if let Some(post) = &posterior {
        for l in &levels {
            if !per_interval.iter().any(|(h, _)| *h == l.interval_h) {
                let unit = Dosing::Regular {
                    dose_mg: 1.0,
                    tau_h: l.interval_h,
                    count: None,
                };
                per_interval.push((
                    l.interval_h,
                    post.values_of(analyte, &model.model, &patient, &unit, l.interval_h),
                ));
            }
        }
    }
    block.doses = levels
        .iter()
        .map(|level| {
            let regimen = Dosing::Regular {
                dose_mg: level.mg,
                tau_h: level.interval_h,
                count: None,
            };
            let p = pk::predict_of(
                analyte,
                &model.model,
                &patient,
                &fit,
                &regimen,
                level.interval_h,
            );
            let (lower_90, upper_90) = p.interval(Z_90);
            // The models are linear: troughs of 1 mg, scaled to the dose.
            let unit = per_interval
                .iter()
                .find(|(h, _)| *h == level.interval_h)
                .map(|(_, v)| v);
            let share =
                |holds: &dyn Fn(f64) -> bool| unit.map(|v| sir::share(v, |c| holds(c * level.mg)));
            ModelDose {
                dose_mg: level.mg,
                interval_h: level.interval_h,
                daily_mg: level.daily_mg(),
                trough: p.value,
                lower_90,
                upper_90,
                p_target: lower.and_then(|l| share(&|c| c >= l)),
                p_above_limit: limit.and_then(|l| share(&|c| c > l)),
            }
        })
        .filter(|d| {
            [d.trough, d.lower_90, d.upper_90]
                .iter()
                .all(|v| v.is_finite())
        })
        .collect();
    let required = cx.pack.policy.model_target_probability;
    let chosen = block.doses.iter().find(|d| {
        d.p_target.is_some_and(|p| p >= required) && d.p_above_limit.is_none_or(|p| p <= 0.5)
    });
    match (lower, chosen) {
        (None, _) => say(
            warnings,
            "the target has no fixed lower bound: no dose is recommended from the model".into(),
        ),
        (Some(_), None) if posterior.is_some() => say(
            warnings,
            format!(
                "no dose level within the doses the model was estimated on ({low}-{high} mg a day) reaches the target with a probability of {required} without passing its upper limit: no dose is recommended from the model"
            ),
        ),
        (Some(_), Some(d)) => {
            let (agrees, mut note) = against_advice(advised, current, d, &levels);
            let level = levels
                .iter()
                .find(|l| l.mg == d.dose_mg && l.interval_h == d.interval_h);
            for caveat in level
                .into_iter()
                .flat_map(|l| l.note.iter().chain(&l.unconfirmed))
            {
                note.push_str("; ");
                note.push_str(caveat);
            }
            block.recommendation = Some(ModelRecommendation {
                dose_mg: d.dose_mg,
                interval_h: d.interval_h,
                p_target: d.p_target.unwrap_or_default(),
                required_probability: required,
                agrees_with_advice: agrees,
                note,
                next_level_after_days: block.steady_state_days,
            });
        }
        (Some(_), None) => {}
    }
    block.detail = Some(Box::new(FitDetail {
        patient,
        fit,
        analyte,
    }));
    block
}

/// How the model's dose stands to the tree's advice, in words.
fn against_advice(
    advised: &Advised,
    current: f64,
    chosen: &ModelDose,
    levels: &[&DoseLevel],
) -> (bool, String) {
    let tree = match advised.advice {
        Advice::IncreaseDose | Advice::ReduceDose => advised
            .next_dose_mg
            .zip(advised.next_interval_h)
            .map(|(mg, h)| mg * 24.0 / h),
        Advice::Continue => Some(current),
        other => {
            return (
                false,
                format!(
                    "the tree's advice ({}) stands: no dose is changed on the model's number",
                    other.as_str()
                ),
            );
        }
    };
    let Some(tree) = tree else {
        return (
            false,
            "the tree gives no dose to compare with (the current dose is not known)".into(),
        );
    };
    if (chosen.daily_mg - tree).abs() < 1e-9 {
        return (true, "the same daily dose as the tree's advice".into());
    }
    if advised.advice == Advice::ReduceDose && chosen.daily_mg >= current {
        return (
            false,
            "not applicable: the tree lowers the dose (toxicity, or exposure above the target); the model's dose is chosen for reaching the target only".into(),
        );
    }
    let index = |daily: f64| {
        levels
            .iter()
            .position(|l| (l.daily_mg() - daily).abs() < 1e-9)
    };
    let steps = match (index(chosen.daily_mg), index(tree)) {
        (Some(a), Some(b)) if a.abs_diff(b) == 1 => "1 level ".to_owned(),
        (Some(a), Some(b)) => format!("{} levels ", a.abs_diff(b)),
        _ => String::new(),
    };
    let direction = if chosen.daily_mg > tree {
        "above"
    } else {
        "below"
    };
    let against = if advised.advice == Advice::Continue {
        format!(
            "the current dose ({tree} mg a day), which the tree keeps: the tree's advice stands"
        )
    } else {
        format!("the tree's next dose ({tree} mg a day): the tree's one-step change stands")
    };
    (
        false,
        format!(
            "{steps}{direction} {against}; draw a level at steady state before any further step"
        ),
    )
}
