//! The population figure: per model and target, the simulated measured
//! troughs' 5-95 % range and median over the table's population mean, on
//! one log axis of ratios (every drug on one scale); readable in black and
//! white, every number labelled.

use std::fmt::Write as _;

use tdm_core::result::{fmt_num, round_sig};
use tdm_core::tools::PopulationCheck;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn num(v: f64) -> String {
    fmt_num(round_sig(v, 3))
}

pub(super) fn figure(checks: &[PopulationCheck], title: &str) -> String {
    let (left, right, top, row) = (430.0, 110.0, 70.0, 34.0);
    let plot = 520.0;
    let width = left + plot + right;
    let height = top + row * checks.len().max(1) as f64 + 60.0;
    // Powers of 2 around every ratio shown, at least 1/4 to 4.
    let ratios = checks.iter().flat_map(|c| {
        let m = &c.measured_trough;
        [m.p5 / c.table_mean, m.p95 / c.table_mean, c.mean_ratio]
    });
    let (low, high) = ratios.fold((0.25_f64, 4.0_f64), |(lo, hi), r| {
        if r.is_finite() && r > 0.0 {
            (lo.min(r), hi.max(r))
        } else {
            (lo, hi)
        }
    });
    let (k_low, k_high) = (low.log2().floor(), high.log2().ceil());
    let x = |r: f64| left + (r.log2() - k_low) / (k_high - k_low) * plot;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11"><title>{t}</title><text x="10" y="20" font-size="13">Population models beside the review: simulated measured troughs over the table's population mean — {t}</text>"#,
        t = esc(title)
    );
    let bottom = top + row * checks.len().max(1) as f64;
    let mut k = k_low;
    while k <= k_high {
        let r = 2f64.powf(k);
        let _ = write!(
            out,
            r##"<line x1="{xx}" x2="{xx}" y1="{top}" y2="{bottom}" stroke="#ddd"/><text x="{xx}" y="{ty}" text-anchor="middle">{label}</text>"##,
            xx = x(r),
            ty = bottom + 16.0,
            label = if r < 1.0 {
                format!("1/{}", fmt_num(1.0 / r))
            } else {
                fmt_num(r)
            }
        );
        k += 1.0;
    }
    let _ = write!(
        out,
        r##"<line class="table-mean" x1="{xx}" x2="{xx}" y1="{top}" y2="{bottom}" stroke="#000" stroke-dasharray="6 4"/><text x="{mid}" y="{ty}" text-anchor="middle">simulated trough / the table's population mean (log scale); dashed: the table's mean</text>"##,
        xx = x(1.0),
        mid = left + plot / 2.0,
        ty = bottom + 36.0
    );
    let _ = write!(
        out,
        r##"<rect x="{left}" y="32" width="30" height="10" fill="#bbb" stroke="#000"/><text x="{tx}" y="41">5-95 % of measured troughs, | median, ◆ mean of the table's kind</text>"##,
        tx = left + 36.0
    );
    for (i, c) in checks.iter().enumerate() {
        let y = top + i as f64 * row + row / 2.0;
        let m = &c.measured_trough;
        let ratio = |v: f64| v / c.table_mean;
        let label = format!(
            "{} `{}` {} mg q{}h vs {}{}",
            c.drug,
            c.model,
            fmt_num(c.dose_mg),
            fmt_num(c.interval_h),
            c.target,
            c.scope
                .as_ref()
                .map_or(String::new(), |s| format!(" ({s})"))
        );
        let _ = write!(
            out,
            r##"<g class="model" data-drug="{d}" data-model="{mo}" data-ratio="{r}"><text x="10" y="{ly}">{l}</text><rect x="{x1}" y="{ry}" width="{w}" height="12" fill="#bbb" stroke="#000"/><line x1="{xm}" x2="{xm}" y1="{t1}" y2="{t2}" stroke="#000" stroke-width="2"/><text x="{xd}" y="{dy}" text-anchor="middle" font-size="12">◆</text><text x="{vx}" y="{ly}" font-size="9">{r}×{flag}</text></g>"##,
            d = esc(&c.drug),
            mo = esc(&c.model),
            r = num(c.mean_ratio),
            ly = y + 4.0,
            l = esc(&label),
            x1 = x(ratio(m.p5)),
            ry = y - 6.0,
            w = (x(ratio(m.p95)) - x(ratio(m.p5))).max(1.0),
            xm = x(ratio(m.median)),
            t1 = y - 9.0,
            t2 = y + 9.0,
            xd = x(c.mean_ratio),
            dy = y + 4.0,
            vx = x(ratio(m.p95)) + 6.0,
            flag = if c.disagrees { " disagrees" } else { "" }
        );
    }
    out.push_str("</svg>\n");
    out
}
