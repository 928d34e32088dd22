//! `tdm stats PACK`: each Cmin threshold as a percentage of the population
//! mean exposure, their mean and standard deviation (Figure 2 of
//! Verheijen 2017), the rows used, and the figure as SVG.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tdm_core::{result::fmt_num, result::round_sig, tools::ThresholdStats, tools::threshold_stats};

use crate::context;
use crate::exit::Exit;

/// Arguments of `tdm stats`.
#[derive(Args)]
pub(crate) struct StatsArgs {
    /// The pack directory.
    #[arg(value_name = "PACK")]
    pub pack: PathBuf,
    /// `human` (a table and the summary) or `json`.
    #[arg(long, value_enum, default_value_t = StatsFormat::Human)]
    pub format: StatsFormat,
    /// Also write the figure as an SVG bar chart.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Load the native plugins the pack pins.
    #[arg(long)]
    pub allow_plugins: bool,
}
/// Formats of `tdm stats`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatsFormat {
    /// A table and the summary line.
    Human,
    /// The rows and figures as JSON.
    Json,
}

pub(crate) fn run(args: &StatsArgs) -> Exit {
    let pack = match context::load_pack(&args.pack, args.allow_plugins) {
        Ok(p) => p,
        Err(e) => return e.report(),
    };
    let stats = threshold_stats(&pack);
    match args.format {
        StatsFormat::Human => print!("{}", human(&stats)),
        StatsFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&stats).unwrap_or_default()
        ),
    }
    if let Some(path) = &args.svg {
        let title = format!("{} {}", pack.id().name, pack.id().version);
        if let Err(e) = std::fs::write(path, svg(&stats, &title)) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return Exit::OutputFailed;
        }
        eprintln!("wrote {}", path.display());
    }
    Exit::Ok
}

fn pct(v: f64) -> String {
    fmt_num(round_sig(v, 3))
}

fn human(s: &ThresholdStats) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<14} {:>10} {:>10}  {:<6} {:>6}",
        "DRUG", "TARGET", "THRESHOLD", "POP. MEAN", "UNIT", "%"
    );
    for r in &s.rows {
        let _ = writeln!(
            out,
            "{:<14} {:<14} {:>10} {:>10}  {:<6} {:>6}",
            r.drug,
            r.target,
            fmt_num(r.threshold),
            fmt_num(r.population_mean),
            r.unit,
            pct(r.percent)
        );
    }
    let _ = writeln!(
        out,
        "\nthresholds are {} % ± {} % (mean ± SD) of the population mean exposure, across {} targets",
        fmt_num(round_sig(s.mean_percent, 3)),
        fmt_num(round_sig(s.sd_percent, 3)),
        s.rows.len()
    );
    if !s.left_out.is_empty() {
        let _ = writeln!(out, "\nleft out:");
        for why in &s.left_out {
            let _ = writeln!(out, "  {why}");
        }
    }
    out
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar per target, the 100 % line and the mean line; readable in black
/// and white (bars grey, lines dashed and dotted, every value labelled).
pub(crate) fn svg(s: &ThresholdStats, title: &str) -> String {
    let (left, top, bar, gap, height) = (60.0, 64.0, 34.0, 12.0, 260.0);
    let width = left + s.rows.len() as f64 * (bar + gap) + 20.0;
    let top_pct = s
        .rows
        .iter()
        .map(|r| r.percent)
        .fold(120.0_f64, f64::max)
        .div_euclid(20.0)
        * 20.0
        + 20.0;
    let y = |p: f64| top + height - p / top_pct * height;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#,
        w = width,
        h = top + height + 110.0
    );
    let _ = write!(
        out,
        r#"<title>{t}</title><text x="{left}" y="20" font-size="13">Thresholds as % of the population mean exposure — {t}</text>"#,
        t = esc(title)
    );
    // Axis with gridlines every 20 %.
    let mut p = 0.0;
    while p <= top_pct {
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{x2}" y1="{yy}" y2="{yy}" stroke="#ddd"/><text x="{tx}" y="{ty}" text-anchor="end">{p} %</text>"##,
            x2 = width - 20.0,
            yy = y(p),
            tx = left - 6.0,
            ty = y(p) + 4.0
        );
        p += 20.0;
    }
    let _ = write!(
        out,
        r##"<line x1="{left}" x2="{left}" y1="{top}" y2="{b}" stroke="#000"/><text transform="translate(14 {m}) rotate(-90)" text-anchor="middle">threshold / population mean (%)</text>"##,
        b = top + height,
        m = top + height / 2.0
    );
    for (i, r) in s.rows.iter().enumerate() {
        let x = left + gap / 2.0 + i as f64 * (bar + gap);
        let label = match &r.scope {
            Some(scope) => format!("{} ({scope})", r.drug),
            None => r.drug.clone(),
        };
        let _ = write!(
            out,
            r##"<rect class="bar" data-percent="{p}" x="{x}" y="{yt}" width="{bar}" height="{hh}" fill="#9a9a9a" stroke="#000"/><text x="{cx}" y="{vy}" text-anchor="middle" font-size="9">{p}</text><text transform="translate({cx} {ly}) rotate(-50)" text-anchor="end">{l}</text>"##,
            p = pct(r.percent),
            yt = y(r.percent),
            hh = y(0.0) - y(r.percent),
            cx = x + bar / 2.0,
            vy = y(r.percent) - 4.0,
            ly = top + height + 12.0,
            l = esc(&label)
        );
    }
    // The two lines, labelled in a legend above the plot.
    let x2 = width - 20.0;
    let _ = write!(
        out,
        r##"<line class="full" x1="{left}" x2="{x2}" y1="{y1}" y2="{y1}" stroke="#000" stroke-dasharray="6 4"/><line x1="{left}" x2="{lx}" y1="34" y2="34" stroke="#000" stroke-dasharray="6 4"/><text x="{tx}" y="38">100 % of the mean exposure</text>"##,
        y1 = y(100.0),
        lx = left + 30.0,
        tx = left + 36.0
    );
    let _ = write!(
        out,
        r##"<line class="mean" data-percent="{m}" x1="{left}" x2="{x2}" y1="{y2}" y2="{y2}" stroke="#000" stroke-width="2" stroke-dasharray="2 3"/><line x1="{left}" x2="{lx}" y1="50" y2="50" stroke="#000" stroke-width="2" stroke-dasharray="2 3"/><text x="{tx}" y="54">mean of the thresholds: {m} % ± {sd} % (n = {n})</text>"##,
        m = pct(s.mean_percent),
        sd = pct(s.sd_percent),
        n = s.rows.len(),
        y2 = y(s.mean_percent),
        lx = left + 30.0,
        tx = left + 36.0
    );
    out.push_str("</svg>\n");
    out
}
