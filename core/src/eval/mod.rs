//! Evaluation: a pure function of (pack, sample) -> result, no I/O.
//!
//! The pipeline of design.md: find the drug, convert units, combine
//! analytes, correct to trough, check steady state, choose the target,
//! classify, decide.

#[macro_use]
mod sentence;
mod analytes;
mod decide;
mod hooks;
mod target;
mod text;
mod timing;

pub(crate) use target::describe as describe_target;
pub use timing::log_linear_factor;

use crate::input::Record;

use crate::input::sample::{FIELDS, Sample};
use crate::input::units::{Quantity, Unit};
use crate::pack::model::{HookProvider, Lower, Measure, Pack};
use crate::result::num::{Num, tidy};
use crate::result::*;

/// Evaluates one batch record: a sample, or the error that replaced it.
pub fn evaluate_record(pack: &Pack, record: Record) -> EvalResult {
    let mut result = match record.sample {
        Ok(sample) => evaluate(pack, &sample),
        Err(e) => {
            let mut r = EvalResult::error(pack.id(), e.id, e.drug, e.message);
            r.patient = e.patient;
            r
        }
    };
    if record.line > 0 {
        result.line = Some(record.line);
    }
    result
}

/// Evaluates a sample given as a JSON value (an object of contract fields).
/// Parse JSON text with [`crate::input::parse_json`] so that duplicate keys are refused.
pub fn evaluate_value(pack: &Pack, value: &serde_json::Value) -> EvalResult {
    evaluate_record(pack, crate::input::record_from_value(1, 0, value.clone()))
}

/// Evaluates one sample against `pack`. Never panics; a sample that cannot
/// be evaluated gives an error result that names the field and the problem.
pub fn evaluate(pack: &Pack, sample: &Sample) -> EvalResult {
    let mut result = match assess(pack, sample) {
        Ok(r) => r,
        Err(message) => {
            let drug = pack
                .drug(&sample.drug)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| sample.drug.clone());
            EvalResult::error(pack.id(), sample.id.clone(), Some(drug), message)
        }
    };
    result.patient = sample.patient.clone();
    result.sampled_at = sample.sampled_at.clone();
    if !sample.extra.is_empty() {
        let inputs = pack
            .drug(&sample.drug)
            .map_or(&[][..], |d| d.inputs.as_slice());
        let unknown = unknown_field_warnings(sample, inputs);
        result.warnings.splice(0..0, unknown);
    }
    result
}

