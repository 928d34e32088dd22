//! The concentration–time chart as SVG: readable in black and white
//! (marker shapes and dash patterns, not colours), with axis labels and
//! units. Every drawn sample carries its id and value as data attributes,
//! so tests can check the drawing against the numbers. Built with `maud`,
//! which escapes every text and attribute taken from the input.

use maud::{Markup, html};
use tdm_core::pk::curve::CurvePoint;
use tdm_core::{result::fmt_num, result::round_sig};

use super::model::{Curves, Projected};
use super::{Course, Point};

const W: f64 = 720.0;
const H: f64 = 380.0;
const LEFT: f64 = 70.0;
/// The right margin holds the labels of the target and mean lines.
const RIGHT: f64 = 120.0;
const TOP: f64 = 20.0;
/// The concentration panel ends here; the dose has a band of its own below.
const CONC_BOTTOM: f64 = 250.0;
const DOSE_TOP: f64 = 270.0;
const DOSE_BOTTOM: f64 = 330.0;
/// Labels closer than this are pushed apart.
const LABEL_GAP: f64 = 13.0;

/// Round tick values from 0 to at least `max`: steps of 1, 2, 2.5 or 5
/// times a power of ten, about `wanted` of them (not 425/851/1276).
pub(crate) fn ticks(max: f64, wanted: f64) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let raw = max / wanted;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let n = (max / step - 1e-9).ceil().max(1.0) as u32;
    (0..=n).map(|i| round_sig(f64::from(i) * step, 6)).collect()
}

/// Where labels at `wanted` heights go so that none overlaps another: in
/// order, each at least `LABEL_GAP` below the one above it, inside `top` to
/// `bottom` (shifted up together when the last would fall out).
fn spread(wanted: &[f64], top: f64, bottom: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by(|a, b| wanted[*a].total_cmp(&wanted[*b]));
    let mut placed = vec![0.0; wanted.len()];
    let mut last = f64::NEG_INFINITY;
    for &i in &order {
        let y = wanted[i].max(last + LABEL_GAP).max(top);
        placed[i] = y;
        last = y;
    }
    let overflow = last - bottom;
    if overflow > 0.0 {
        for y in &mut placed {
            *y -= overflow;
        }
    }
    placed
}

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
    let last_sample = course.points.last().map_or(0.0, |p| day(p.time));
    // A little room after the last sample, so that a change of dose there
    // is drawn inside the plot.
    let last_day =
        (last_sample * 1.06 + 1.0).max(drawn.iter().map(|(d, _)| *d).fold(0.0, f64::max));
    let f = frame(course);
    let top_value = points
        .iter()
        .flat_map(|(_, (m, t))| [*m, *t])
        .chain(drawn.iter().map(|(_, p)| p.upper_90))
        .chain(f.lower)
        .chain(f.upper)
        .chain(f.mean)
        .fold(0.0f64, f64::max);
    let y_ticks = ticks(top_value * 1.05, 5.0);
    let x_ticks = ticks(last_day, 6.0);
    let x = Scale {
        from: (0.0, *x_ticks.last().unwrap_or(&1.0)),
        to: (LEFT, W - RIGHT),
    };
    let y = Scale {
        from: (0.0, *y_ticks.last().unwrap_or(&1.0)),
        to: (CONC_BOTTOM, TOP),
    };
    let mid_y = (TOP + CONC_BOTTOM) / 2.0;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={"0 0 " (W) " " (H)} width=(W) height=(H)
            role="img" aria-label={(course.drug) " over time"} font-family="sans-serif" font-size="11" {
            @if let (Some(l), Some(u)) = (f.lower, f.upper) {
                rect class="target-band" x=(LEFT) y=(px(y.at(u))) width=(W - LEFT - RIGHT)
                    height=(px(y.at(l) - y.at(u))) fill="#e8e8e8" {}
            }
            @if let Some(c) = curves {
                (model_paths(c, &x, &y))
            }
            (reference_lines(&f, &y))
            g class="axes" stroke="black" {
                line x1=(LEFT) y1=(CONC_BOTTOM) x2=(W - RIGHT) y2=(CONC_BOTTOM) {}
                line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(CONC_BOTTOM) {}
                line x1=(LEFT) y1=(DOSE_BOTTOM) x2=(W - RIGHT) y2=(DOSE_BOTTOM) {}
            }
            @for v in &y_ticks {
                text class="y-tick" x=(LEFT - 6.0) y=(y.at(*v) + 4.0) text-anchor="end" { (fmt_num(*v)) }
            }
            @for d in &x_ticks {
                text class="x-tick" x=(x.at(*d)) y=(DOSE_BOTTOM + 16.0) text-anchor="middle" { (fmt_num(*d)) }
            }
            text x=((LEFT + W - RIGHT) / 2.0) y=(H - 12.0) text-anchor="middle" { "days since the first sample" }
            text transform={"translate(16 " (mid_y) ") rotate(-90)"} text-anchor="middle" {
                (f.measure) " (" (f.unit) ")"
            }
            (dose_band(course, &x, &day))
            (samples(&points, &x, &y, &day, toxicity_grade))
        }
    }
}

