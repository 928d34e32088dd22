//! The report as Markdown, for pasting into a health record.

use tdm_core::{Pack, result::Bounds, result::fmt_num, result::round_sig};

use super::{Course, short_time};

pub(crate) fn page(pack: &Pack, patient: &str, courses: &[Course]) -> String {
    let mut out = format!("# TDM report — patient {patient}\n\n");
    out.push_str(&format!(
        "Pack: {} {} ({})\n",
        pack.id().name,
        pack.id().version,
        pack.id().digest
    ));
    for course in courses {
        out.push_str(&format!("\n## {}\n\n", course.drug));
        out.push_str("| sampled | dose | measured | at trough | model trough | target | class | advice |\n|---|---|---|---|---|---|---|---|\n");
        for p in &course.points {
            let r = &p.result;
            let row = match (&r.assessment, p.values()) {
                (Some(a), Some((measured, trough))) => format!(
                    "| {} | {} | {} {} | {} | {} | {} | {} | {} |",
                    short_time(&p.sampled_at),
                    p.dose_mg
                        .map_or("-".into(), |d| format!("{} mg", fmt_num(d))),
                    fmt_num(round_sig(measured, 4)),
                    a.exposure.unit,
                    fmt_num(round_sig(trough, 4)),
                    super::model::trough(p),
                    bounds(a.target.lower, a.target.upper),
                    a.classification.map_or("-", |c| c.as_str()),
                    a.advice.as_str()
                ),
                _ => format!(
                    "| {} | - | - | - | - | - | error | {} |",
                    short_time(&p.sampled_at),
                    r.error.as_deref().unwrap_or("")
                ),
            };
            out.push_str(&row);
            out.push('\n');
        }
        if let Some(last) = course.points.last() {
            out.push_str(&format!(
                "\n### Advice for the sample of {}\n\n",
                short_time(&last.sampled_at)
            ));
            out.push_str(&advice(&last.result));
        }
    }
    out
}

/// The advice of one result in Markdown: the advice and next dose in bold,
/// the rationale, interventions, evidence, the model's sentence and the
/// warnings; or why it could not be evaluated.
pub(crate) fn advice(r: &tdm_core::EvalResult) -> String {
    let mut out = String::new();
    match &r.assessment {
        Some(a) => {
            out.push_str(&format!("**{}**", a.advice.as_str().replace('_', " ")));
            if let (Some(mg), Some(h)) = (a.next_dose_mg, a.next_interval_h) {
                out.push_str(&format!(": {} mg every {} h", fmt_num(mg), fmt_num(h)));
            }
            out.push_str(&format!("\n\n{}\n", r.rationale.as_deref().unwrap_or("")));
            if !a.conditions.is_empty() {
                out.push_str(&format!("\nConditions: {}.\n", a.conditions.join("; ")));
            }
            if !a.interventions.is_empty() {
                out.push_str(&format!(
                    "\nBefore a dose increase: {}.\n",
                    a.interventions.join("; ")
                ));
            }
            out.push_str(&format!("\nEvidence: {}.\n", super::evidence(a)));
            if let Some(m) = &a.model {
                out.push_str(&format!("\n{}\n", super::model::sentence(m)));
            }
            for w in &r.warnings {
                out.push_str(&format!("\n- {w}"));
            }
            if !r.warnings.is_empty() {
                out.push('\n');
            }
        }
        None => out.push_str(&format!(
            "The latest sample could not be evaluated: {}\n",
            r.error.as_deref().unwrap_or("")
        )),
    }
    out
}

pub(crate) fn bounds(lower: Option<f64>, upper: Option<f64>) -> String {
    match (lower, upper) {
        (None, None) => "-".into(),
        _ => Bounds(lower, upper).to_string(),
    }
}
