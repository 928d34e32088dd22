//! The model stage: where the drug has a population PK model, the sample's
//! parent level is fitted (Bayesian MAP) and the result gains a `model`
//! block: the patient's own parameters, the prediction at the level, and
//! the steady-state trough predicted on the current dose with its 90 %
//! interval and how much the level (rather than the population) informed
//! it. Informational, beside the tree's advice; every number withheld is
//! withheld with a warning that says why (design.md, "Model-informed
//! dosing").

use crate::eval::analytes::Measured;
use crate::eval::history::Earlier;
use crate::eval::model_history;
use crate::eval::timing::Timing;
use crate::eval::{Context, Notes, Reading};
use crate::pack::model::{DrugModel, Target};
use crate::pk::{self, CovariateValue, Dosing, Patient};
use crate::result::model::{ModelFit, ModelForecast, ModelParameter, ModelPrediction, ModelTrough};

/// z of the 5th and 95th percentiles.
pub(crate) const Z_90: f64 = 1.644_853_626_951_472_2;
/// Beyond this standardised residual a level is not explained by the model.
const EXTREME_RESIDUAL: f64 = 3.0;
/// Above this shrinkage the predicted trough is mostly the population's
/// (design.md: a single imatinib level 2-6 h after the dose leaves 0.8-0.9).
const MOSTLY_PRIOR: f64 = 0.8;

/// The chi-square 0.99 point for 1 to 7 degrees of freedom.
const CHI2_99: [f64; 7] = [6.635, 9.210, 11.345, 13.277, 15.086, 16.812, 18.475];

pub(crate) fn stage<'a>(
    cx: &Context<'a>,
    target: &Target,
    reading: &Reading,
    measured: &Measured,
    timing: &Timing,
    earlier: &Earlier,
    notes: &mut Notes,
) -> Option<Fitted<'a>> {
    let (drug, sample) = (cx.drug, cx.sample);
    let first = drug.models.first()?;
    let say = |notes: &mut Notes, why: &str| {
        notes
            .warnings
            .push(format!("population model `{}`: {why}", first.model.id));
    };
    let mut current =
        match model_history::observation(sample, reading, measured, timing, first.metabolite) {
            Ok(o) => o,
            Err(why) => {
                say(notes, why);
                return None;
            }
        };
    let (model, typical) = chosen(drug, first, sample, notes)?;
    if model.metabolite.is_none() {
        // A fallback model without the metabolite fits the parent alone.
        current.metabolite_ng_ml = None;
    }
    // The model's number must be of what the target judges: the parent,
    // or the parent and the model's metabolite summed.
    let analyte = match (target.sum_of.as_slice(), model.metabolite) {
        ([0], _) => pk::Analyte::Parent,
        ([0, m], Some(k)) if *m == k => pk::Analyte::Total,
        _ => {
            say(
                notes,
                "the target sums analytes the model does not predict: not used",
            );
            return None;
        }
    };
    if analyte == pk::Analyte::Total && current.metabolite_ng_ml.is_none() {
        say(
            notes,
            "the metabolite was not measured: the model's total rests on the parent's level alone",
        );
    }
    let mut said = Vec::new();
    let history = model_history::earlier(cx, &current, earlier, model.metabolite, &mut |w| {
        said.push(w)
    });
    for w in said {
        say(notes, &w);
    }
    let (dose, interval_h, hours) = (current.dose_mg, current.tau_h, current.hours);
    let plan = model_history::plan(sample, current, history);
    let patient = Patient {
        typical,
        dosing: plan.dosing,
        levels: plan.levels.iter().map(|(l, _)| *l).collect(),
    };
    let fit = match pk::fit(&model.model, &patient) {
        Ok(f) => f,
        Err(e) => {
            say(notes, &format!("{e}: no model-based number"));
            return None;
        }
    };
    let trough = self::trough(model, &patient, &fit, (dose, interval_h), analyte, notes);
    let half_life_h = std::f64::consts::LN_2 / fit.params.slowest_rate();
    // The sample's own parent level is the last on the clock.
    let own = patient
        .levels
        .iter()
        .rev()
        .find(|l| l.analyte == pk::Analyte::Parent);
    let trough_ratio = own.and_then(|at| {
        let here = patient.dosing.concentration(&fit.params, at.t_h);
        let then = patient
            .dosing
            .concentration(&fit.params, at.t_h + interval_h - hours);
        let ratio = then / here;
        (hours < interval_h && ratio.is_finite() && ratio > 0.0).then_some(ratio)
    });
    let predictions: Vec<ModelPrediction> = plan
        .levels
        .iter()
        .zip(&fit.predictions)
        .map(|((level, o), (f, r))| ModelPrediction {
            analyte: analyte_name(drug, model, level.analyte),
            sample: o.id.clone(),
            sampled_at: o.sampled_at.clone(),
            hours_since_dose: o.hours,
            observed: o.ng_ml,
            predicted: *f,
            residual: *r,
        })
        .collect();
    let unexplained: Vec<String> = predictions
        .iter()
        .filter(|p| p.residual.abs() > EXTREME_RESIDUAL)
        .map(|p| {
            let which = match (&p.sample, predictions.len()) {
                (_, 1) => "the level".to_owned(),
                (Some(id), _) => format!("the level of {id}"),
                (None, _) => "a level".to_owned(),
            };
            format!(
                "{which} is not explained by the model (standardised residual {:.1})",
                p.residual
            )
        })
        .collect();
    let mut block = ModelFit {
        id: model.model.id.clone(),
        source: model.source.clone(),
        unconfirmed: model.unconfirmed.clone(),
        dosing: plan.described,
        levels_used: predictions.len(),
        parameters: parameters(model, &typical, &fit),
        predictions,
        prior_distance: fit.prior_distance,
        trough,
        half_life_h,
        steady_state_days: cx.pack.policy.steady_state_half_lives * half_life_h / 24.0,
        doses: Vec::new(),
        recommendation: None,
        forecast: forecast(model, &patient),
        analyte: analyte_name(drug, model, analyte),
        detail: None,
    };
    let trough_ratio = trough_ratio.filter(|_| unexplained.is_empty());
    if !unexplained.is_empty() {
        say(
            notes,
            &format!("{}: no predicted trough", unexplained.join("; ")),
        );
        block.trough = None;
    }
    if !finite(&block) {
        say(
            notes,
            "a number of the fit is not finite: no model-based number",
        );
        return None;
    }
    let n = model.model.etas.len();
    if CHI2_99
        .get(n.saturating_sub(1))
        .is_some_and(|limit| fit.prior_distance > *limit)
    {
        say(
            notes,
            "the patient's parameters lie beyond the 99th percentile of the population's: check adherence and the sampling time before acting on the model (non-adherence looks like a high clearance)",
        );
    }
    Some(Fitted {
        block,
        trough_ratio,
        model,
        patient,
        fit,
        analyte,
    })
}

