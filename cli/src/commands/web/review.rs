//! Committee review: two pack versions side by side — the one in use and
//! those the server was given with `--compare` (directories, or a
//! directory at a git revision, `rules/ki-oncology@v1.4.0`) — as `tdm diff`
//! shows them: every change with its impact, and, for uploaded samples,
//! every sample whose classification, advice or next dose changes.

use std::io::Cursor;
use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use tdm_core::Pack;
use tdm_core::tools::{PackDiff, diff_packs};

use super::{Nav, alert, page, page_with_status};
use crate::commands::diff::{
    SampleImpact, impact_of, impact_word, sample_name, sign, summary, values,
};
use crate::commands::serve::AppState;
use crate::commands::serve_eval::in_time;

const TITLE: &str = "Committee review";
/// The name of the pack in use among the versions to choose.
const IN_USE: &str = "in use";

pub(crate) async fn form(State(state): State<Arc<AppState>>) -> Response {
    let pack = state.live.pack();
    page(
        TITLE,
        Nav::Review,
        Some(&pack),
        choose(&state, None, None, None),
    )
}

/// The two versions and the samples.
fn choose(state: &AppState, old: Option<&str>, new: Option<&str>, problem: Option<&str>) -> Markup {
    let versions: Vec<String> = std::iter::once(IN_USE.to_owned())
        .chain(state.compare.iter().cloned())
        .collect();
    let old = old.unwrap_or(IN_USE);
    let new = new.unwrap_or(versions.get(1).map_or(IN_USE, String::as_str));
    html! {
        @if state.compare.is_empty() {
            p { "This server was given no other version to compare: start it with "
                code { "--compare DIR" } " (or " code { "DIR@REVISION" } " of a git repository) for each." }
        }
        form method="post" action="/ui/review" enctype="multipart/form-data" class="review" {
            div class="field" {
                label for="old" { "From (the version approved now)" }
                select id="old" name="old" {
                    @for v in &versions { option value=(v) selected[v == old] { (label(v)) } }
                }
            }
            div class="field" {
                label for="new" { "To (the version under review)" }
                select id="new" name="new" {
                    @for v in &versions { option value=(v) selected[v == new] { (label(v)) } }
                }
            }
            div class="field" {
                label for="samples" { "Samples to see whose advice changes (optional: CSV, NDJSON, JSON, FHIR, HL7)" }
                input id="samples" name="samples" type="file"
                    aria-invalid=[problem.map(|_| "true")] aria-describedby=[problem.map(|_| "samples-error")];
                @if let Some(p) = problem { p class="error" id="samples-error" { (p) } }
            }
            button type="submit" class="primary" { "Compare" }
        }
    }
}

fn label(version: &str) -> String {
    if version == IN_USE {
        "the pack in use".into()
    } else {
        version.to_owned()
    }
}

pub(crate) async fn submit(State(state): State<Arc<AppState>>, mut parts: Multipart) -> Response {
    let (mut old, mut new, mut samples) = (String::new(), String::new(), None);
    while let Ok(Some(field)) = parts.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().unwrap_or("").to_owned();
        let Ok(bytes) = field.bytes().await else {
            break;
        };
        match name.as_str() {
            "old" => old = String::from_utf8_lossy(&bytes).into_owned(),
            "new" => new = String::from_utf8_lossy(&bytes).into_owned(),
            "samples" if !bytes.is_empty() => samples = Some((file_name, bytes.to_vec())),
            _ => {}
        }
    }
    let in_use = state.live.pack();
    let known = |v: &str| v == IN_USE || state.compare.iter().any(|c| c == v);
    if !known(&old) || !known(&new) {
        let body = html! { (alert("Choose both versions from the lists.")) (choose(&state, None, None, None)) };
        return page_with_status(
            StatusCode::BAD_REQUEST,
            TITLE,
            Nav::Review,
            Some(&in_use),
            body,
        );
    }
    let allow_plugins = state.allow_plugins;
    let work = {
        let (in_use, old, new) = (in_use.clone(), old.clone(), new.clone());
        move || -> Result<Result<Markup, String>, (StatusCode, String)> {
            let load = |v: &str| -> Result<Arc<Pack>, String> {
                if v == IN_USE {
                    return Ok(in_use.clone());
                }
                crate::context::load_pack(v, allow_plugins)
                    .map(Arc::new)
                    .map_err(|e| format!("`{v}` cannot be loaded: {}", e))
            };
            let (a, b) = match (load(&old), load(&new)) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
            };
            let diff = diff_packs(&a, &b);
            let impact = match &samples {
                None => None,
                Some((name, bytes)) => {
                    let format = super::course::format_of(name, bytes);
                    match impact_of(&a, &b, Cursor::new(bytes), format) {
                        Ok(i) => Some(i),
                        Err(e) => return Ok(Err(format!("The samples cannot be read: {e}"))),
                    }
                }
            };
            Ok(Ok(shown(&diff, impact.as_ref())))
        }
    };
    let body = match in_time(&state, work).await {
        Ok(Ok(diff)) => html! { (choose(&state, Some(&old), Some(&new), None)) (diff) },
        Ok(Err(problem)) if problem.starts_with("The samples") => {
            choose(&state, Some(&old), Some(&new), Some(&problem))
        }
        Ok(Err(problem)) => {
            html! { (alert(&problem)) (choose(&state, Some(&old), Some(&new), None)) }
        }
        Err(refused) => return refused,
    };
    page(TITLE, Nav::Review, Some(&in_use), body)
}

/// The diff as `tdm diff` says it, as tables.
fn shown(diff: &PackDiff, impact: Option<&SampleImpact>) -> Markup {
    let side = |p: &tdm_core::result::PackId| format!("{} {} ({})", p.name, p.version, p.digest);
    html! {
        section class="diff" aria-labelledby="changes" {
            h2 id="changes" { "What changes" }
            p { (side(&diff.old)) " → " (side(&diff.new)) }
            p class="summary" { (summary(diff)) }
            @if !diff.changes.is_empty() {
                table class="changes" {
                    caption { "Every difference, pack-wide ones first, then by drug" }
                    thead { tr { th scope="col" { "drug" } th scope="col" { "kind" } th scope="col" { "what" } th scope="col" { "old → new" } th scope="col" { "impact" } } }
                    tbody {
                        @for c in &diff.changes {
                            tr class=(impact_word(c.impact)) {
                                td { (c.drug.as_deref().unwrap_or("pack")) }
                                td { (sign(c)) }
                                td { (c.what) }
                                td { @if c.what == "script text" { "the script's text (see tdm diff)" } @else { (values(c)) } }
                                td { (impact_word(c.impact)) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(i) = impact {
            section class="impact" aria-labelledby="impact" {
                h2 id="impact" { "Whose advice changes" }
                p { (i.changed.len()) " of " (i.samples) " samples would get another result." }
                @if !i.changed.is_empty() {
                    table class="changed-samples" {
                        thead { tr { th scope="col" { "sample" } th scope="col" { "drug" } th scope="col" { "now" } th scope="col" { "under review" } } }
                        tbody {
                            @for s in &i.changed {
                                tr {
                                    td { (sample_name(s)) }
                                    td { (s.drug.as_deref().unwrap_or("-")) }
                                    td { (s.old.show()) }
                                    td { (s.new.show()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
