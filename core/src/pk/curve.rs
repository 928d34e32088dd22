//! A patient's concentration–time curve from their fit: over the doses of
//! their history, and projected on a new regimen, each point with the 90 %
//! interval of the patient's true concentration (parameter uncertainty).
//! For drawing (`tdm report`), not for deciding.

use super::map::{Course, Dosing, Fit, Patient, courses_of, predict_of};
use super::model::Model;
use super::solution::Analyte;

/// One point of the curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// On the patient's dosing clock, h (the sample's level at its `t_h`).
    pub t_h: f64,
    /// At the mode, ng/mL.
    pub value: f64,
    /// 5th percentile of the true concentration.
    pub lower_90: f64,
    /// 95th percentile.
    pub upper_90: f64,
}

/// z of the 5th and 95th percentiles.
const Z_90: f64 = 1.644_853_626_951_472_2;
/// Points per dosing interval: enough to show each peak and trough.
const PER_INTERVAL: f64 = 8.0;
/// Most points of one curve (beyond, fewer per interval).
const MAX_POINTS: f64 = 2400.0;

impl Dosing {
    /// The same doses as courses on one clock (a regular regimen's last
    /// dose at 0, as its observation times are read).
    pub fn courses(&self) -> Vec<Course> {
        match self {
            Dosing::Regular {
                dose_mg,
                tau_h,
                count,
            } => vec![Course {
                last_h: 0.0,
                dose_mg: *dose_mg,
                tau_h: *tau_h,
                count: *count,
            }],
            Dosing::History(doses) => courses_of(doses),
            Dosing::Courses(c) => c.clone(),
        }
    }

    /// These doses up to `from_h`, then `count` doses of `dose_mg` every
    /// `tau_h` hours, the first at `from_h` (a new regimen from the next
    /// dose on).
    pub fn then(&self, from_h: f64, dose_mg: f64, tau_h: f64, count: u32) -> Dosing {
        let mut courses: Vec<Course> = self
            .courses()
            .into_iter()
            .filter_map(|c| until(c, from_h))
            .collect();
        courses.push(Course {
            last_h: from_h + f64::from(count.saturating_sub(1)) * tau_h,
            dose_mg,
            tau_h,
            count: Some(count.max(1)),
        });
        Dosing::Courses(courses)
    }
}

/// The part of a course given before `from_h`.
fn until(c: Course, from_h: f64) -> Option<Course> {
    if c.last_h < from_h {
        return Some(c);
    }
    // Doses at or after `from_h` are dropped.
    let dropped = ((c.last_h - from_h) / c.tau_h).floor() + 1.0;
    let last_h = c.last_h - dropped * c.tau_h;
    match c.count {
        None => Some(Course { last_h, ..c }),
        Some(n) if f64::from(n) > dropped => Some(Course {
            last_h,
            count: Some(n - dropped as u32),
            ..c
        }),
        Some(_) => None,
    }
}

/// The patient's curve of `analyte` on `dosing` from `from_h` to `to_h`;
/// points whose numbers are not finite are left out.
pub fn curve(
    analyte: Analyte,
    model: &Model,
    patient: &Patient,
    fit: &Fit,
    dosing: &Dosing,
    (from_h, to_h): (f64, f64),
    tau_h: f64,
) -> Vec<CurvePoint> {
    if !(to_h > from_h && tau_h > 0.0) {
        return Vec::new();
    }
    let span = to_h - from_h;
    let step = (tau_h / PER_INTERVAL).max(span / MAX_POINTS);
    let n = (span / step).ceil() as usize;
    (0..=n)
        .filter_map(|i| {
            let t_h = (from_h + i as f64 * step).min(to_h);
            let p = predict_of(analyte, model, patient, fit, dosing, t_h);
            let (lower_90, upper_90) = p.interval(Z_90);
            let point = CurvePoint {
                t_h,
                value: p.value,
                lower_90,
                upper_90,
            };
            [point.value, lower_90, upper_90]
                .iter()
                .all(|v| v.is_finite())
                .then_some(point)
        })
        .collect()
}
