//! The concentration–time chart as hand-written SVG: readable in black and
//! white (marker shapes and dash patterns, not colours), with axis labels
//! and units. Every drawn sample carries its id and value as data
//! attributes, so tests can check the drawing against the numbers.

use std::fmt::Write as _;

use tdm_core::{result::fmt_num, result::round_sig};

use super::Course;

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

/// Rounds a y coordinate as it is written, so a check can compare exactly.
fn px(v: f64) -> String {
    format!("{v:.2}")
}

pub(crate) fn chart(course: &Course, toxicity_grade: u8) -> String {
    let points: Vec<_> = course
        .points
        .iter()
        .filter_map(|p| p.values().map(|v| (p, v)))
        .collect();
    let first = course.points.first().map_or(0, |p| p.time);
    let day = |t: i64| (t - first) as f64 / 86_400.0;
    let last_day = course.points.last().map_or(1.0, |p| day(p.time)).max(1.0);
    let latest = course
        .points
        .iter()
        .rev()
        .find_map(|p| p.result.assessment.as_ref());
    let (lower, upper, mean, unit, measure) =
        latest.map_or((None, None, None, "ng/mL".to_owned(), "Cmin"), |a| {
            let m = if a.exposure.measure == tdm_core::result::Measure::Auc {
                "AUC"
            } else {
                "Cmin"
            };
            (
                a.target.lower,
                a.target.upper,
                a.target.population_mean,
                a.exposure.unit.clone(),
                m,
            )
        });
    let top_value = points
        .iter()
        .flat_map(|(_, (m, t))| [*m, *t])
        .chain(lower)
        .chain(upper)
        .chain(mean)
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

    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{} over time" font-family="sans-serif" font-size="11">"#,
        course.drug
    );
    // Target band or threshold, and the population mean.
    if let (Some(l), Some(u)) = (lower, upper) {
        let _ = write!(
            s,
            r##"<rect class="target-band" x="{LEFT}" y="{}" width="{}" height="{}" fill="#e8e8e8"/>"##,
            px(y.at(u)),
            W - LEFT - RIGHT,
            px(y.at(l) - y.at(u))
        );
    }
    for (class, value, dash, label) in [
        ("target-lower", lower, "6 3", "target"),
        ("target-upper", upper, "6 3", "upper bound"),
        ("population-mean", mean, "1 3", "population mean"),
    ] {
        if let Some(v) = value {
            let yy = px(y.at(v));
            let _ = write!(
                s,
                r#"<line class="{class}" data-value="{v}" x1="{LEFT}" x2="{}" y1="{yy}" y2="{yy}" stroke="black" stroke-width="1.2" stroke-dasharray="{dash}"/><text x="{}" y="{}" text-anchor="end">{label} {} {unit}</text>"#,
                W - RIGHT,
                W - RIGHT - 4.0,
                y.at(v) - 4.0,
                fmt_num(round_sig(v, 4))
            );
        }
    }
    // Axes, ticks and labels.
    let _ = write!(
        s,
        r#"<g class="axes" stroke="black"><line x1="{LEFT}" y1="{}" x2="{}" y2="{}"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}"/><line x1="{}" y1="{TOP}" x2="{}" y2="{}"/></g>"#,
        H - BOTTOM,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM,
        W - RIGHT,
        W - RIGHT,
        H - BOTTOM
    );
    for i in 0..=4 {
        let v = top_value * f64::from(i) / 4.0;
        let d = last_day * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y.at(v) + 4.0,
            fmt_num(round_sig(v, 3))
        );
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x.at(d),
            H - BOTTOM + 16.0,
            fmt_num(round_sig(d, 3))
        );
        if max_dose > 0.0 {
            let dv = max_dose * 1.25 * f64::from(i) / 4.0;
            let _ = write!(
                s,
                r#"<text x="{}" y="{}">{}</text>"#,
                W - RIGHT + 6.0,
                yd.at(dv) + 4.0,
                fmt_num(round_sig(dv, 3))
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">days since the first sample</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 10.0
    );
    let _ = write!(
        s,
        r#"<text transform="translate(16 {}) rotate(-90)" text-anchor="middle">{measure} ({unit})</text>"#,
        (TOP + H - BOTTOM) / 2.0
    );
    if max_dose > 0.0 {
        let _ = write!(
            s,
            r#"<text transform="translate({} {}) rotate(90)" text-anchor="middle">dose (mg/day)</text>"#,
            W - 14.0,
            (TOP + H - BOTTOM) / 2.0
        );
        // Dose as steps on the right axis.
        let mut path = String::new();
        for p in &course.points {
            let Some(d) = p.daily_mg() else { continue };
            let (xx, yy) = (px(x.at(day(p.time))), px(yd.at(d)));
            if path.is_empty() {
                path.push_str(&format!("M{xx} {yy}"));
            } else {
                path.push_str(&format!(" H{xx} V{yy}"));
            }
        }
        path.push_str(&format!(" H{}", W - RIGHT));
        let _ = write!(
            s,
            r#"<path class="dose" d="{path}" fill="none" stroke="black" stroke-width="1.5"/>"#
        );
    }
    // Samples: open circle as measured, filled circle at trough.
    for (p, (measured, trough)) in &points {
        let xx = px(x.at(day(p.time)));
        let id = p.result.id.as_deref().unwrap_or("");
        if (measured - trough).abs() > f64::EPSILON * measured.abs().max(1.0) {
            let _ = write!(
                s,
                r#"<circle class="measured" data-id="{id}" data-value="{measured}" cx="{xx}" cy="{}" r="4" fill="white" stroke="black"/>"#,
                px(y.at(*measured))
            );
            let _ = write!(
                s,
                r#"<line x1="{xx}" x2="{xx}" y1="{}" y2="{}" stroke="black" stroke-width="0.6"/>"#,
                px(y.at(*measured)),
                px(y.at(*trough))
            );
        }
        let _ = write!(
            s,
            r#"<circle class="trough" data-id="{id}" data-value="{trough}" cx="{xx}" cy="{}" r="4" fill="black"/>"#,
            px(y.at(*trough))
        );
        if let Some(g) = p.toxicity_grade.filter(|g| *g >= toxicity_grade) {
            let yy = y.at(*trough) - 10.0;
            let _ = write!(
                s,
                r#"<path class="toxicity" d="M{} {} l5 -9 l5 9 z" fill="white" stroke="black"/><text x="{}" y="{}">G{g}</text>"#,
                x.at(day(p.time)) - 5.0,
                yy,
                x.at(day(p.time)) + 7.0,
                yy - 2.0
            );
        }
    }
    s.push_str("</svg>");
    s
}