/// The model block, and for a level drawn before the trough the ratio of
/// the patient's predicted trough to the predicted level at sampling (the
/// ratio method with the patient's own curve), when every level is
/// explained; with what the dose table needs.
pub(crate) struct Fitted<'a> {
    pub block: ModelFit,
    pub trough_ratio: Option<f64>,
    pub model: &'a DrugModel,
    pub patient: Patient,
    pub fit: pk::Fit,
    /// What the trough and the dose table are of.
    pub analyte: pk::Analyte,
}

/// `analyte` as the drug names it: the parent, its metabolite, or both.
fn analyte_name(
    drug: &crate::pack::model::Drug,
    model: &DrugModel,
    analyte: pk::Analyte,
) -> String {
    let name = |i: usize| {
        drug.analytes
            .get(i)
            .map_or("?", |a| a.name.as_str())
            .to_owned()
    };
    match (analyte, model.metabolite) {
        (pk::Analyte::Parent, _) | (_, None) => name(0),
        (pk::Analyte::Metabolite, Some(m)) => name(m),
        (pk::Analyte::Total, Some(m)) => format!("{} + {}", name(0), name(m)),
    }
}

/// A covariate's value as given: a number for a numeric effect (a CSV
/// cell is text: `"36.5"` reads as 36.5), a category's name for a
/// categorical one; None when it is neither.
fn covariate(c: &pk::Covariate, v: &serde_json::Value) -> Option<CovariateValue> {
    let numeric = !matches!(c.effect, pk::Effect::Categorical { .. });
    match v {
        serde_json::Value::Number(n) if numeric => n.as_f64().map(CovariateValue::Number),
        serde_json::Value::String(s) if numeric => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(CovariateValue::Number),
        serde_json::Value::String(s) => Some(CovariateValue::Category(s.clone())),
        serde_json::Value::Number(n) => Some(CovariateValue::Category(n.to_string())),
        _ => None,
    }
}

