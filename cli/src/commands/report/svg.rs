//! The concentration–time chart as SVG: readable in black and white
//! (marker shapes and dash patterns, not colours), with axis labels and
//! units. Every drawn sample carries its id and value as data attributes,
//! so tests can check the drawing against the numbers. Built with `maud`,
//! which escapes every text and attribute taken from the input.

use maud::{Markup, html};
use tdm_core::pk::curve::CurvePoint;
use tdm_core::{result::fmt_num, result::round_sig};

use super::Course;
use super::model::{Curves, Projected};

const W: f64 = 720.0;
const H: f64 = 340.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 50.0;

/// A linear scale from data to pixels.
struct Scale {
    from: (f64, f64),
    to: (f64, f64),
}

impl Scale {
    fn at(&self, v: f64) -> f64 {
        let span = self.from.1 - self.from.0;
        let f = if span == 0.0 {
            0.5
        } else {
            (v - self.from.0) / span
        };
        self.to.0 + f * (self.to.1 - self.to.0)
    }
}

/// Rounds a coordinate as it is written, so a check can compare exactly.
fn px(v: f64) -> String {
    format!("{v:.2}")
}

/// What the latest result says the chart is about.
struct Frame {
    lower: Option<f64>,
    upper: Option<f64>,
    mean: Option<f64>,
    unit: String,
    measure: &'static str,
}

fn frame(course: &Course) -> Frame {
    let latest = course
        .points
        .iter()
        .rev()
        .find_map(|p| p.result.assessment.as_ref());
    match latest {
        None => Frame {
            lower: None,
            upper: None,
            mean: None,
            unit: "ng/mL".into(),
            measure: "Cmin",
        },
        Some(a) => Frame {
            lower: a.target.lower,
            upper: a.target.upper,
            mean: a.target.population_mean,
            unit: a.exposure.unit.clone(),
            measure: a.exposure.measure.label(),
        },
    }
}

pub(crate) fn chart(course: &Course, toxicity_grade: u8, curves: Option<&Curves>) -> Markup {
    let points: Vec<_> = course
        .points
        .iter()
        .filter_map(|p| p.values().map(|v| (p, v)))
        .collect();
    let first = course.points.first().map_or(0, |p| p.time);
    let day = |t: i64| (t - first) as f64 / 86_400.0;
    let drawn: Vec<&(f64, CurvePoint)> = curves
        .iter()
        .flat_map(|c| {
            c.history
                .iter()
                .chain(c.projected.iter().flat_map(|p| &p.points))
        })
        .collect();
    let last_day = course
        .points
        .last()
        .map_or(1.0, |p| day(p.time))
        .max(drawn.iter().map(|(d, _)| *d).fold(0.0, f64::max))
        .max(1.0);
    let f = frame(course);
    let top_value = points
        .iter()
        .flat_map(|(_, (m, t))| [*m, *t])
        .chain(drawn.iter().map(|(_, p)| p.upper_90))
        .chain(f.lower)
        .chain(f.upper)
        .chain(f.mean)
        .fold(0.0f64, f64::max)
        * 1.15;
    let top_value = if top_value > 0.0 { top_value } else { 1.0 };
    let x = Scale {
        from: (0.0, last_day),
        to: (LEFT, W - RIGHT),
    };
    let y = Scale {
        from: (0.0, top_value),
        to: (H - BOTTOM, TOP),
    };
    let max_dose = course
        .points
        .iter()
        .filter_map(|p| p.daily_mg())
        .fold(0.0f64, f64::max);
    let yd = Scale {
        from: (0.0, if max_dose > 0.0 { max_dose * 1.25 } else { 1.0 }),
        to: (H - BOTTOM, TOP),
    };
    let lines = [
        ("target-lower", f.lower, "6 3", "target"),
        ("target-upper", f.upper, "6 3", "upper bound"),
        ("population-mean", f.mean, "1 3", "population mean"),
    ];
    let mid_y = (TOP + H - BOTTOM) / 2.0;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (W) " " (H)} width=(W) height=(H)
            role="img" aria-label={(course.drug) " over time"} font-family="sans-serif" font-size="11" {
            @if let (Some(l), Some(u)) = (f.lower, f.upper) {
                rect class="target-band" x=(LEFT) y=(px(y.at(u))) width=(W - LEFT - RIGHT)
                    height=(px(y.at(l) - y.at(u))) fill="#e8e8e8" {}
            }
            @if let Some(c) = curves {
                path class="model-band" d=(band(&c.history, &x, &y)) fill="#d0d0d0" stroke="none" {}
                path class="model-curve" d=(line(&c.history, &x, &y)) fill="none" stroke="#555" stroke-width="0.8" {}
                @if let Some(Projected { points, dose_mg, interval_h }) = &c.projected {
                    path class="model-projected-band" d=(band(points, &x, &y)) fill="#ececec" stroke="none" {}
                    path class="model-projected" data-dose=(dose_mg) data-interval=(interval_h)
                        d=(line(points, &x, &y)) fill="none" stroke="black" stroke-width="0.8" stroke-dasharray="3 2" {}
                }
            }
            @for (class, value, dash, label) in lines {
                @if let Some(v) = value {
                    line class=(class) data-value=(v) x1=(LEFT) x2=(W - RIGHT) y1=(px(y.at(v)))
                        y2=(px(y.at(v))) stroke="black" stroke-width="1.2" stroke-dasharray=(dash) {}
                    text x=(LEFT + 4.0) y=(y.at(v) - 4.0) paint-order="stroke" stroke="white" stroke-width="3" {
                        (label) " " (fmt_num(round_sig(v, 4))) " " (f.unit)
                    }
                }
            }
            g class="axes" stroke="black" {
                line x1=(LEFT) y1=(H - BOTTOM) x2=(W - RIGHT) y2=(H - BOTTOM) {}
                line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(H - BOTTOM) {}
                line x1=(W - RIGHT) y1=(TOP) x2=(W - RIGHT) y2=(H - BOTTOM) {}
            }
            @for i in 0..=4 {
                @let (v, d) = (top_value * f64::from(i) / 4.0, last_day * f64::from(i) / 4.0);
                text x=(LEFT - 6.0) y=(y.at(v) + 4.0) text-anchor="end" { (fmt_num(round_sig(v, 3))) }
                text x=(x.at(d)) y=(H - BOTTOM + 16.0) text-anchor="middle" { (fmt_num(round_sig(d, 3))) }
                @if max_dose > 0.0 {
                    @let dv = max_dose * 1.25 * f64::from(i) / 4.0;
                    text x=(W - RIGHT + 6.0) y=(yd.at(dv) + 4.0) { (fmt_num(round_sig(dv, 3))) }
                }
            }
            text x=((LEFT + W - RIGHT) / 2.0) y=(H - 10.0) text-anchor="middle" { "days since the first sample" }
            text transform={"translate(16 " (mid_y) ") rotate(-90)"} text-anchor="middle" {
                (f.measure) " (" (f.unit) ")"
            }
            @if max_dose > 0.0 {
                text transform={"translate(" (W - 14.0) " " (mid_y) ") rotate(90)"} text-anchor="middle" {
                    "dose (mg/day)"
                }
                path class="dose" d=(dose_steps(course, &x, &yd, &day)) fill="none" stroke="black" stroke-width="1.5" {}
            }
            @for (p, (measured, trough)) in &points {
                @let (xx, id) = (px(x.at(day(p.time))), p.result.id.as_deref().unwrap_or(""));
                // Open circle as measured, filled circle at trough.
                @if (measured - trough).abs() > f64::EPSILON * measured.abs().max(1.0) {
                    circle class="measured" data-id=(id) data-value=(measured) cx=(xx)
                        cy=(px(y.at(*measured))) r="4" fill="white" stroke="black" {}
                    line x1=(xx) x2=(xx) y1=(px(y.at(*measured))) y2=(px(y.at(*trough)))
                        stroke="black" stroke-width="0.6" {}
                }
                circle class="trough" data-id=(id) data-value=(trough) cx=(xx) cy=(px(y.at(*trough)))
                    r="4" fill="black" {}
                @if let Some(g) = p.toxicity_grade.filter(|g| *g >= toxicity_grade) {
                    @let (tx, ty) = (x.at(day(p.time)), y.at(*trough) - 10.0);
                    path class="toxicity" d={"M" (tx - 5.0) " " (ty) " l5 -9 l5 9 z"} fill="white" stroke="black" {}
                    text x=(tx + 7.0) y=(ty - 2.0) { "G" (g) }
                }
            }
        }
    }
}

