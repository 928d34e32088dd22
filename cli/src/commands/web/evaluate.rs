//! Evaluate a sample in the browser: first the drug (with its brands),
//! then a form of only what that drug has (`fields.rs`); the answer is the
//! core's result for the sample, as `POST /v1/evaluate` gives it, recorded
//! in the audit log first when the server keeps one. A problem is shown
//! beside the field it concerns, in the CLI's words.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use tdm_core::pack::Drug;
use tdm_core::result::fmt_num;
use tdm_core::{EvalResult, Pack};

use super::answer::answer;
use super::fields::{DrugForm, Posted, field_of};
use super::{Nav, alert, page, page_with_status};
use crate::audit::{self, Given};
use crate::commands::serve::AppState;
use crate::commands::serve_eval::{caller, in_time};

#[derive(serde::Deserialize)]
pub(crate) struct Chosen {
    drug: Option<String>,
}

pub(crate) async fn form(
    State(state): State<Arc<AppState>>,
    Query(chosen): Query<Chosen>,
) -> Response {
    let pack = state.live.pack();
    let posted = Posted(
        chosen
            .drug
            .iter()
            .map(|d| ("drug".to_owned(), d.clone()))
            .collect(),
    );
    let drug = chosen.drug.as_deref().and_then(|d| pack.drug(d));
    let problem = match (&chosen.drug, drug) {
        (Some(given), None) if !given.trim().is_empty() => Some(format!(
            "`{given}` is not a drug of pack {}",
            pack.id().name
        )),
        _ => None,
    };
    let body = html! {
        (choose_drug(&pack, drug, problem.as_deref()))
        @if let Some(drug) = drug {
            (sample_form(drug, &posted, None))
        }
    };
    page("Evaluate a sample", Nav::Evaluate, Some(&pack), body)
}

pub(crate) async fn submit(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let caller = caller(&request);
    let Form(fields): Form<Vec<(String, String)>> =
        match <Form<Vec<(String, String)>> as axum::extract::FromRequest<Arc<AppState>>>::from_request(
            request, &state,
        )
        .await
        {
            Ok(form) => form,
            Err(e) => {
                let pack = state.live.pack();
                let body = alert(&format!("the form could not be read: {e}"));
                return page_with_status(StatusCode::BAD_REQUEST, "Evaluate a sample", Nav::Evaluate, Some(&pack), body);
            }
        };
    let posted = Posted(fields);
    let pack = match super::usable_pack(&state, "Evaluate a sample", Nav::Evaluate) {
        Ok(pack) => pack,
        Err(refused) => return *refused,
    };
    let drug = posted.get("drug").and_then(|d| pack.drug(d)).cloned();
    let covariates = drug
        .as_ref()
        .map(|d| DrugForm::of(d).covariates)
        .unwrap_or_default();
    let sample = posted.sample(&covariates);
    let audit = state.audit.clone();
    let work = {
        let pack = pack.clone();
        move || -> Result<EvalResult, (StatusCode, String)> {
            let result = tdm_core::eval::evaluate_value(&pack, &sample);
            let text = sample.to_string();
            Ok(audit::recorded(
                audit.as_deref(),
                result,
                &Given {
                    text: &text,
                    caller: &format!("{caller} web"),
                },
            ))
        }
    };
    let result = match in_time(&state, work).await {
        Ok(result) => result,
        Err(refused) => return refused,
    };
    let body = html! {
        (choose_drug(&pack, drug.as_ref(), None))
        @match &drug {
            Some(drug) => {
                (sample_form(drug, &posted, Some(&result)))
            }
            None => (alert(result.error.as_deref().unwrap_or("the drug is not known"))),
        }
    };
    page("Evaluate a sample", Nav::Evaluate, Some(&pack), body)
}

