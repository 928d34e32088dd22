//! The pack in use, for the committee and the pharmacist: its state (valid,
//! reloads, signatures), every drug with its targets, dose levels, models
//! and notes, the sources every number cites, the changelog and approvals.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use tdm_core::pack::{Drug, Lower, Target};
use tdm_core::result::Measure;
use tdm_core::result::fmt_num;

use super::answer::anchor;
use super::{Nav, page, signatures};
use crate::commands::serve::AppState;

pub(crate) async fn show(State(state): State<Arc<AppState>>) -> Response {
    let pack = state.live.pack();
    let status = state.live.status();
    let id = pack.id();
    let body = html! {
        section aria-labelledby="state" {
            h2 id="state" { "State" }
            dl class="facts" {
                dt { "Title" } dd { (pack.title()) }
                @if let Some(d) = pack.description() { dt { "What for" } dd { (d) } }
                dt { "Version" } dd { (id.name) " " (id.version) }
                dt { "Digest" } dd { code { (id.digest) } }
                @if let Some(e) = pack.effective() { dt { "Effective" } dd { (e) } }
                dt { "Validation" } dd class="validation" {
                    "valid: loaded whole at " (status.loaded_at)
                    @if let Some(e) = &status.last_reload_error {
                        strong { " — the last reload was refused, this version stays: " } (e)
                    }
                    @if let Some(why) = &status.pack_refused {
                        strong { " — no longer approved: " } (why)
                    }
                }
                dt { "Signatures" } dd { (signatures(&pack)) }
                @if let Some(a) = pack.approval() {
                    dt { "Approved" } dd { "by " (a.by) " on " (a.on) @if let Some(n) = &a.note { " — " (n) } }
                }
            }
            @if let Some(s) = pack.signed_by() {
                table class="signatures" {
                    caption { "Signatures" }
                    thead { tr { th scope="col" { "signer" } th scope="col" { "role" } th scope="col" { "signed" } th scope="col" { "key" } th scope="col" { "counts" } } }
                    tbody {
                        @for c in &s.verdict.signatures {
                            tr {
                                td { (c.statement.as_ref().map_or("-", |s| s.signer.as_str())) }
                                td { (c.statement.as_ref().map_or("-", |s| s.role.as_str())) }
                                td { (c.statement.as_ref().map_or("-", |s| s.signed_at.as_str())) }
                                td { code { (c.key.as_deref().unwrap_or("-")) } }
                                td { (c.problem.as_deref().unwrap_or("yes")) }
                            }
                        }
                    }
                }
            }
        }
        nav aria-label="Drugs" class="drug-index" {
            h2 { "Drugs" }
            ul { @for d in pack.drugs() { li { a href={"#drug-" (d.name)} { (d.name) } } } }
        }
        @for d in pack.drugs() {
            (drug(d))
        }
        section aria-labelledby="sources" {
            h2 id="sources" { "Sources" }
            p { "Every number of the pack cites one of these. A target's references are numbers of the reference list of the review the pack encodes." }
            dl class="sources" {
                @for (key, citation) in pack.sources() {
                    dt id={"source-" (key)} { (key) }
                    dd { (citation) }
                }
            }
        }
        section aria-labelledby="changelog" {
            h2 id="changelog" { "Changelog" }
            @for entry in pack.changelog() {
                h3 { (entry.version) " — " (entry.date) }
                ul { @for c in &entry.changes { li { (c) } } }
            }
        }
    };
    page("The pack", Nav::Pack, Some(&pack), body)
}

fn drug(d: &Drug) -> Markup {
    let rules: Vec<&Drug> = std::iter::once(d).chain(&d.products).collect();
    html! {
        section class="drug" aria-labelledby={"drug-" (d.name)} {
            h2 id={"drug-" (d.name)} { (d.name) }
            p class="aka" {
                (d.group)
                @if !d.aliases.is_empty() { " · also " (d.aliases.join(", ")) }
                @if d.analytes.len() > 1 {
                    " · analytes: " (d.analytes.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "))
                }
            }
            @for rule in &rules {
                @if let Some(p) = &rule.product { h3 { "Product " (p.name) } }
                (targets(d, rule))
                @if !rule.dosing.levels.is_empty() {
                    p class="levels" {
                        "Dose levels: "
                        (rule.dosing.levels.iter().map(ToString::to_string).collect::<Vec<_>>().join(" · "))
                        " (standard: " (rule.dosing.levels.get(rule.dosing.standard).map(ToString::to_string).unwrap_or_default()) ")"
                    }
                }
            }
            @for s in &d.signals {
                p class="signal" { "Toxicity signal above " (fmt_num(s.above)) ": " (s.effect) }
            }
            @for m in &d.models {
                p class="model" { "Population model " code { (m.model.id) } ": " (m.population) " — " (m.source)
                    @if let Some(u) = &m.unconfirmed { " (unconfirmed: " (u) ")" } }
            }
            @if !d.notes.is_empty() {
                ul class="notes" { @for n in &d.notes { li { (n) } } }
            }
        }
    }
}

fn targets(d: &Drug, rule: &Drug) -> Markup {
    html! {
        @if !rule.targets.is_empty() {
            table class="targets" {
                caption { "Targets of " (d.name) @if let Some(p) = &rule.product { " (" (p.name) ")" } }
                thead {
                    tr {
                        th scope="col" { "target" } th scope="col" { "applies to" } th scope="col" { "measure" }
                        th scope="col" { "range" } th scope="col" { "evidence" } th scope="col" { "source and references" }
                    }
                }
                tbody {
                    @for t in &rule.targets {
                        tr id=(anchor(&d.name, &t.id)) {
                            td { (t.id) @if t.primary { " (the tables')" } }
                            td { (applies_to(t)) }
                            td { (t.measure.label()) }
                            td { (range(t)) }
                            td { (format!("{:?}", t.evidence).to_lowercase()) ", " (format!("{:?}", t.basis).to_lowercase()) }
                            td {
                                @let id = t.source.split_whitespace().next().unwrap_or("");
                                a href={"#source-" (id)} { (id) }
                                (t.source.get(id.len()..).unwrap_or(""))
                                @if !t.references.is_empty() { "; the review's references " (t.references.join(", ")) }
                            }
                        }
                    }
                }
            }
        }
        @for n in &rule.no_target {
            p class="no-target" { "No target for " (n.indications.join(", ")) ": " (n.reason) }
        }
    }
}

fn applies_to(t: &Target) -> String {
    let mut parts = Vec::new();
    if !t.indications.is_empty() {
        parts.push(t.indications.join(", "));
    }
    if !t.regimens.is_empty() {
        parts.push(format!("{} regimen", t.regimens.join(", ")));
    }
    if parts.is_empty() {
        "any indication".into()
    } else {
        parts.join("; ")
    }
}

fn range(t: &Target) -> String {
    let unit = if t.measure == Measure::Auc {
        "ng*h/mL"
    } else {
        "ng/mL"
    };
    let lower = match t.lower {
        Some(Lower::Fixed(v)) => Some(fmt_num(v)),
        Some(Lower::PerMgDose(v)) => Some(format!("{} per mg of dose", fmt_num(v))),
        None => None,
    };
    match (lower, t.upper, t.population_mean) {
        (Some(l), Some(u), _) => format!("{l}–{} {unit}", fmt_num(u)),
        (Some(l), None, _) => format!(">= {l} {unit}"),
        (None, Some(u), _) => format!("<= {} {unit}", fmt_num(u)),
        (None, None, Some(m)) => format!("population mean {} {unit}", fmt_num(m)),
        (None, None, None) => "-".into(),
    }
}
