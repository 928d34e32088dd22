//! The advice: the decision tree ([`super::decide`]), then the drug's
//! `next_dose` hook, which may change the advice or the dose; and the
//! sentence that says what to do.

use super::analytes::Measured;
use super::classify::Judged;
use super::decide::{self, Decision};
use super::exposure::Combined;
use super::plausibility::Plausibility;
use super::timing::Timing;
use super::{Context, EvalError, Notes, hooks};
use crate::pack::model::{Frequency, Target};
use crate::result::num::Num;
use crate::result::{Advice, Classification, Hook};

/// What to do, and why in words.
pub(crate) struct Advised {
    pub advice: Advice,
    pub next_dose_mg: Option<f64>,
    pub next_interval_h: Option<f64>,
    pub interventions: Vec<String>,
    pub conditions: Vec<String>,
    /// The second half of the rationale.
    pub reason: String,
}

#[allow(clippy::too_many_arguments)] // the outputs of the stages before it
pub(crate) fn advise(
    cx: &Context<'_>,
    target: &Target,
    judged: &Judged,
    combined: &Combined,
    measured: &Measured,
    timing: &Timing,
    plausible: &Plausibility,
    notes: &mut Notes,
) -> Result<Advised, EvalError> {
    let (drug, sample) = (cx.drug, cx.sample);
    let mut decision = decide::decide(&decide::Situation {
        drug,
        policy: &cx.pack.policy,
        target,
        classification: judged.classification,
        invalid: timing.invalid.as_deref(),
        parent_only: measured.parent_only,
        toxicity_grade: sample.toxicity_grade,
        limiting_grade: super::limiting_grade(&cx.pack.policy, sample),
        plausible: plausible.verdict,
        sample,
        dose_mg: sample.dose_mg,
        interval_h: timing.interval_h,
        total: combined.total,
        unit: &combined.exposure.unit,
        lower: judged.lower,
        hours_known: sample.hours_since_dose.is_some(),
        days_known: sample.days_on_dose.is_some(),
        undetectable: super::undetectable(sample),
        early: judged.early,
        percentile: judged.percentile,
        signal_exceeded: judged.signal_exceeded,
        days_on_dose: sample.days_on_dose,
    });
    let mut next_dose_mg = decision.next.map(|l| l.mg);
    let mut next_interval_h = decision.next.map(|l| l.interval_h);
    // Toxicity is never overridden: a rule of the pack does not get to
    // change what the toxicity branch decided.
    let toxic = super::limiting_grade(&cx.pack.policy, sample).is_some();
    if toxic && hooks::implements(drug, Hook::NextDose) {
        notes.warnings.push(
            "the pack's next-dose rule for this drug is not applied: the toxicity decides".into(),
        );
    }
    if !toxic && hooks::implements(drug, Hook::NextDose) {
        let result_map = serde_json::json!({
            "classification": judged.classification.map(Classification::as_str),
            "advice": decision.advice.as_str(),
            "next_dose_mg": next_dose_mg, "next_interval_h": next_interval_h,
            "exposure": combined.total, "unit": combined.exposure.unit,
            "lower": judged.lower, "upper": target.upper, "target_id": target.id,
        });
        let map = hooks::measured_map(cx, measured, timing);
        if let Some(change) =
            hooks::next_dose(cx.pack, drug, map, result_map).map_err(EvalError::hook)?
        {
            let changed = change.advice.is_some() || change.next_dose_mg.is_some();
            if let Some(advice) = change.advice {
                decision.advice = advice;
            }
            if let Some(mg) = change.next_dose_mg {
                // The YAML step's own warnings concern a dose no longer proposed.
                decision.warnings.clear();
                next_dose_mg = mg;
                next_interval_h = mg.map(|_| {
                    change
                        .next_interval_h
                        .or(next_interval_h)
                        .unwrap_or(timing.interval_h)
                });
            }
            decision.interventions.extend(change.interventions);
            notes.warnings.extend(change.warnings);
            notes.used(Hook::NextDose, change.notes);
            if changed {
                let next = match (next_dose_mg, next_interval_h) {
                    (Some(mg), Some(h)) => format!("{} mg {}", Num(mg), Frequency(h)),
                    _ => "no dose change".into(),
                };
                decision.reason = format!(
                    "{} — a rule of the pack changes this to: {}, {next}",
                    decision.reason,
                    decision.advice.as_str().replace('_', " ")
                );
            }
        }
    }
    notes.warnings.append(&mut decision.warnings);
    let uses_ladder = matches!(
        decision.advice,
        Advice::IncreaseDose | Advice::ReduceDose | Advice::ConsiderAlternative
    );
    if let (true, Some(why)) = (uses_ladder, &drug.dosing.unconfirmed) {
        notes
            .warnings
            .push(format!("dose levels of {}: {why}", drug.name));
    }
    let reason = reason(&decision, next_dose_mg, timing.interval_h);
    Ok(Advised {
        advice: decision.advice,
        next_dose_mg,
        next_interval_h,
        interventions: decision.interventions,
        conditions: decision.conditions,
        reason,
    })
}

/// The decision's reason: first the steps that come before an increase,
/// then the advice, with the daily dose when the interval changes, and the
/// conditions under which it may be followed.
fn reason(decision: &Decision<'_>, next_dose_mg: Option<f64>, interval_h: f64) -> String {
    let mut reason = String::with_capacity(decision.reason.len() + 160);
    let steps_first = !decision.interventions.is_empty() && decision.advice == Advice::IncreaseDose;
    if steps_first {
        for (i, step) in decision.interventions.iter().enumerate() {
            reason.push_str(if i == 0 { "first " } else { "; " });
            reason.push_str(step);
        }
        reason.push_str("; then ");
    }
    reason.push_str(&decision.reason);
    if let Some(next) = decision.next
        && next.interval_h != interval_h
        && next_dose_mg == Some(next.mg)
    {
        reason.push_str(" (");
        Num(next.daily_mg()).push_to(&mut reason);
        reason.push_str(" mg/day)");
    }
    // A toxicity's condition is already the reason's own words.
    if decision.advice == Advice::IncreaseDose {
        for (i, condition) in decision.conditions.iter().enumerate() {
            reason.push_str(if i == 0 { ", " } else { " and " });
            reason.push_str(condition);
        }
    }
    reason
}
