//! `tdm serve` as a CDS Hooks 2.0 service (https://cds-hooks.hl7.org/2.0/):
//! an EHR asks `GET /cds-services` which services there are and what data
//! each needs (prefetch templates built from the pack's code maps), then
//! calls `POST /cds-services/{id}` when a clinician opens a patient's chart
//! (`patient-view`) or selects a kinase-inhibitor order (`order-select`).
//! The prefetched resources are read as one FHIR Bundle, exactly as
//! `tdm eval --input-format fhir` reads one, and the latest result of each
//! drug becomes a card (`serve_cds_cards.rs`).
//!
//! The service reads only what the EHR prefetched: it does not query the
//! EHR's FHIR server itself, so a call without the drug levels' prefetch is
//! answered 412, as the specification says of a service that cannot get
//! the data it needs.

use std::collections::HashSet;
use std::io::Cursor;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tdm_core::eval::Histories;
use tdm_core::input::{InputFormat, read_raw_records};
use tdm_core::{EvalResult, Pack};

use super::serve::{AppState, error};
use super::serve_cds_cards::{self as cards, Judged};
use super::serve_eval::{caller, in_time, read_body};
use crate::audit::{self, Given};

/// One CDS service of this server.
pub(crate) struct Service {
    pub id: &'static str,
    pub hook: &'static str,
    title: &'static str,
    description: &'static str,
}

pub(crate) const SERVICES: [Service; 2] = [
    Service {
        id: "tdm-levels",
        hook: "patient-view",
        title: "TDM advice on kinase-inhibitor levels",
        description: "For the latest drug level of each kinase inhibitor the active rule pack \
            knows: the level against the pack's target, the advice and next dose (a proposed \
            MedicationRequest), the rationale, and the pack's name, version and digest.",
    },
    Service {
        id: "tdm-order",
        hook: "order-select",
        title: "TDM advice for a kinase-inhibitor order",
        description: "When a kinase inhibitor the active rule pack knows is selected for \
            ordering: the advice on the patient's latest level of it, or that no level is on \
            record.",
    },
];

/// The prefetch key whose data the service cannot do without.
const LEVELS: &str = "levels";

pub(crate) async fn discovery(State(state): State<Arc<AppState>>) -> Response {
    let pack = state.live.pack();
    let prefetch = prefetch(&pack);
    let services: Vec<Value> = SERVICES
        .iter()
        .map(|s| {
            json!({
                "hook": s.hook,
                "id": s.id,
                "title": s.title,
                "description": s.description,
                "prefetch": prefetch,
                "usageRequirements": "The EHR sends the prefetch `levels` (the patient's drug-level \
                    Observations); with it their medication, administrations, conditions, \
                    adverse events and covariate Observations, else the advice is made without them.",
            })
        })
        .collect();
    Json(json!({ "services": services })).into_response()
}

/// FHIR searches for what a sample needs: the drug levels by the pack's
/// analyte codes, the covariates and toxicity grades by theirs, and the
/// patient's medication, conditions and adverse events.
fn prefetch(pack: &Pack) -> Map<String, Value> {
    let patient = "{{context.patientId}}";
    let codes = pack.codes();
    let search = |pairs: Vec<(&str, &str)>| -> String {
        let list: Vec<String> = pairs
            .iter()
            .map(|(system, code)| format!("{}|{}", escaped(system), escaped(code)))
            .collect();
        list.join(",")
    };
    let analytes = search(
        codes
            .analytes
            .iter()
            .map(|a| (a.system.as_str(), a.code.as_str()))
            .collect(),
    );
    let mut out = Map::new();
    let levels = if analytes.is_empty() {
        format!("Observation?patient={patient}&category=laboratory")
    } else {
        format!("Observation?patient={patient}&code={analytes}")
    };
    out.insert(LEVELS.into(), levels.into());
    let others = search(
        codes
            .covariates
            .iter()
            .map(|c| (c.system.as_str(), c.code.as_str()))
            .chain(
                codes
                    .toxicity_grade_observations
                    .iter()
                    .map(|g| (g.system.as_str(), g.code.as_str())),
            )
            .collect(),
    );
    if !others.is_empty() {
        out.insert(
            "observations".into(),
            format!("Observation?patient={patient}&code={others}").into(),
        );
    }
    for (key, query) in [
        ("medicationRequests", "MedicationRequest?patient="),
        ("medicationStatements", "MedicationStatement?patient="),
        ("administrations", "MedicationAdministration?patient="),
        ("conditions", "Condition?patient="),
        ("adverseEvents", "AdverseEvent?subject=Patient/"),
    ] {
        out.insert(key.into(), format!("{query}{patient}").into());
    }
    out
}

