//! A patient's course in the browser: samples pasted or uploaded (CSV,
//! NDJSON, a JSON array, a FHIR Bundle or HL7 v2 messages) give the report
//! of `tdm report` — chart, table, latest advice — in the page, which
//! prints on A4. The samples are evaluated as one batch, as by `tdm
//! report`; nothing is kept after the answer.

use std::io::Cursor;
use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use tdm_core::InputFormat;

use super::{Nav, alert, page, page_with_status};
use crate::commands::report;
use crate::commands::serve::AppState;
use crate::commands::serve_eval::in_time;

const TITLE: &str = "A patient's course";

pub(crate) async fn form(State(state): State<Arc<AppState>>) -> Response {
    let pack = state.live.pack();
    page(TITLE, Nav::Course, Some(&pack), upload_form("", None))
}

fn upload_form(text: &str, problem: Option<&str>) -> Markup {
    html! {
        form method="post" action="/ui/course" enctype="multipart/form-data" class="upload" {
            p { "One patient's samples, each with " code { "patient" } " and " code { "sampled_at" }
                ": CSV, NDJSON, a JSON array, a FHIR R4 Bundle or HL7 v2 ORU messages." }
            div class="field" {
                label for="samples" { "Paste the samples" }
                textarea id="samples" name="samples" rows="10" spellcheck="false"
                    aria-invalid=[problem.map(|_| "true")] aria-describedby=[problem.map(|_| "samples-error")] { (text) }
                @if let Some(p) = problem {
                    p class="error" id="samples-error" { (p) }
                }
            }
            div class="field" {
                label for="file" { "or upload a file" }
                input id="file" name="file" type="file" accept=".csv,.ndjson,.jsonl,.json,.hl7,text/csv,application/json";
            }
            button type="submit" class="primary" { "Show the course" }
        }
    }
}

pub(crate) async fn submit(State(state): State<Arc<AppState>>, mut parts: Multipart) -> Response {
    let mut pasted = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match parts.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_owned();
                let file_name = field.file_name().unwrap_or("").to_owned();
                let Ok(bytes) = field.bytes().await else {
                    break;
                };
                match name.as_str() {
                    "samples" => pasted = String::from_utf8_lossy(&bytes).into_owned(),
                    "file" if !bytes.is_empty() => file = Some((file_name, bytes.to_vec())),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                let pack = state.live.pack();
                let body = html! { (alert(&format!("the form could not be read: {e}"))) (upload_form("", None)) };
                return bad_request(&pack, body);
            }
        }
    }
    let (name, bytes) = file.unwrap_or_else(|| (String::new(), pasted.clone().into_bytes()));
    let pack = match super::usable_pack(&state, TITLE, Nav::Course) {
        Ok(pack) => pack,
        Err(refused) => return *refused,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let body = upload_form(&pasted, Some("Paste samples or choose a file."));
        return bad_request(&pack, body);
    }
    let format = format_of(&name, &bytes);
    let work = {
        let pack = pack.clone();
        // A break in the samples is the form's problem, not the request's.
        move || -> Result<Result<Markup, String>, (StatusCode, String)> {
            let mut left_out = Vec::new();
            let patients =
                match report::read_patients(&pack, Cursor::new(&bytes), format, &mut left_out) {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(format!("The samples cannot be read: {e}"))),
                };
            Ok(Ok(html! {
                @for why in &left_out { (alert(why)) }
                @if patients.is_empty() {
                    (alert("No sample with `patient` and `sampled_at` was found."))
                }
                @for (patient, mut points) in patients {
                    article class="report" aria-labelledby={"patient-" (patient)} {
                        h2 id={"patient-" (patient)} { "Patient " (patient) }
                        (report::html_part(&pack, &patient, &report::courses(&mut points)))
                    }
                }
            }))
        }
    };
    let body = match in_time(&state, work).await {
        Ok(Ok(report)) => {
            html! { (report) details class="again" { summary { "Another course" } (upload_form("", None)) } }
        }
        // The reader's own words, beside the field.
        Ok(Err(problem)) => upload_form(&pasted, Some(&problem)),
        Err(refused) => return refused,
    };
    page(TITLE, Nav::Course, Some(&pack), body)
}

fn bad_request(pack: &tdm_core::Pack, body: Markup) -> Response {
    page_with_status(
        StatusCode::BAD_REQUEST,
        TITLE,
        Nav::Course,
        Some(pack),
        body,
    )
}

/// The format by the file's extension, else by the first characters:
/// `MSH|` HL7, a FHIR resource, a JSON array, JSON lines, else CSV.
pub(crate) fn format_of(name: &str, bytes: &[u8]) -> InputFormat {
    if let Some(f) = InputFormat::from_path(name) {
        return match f {
            InputFormat::Json => InputFormat::sniff_json(&bytes[..bytes.len().min(4096)]),
            other => other,
        };
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with("MSH|") {
        InputFormat::Hl7
    } else if start.starts_with('[') {
        InputFormat::Json
    } else if start.starts_with('{') {
        match InputFormat::sniff_json(start.as_bytes()) {
            InputFormat::Fhir => InputFormat::Fhir,
            _ => InputFormat::Ndjson,
        }
    } else {
        InputFormat::Csv
    }
}
