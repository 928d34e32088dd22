//! The report as one self-contained HTML page: inline CSS and SVG, no
//! fetches, laid out for A4 paper.

use std::fmt::Write as _;

use tdm_core::{Pack, result::fmt_num, result::round_sig};

use super::markdown::bounds;
use super::{Course, short_time};

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "@page { size: A4; margin: 15mm; }
body { font-family: sans-serif; font-size: 10.5pt; color: #000; max-width: 180mm; margin: 0 auto; }
h1 { font-size: 15pt; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 14pt; border-bottom: 1px solid #000; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; } th, td { border: 1px solid #999; padding: 2pt 4pt; text-align: left; }
th { background: #eee; } .advice { border: 1.5px solid #000; padding: 6pt; margin: 8pt 0; page-break-inside: avoid; }
.legend { font-size: 9pt; } .pack { font-size: 8.5pt; color: #333; margin-top: 14pt; } svg { max-width: 100%; height: auto; }
section { page-break-inside: avoid; }";

pub(crate) fn page(pack: &Pack, patient: &str, courses: &[Course]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>TDM report — {p}</title><style>{STYLE}</style></head><body>\n<h1>TDM report — patient {p}</h1>\n",
        p = esc(patient)
    );
    for course in courses {
        let _ = writeln!(out, "<section><h2>{}</h2>", esc(&course.drug));
        out.push_str(&super::svg::chart(course, pack.policy().toxicity_grade));
        out.push_str("<p class=\"legend\">● at trough (corrected or drawn at trough) · ○ as measured · dashed: target · dotted: population mean · solid steps: dose (right axis) · △ toxicity at or above the pack's grade</p>\n");
        out.push_str("<table><tr><th>sampled</th><th>dose</th><th>measured</th><th>at trough</th><th>target</th><th>class</th><th>advice</th></tr>\n");
        for p in &course.points {
            let r = &p.result;
            match (&r.assessment, p.values()) {
                (Some(a), Some((measured, trough))) => {
                    let _ = writeln!(
                        out,
                        "<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(&short_time(&p.sampled_at)),
                        p.dose_mg
                            .map_or("-".into(), |d| format!("{} mg", fmt_num(d))),
                        fmt_num(round_sig(measured, 4)),
                        esc(&a.exposure.unit),
                        fmt_num(round_sig(trough, 4)),
                        esc(&bounds(a.target.lower, a.target.upper)),
                        a.classification.map_or("-", |c| c.as_str()),
                        a.advice.as_str().replace('_', " ")
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "<tr><td>{}</td><td colspan=\"6\">error: {}</td></tr>",
                        esc(&short_time(&p.sampled_at)),
                        esc(r.error.as_deref().unwrap_or(""))
                    );
                }
            }
        }
        out.push_str("</table>\n");
        if let Some(last) = course.points.last() {
            let r = &last.result;
            let _ = write!(
                out,
                "<div class=\"advice\"><strong>Advice for the sample of {}:</strong> ",
                esc(&short_time(&last.sampled_at))
            );
            match &r.assessment {
                Some(a) => {
                    let _ = write!(
                        out,
                        "<strong>{}</strong>",
                        a.advice.as_str().replace('_', " ")
                    );
                    if let (Some(mg), Some(h)) = (a.next_dose_mg, a.next_interval_h) {
                        let _ = write!(out, " — {} mg every {} h", fmt_num(mg), fmt_num(h));
                    }
                    let _ = write!(out, "<p>{}</p>", esc(r.rationale.as_deref().unwrap_or("")));
                    if !a.interventions.is_empty() {
                        let _ = write!(
                            out,
                            "<p>Before a dose increase: {}.</p>",
                            esc(&a.interventions.join("; "))
                        );
                    }
                    let _ = write!(out, "<p>Evidence: {}.</p>", esc(&super::evidence(a)));
                    if !r.warnings.is_empty() {
                        out.push_str("<ul>");
                        for w in &r.warnings {
                            let _ = write!(out, "<li>{}</li>", esc(w));
                        }
                        out.push_str("</ul>");
                    }
                }
                None => {
                    let _ = write!(
                        out,
                        "the latest sample could not be evaluated: {}",
                        esc(r.error.as_deref().unwrap_or(""))
                    );
                }
            }
            out.push_str("</div>\n");
        }
        out.push_str("</section>\n");
    }
    let _ = write!(
        out,
        "<p class=\"pack\">Pack {} {} — {}</p>\n</body></html>\n",
        esc(&pack.id().name),
        esc(&pack.id().version),
        esc(&pack.id().digest)
    );
    out
}
