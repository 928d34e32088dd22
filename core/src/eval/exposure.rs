//! The exposure judged: the counted analytes summed, each corrected to the
//! trough where the timing stage allows it, or the value the drug's
//! `exposure` hook returns instead.

use super::analytes::Measured;
use super::timing::Timing;
use super::{Context, EvalError, Notes, Reading, hooks};
use crate::result::num::tidy;
use crate::result::{
    AnalyteValue, Correction, CorrectionMethod, Exposure, Hook, SteadyState, Trough,
};

/// The exposure as the result writes it, and its total at full precision
/// (decisions use the latter).
pub(crate) struct Combined {
    pub exposure: Exposure,
    pub total: f64,
    /// The counted analytes as measured, before any trough correction.
    pub raw_total: f64,
}

/// Sums and corrects the analytes; a hook's trough prediction replaces the
/// rule's trough window (steady state is still required).
pub(crate) fn combine(
    cx: &Context<'_>,
    reading: &Reading,
    measured: &Measured,
    timing: &mut Timing,
    notes: &mut Notes,
) -> Result<Combined, EvalError> {
    let (drug, sample) = (cx.drug, cx.sample);
    let unit = &reading.unit;
    let raw_total: f64 = measured
        .counted
        .iter()
        .filter_map(|&i| measured.values[i].map(|m| m.1))
        .sum();
    let mut analytes = Vec::new();
    let mut total = 0.0;
    for &i in &measured.counted {
        let (given, canonical) = measured.values[i].unwrap_or_default();
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
        model_ratio: None,
        method: CorrectionMethod::LogLinear,
    });
    // The hook's inputs are built only for a drug that has such a hook.
    if hooks::implements(drug, Hook::Exposure) {
        let map = hooks::measured_map(cx, measured, timing);
        if let Some(e) =
            hooks::exposure(cx.pack, drug, map, reading.quantity).map_err(EvalError::hook)?
        {
            total = e.value;
            notes.warnings.extend(e.warnings);
            notes.used(Hook::Exposure, e.notes);
            let provider = notes.trace.as_ref().map(|t| t.kind);
            if let (true, Some(hours), Some(provider)) =
                (e.at_trough, sample.hours_since_dose, provider)
            {
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
                    model_ratio: None,
                    method: provider.into(),
                });
            }
        }
    }
    Ok(Combined {
        exposure: Exposure {
            value: tidy(total),
            unit: reading.quantity.canonical().to_owned(),
            measure: reading.measure,
            analytes,
            parent_only: measured.parent_only,
            population_percentile: None,
            expected: None,
            corrected_from,
        },
        total,
        raw_total,
    })
}

/// Replaces a log-linear correction of the parent alone by the patient's
/// model curve (design.md: the model for off-trough correction, Janssen et
/// al. 2020); a summed target, or a trough a hook predicted, stays as it is.
pub(crate) fn by_model(combined: &mut Combined, measured: &Measured, ratio: f64) {
    let Some(c) = combined.exposure.corrected_from.as_mut() else {
        return;
    };
    if c.method != CorrectionMethod::LogLinear || measured.counted != [0] {
        return;
    }
    let Some(parent) = combined.exposure.analytes.first_mut() else {
        return;
    };
    c.method = CorrectionMethod::Model;
    c.half_life_h = None;
    c.model_ratio = Some(tidy(ratio));
    combined.total = combined.raw_total * ratio;
    combined.exposure.value = tidy(combined.total);
    parent.at_trough = Some(tidy(parent.value * ratio));
    parent.half_life_h = None;
}
