//! The answer of the evaluate page: what to do in large type — the
//! classification, the advice, the next dose — then the conditions, the
//! ordered interventions, why, the evidence with each reference linked to
//! its target (and from there its source) on the pack page, the model,
//! warnings, the pack and the decision, and the advice as Markdown for the
//! health record.

use maud::{Markup, html};
use tdm_core::EvalResult;
use tdm_core::pack::Frequency;
use tdm_core::result::{Advice, Assessment, Classification, fmt_num, round_sig};

use crate::commands::report::markdown;

/// The answer: what to do in large type, then why.
pub(crate) fn answer(r: &EvalResult) -> Markup {
    let Some(a) = &r.assessment else {
        return html! {};
    };
    let md = markdown::advice(r);
    html! {
        section class="answer" aria-labelledby="answer-title" {
            h2 id="answer-title" { "Advice" }
            p class="headline" {
                span class="classification" { (classification(a)) }
                " · "
                span class="advice" { (advice_words(a.advice)) }
                @if let Some(dose) = next_dose(a) {
                    " · " span class="next-dose" { (dose) }
                }
            }
            @if !a.conditions.is_empty() {
                h3 { "Only if" }
                ul class="conditions" { @for c in &a.conditions { li { (c) } } }
            }
            @if !a.interventions.is_empty() {
                h3 { "First" }
                ol class="interventions" { @for i in &a.interventions { li { (i) } } }
            }
            h3 { "Why" }
            p class="rationale" { (r.rationale.as_deref().unwrap_or("")) }
            h3 { "Evidence" }
            p class="evidence" {
                (format!("{:?}", a.target.evidence).to_lowercase()) ", "
                (format!("{:?}", a.target.basis).to_lowercase()) "; target " (a.target.id)
                @if !a.target.references.is_empty() {
                    "; references of the review: "
                    @for (i, reference) in a.target.references.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={"/ui/pack#" (anchor(r.drug.as_deref().unwrap_or(""), &a.target.id))} { "ref " (reference) }
                    }
                }
            }
            @if let Some(m) = &a.model {
                p class="model" { (crate::commands::report::model_sentence(m)) }
            }
            @if !r.warnings.is_empty() {
                h3 { "Warnings" }
                ul class="warnings" { @for w in &r.warnings { li { (w) } } }
            }
            p class="stamp" {
                "Pack " (r.pack.name) " " (r.pack.version) " " code { (r.pack.digest) } ", " (r.engine)
                @if let Some(id) = &r.decision_id { ". Decision " code { (id) } " in the audit log" }
                "."
            }
            h3 { label for="record-text" { "For the health record (Markdown)" } }
            textarea id="record-text" class="record" readonly rows="8" { (md) }
            button type="button" class="copy" data-copy="record-text" hidden { "Copy for the health record" }
        }
    }
}

/// The pack page's anchor of a drug's target.
pub(crate) fn anchor(drug: &str, target: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect()
    };
    format!("target-{}-{}", clean(drug), clean(target))
}

fn classification(a: &Assessment) -> String {
    let bound = |v: Option<f64>| v.map(|v| fmt_num(round_sig(v, 4)));
    let value = format!(
        "{} {} {}",
        a.exposure.measure.label(),
        fmt_num(round_sig(a.exposure.value, 3)),
        a.exposure.unit
    );
    match a.classification {
        Some(Classification::Below) => format!(
            "{value}: below the target ({} {})",
            bound(a.target.lower).map_or(String::new(), |l| format!(">= {l}")),
            a.target.unit
        ),
        Some(Classification::Within) => format!("{value}: within the target"),
        Some(Classification::Above) => format!(
            "{value}: above the target ({} {})",
            bound(a.target.upper).map_or(String::new(), |u| format!("<= {u}")),
            a.target.unit
        ),
        _ => format!("{value}: not interpretable"),
    }
}

pub(crate) fn advice_words(advice: Advice) -> &'static str {
    match advice {
        Advice::IncreaseDose => "Increase the dose",
        Advice::Continue => "Continue the dose",
        Advice::ReduceDose => "Reduce the dose",
        Advice::ConsiderAlternative => "Consider an alternative treatment",
        Advice::RepeatSample => "Repeat the sample",
        Advice::InterpretOnly => "Reference value only: do not act on it",
        _ => "See the rationale",
    }
}

/// `600 mg once daily`.
fn next_dose(a: &Assessment) -> Option<String> {
    let (mg, h) = (a.next_dose_mg?, a.next_interval_h?);
    Some(format!("{} mg {}", fmt_num(mg), Frequency(h)))
}