/// A token of a FHIR search, its `\`, `|`, `,` and `$` escaped (R4
/// search.html#escaping).
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '|' | ',' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a call asks, read and checked.
pub(crate) struct Call {
    pub hook_instance: String,
    /// `Patient/<context.patientId>`.
    pub patient: String,
    /// For order-select: the drugs of the selected orders the pack knows.
    pub ordered: Option<Vec<String>>,
    /// The prefetched resources as one Bundle.
    bundle: Vec<u8>,
}

pub(crate) async fn call(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let Some(service) = SERVICES.iter().find(|s| s.id == id) else {
        let known: Vec<String> = SERVICES
            .iter()
            .map(|s| format!("{} ({})", s.id, s.hook))
            .collect();
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no CDS service `{}`: this server has {} (GET /cds-services lists them)",
                crate::output::shown(&id),
                known.join(", ")
            ),
        );
    };
    let caller = caller(&request);
    let body = match read_body(&state, request).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let pack = match state.live.usable_pack() {
        Ok(pack) => pack,
        Err(why) => return error(StatusCode::SERVICE_UNAVAILABLE, why),
    };
    let call = match read_call(&body, service, &pack) {
        Ok(call) => call,
        Err((status, why)) => return error(status, why),
    };
    let audit = state.audit.clone();
    let work = move || -> Result<Value, (StatusCode, String)> {
        let judged = judge(&pack, &call, audit.as_deref(), &caller)?;
        Ok(json!({ "cards": cards::cards(&call, &judged, &pack) }))
    };
    match in_time(&state, work).await {
        Ok(answer) => Json(answer).into_response(),
        Err(refused) => refused,
    }
}

fn bad(why: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, why.into())
}

/// The call's hook, patient, orders and prefetch, checked against the service.
fn read_call(body: &[u8], service: &Service, pack: &Pack) -> Result<Call, (StatusCode, String)> {
    let request: Value =
        tdm_core::input::parse_json(body).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    let text = |key: &str| request.get(key).and_then(Value::as_str);
    let hook = text("hook").ok_or_else(|| bad("the call names no `hook`"))?;
    if hook != service.hook {
        return Err(bad(format!(
            "the service `{}` answers the hook `{}`, not `{}`",
            service.id,
            service.hook,
            crate::output::shown(hook)
        )));
    }
    let hook_instance = text("hookInstance")
        .ok_or_else(|| bad("the call has no `hookInstance`"))?
        .to_owned();
    let context = request
        .get("context")
        .ok_or_else(|| bad("the call has no `context`"))?;
    let patient_id = context
        .get("patientId")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| bad("`context.patientId` is missing: a card is always for one patient"))?;
    let ordered = match service.hook {
        "order-select" => Some(ordered_drugs(context, pack)?),
        _ => None,
    };
    let empty = Map::new();
    let prefetch = match request.get("prefetch") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(p)) => p,
        Some(_) => return Err(bad("`prefetch` is not an object")),
    };
    if prefetch.get(LEVELS).is_none_or(Value::is_null) {
        return Err((
            StatusCode::PRECONDITION_FAILED,
            format!(
                "the prefetch `{LEVELS}` (the patient's drug-level Observations) was not sent: \
                 this service reads only what the EHR prefetches and does not query its FHIR \
                 server; configure the prefetch templates of GET /cds-services"
            ),
        ));
    }
    Ok(Call {
        hook_instance,
        patient: format!("Patient/{patient_id}"),
        ordered,
        bundle: gathered(prefetch)?,
    })
}

