//! The result: every stage's output in the contract's shape, with the
//! rationale that reads them back in one sentence.

use super::advise::Advised;
use super::classify::Judged;
use super::exposure::Combined;
use super::plausibility::Plausibility;
use super::timing::Timing;
use super::{Context, Notes, Reading, text};
use crate::pack::model::Target;
use crate::result::num::tidy;
use crate::result::{Assessment, EvalResult, Sampling, Status, TargetUse, TargetUsed};

#[allow(clippy::too_many_arguments)] // one argument per stage of the pipeline
pub(crate) fn result(
    cx: &Context<'_>,
    reading: &Reading,
    target: &Target,
    combined: Combined,
    timing: Timing,
    judged: Judged,
    plausible: Plausibility,
    advised: Advised,
    notes: Notes,
) -> EvalResult {
    let (drug, sample) = (cx.drug, cx.sample);
    let mut exposure = combined.exposure;
    // A percentile to one decimal, as it is read.
    exposure.population_percentile = judged.percentile.map(|p| (p * 10.0).round() / 10.0);
    exposure.expected = plausible.expected;
    let assessment = Assessment {
        indication: sample.indication.clone(),
        regimen: sample.regimen.clone(),
        product: drug.product.as_ref().map(|p| p.name.clone()),
        exposure,
        sampling: Sampling {
            hours_since_dose: sample.hours_since_dose,
            interval_h: timing.interval_h,
            interval_from: timing.interval_from,
            trough: timing.trough,
            days_on_dose: sample.days_on_dose,
            matrix: sample.matrix,
            steady_state_days: timing.steady_state_days.map(tidy),
            steady_state_from: timing.steady_state_from,
            steady_state: timing.steady_state,
        },
        target: TargetUsed {
            id: target.id.clone(),
            lower: judged.lower.map(tidy),
            upper: target.upper,
            unit: reading.quantity.canonical().to_owned(),
            measure: reading.measure,
            basis: target.basis,
            evidence: target.evidence,
            usage: if target.primary {
                TargetUse::Primary
            } else {
                TargetUse::Alternative
            },
            indication: scope(&target.indications, sample.indication.as_deref()),
            regimen: scope(&target.regimens, sample.regimen.as_deref()),
            sum_of: target
                .sum_of
                .iter()
                .map(|&i| drug.analytes[i].name.clone())
                .collect(),
            outcome: target.outcome.clone(),
            population_mean: target.population_mean,
            references: target.references.clone(),
            note: target.note.clone(),
        },
        classification: judged.classification,
        toxicity_signal_exceeded: judged.signal_exceeded,
        advice: advised.advice,
        next_dose_mg: advised.next_dose_mg,
        next_interval_h: advised.next_interval_h,
        interventions: advised.interventions,
        conditions: advised.conditions,
        script: notes.trace,
        model: None,
    };
    let rationale = text::rationale(&assessment, target, sample.dose_mg, &advised.reason);
    EvalResult {
        id: sample.id.clone(),
        patient: None,
        sampled_at: None,
        drug: Some(drug.name.clone()),
        status: Status::Ok,
        error: None,
        error_code: None,
        line: None,
        assessment: Some(assessment),
        warnings: notes.warnings,
        rationale: Some(rationale),
        pack: cx.pack.id().clone(),
        engine: crate::result::ENGINE,
        decision_id: None,
    }
}

/// The target's indication (or regimen) as it applies to this sample.
fn scope(list: &[String], given: Option<&str>) -> Option<String> {
    match (list, given) {
        ([], g) => g.map(str::to_owned),
        (l, Some(g)) => l.iter().find(|x| x.eq_ignore_ascii_case(g)).cloned(),
        (l, None) => Some(l.join("/")),
    }
}