/// Step 1: the drug, with its brands; a GET form, so it works without
/// JavaScript and its address can be bookmarked.
fn choose_drug(pack: &Pack, chosen: Option<&Drug>, problem: Option<&str>) -> Markup {
    html! {
        form method="get" action="/ui" class="choose" {
            div class="field" {
                label for="drug" { "Drug" }
                select id="drug" name="drug" aria-describedby=[problem.map(|_| "drug-error")] {
                    option value="" { "Choose a drug" }
                    @for d in pack.drugs() {
                        @let selected = chosen.is_some_and(|c| c.name == d.name);
                        option value=(d.name) selected[selected] { (drug_label(d)) }
                    }
                }
                @if let Some(p) = problem {
                    p class="error" id="drug-error" { (p) }
                }
            }
            button type="submit" { "Show its fields" }
        }
    }
}

/// `imatinib (Glivec, Gleevec)`.
fn drug_label(d: &Drug) -> String {
    let brands: Vec<&str> = d
        .products
        .iter()
        .filter_map(|p| p.product.as_ref().map(|p| p.name.as_str()))
        .chain(d.aliases.iter().map(String::as_str))
        .collect();
    if brands.is_empty() {
        d.name.clone()
    } else {
        format!("{} ({})", d.name, brands.join(", "))
    }
}

/// Step 2: the sample's fields, then the answer when there is one.
fn sample_form(drug: &Drug, posted: &Posted, result: Option<&EvalResult>) -> Markup {
    let f = DrugForm::of(drug);
    let error = result.and_then(|r| r.error.as_deref());
    let failed = error.and_then(field_of);
    let problem = |field: &str| if failed == Some(field) { error } else { None };
    let value = |field: &str| posted.get(field).unwrap_or("").to_owned();
    let interval = posted
        .get("interval_h")
        .map_or_else(|| fmt_num(f.interval_h), str::to_owned);
    html! {
        // Every problem is also said at the top, linked to its field: a
        // field the form does not show still has its message read.
        @match (error, failed) {
            (Some(e), Some(field)) => {
                p class="alert" role="alert" {
                    "The sample was not evaluated: " a href={"#" (field_id(field, &f))} { (e) }
                }
            }
            (Some(e), None) => (alert(e)),
            _ => {}
        }
        // The answer first: it is what the pharmacist came for.
        @if let Some(r) = result.filter(|r| r.assessment.is_some()) {
            (answer(r))
        }
        form method="post" action="/ui" class="sample" novalidate {
            input type="hidden" name="drug" value=(drug.name);
            fieldset {
                legend { "The sample" }
                (text_field("id", "Sample id", &value("id"), problem("id"), None))
                (text_field("patient", "Patient", &value("patient"), problem("patient"), None))
                (select_field("indication", "Indication", &f.indications, posted.get("indication"), problem("indication"), true))
                @if !f.regimens.is_empty() {
                    (select_field("regimen", "Regimen", &f.regimens, posted.get("regimen"), problem("regimen"), true))
                }
                @if !f.products.is_empty() {
                    (select_field("product", "Product", &f.products, posted.get("product"), problem("product"), true))
                }
                @if f.measures.len() > 1 {
                    (select_field("measure", "Measured as", &["cmin".to_owned(), "auc".to_owned()], posted.get("measure"), problem("measure"), false))
                }
                (text_field("value", &format!("Level of {}", drug.name), &value("value"), problem("value"), Some("decimal")))
                @let units: Vec<String> = f.units.iter().map(|u| (*u).to_owned()).collect();
                (select_field("unit", "Unit", &units, posted.get("unit"), problem("unit"), false))
                @for m in &f.metabolites {
                    @let name = format!("metabolite:{m}");
                    (text_field(&name, &format!("Level of {m} (same unit)"), &value(&name), problem(m), Some("decimal")))
                }
                (text_field("sampled_at", "Drawn at (e.g. 2026-11-24T08:00)", &value("sampled_at"), problem("sampled_at"), None))
            }
            fieldset {
                legend { "Dose and timing" }
                (dose_field(&f, &value("dose_mg"), problem("dose_mg")))
                (text_field("interval_h", "Dosing interval, hours", &interval, problem("interval_h"), Some("decimal")))
                (text_field("hours_since_dose", "Hours from the last dose to the draw", &value("hours_since_dose"), problem("hours_since_dose"), Some("decimal")))
                (text_field("days_on_dose", "Days on the current dose", &value("days_on_dose"), problem("days_on_dose"), Some("decimal")))
            }
            fieldset {
                legend { "Toxicity" @if !f.covariates.is_empty() { " and covariates" } }
                @let grades: Vec<String> = (0..=5).map(|g| g.to_string()).collect();
                (select_field("toxicity_grade", "Worst current CTCAE grade", &grades, posted.get("toxicity_grade"), problem("toxicity_grade"), true))
                div class="field check" {
                    input id="toxicity_intolerable" name="toxicity_intolerable" type="checkbox"
                        checked[posted.get("toxicity_intolerable").is_some()];
                    label for="toxicity_intolerable" { "A grade 2 toxicity the patient finds intolerable" }
                }
                (text_field("toxicity_type", "Adverse event (e.g. hepatotoxicity), if the label manages it apart", &value("toxicity_type"), problem("toxicity_type"), None))
                @for c in &f.covariates {
                    (text_field(c, &covariate_label(c), &value(c), problem(c), Some("decimal")))
                }
            }
            button type="submit" class="primary" { "Evaluate" }
        }
    }
}