/// The drugs of the pack that the selected draft orders name (all draft
/// orders when the call selects none).
fn ordered_drugs(context: &Value, pack: &Pack) -> Result<Vec<String>, (StatusCode, String)> {
    let orders: Vec<&Value> = context
        .get("draftOrders")
        .and_then(|b| b.get("entry"))
        .and_then(Value::as_array)
        .ok_or_else(|| bad("`context.draftOrders` is not a Bundle with entries"))?
        .iter()
        .filter_map(|e| e.get("resource"))
        .collect();
    let selections: Vec<&str> = context
        .get("selections")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let selected = |r: &Value| {
        let name = format!(
            "{}/{}",
            r.get("resourceType").and_then(Value::as_str).unwrap_or(""),
            r.get("id").and_then(Value::as_str).unwrap_or("")
        );
        selections.is_empty() || selections.contains(&name.as_str())
    };
    let mut drugs = Vec::new();
    for order in orders.iter().filter(|r| selected(r)) {
        if order.get("resourceType").and_then(Value::as_str) != Some("MedicationRequest") {
            continue;
        }
        if let Some(drug) = tdm_core::interop::ordered_drug(pack, order, &orders)
            && !drugs.contains(&drug)
        {
            drugs.push(drug);
        }
    }
    Ok(drugs)
}

/// The prefetched resources as one FHIR Bundle: the entries of each
/// searchset (without its OperationOutcome notes), the single resources,
/// each resource once.
fn gathered(prefetch: &Map<String, Value>) -> Result<Vec<u8>, (StatusCode, String)> {
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    // The levels first: a level's place in the Bundle is its order.
    let keys =
        std::iter::once(LEVELS).chain(prefetch.keys().map(String::as_str).filter(|k| *k != LEVELS));
    for key in keys {
        let value = &prefetch[key];
        let resources: Vec<&Value> = match value.get("resourceType").and_then(Value::as_str) {
            _ if value.is_null() => continue,
            Some("Bundle") => value
                .get("entry")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|e| e.pointer("/search/mode").and_then(Value::as_str) != Some("outcome"))
                .filter_map(|e| e.get("resource"))
                .collect(),
            Some(_) => vec![value],
            None => {
                return Err(bad(format!(
                    "prefetch `{}` is not a FHIR resource (no `resourceType`)",
                    crate::output::shown(key)
                )));
            }
        };
        for resource in resources {
            let name = (
                resource.get("resourceType").and_then(Value::as_str),
                resource.get("id").and_then(Value::as_str),
            );
            // A resource without an id cannot be told from another: kept.
            if name.1.is_some() && !seen.insert(name) {
                continue;
            }
            entries.push(json!({ "resource": resource }));
        }
    }
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": entries});
    serde_json::to_vec(&bundle).map_err(|e| bad(format!("cannot gather the prefetch: {e}")))
}

/// Every drug-level result of the prefetch, evaluated as one batch (a
/// patient's levels are fitted together) and recorded in the audit log.
fn judge(
    pack: &Pack,
    call: &Call,
    audit: Option<&audit::AuditLog>,
    caller: &str,
) -> Result<Vec<Judged>, (StatusCode, String)> {
    let mut histories = Histories::default();
    let mut judged = Vec::new();
    // The hook call the decision answered, for the EHR to trace it.
    let caller = format!("{caller} cds-hooks:{}", call.hook_instance);
    read_raw_records(Cursor::new(&call.bundle), InputFormat::Fhir, pack, |raw| {
        let given = audit.map(|_| raw.as_given());
        let record = raw.check();
        let toxicity = record
            .sample
            .as_ref()
            .ok()
            .and_then(|s| tdm_core::eval::toxicity_acted_on(pack, s));
        let mut result: EvalResult = histories.evaluate_record(pack, record);
        result.line = None;
        let text = given.as_deref().unwrap_or("");
        let result = audit::recorded(
            audit,
            result,
            &Given {
                text,
                caller: &caller,
            },
        );
        judged.push(Judged { result, toxicity });
        Ok(())
    })
    .map_err(|e| bad(format!("the prefetched resources cannot be read: {e}")))?;
    Ok(judged)
}