/// The patient's model curve and band, and the projection on the
/// recommended regimen.
fn model_paths(c: &Curves, x: &Scale, y: &Scale) -> Markup {
    html! {
        path class="model-band" d=(band(&c.history, x, y)) fill="#d0d0d0" stroke="none" {}
        path class="model-curve" d=(line(&c.history, x, y)) fill="none" stroke="#555" stroke-width="0.8" {}
        @if let Some(Projected { points, dose_mg, interval_h }) = &c.projected {
            path class="model-projected-band" d=(band(points, x, y)) fill="#ececec" stroke="none" {}
            path class="model-projected" data-dose=(dose_mg) data-interval=(interval_h)
                d=(line(points, x, y)) fill="none" stroke="black" stroke-width="0.8" stroke-dasharray="3 2" {}
        }
    }
}

/// The target's bounds and the population mean, labelled in the right
/// margin where no label covers another.
fn reference_lines(f: &Frame, y: &Scale) -> Markup {
    let lines: Vec<(&str, f64, &str, &str)> = [
        ("target-lower", f.lower, "6 3", "target"),
        ("target-upper", f.upper, "6 3", "upper bound"),
        ("population-mean", f.mean, "1 3", "population mean"),
    ]
    .into_iter()
    .filter_map(|(class, v, dash, label)| v.map(|v| (class, v, dash, label)))
    .collect();
    let wanted: Vec<f64> = lines.iter().map(|l| y.at(l.1) + 4.0).collect();
    let placed = spread(&wanted, TOP + 4.0, CONC_BOTTOM);
    html! {
        @for ((class, v, dash, label), at) in lines.iter().zip(&placed) {
            line class=(class) data-value=(v) x1=(LEFT) x2=(W - RIGHT) y1=(px(y.at(*v)))
                y2=(px(y.at(*v))) stroke="black" stroke-width="1.2" stroke-dasharray=(dash) {}
            text class={(class) "-label"} x=(W - RIGHT + 6.0) y=(px(*at)) {
                (label) " " (fmt_num(round_sig(*v, 4)))
            }
        }
    }
}