/// The daily dose as steps on the right axis: a new dose from its start
/// (`days_on_dose` before its sample, not before the previous sample; the
/// model's fit assumes the same), else from its sample.
fn dose_steps(course: &Course, x: &Scale, yd: &Scale, day: &dyn Fn(i64) -> f64) -> String {
    let mut path = String::new();
    let mut previous: Option<f64> = None;
    for p in &course.points {
        let Some(d) = p.daily_mg() else { continue };
        let at = day(p.time);
        let from = match (previous, p.days_on_dose) {
            (Some(before), Some(days)) => (at - days).max(before),
            (None, Some(days)) => (at - days).max(0.0),
            _ => at,
        };
        previous = Some(at);
        let (xx, yy) = (px(x.at(from)), px(yd.at(d)));
        if path.is_empty() {
            path.push_str(&format!("M{xx} {yy}"));
        } else {
            path.push_str(&format!(" H{xx} V{yy}"));
        }
    }
    path.push_str(&format!(" H{}", W - RIGHT));
    path
}

/// The curve at the mode as a path.
fn line(points: &[(f64, CurvePoint)], x: &Scale, y: &Scale) -> String {
    let mut path = String::new();
    for (i, (d, p)) in points.iter().enumerate() {
        let (xx, yy) = (px(x.at(*d)), px(y.at(p.value)));
        path.push_str(&if i == 0 {
            format!("M{xx} {yy}")
        } else {
            format!(" L{xx} {yy}")
        });
    }
    path
}

/// The 90 % band as a closed path: along the upper bound, back along the
/// lower.
fn band(points: &[(f64, CurvePoint)], x: &Scale, y: &Scale) -> String {
    if points.is_empty() {
        return String::new();
    }
    let mut path = String::new();
    for (i, (d, p)) in points.iter().enumerate() {
        let (xx, yy) = (px(x.at(*d)), px(y.at(p.upper_90)));
        path.push_str(&if i == 0 {
            format!("M{xx} {yy}")
        } else {
            format!(" L{xx} {yy}")
        });
    }
    for (d, p) in points.iter().rev() {
        path.push_str(&format!(" L{} {}", px(x.at(*d)), px(y.at(p.lower_90))));
    }
    path.push_str(" Z");
    path
}