fn unknown_field_warnings(sample: &Sample, inputs: &[String]) -> Vec<String> {
    sample
        .extra
        .iter()
        .filter(|(key, _)| !inputs.iter().any(|i| i == key))
        .map(|(key, _)| {
            let hint = crate::suggest(key, FIELDS.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!("field `{key}` is not part of the input contract and was ignored{hint}")
        })
        .collect()
}

fn assess(pack: &Pack, sample: &Sample) -> Result<EvalResult, String> {
    let drug = pack.drug(&sample.drug).ok_or_else(|| {
        let hint = crate::suggest(&sample.drug, pack.drug_names())
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        format!(
            "field `drug`: `{}` is not a drug of pack {}{hint}",
            sample.drug,
            pack.id().name
        )
    })?;
    let quantity = sample.measure.unwrap_or(Quantity::Concentration);
    let measure = match quantity {
        Quantity::Concentration => Measure::Cmin,
        Quantity::Auc => Measure::Auc,
    };
    let unit = Unit::parse(&sample.unit).map_err(|e| format!("field `unit`: {e}"))?;
    if unit.quantity != quantity {
        return Err(format!(
            "field `unit`: `{}` is a unit of {}, but `measure` is {}",
            unit.symbol,
            if unit.quantity == Quantity::Auc {
                "AUC"
            } else {
                "concentration"
            },
            if quantity == Quantity::Auc {
                "`auc`"
            } else {
                "`concentration` (the default)"
            }
        ));
    }
    let choice = target::choose(drug, sample, measure)?;
    let mut warnings = choice.warnings;
    let mut trace = drug.hooks.as_ref().map(|h| match h {
        HookProvider::Script(s) => ScriptUsed {
            kind: Provider::Script,
            file: s.path.clone(),
            hooks: Vec::new(),
            notes: Vec::new(),
        },
        HookProvider::Plugin { path, .. } => ScriptUsed {
            kind: Provider::Plugin,
            file: path.clone(),
            hooks: Vec::new(),
            notes: Vec::new(),
        },
    });
    let scripted_target = hooks::target(pack, drug, sample, choice.target)?;
    let target = match &scripted_target {
        Some(t) => {
            used(&mut trace, Hook::Target);
            t
        }
        None => choice.target,
    };

    let (measured, parent_only) = analytes::measure(drug, sample, &unit, target, &mut warnings)?;

    let counted: Vec<usize> = target
        .sum_of
        .iter()
        .copied()
        .filter(|&i| measured[i].is_some())
        .collect();
    let mut timing = timing::check(
        drug,
        &pack.policy,
        sample,
        &counted,
        measure == Measure::Auc,
    );
    warnings.extend(timing.warnings.iter().cloned());
    let uses_pk = timing.factors.is_some()
        || matches!(timing.steady_state, SteadyState::Yes | SteadyState::No);
    if let (true, Some(why)) = (uses_pk, &drug.pk_unconfirmed) {
        warnings.push(format!("pharmacokinetic facts of {}: {why}", drug.name));
    }
    let raw_total: f64 = counted
        .iter()
        .filter_map(|&i| measured[i].map(|m| m.1))
        .sum();
    let mut analytes = Vec::new();
    let mut total = 0.0;
    for &i in &counted {
        let (given, canonical) = measured[i].unwrap_or_default();
        let factor = timing.factors.as_ref().map(|f| f[i]);
        let at_trough = factor.map(|f| canonical * f);
        total += at_trough.unwrap_or(canonical);
        analytes.push(AnalyteValue {
            name: drug.analytes[i].name.clone(),
            measured: given,
            measured_unit: unit.symbol.to_owned(),
            value: tidy(canonical),
            at_trough: at_trough.map(tidy),
            half_life_h: factor.and(timing.half_lives[i]),
        });
    }
    let mut corrected_from = timing.factors.as_ref().map(|_| Correction {
        value: tidy(raw_total),
        hours_since_dose: sample.hours_since_dose.unwrap_or_default(),
        interval_h: timing.interval_h,
        half_life_h: drug.half_life_h,
        method: CorrectionMethod::LogLinear,
    });
    // The hooks' inputs are built only for a drug that has such a hook.
    let scripted = if hooks::implements(drug, Hook::Exposure) {
        let map = hooks::sample_map(
            sample,
            drug,
            Some((&measured, timing.factors.as_deref(), timing.interval_h)),
        );
        hooks::exposure(pack, drug, map, quantity)?
    } else {
        None
    };
    if let Some(e) = scripted {
        total = e.value;
        warnings.extend(e.warnings);
        used(&mut trace, Hook::Exposure);
        if let Some(t) = trace.as_mut() {
            t.notes.extend(e.notes);
            // A model's trough prediction stands in for the YAML rule's
            // trough window; steady state is still required.
            if let (true, Some(hours)) = (e.at_trough, sample.hours_since_dose) {
                if timing.trough == Trough::NotInterpretable
                    && timing.steady_state != SteadyState::No
                {
                    timing.invalid = None;
                }
                timing.trough = Trough::Predicted;
                for a in &mut analytes {
                    a.at_trough = None;
                    a.half_life_h = None;
                }
                corrected_from = Some(Correction {
                    value: tidy(raw_total),
                    hours_since_dose: hours,
                    interval_h: timing.interval_h,
                    half_life_h: None,
                    method: t.kind.into(),
                });
            }
        }
    }

    // Classify against the bounds.
    let lower = match target.lower {
        Some(Lower::Fixed(v)) => Some(v),
        Some(Lower::PerMgDose(k)) => Some(
            k * sample.dose_mg.ok_or(
                "field `dose_mg` is required: this target is dose-normalised (per mg of dose)",
            )?,
        ),
        None => None,
    };
    let classification = if timing.invalid.is_some() {
        None
    } else if lower.is_some_and(|l| total < l) {
        Some(Classification::Below)
    } else if target.upper.is_some_and(|u| total > u) {
        Some(Classification::Above)
    } else {
        Some(Classification::Within)
    };
    if timing.invalid.is_none() {
        for s in &drug.signals {
            if total > s.above {
                let refs = if s.references.is_empty() {
                    String::new()
                } else {
                    format!(" (ref {})", s.references.join(", "))
                };
                warnings.push(format!(
                    "{} {} {} is above {} {}: {}{refs}",
                    measure.label(),
                    text::Sig(total),
                    quantity.canonical(),
                    text::Sig(s.above),
                    quantity.canonical(),
                    s.effect
                ));
            }
        }
    }

    let decision = decide::decide(&decide::Situation {
        drug,
        policy: &pack.policy,
        target,
        classification,
        invalid: timing.invalid.as_deref(),
        parent_only,
        toxicity_grade: sample.toxicity_grade,
        dose_mg: sample.dose_mg,
        interval_h: timing.interval_h,
    });
    let mut decision = decision;
    let mut next_dose_mg = decision.next.map(|l| l.mg);
    let mut next_interval_h = decision.next.map(|l| l.interval_h);
    let change = if hooks::implements(drug, Hook::NextDose) {
        let result_map = serde_json::json!({
            "classification": classification.map(Classification::as_str),
            "advice": decision.advice.as_str(),
            "next_dose_mg": next_dose_mg, "next_interval_h": next_interval_h,
            "exposure": total, "unit": quantity.canonical(),
            "lower": lower, "upper": target.upper, "target_id": target.id,
        });
        let map = hooks::sample_map(
            sample,
            drug,
            Some((&measured, timing.factors.as_deref(), timing.interval_h)),
        );
        hooks::next_dose(pack, drug, map, result_map)?
    } else {
        None
    };
    if let Some(change) = change {
        used(&mut trace, Hook::NextDose);
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
        warnings.extend(change.warnings);
        if let Some(t) = trace.as_mut() {
            t.notes.extend(change.notes);
        }
        let next = match (next_dose_mg, next_interval_h) {
            (Some(mg), Some(h)) => format!("{} mg {}", Num(mg), crate::pack::model::Frequency(h)),
            _ => "no dose change".into(),
        };
        if changed {
            decision.reason = format!(
                "{} — changed by script `{}` to {}, {next}",
                decision.reason,
                trace.as_ref().map_or("", |t| t.file.as_str()),
                decision.advice.as_str()
            );
        }
    }
    warnings.append(&mut decision.warnings);
    let uses_ladder = matches!(
        decision.advice,
        Advice::IncreaseDose | Advice::ReduceDose | Advice::ConsiderAlternative
    );
    if let (true, Some(why)) = (uses_ladder, &drug.dosing.unconfirmed) {
        warnings.push(format!("dose levels of {}: {why}", drug.name));
    }

    let assessment = Assessment {
        indication: sample.indication.clone(),
        regimen: sample.regimen.clone(),
        exposure: Exposure {
            value: tidy(total),
            unit: quantity.canonical().to_owned(),
            measure,
            analytes,
            parent_only,
            corrected_from,
        },
        sampling: Sampling {
            hours_since_dose: sample.hours_since_dose,
            interval_h: timing.interval_h,
            interval_from: timing.interval_from,
            trough: timing.trough,
            days_on_dose: sample.days_on_dose,
            steady_state_days: timing.steady_state_days.map(tidy),
            steady_state_from: timing.steady_state_from,
            steady_state: timing.steady_state,
        },
        target: TargetUsed {
            id: target.id.clone(),
            lower: lower.map(tidy),
            upper: target.upper,
            unit: quantity.canonical().to_owned(),
            measure,
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
        classification,
        advice: decision.advice,
        next_dose_mg,
        next_interval_h,
        interventions: decision.interventions,
        script: trace,
    };
    let mut reason = decision.reason;
    if let Some(next) = decision.next
        && next.interval_h != timing.interval_h
        && next_dose_mg == Some(next.mg)
    {
        reason.push_str(" (");
        Num(next.daily_mg()).push_to(&mut reason);
        reason.push_str(" mg/day)");
    }
    if !assessment.interventions.is_empty() && decision.advice == Advice::IncreaseDose {
        for (i, step) in assessment.interventions.iter().enumerate() {
            reason.push_str(if i == 0 { ", after: " } else { "; " });
            reason.push_str(step);
        }
    }
    let rationale = text::rationale(&assessment, target, sample.dose_mg, &reason);
    Ok(EvalResult {
        id: sample.id.clone(),
        patient: None,
        sampled_at: None,
        drug: Some(drug.name.clone()),
        status: Status::Ok,
        error: None,
        line: None,
        assessment: Some(assessment),
        warnings,
        rationale: Some(rationale),
        pack: pack.id().clone(),
    })
}

fn used(trace: &mut Option<ScriptUsed>, hook: Hook) {
    if let Some(t) = trace {
        t.hooks.push(hook);
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
