//! What the report draws and says of the patient's population model: the
//! individual curve with its 90 % band over the history (from the latest
//! sample's fit, which used every earlier level), and the curve projected
//! on the model's recommended regimen until its steady state.

use tdm_core::Pack;
use tdm_core::pk::curve::{CurvePoint, curve};
use tdm_core::result::model::ModelFit;
use tdm_core::result::{fmt_num, round_sig};

use super::{Course, Point};

/// Days projected at least (a short half-life still shows a week).
const MIN_PROJECTED_DAYS: f64 = 7.0;
/// Days projected at most (a long half-life is cut at two months).
const MAX_PROJECTED_DAYS: f64 = 60.0;

/// The curves on the chart's clock: days since the course's first sample.
pub(crate) struct Curves {
    pub history: Vec<(f64, CurvePoint)>,
    /// The recommended regimen's curve, with its dose and interval.
    pub projected: Option<Projected>,
}

pub(crate) struct Projected {
    pub points: Vec<(f64, CurvePoint)>,
    pub dose_mg: f64,
    pub interval_h: f64,
}

/// The latest sample of the course with a model fit, and its block.
pub(crate) fn latest<'a>(course: &Course<'a>) -> Option<(&'a Point, &'a ModelFit)> {
    course.points.iter().rev().find_map(|p| {
        let m = p.result.assessment.as_ref()?.model.as_ref()?;
        Some((*p, m))
    })
}

pub(crate) fn curves(pack: &Pack, course: &Course) -> Option<Curves> {
    let (point, block) = latest(course)?;
    let detail = block.detail.as_deref()?;
    let model = &pack
        .drug(&course.drug)?
        .models
        .iter()
        .find(|m| m.model.id == block.id)?
        .model;
    let first = course.points.first()?.time;
    let sample_h = detail.patient.levels.last()?.t_h;
    let sample_day = (point.time - first) as f64 / 86_400.0;
    let day = |t_h: f64| sample_day + (t_h - sample_h) / 24.0;
    let on_chart = |points: Vec<CurvePoint>| -> Vec<(f64, CurvePoint)> {
        points.into_iter().map(|p| (day(p.t_h), p)).collect()
    };
    let a = point.result.assessment.as_ref()?;
    let tau = a.sampling.interval_h;
    let start_h = sample_h - sample_day * 24.0;
    let history = on_chart(curve(
        detail.analyte,
        model,
        &detail.patient,
        &detail.fit,
        &detail.patient.dosing,
        (start_h, sample_h),
        tau,
    ));
    let projected = block.recommendation.as_ref().map(|r| {
        let hours = block.predictions.last().map_or(tau, |p| p.hours_since_dose);
        // The new regimen from the next dose due after the sample.
        let next_h = sample_h - hours + tau;
        let days = (block.steady_state_days).clamp(MIN_PROJECTED_DAYS, MAX_PROJECTED_DAYS);
        let count = (days * 24.0 / r.interval_h).ceil().max(1.0) as u32;
        let dosing = detail
            .patient
            .dosing
            .then(next_h, r.dose_mg, r.interval_h, count);
        let end_h = next_h + f64::from(count) * r.interval_h;
        Projected {
            points: on_chart(curve(
                detail.analyte,
                model,
                &detail.patient,
                &detail.fit,
                &dosing,
                (sample_h, end_h),
                r.interval_h,
            )),
            dose_mg: r.dose_mg,
            interval_h: r.interval_h,
        }
    });
    Some(Curves { history, projected })
}

/// The model's trough of a sample, for the table.
pub(crate) fn trough(p: &Point) -> String {
    p.result
        .assessment
        .as_ref()
        .and_then(|a| a.model.as_ref())
        .and_then(|m| m.trough.as_ref())
        .map_or("-".into(), |t| fmt_num(round_sig(t.value, 4)))
}

/// The model's recommendation in one paragraph, or why there is none.
pub(crate) fn sentence(m: &ModelFit) -> String {
    let head = format!(
        "Population model {} (informational, {} level{} of the patient)",
        m.id,
        m.levels_used,
        if m.levels_used == 1 { "" } else { "s" }
    );
    match &m.recommendation {
        Some(r) => format!(
            "{head}: {} mg every {} h, probability {:.2} of reaching the target ({}); its steady state, the time for the next level, after {} days.",
            fmt_num(r.dose_mg),
            fmt_num(r.interval_h),
            r.p_target,
            r.note,
            fmt_num(round_sig(r.next_level_after_days, 2)),
        ),
        None => format!("{head}: no dose recommended (the warnings say why)."),
    }
}
