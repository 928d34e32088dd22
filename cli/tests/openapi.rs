//! `/openapi.json` is valid OpenAPI 3.1 (checked by an independent
//! validator, openapi-spec-validator), names exactly the routes the service
//! has, and every answer the service gives, route by route and status by
//! status, has the shape the document gives it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;

use serde_json::{Value, json};

mod common;

use common::root;
use common::server::{Server, agent, sample, start};

fn document(server: &Server) -> Value {
    let mut response = agent()
        .get(format!("{}/openapi.json", server.base))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

/// The schema the document gives the answer of `method path` with `status`.
fn schema_of(doc: &Value, path: &str, method: &str, status: u16) -> Value {
    let escaped = path.replace('~', "~0").replace('/', "~1");
    let mut response = doc
        .pointer(&format!("/paths/{escaped}/{method}/responses/{status}"))
        .unwrap_or_else(|| panic!("the document has no {status} for {method} {path}"))
        .clone();
    if let Some(r) = response.get("$ref").and_then(Value::as_str) {
        response = doc.pointer(r.trim_start_matches('#')).unwrap().clone();
    }
    let mut schema = response
        .pointer("/content/application~1json/schema")
        .unwrap_or_else(|| panic!("{status} of {method} {path} has no JSON schema"))
        .clone();
    // Its references point into the document's components.
    let object = schema.as_object_mut().unwrap();
    object.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    object.insert("components".into(), doc["components"].clone());
    schema
}

fn check(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let schema = schema_of(doc, path, method, status);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let problems: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{method} {path} {status}: {problems:?}\n{body}"
    );
}

/// Sends a request and checks its answer's status and shape.
fn exchange(
    doc: &Value,
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&str>,
    status: u16,
) -> Value {
    let url = format!("{}{path}", server.base);
    let agent = agent();
    let mut response = match (method, body) {
        ("get", _) => agent.get(&url).call().unwrap(),
        ("post", Some(body)) => agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap(),
        ("post", None) => agent
            .post(&url)
            .header("Content-Type", "text/plain")
            .send("x")
            .unwrap(),
        _ => unreachable!(),
    };
    assert_eq!(response.status().as_u16(), status, "{method} {path}");
    let answer: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    check(doc, path, method, status, &answer);
    answer
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let server = start(&root().join("rules/ki-oncology"), &[]);
    let doc = document(&server);
    assert_eq!(doc["openapi"], "3.1.0");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    fs::write(&file, doc.to_string()).unwrap();
    let checked = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        checked.status.success(),
        "openapi-spec-validator (pip install openapi-spec-validator) refused the document:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn the_document_names_exactly_the_routes_the_service_has() {
    let server = start(&root().join("rules/ki-oncology"), &[]);
    let doc = document(&server);
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    // The 404 answer lists the routes the router has.
    let (_, not_found) = common::server::get(&server.base, "/nope");
    let listed = not_found["error"].as_str().unwrap();
    let listed = listed
        .split("(the API has ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let served: BTreeSet<String> = listed.split(", ").map(str::to_owned).collect();
    assert_eq!(documented, served);
}

#[test]
fn every_answer_has_the_documented_shape() {
    let server = start(&root().join("rules/ki-oncology"), &["--max-samples", "2"]);
    let doc = document(&server);
    let one = sample().to_string();
    let result = exchange(&doc, &server, "post", "/v1/evaluate", Some(&one), 200);
    assert_eq!(result["advice"], "increase_dose");
    // The check can fail: a result without its pack is not the shape.
    let mut broken = result.clone();
    broken.as_object_mut().unwrap().remove("pack");
    let schema = schema_of(&doc, "/v1/evaluate", "post", 200);
    assert!(
        !jsonschema::validator_for(&schema)
            .unwrap()
            .is_valid(&broken)
    );
    let error_result = json!({"id": "x", "drug": "nope", "value": 1, "unit": "ng/mL"}).to_string();
    exchange(
        &doc,
        &server,
        "post",
        "/v1/evaluate",
        Some(&error_result),
        200,
    );
    let two = json!([sample(), {"drug": "imatinib"}]).to_string();
    let results = exchange(&doc, &server, "post", "/v1/evaluate", Some(&two), 200);
    assert_eq!(results[1]["status"], "error");
    exchange(
        &doc,
        &server,
        "post",
        "/v1/evaluate",
        Some("{not json"),
        400,
    );
    let three = json!([sample(), sample(), sample()]).to_string();
    exchange(&doc, &server, "post", "/v1/evaluate", Some(&three), 413);
    exchange(&doc, &server, "post", "/v1/evaluate", None, 415);
    exchange(&doc, &server, "get", "/v1/pack", None, 200);
    exchange(&doc, &server, "get", "/healthz", None, 200);
    exchange(&doc, &server, "get", "/readyz", None, 200);
    exchange(&doc, &server, "get", "/openapi.json", None, 200);
    exchange(&doc, &server, "get", "/cds-services", None, 200);
    let hook = fs::read_to_string(root().join("examples/interop/cds-patient-view.json")).unwrap();
    let mut no_levels: Value = serde_json::from_str(&hook).unwrap();
    no_levels["prefetch"]["levels"] = Value::Null;
    for (service, body, status) in [
        ("tdm-levels", hook.clone(), 200),
        ("tdm-order", hook.clone(), 400),
        ("tdm-levels", no_levels.to_string(), 412),
        ("nope", hook.clone(), 404),
    ] {
        let mut response = agent()
            .post(format!("{}/cds-services/{service}", server.base))
            .header("Content-Type", "application/json")
            .send(&body)
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{service}");
        let answer: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        check(&doc, "/cds-services/{id}", "post", status, &answer);
    }
    // A wrong method is answered as the document says.
    let mut response = agent()
        .get(format!("{}/v1/evaluate", server.base))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers().get("allow").unwrap(), "POST");
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    check(&doc, "/v1/evaluate", "post", 405, &body);

    // With a token: 401; with signatures and an audit log: the same shapes.
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    fs::write(&token, "t0ken\n").unwrap();
    let audit = dir.path().join("audit.ndjson");
    let guarded = start(
        &root().join("rules/ki-oncology"),
        &[
            "--token-file",
            token.to_str().unwrap(),
            "--audit-log",
            audit.to_str().unwrap(),
        ],
    );
    exchange(&doc, &guarded, "post", "/v1/evaluate", Some(&one), 401);
    let mut response = agent()
        .post(format!("{}/v1/evaluate", guarded.base))
        .header("Authorization", "Bearer t0ken")
        .send_json(sample())
        .unwrap();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    check(&doc, "/v1/evaluate", "post", 200, &body);
    assert!(body["decision_id"].is_string());
    let full = start(
        &root().join("rules/ki-oncology"),
        &["--audit-log", "/dev/full"],
    );
    exchange(&doc, &full, "post", "/v1/evaluate", Some(&one), 503);
}
