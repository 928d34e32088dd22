//! The web pages of `tdm serve` in a real browser: headless Chromium over
//! WebDriver (Debian's chromium and chromium-driver, driven by Selenium in
//! tests/browser/web_check.py), every page checked by axe-core. A
//! pharmacist evaluates an imatinib and a sunitinib sample and reads the
//! advice, sees a typo's error beside its field, uploads a history and finds
//! one point per sample; a committee member compares two versions and finds
//! the changed target and whose advice changes; a server with a token asks
//! for it once. Then what the pages must refuse, with a plain HTTP client.
//!
//! Needs: `apt-get install chromium chromium-driver`, `pip install
//! selenium`, and axe-core in target/axe (`npm install --prefix target/axe
//! axe-core@4`); `.ci/run` installs them. With `TDM_SCREENSHOTS=DIR` the
//! pages are also saved as PNG there (docs/ holds the README's).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

mod common;

use common::root;
use common::server::{Server, agent, start};

fn axe() -> String {
    let path = root().join("target/axe/node_modules/axe-core/axe.min.js");
    assert!(
        path.exists(),
        "axe-core is missing: npm install --prefix target/axe axe-core@4 (.ci/run does)"
    );
    path.display().to_string()
}

/// Runs a scenario of tests/browser/web_check.py against `server`.
fn browse(scenario: &str, server: &Server, extra: &[&str]) {
    let mut command = Command::new("python3");
    command
        .arg(root().join("tests/browser/web_check.py"))
        .args([scenario, &server.base, "--axe", &axe(), "--root"])
        .arg(root().canonicalize().unwrap())
        .args(extra);
    if let Ok(dir) = std::env::var("TDM_SCREENSHOTS") {
        command.args(["--screenshots", &dir]);
    }
    let out = command.output().expect("python3 runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{said}");
    assert!(
        out.status.success(),
        "the browser check `{scenario}` failed (needs chromium, chromium-driver and selenium):\n{said}"
    );
}

#[test]
fn a_pharmacist_evaluates_samples_and_reads_a_course_in_the_browser() {
    let server = start(&root().join("rules/ki-oncology"), &[]);
    browse("pharmacist", &server, &[]);
}

#[test]
fn a_committee_member_reviews_a_new_version_in_the_browser() {
    let next = root().join("examples/packs/ki-oncology-next");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tdm"));
    command
        .current_dir(root())
        .args([
            "serve",
            "--pack",
            "rules/ki-oncology",
            "--addr",
            "127.0.0.1:0",
        ])
        .args(["--compare", "examples/packs/ki-oncology-next"]);
    assert!(next.exists());
    let server = common::server::spawn(command);
    browse("committee", &server, &[]);
}

#[test]
fn a_server_with_a_token_asks_for_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "s3cret-web-token\n").unwrap();
    let server = start(
        &root().join("rules/ki-oncology"),
        &["--token-file", tokens.to_str().unwrap()],
    );
    browse("login", &server, &["--token", "s3cret-web-token"]);
    // The API still answers a missing token with a JSON 401.
    let response = agent()
        .get(format!("{}/v1/pack", server.base))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[test]
fn pages_keep_to_themselves() {
    let server = start(&root().join("rules/ki-oncology"), &[]);
    let response = agent().get(format!("{}/ui", server.base)).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{rule} not in {csp}");
    }
    let form = |headers: &[(&str, &str)]| {
        let mut request = agent()
            .post(format!("{}/ui", server.base))
            .header("Content-Type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request
            .send("drug=imatinib&indication=CML&value=1400&unit=ng%2FmL")
            .unwrap()
            .status()
            .as_u16()
    };
    // Another site's page in the same browser cannot post the form.
    assert_eq!(form(&[("Sec-Fetch-Site", "cross-site")]), 403);
    assert_eq!(form(&[("Origin", "http://evil.example")]), 403);
    assert_eq!(form(&[("Sec-Fetch-Site", "same-origin")]), 200);
    // A page's post is a form, and the API's is JSON.
    let json = agent()
        .post(format!("{}/ui", server.base))
        .header("Content-Type", "application/json")
        .send("{}")
        .unwrap();
    assert_eq!(json.status().as_u16(), 415);
    let mut page = agent()
        .get(format!("{}/ui/assets/page.js", server.base))
        .call()
        .unwrap();
    assert_eq!(
        page.headers().get("content-type").unwrap(),
        "text/javascript"
    );
    assert!(
        page.body_mut()
            .read_to_string()
            .unwrap()
            .contains("clipboard")
    );
    // A name in the page is escaped, never markup.
    let mut answer = agent()
        .get(format!(
            "{}/ui?drug=%3Cscript%3Ealert(1)%3C/script%3E",
            server.base
        ))
        .call()
        .unwrap();
    let text = answer.body_mut().read_to_string().unwrap();
    assert!(
        text.contains("`&lt;script&gt;alert(1)&lt;/script&gt;` is not a drug of pack ki-oncology")
    );
    assert!(!text.contains("<script>alert"));
}

