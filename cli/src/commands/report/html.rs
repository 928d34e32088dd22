//! The report as one self-contained HTML page: inline CSS and SVG, no
//! fetches, laid out for A4 paper. Built with `maud`, which escapes every
//! text and attribute taken from the input (ids, patients, drug names).

use maud::{DOCTYPE, Markup, PreEscaped, html};
use tdm_core::{EvalResult, Pack, result::Assessment, result::fmt_num, result::round_sig};

use super::markdown::bounds;
use super::{Course, Point, short_time};

const STYLE: &str = "@page { size: A4; margin: 15mm; }
body { font-family: sans-serif; font-size: 10.5pt; color: #000; max-width: 180mm; margin: 0 auto; }
h1 { font-size: 15pt; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 14pt; border-bottom: 1px solid #000; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; } th, td { border: 1px solid #999; padding: 2pt 4pt; text-align: left; }
th { background: #eee; } .advice { border: 1.5px solid #000; padding: 6pt; margin: 8pt 0; page-break-inside: avoid; }
.legend { font-size: 9pt; } .pack { font-size: 8.5pt; color: #333; margin-top: 14pt; } svg { max-width: 100%; height: auto; }
section { page-break-inside: avoid; } .header { margin-top: 0; } .sign-off { margin: 4pt 0 10pt; } .sign-off td { width: 22%; height: 22pt; }";

const LEGEND: &str = "● at trough (corrected or drawn at trough) · ○ as measured · dashed: target · dotted: population mean · solid steps: the daily dose (the band below), dashed: the next dose advised · △ toxicity at or above the pack's grade · grey line and band: the patient's curve from the population model with its 90 % band (informational) · dashed curve at the end: projected on the model's recommended dose";

pub(crate) fn page(pack: &Pack, patient: &str, courses: &[Course]) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "TDM report — " (patient) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "TDM report — patient " (patient) }
                (part(pack, patient, courses))
            }
        }
    }
    .into_string()
}

/// The report without its page: the courses and the pack, for the web page.
pub(crate) fn part(pack: &Pack, _patient: &str, courses: &[Course]) -> Markup {
    let id = pack.id();
    // The day in UTC: the server may run in another zone than the ward.
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d UTC");
    html! {
                p class="header" {
                    "Report date " (today.to_string())
                    @if let Some(i) = indications(courses) { " · indication " (i) }
                }
                (sign_off())
                @for course in courses {
                    section {
                        h2 { (course.drug) }
                        (super::svg::chart(course, pack.policy().toxicity_grade, super::model::curves(pack, course).as_ref()))
                        p class="legend" { (LEGEND) }
                        (table(course))
                        @if let Some(last) = course.points.last() {
                            (advice(last))
                        }
                    }
                }
                p class="pack" { "Pack " (id.name) " " (id.version) " — " (id.digest) }
    }
}

/// The indications the courses' latest results were judged for.
fn indications(courses: &[Course]) -> Option<String> {
    let mut found: Vec<String> = Vec::new();
    for c in courses {
        let latest = c
            .points
            .iter()
            .rev()
            .find_map(|p| p.result.assessment.as_ref());
        if let Some(i) = latest.and_then(|a| a.indication.clone())
            && !found.contains(&i)
        {
            found.push(i);
        }
    }
    (!found.is_empty()).then(|| found.join(", "))
}

/// Lines for the pharmacist who checks the report and signs it.
fn sign_off() -> Markup {
    html! {
        table class="sign-off" {
            tr { th { "Checked by" } td {} th { "Date" } td {} th { "Signature" } td {} }
        }
    }
}

fn table(course: &Course) -> Markup {
    html! {
        table {
            tr {
                th { "sampled" } th { "dose" } th { "measured" } th { "at trough" }
                th { "model trough" } th { "target" } th { "class" } th { "advice" } th { "next dose" }
            }
            @for p in &course.points {
                tr {
                    td { (short_time(&p.sampled_at)) }
                    @match (&p.result.assessment, p.values()) {
                        (Some(a), Some((measured, trough))) => {
                            td { (p.dose_mg.map_or("-".into(), |d| format!("{} mg", fmt_num(d)))) }
                            td { (fmt_num(round_sig(measured, 4))) " " (a.exposure.unit) }
                            td { (fmt_num(round_sig(trough, 4))) }
                            td { (super::model::trough(p)) }
                            td { (bounds(a.target.lower, a.target.upper)) }
                            td { (a.classification.map_or("-", |c| c.as_str())) }
                            td { (a.advice.as_str().replace('_', " ")) }
                            td { (next_dose(a)) }
                        }
                        _ => td colspan="8" { "error: " (p.result.error.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

/// `600 mg every 24 h`, or `-`.
fn next_dose(a: &Assessment) -> String {
    match (a.next_dose_mg, a.next_interval_h) {
        (Some(mg), Some(h)) => format!("{} mg every {} h", fmt_num(mg), fmt_num(h)),
        _ => "-".into(),
    }
}

fn advice(last: &Point) -> Markup {
    let r: &EvalResult = &last.result;
    html! {
        div class="advice" {
            strong { "Advice for the sample of " (short_time(&last.sampled_at)) ":" } " "
            @match &r.assessment {
                Some(a) => (assessment(r, a)),
                None => { "the latest sample could not be evaluated: " (r.error.as_deref().unwrap_or("")) }
            }
        }
    }
}

fn assessment(r: &EvalResult, a: &Assessment) -> Markup {
    html! {
        strong { (a.advice.as_str().replace('_', " ")) }
        @if let (Some(mg), Some(h)) = (a.next_dose_mg, a.next_interval_h) {
            " — " (fmt_num(mg)) " mg every " (fmt_num(h)) " h"
        }
        p { (r.rationale.as_deref().unwrap_or("")) }
        @if !a.interventions.is_empty() {
            p { "Before a dose increase: " (a.interventions.join("; ")) "." }
        }
        p { "Evidence: " (super::evidence(a)) "." }
        @if let Some(m) = &a.model {
            p class="model" { (super::model::sentence(m)) }
        }
        @if !r.warnings.is_empty() {
            ul { @for w in &r.warnings { li { (w) } } }
        }
    }
}