/// The id of the control of a field the core names (a metabolite's is
/// `metabolite:NAME`).
fn field_id(field: &str, f: &DrugForm) -> String {
    if f.metabolites.iter().any(|m| m == field) {
        format!("metabolite:{field}")
    } else {
        field.to_owned()
    }
}

fn covariate_label(input: &str) -> String {
    match input {
        "weight_kg" => "Body weight, kg".into(),
        other => other.replace('_', " "),
    }
}

fn text_field(
    name: &str,
    label: &str,
    value: &str,
    problem: Option<&str>,
    mode: Option<&str>,
) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        div class="field" {
            label for=(name) { (label) }
            input id=(name) name=(name) type="text" value=(value) inputmode=[mode]
                aria-invalid=[problem.map(|_| "true")] aria-describedby=[problem.map(|_| error_id.as_str())];
            @if let Some(p) = problem {
                p class="error" id=(error_id) { (p) }
            }
        }
    }
}

fn select_field(
    name: &str,
    label: &str,
    options: &[String],
    chosen: Option<&str>,
    problem: Option<&str>,
    optional: bool,
) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        div class="field" {
            label for=(name) { (label) }
            select id=(name) name=(name)
                aria-invalid=[problem.map(|_| "true")] aria-describedby=[problem.map(|_| error_id.as_str())] {
                @if optional {
                    option value="" { "not given" }
                }
                @for o in options {
                    option value=(o) selected[chosen == Some(o.as_str())] { (o) }
                }
            }
            @if let Some(p) = problem {
                p class="error" id=(error_id) { (p) }
            }
        }
    }
}

/// The dose per administration, with the drug's dose levels offered.
fn dose_field(f: &DrugForm, value: &str, problem: Option<&str>) -> Markup {
    let levels: Vec<String> = f.doses_mg.iter().map(|d| fmt_num(*d)).collect();
    html! {
        div class="field" {
            label for="dose_mg" { "Dose per administration, mg" }
            input id="dose_mg" name="dose_mg" type="text" inputmode="decimal" value=(value) list="dose-levels"
                aria-invalid=[problem.map(|_| "true")] aria-describedby=[problem.map(|_| "dose_mg-error")];
            datalist id="dose-levels" {
                @for l in &levels { option value=(l) {} }
            }
            p class="hint" { "The pack's levels: " (levels.join(", ")) " mg" }
            @if let Some(p) = problem {
                p class="error" id="dose_mg-error" { (p) }
            }
        }
    }
}