/// What trust in the advice rests on, in the pages: the signatures the pack was
/// accepted with, and the decision's id in the audit log.
#[test]
fn the_pages_show_the_signatures_and_the_decision_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.ndjson");
    let keys = root().join("examples/keys/allowed_signers");
    let server = start(
        &root().join("rules/ki-oncology"),
        &[
            "--require-signature",
            "--trusted-keys",
            keys.to_str().unwrap(),
            "--audit-log",
            log.to_str().unwrap(),
        ],
    );
    let mut pack = agent()
        .get(format!("{}/ui/pack", server.base))
        .call()
        .unwrap();
    let page = pack.body_mut().read_to_string().unwrap();
    assert!(page.contains("signatures: 1 valid of 1 required"), "{page}");
    assert!(
        page.contains("<td>example-committee@tdm.invalid</td>"),
        "{page}"
    );
    let mut answer = agent()
        .post(format!("{}/ui", server.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("drug=imatinib&indication=CML&value=1400&unit=ng%2FmL&dose_mg=400&hours_since_dose=10&days_on_dose=30")
        .unwrap();
    let page = answer.body_mut().read_to_string().unwrap();
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["caller"], "loopback web");
    assert_eq!(records[0]["advice"], "increase_dose");
    let id = records[0]["decision_id"].as_str().unwrap();
    assert!(
        page.contains(&format!("Decision <code>{id}</code> in the audit log")),
        "{page}"
    );
}

/// A form posted as `multipart/form-data`, as a browser sends it.
fn multipart(server: &Server, path: &str, fields: &[(&str, Option<&str>, &str)]) -> (u16, String) {
    let boundary = "----tdm-test-boundary";
    let mut body = String::new();
    for (name, file, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""
        ));
        if let Some(file) = file {
            body.push_str(&format!(
                "; filename=\"{file}\"\r\nContent-Type: application/octet-stream"
            ));
        }
        body.push_str(&format!("\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let mut response = agent()
        .post(format!("{}{path}", server.base))
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body)
        .unwrap();
    (
        response.status().as_u16(),
        response.body_mut().read_to_string().unwrap(),
    )
}

/// A course from an EHR's FHIR Bundle, and from NDJSON pasted into the
/// box; a paste that is not samples gets the reader's words beside the box.
#[test]
fn a_course_from_a_fhir_bundle_or_pasted_samples() {
    let server = start(&root().join("examples/packs/hospital-lab"), &[]);
    let bundle =
        std::fs::read_to_string(root().join("examples/interop/patients.fhir.json")).unwrap();
    let (status, page) = multipart(
        &server,
        "/ui/course",
        &[
            ("samples", None, ""),
            ("file", Some("patients.fhir.json"), &bundle),
        ],
    );
    assert_eq!(status, 200);
    for patient in [
        "Patient/P-01",
        "Patient/P-03",
        "Patient/P-05",
        "Patient/P-10",
    ] {
        assert!(
            page.contains(&format!(
                "<h2 id=\"patient-{patient}\">Patient {patient}</h2>"
            )),
            "{patient}: {page}"
        );
    }
    assert!(
        page.contains("<circle class=\"trough\" data-id=\"Observation/obs-03\""),
        "{page}"
    );

    let pasted = concat!(
        r#"{"id": "A", "patient": "P-9", "sampled_at": "2026-03-02T09:00", "drug": "imatinib", "indication": "CML", "value": 900, "unit": "ng/mL", "dose_mg": 400, "hours_since_dose": 24, "days_on_dose": 30}"#,
        "\n",
        r#"{"id": "B", "patient": "P-9", "sampled_at": "2026-04-02T09:00", "drug": "imatinib", "indication": "CML", "value": 1200, "unit": "ng/mL", "dose_mg": 600, "hours_since_dose": 24, "days_on_dose": 20}"#,
        "\n"
    );
    let (status, page) = multipart(&server, "/ui/course", &[("samples", None, pasted)]);
    assert_eq!(status, 200);
    assert_eq!(
        page.matches("<circle class=\"trough\"").count(),
        2,
        "{page}"
    );

    let (status, page) = multipart(&server, "/ui/course", &[("samples", None, "[{\"drug\": ")]);
    assert_eq!(status, 200);
    assert!(page.contains("id=\"samples-error\""), "{page}");
    assert!(page.contains("The samples cannot be read"), "{page}");
    let (status, _) = multipart(&server, "/ui/course", &[("samples", None, "  ")]);
    assert_eq!(status, 400);
}