/// The first model, or its fallback when one of its covariates is
/// missing; with the patient's typical values.
fn chosen<'a>(
    drug: &'a crate::pack::model::Drug,
    first: &'a DrugModel,
    sample: &crate::input::Sample,
    notes: &mut Notes,
) -> Option<(&'a DrugModel, pk::Params)> {
    let values: Vec<Option<CovariateValue>> = first
        .model
        .covariates
        .iter()
        .map(|c| {
            let v = sample
                .extra
                .iter()
                .find(|(k, _)| *k == c.input)
                .map(|(_, v)| v)?;
            let read = covariate(c, v);
            let said = format!(
                "population model `{}`: {} {v} is not a number",
                first.model.id, c.input
            );
            // One input may scale several parameters: said once.
            if read.is_none() && !notes.warnings.contains(&said) {
                notes.warnings.push(said);
            }
            read
        })
        .collect();
    let mut warned: Vec<&str> = Vec::new();
    for (c, v) in first.model.covariates.iter().zip(&values) {
        if let (Some((low, high)), Some(CovariateValue::Number(x))) = (c.range, v)
            && (*x < low || *x > high)
            && !warned.contains(&c.input.as_str())
        {
            warned.push(&c.input);
            notes.warnings.push(format!(
                "population model `{}`: {} {x} is outside the range the model was estimated on ({low}-{high}): extrapolated",
                first.model.id, c.input
            ));
        }
    }
    match first.model.typical_for(&values) {
        Ok(typical) => Some((first, typical)),
        Err(missing) => {
            let fallback = first
                .fallback
                .as_ref()
                .and_then(|id| drug.models.iter().find(|m| &m.model.id == id));
            let said = format!(
                "population model `{}` needs {} (never assumed at the reference value)",
                first.model.id,
                missing.join(", ")
            );
            match fallback {
                Some(f) => {
                    notes.warnings.push(format!(
                        "{said}: model `{}` without covariates is used",
                        f.model.id
                    ));
                    f.model.typical_for(&[]).ok().map(|t| (f, t))
                }
                None => {
                    notes.warnings.push(format!("{said}: not used"));
                    None
                }
            }
        }
    }
}

fn trough(
    model: &DrugModel,
    patient: &Patient,
    fit: &pk::Fit,
    (dose, interval_h): (f64, f64),
    analyte: pk::Analyte,
    notes: &mut Notes,
) -> Option<ModelTrough> {
    let (low, high) = model.doses_mg;
    let daily = dose * 24.0 / interval_h;
    if daily < low || daily > high {
        notes.warnings.push(format!(
            "population model `{}`: {daily} mg a day is outside the doses it was estimated on ({low}-{high} mg a day): no predicted trough",
            model.model.id
        ));
        return None;
    }
    let regimen = Dosing::Regular {
        dose_mg: dose,
        tau_h: interval_h,
        count: None,
    };
    let p = pk::predict_of(analyte, &model.model, patient, fit, &regimen, interval_h);
    let shrinkage = p.shrinkage();
    if !(p.value.is_finite() && shrinkage.is_finite()) {
        return None;
    }
    if shrinkage > MOSTLY_PRIOR {
        notes.warnings.push(format!(
            "population model `{}`: the level informed the predicted trough little (shrinkage {shrinkage:.2}): it is mostly the population's, not this patient's",
            model.model.id
        ));
    }
    let (lower, upper) = p.interval(Z_90);
    let next_sd = measured_sd(
        model,
        patient,
        fit,
        (&regimen, interval_h),
        analyte,
        p.sd_log,
    );
    Some(ModelTrough {
        value: p.value,
        lower_90: lower,
        upper_90: upper,
        dose_mg: dose,
        interval_h,
        shrinkage,
        next_level_lower_90: p.value * (-Z_90 * next_sd).exp(),
        next_level_upper_90: p.value * (Z_90 * next_sd).exp(),
    })
}

/// The SD of ln of a measured level at `t_h` whose prediction is `value`
/// with SD `sd_log` of ln: a measured level varies more than the true
/// concentration, by one occasion's variability (IOV: not estimated for
/// this occasion, design.md, through the level's sensitivity to each
/// parameter) and the residual error.
fn measured_sd(
    model: &DrugModel,
    patient: &Patient,
    fit: &pk::Fit,
    (dosing, t_h): (&Dosing, f64),
    analyte: pk::Analyte,
    sd_log: f64,
) -> f64 {
    let iov: f64 = model
        .iov
        .iter()
        .map(|(param, var)| {
            let s =
                pk::log_sensitivity_of(analyte, &model.model, patient, fit, dosing, t_h, *param);
            s * s * var
        })
        .sum();
    let at = |a: pk::Analyte| dosing.concentration_of(a, &fit.params, t_h);
    let residual = match analyte {
        pk::Analyte::Total => {
            // Each analyte is measured with its own error; their sum's
            // variance over the sum squared, on the log scale.
            let (parent, metabolite) = (at(pk::Analyte::Parent), at(pk::Analyte::Metabolite));
            let var = |a: pk::Analyte, c: f64| model.model.residual_of(a).log_variance(c) * c * c;
            (var(pk::Analyte::Parent, parent) + var(pk::Analyte::Metabolite, metabolite))
                / (parent + metabolite).powi(2)
        }
        a => model.model.residual_of(a).log_variance(at(a)),
    };
    (sd_log.powi(2) + iov + residual).sqrt()
}