/// Each level: open circle as measured, filled circle at trough, a
/// triangle for toxicity at or above the pack's grade.
fn samples(
    points: &[(&&Point, (f64, f64))],
    x: &Scale,
    y: &Scale,
    day: &dyn Fn(i64) -> f64,
    toxicity_grade: u8,
) -> Markup {
    html! {
        @for (p, (measured, trough)) in points {
            @let (xx, id) = (px(x.at(day(p.time))), p.result.id.as_deref().unwrap_or(""));
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

/// The daily dose in a band of its own under the levels: steps of the
/// doses taken, then the advised next dose from the last sample (dashed).
fn dose_band(course: &Course, x: &Scale, day: &dyn Fn(i64) -> f64) -> Markup {
    let next = next_daily(course);
    let max_dose = course
        .points
        .iter()
        .filter_map(|p| p.daily_mg())
        .chain(next.as_ref().map(|(d, _)| *d))
        .fold(0.0f64, f64::max);
    if max_dose <= 0.0 {
        return html! {};
    }
    let dose_ticks = ticks(max_dose, 3.0);
    let yd = Scale {
        from: (0.0, *dose_ticks.last().unwrap_or(&1.0)),
        to: (DOSE_BOTTOM, DOSE_TOP),
    };
    let (steps, end) = dose_steps(course, x, &yd, day);
    html! {
        text x=(W - RIGHT + 6.0) y=((DOSE_TOP + DOSE_BOTTOM) / 2.0) { "dose (mg/day)" }
        line x1=(LEFT) y1=(DOSE_TOP) x2=(LEFT) y2=(DOSE_BOTTOM) stroke="black" {}
        @for v in &dose_ticks {
            text class="dose-tick" x=(LEFT - 6.0) y=(yd.at(*v) + 4.0) text-anchor="end" { (fmt_num(*v)) }
        }
        path class="dose" d=(steps) fill="none" stroke="black" stroke-width="1.5" {}
        @if let (Some((daily, label)), Some((ex, ey))) = (next, end) {
            @let ny = px(yd.at(daily));
            path class="dose-next" data-value=(daily) d={"M" (px(ex)) " " (ey) " V" (ny) " H" (W - RIGHT)}
                fill="none" stroke="black" stroke-width="1.5" stroke-dasharray="4 3" {}
            text x=(px(ex + 4.0)) y=(px(yd.at(daily) - 4.0)) { (label) }
        }
    }
}

/// The latest result's next dose per day when it changes the dose, with
/// its label (`next: 600 mg/day`).
fn next_daily(course: &Course) -> Option<(f64, String)> {
    let last = course.points.last()?;
    let a = last.result.assessment.as_ref()?;
    let daily = a.next_dose_mg? * 24.0 / a.next_interval_h?;
    let current = last.daily_mg();
    (current.is_none_or(|c| (c - daily).abs() > 1e-9)).then(|| {
        (
            daily,
            format!("next: {} mg/day", fmt_num(round_sig(daily, 4))),
        )
    })
}

/// The daily dose as steps: a new dose from its start (`days_on_dose`
/// before its sample, not before the previous sample; the model's fit
/// assumes the same), else from its sample; to the last sample when the
/// advice changes the dose there, else to the end. Answers the path and
/// the last sample's point.
fn dose_steps(
    course: &Course,
    x: &Scale,
    yd: &Scale,
    day: &dyn Fn(i64) -> f64,
) -> (String, Option<(f64, String)>) {
    let mut path = String::new();
    let mut previous: Option<f64> = None;
    let mut last_y = String::new();
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
        last_y = yy;
    }
    let Some(last) = previous else {
        return (path, None);
    };
    if next_daily(course).is_some() {
        let end = x.at(last);
        path.push_str(&format!(" H{}", px(end)));
        (path, Some((end, last_y)))
    } else {
        path.push_str(&format!(" H{}", W - RIGHT));
        (path, None)
    }
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

#[cfg(test)]
mod tests {
    use super::{spread, ticks};

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(ticks(3790.0, 5.0), [0.0, 1000.0, 2000.0, 3000.0, 4000.0]);
        assert_eq!(ticks(750.0, 2.0), [0.0, 500.0, 1000.0]);
        assert_eq!(
            ticks(147.0, 6.0),
            [0.0, 25.0, 50.0, 75.0, 100.0, 125.0, 150.0]
        );
        assert_eq!(ticks(62.5, 2.0), [0.0, 50.0, 100.0]);
        assert_eq!(ticks(1.0, 5.0), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    }

    #[test]
    fn labels_are_pushed_apart() {
        // The population mean 1170 just above the target 1000.
        let placed = spread(&[100.0, 95.0], 10.0, 250.0);
        assert!((placed[0] - placed[1]).abs() >= 13.0, "{placed:?}");
        assert_eq!(placed[1], 95.0);
        let low = spread(&[248.0, 249.0], 10.0, 250.0);
        assert!(
            low.iter().all(|y| *y <= 250.0) && (low[0] - low[1]).abs() >= 13.0,
            "{low:?}"
        );
    }
}