/// The last level (the sample's own) forecast by a fit to the ones before
/// it, with the 90 % interval of a measured level; None with no earlier
/// level or when that fit fails (the full fit's warnings say why).
fn forecast(model: &DrugModel, patient: &Patient) -> Option<ModelForecast> {
    let last = patient
        .levels
        .iter()
        .rev()
        .find(|l| l.analyte == pk::Analyte::Parent)?;
    let before: Vec<pk::Level> = patient
        .levels
        .iter()
        .filter(|l| l.t_h < last.t_h)
        .copied()
        .collect();
    if before.is_empty() {
        return None;
    }
    let earlier = Patient {
        typical: patient.typical,
        dosing: patient.dosing.clone(),
        levels: before,
    };
    let fit = pk::fit(&model.model, &earlier).ok()?;
    let p = pk::predict(&model.model, &earlier, &fit, &earlier.dosing, last.t_h);
    let sd = measured_sd(
        model,
        &earlier,
        &fit,
        (&earlier.dosing, last.t_h),
        pk::Analyte::Parent,
        p.sd_log,
    );
    let out = ModelForecast {
        from_levels: earlier.levels.len(),
        predicted: p.value,
        lower_90: p.value * (-Z_90 * sd).exp(),
        upper_90: p.value * (Z_90 * sd).exp(),
        observed: last.ng_ml,
        error_percent: (p.value - last.ng_ml) / last.ng_ml * 100.0,
    };
    [out.predicted, out.lower_90, out.upper_90, out.error_percent]
        .iter()
        .all(|v| v.is_finite())
        .then_some(out)
}

/// The order the block lists parameters in: clearance first.
const SHOWN: [pk::Param; 13] = [
    pk::Param::Cl,
    pk::Param::V1,
    pk::Param::Ka,
    pk::Param::Q,
    pk::Param::V2,
    pk::Param::Lag,
    pk::Param::F,
    pk::Param::Qh,
    pk::Param::Fm,
    pk::Param::ClM,
    pk::Param::VM,
    pk::Param::QM,
    pk::Param::VMp,
];

/// The parameters the model has: those with an eta, and those whose
/// typical value is not the default (0; 1 for F).
fn parameters(model: &DrugModel, typical: &pk::Params, fit: &pk::Fit) -> Vec<ModelParameter> {
    let n = fit.eta.len();
    SHOWN
        .into_iter()
        .filter_map(|param| {
            let i = model.model.etas.iter().position(|p| *p == param);
            let t = param.get(typical);
            let default = if param == pk::Param::F { 1.0 } else { 0.0 };
            (i.is_some() || t != default).then(|| ModelParameter {
                name: param.name().to_owned(),
                value: param.get(&fit.params),
                typical: t,
                unit: param.unit().to_owned(),
                eta: i.map(|i| fit.eta[i]),
                eta_sd: i.map(|i| fit.covariance[i * n + i].max(0.0).sqrt()),
            })
        })
        .collect()
}

/// Every number of the block is finite (no number that is not reaches a
/// result).
fn finite(m: &ModelFit) -> bool {
    let parameters = m.parameters.iter().all(|p| {
        p.value.is_finite()
            && p.typical.is_finite()
            && p.eta.is_none_or(f64::is_finite)
            && p.eta_sd.is_none_or(f64::is_finite)
    });
    let predictions = m
        .predictions
        .iter()
        .all(|p| p.predicted.is_finite() && p.residual.is_finite());
    let trough = m.trough.as_ref().is_none_or(|t| {
        [
            t.value,
            t.lower_90,
            t.upper_90,
            t.shrinkage,
            t.next_level_lower_90,
            t.next_level_upper_90,
        ]
        .iter()
        .all(|v| v.is_finite())
    });
    parameters
        && predictions
        && trough
        && m.prior_distance.is_finite()
        && m.half_life_h.is_finite()
        && m.steady_state_days.is_finite()
}
