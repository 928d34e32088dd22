//! Packs that extend another: resolution, where each line came from, errors
//! in the file an author edits, version requirements, disabled drugs, and
//! `tdm init`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;
use std::process::{Command, Stdio};

use common::{out, root, tdm};

/// An overlay on ki-oncology in a temporary directory: `manifest_extra` is
/// appended to a minimal manifest; `files` are (relative path, text).
fn overlay(manifest_extra: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let base = root().join("rules/ki-oncology").canonicalize().unwrap();
    fs::create_dir_all(dir.path().join("drugs")).unwrap();
    fs::write(
        dir.path().join("pack.yaml"),
        format!(
            "name: local\nversion: \"0.1.0\"\ntitle: a local pack\nextends:\n  pack: {}\n  version: \"^1.0\"\n{manifest_extra}",
            base.display()
        ),
    )
    .unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn the_example_overlay_passes_its_own_cases() {
    let o = tdm(&["test", "rules/examples/hospital-overlay"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("5 passed, 0 failed"));
}

#[test]
fn show_resolved_says_where_each_stretch_came_from() {
    let o = tdm(&["show", "--resolved", "rules/examples/hospital-overlay"]);
    assert_eq!(o.status.code(), Some(0));
    let text = out(&o);
    // imatinib: the base file, its targets from the overlay, the rest from the base again.
    let imatinib = text.split("== drugs/imatinib.yaml").nth(1).unwrap();
    let imatinib = imatinib.split("\n== ").next().unwrap();
    let origins: Vec<&str> = imatinib
        .lines()
        .filter(|l| l.starts_with("# from "))
        .collect();
    assert_eq!(origins[0], "# from ../../ki-oncology/drugs/imatinib.yaml:1");
    assert!(
        origins.contains(&"# from drugs/imatinib.yaml:4"),
        "{origins:?}"
    );
    assert!(origins.len() >= 3, "{origins:?}");
    assert!(imatinib.contains("  - id: cml-window\n    use: primary"));
    // The policy key the overlay gives, among the base's.
    assert!(
        text.contains("# from pack.yaml:32\n  act_on_population_mean:\n    value: true"),
        "{text}"
    );
    // A pack that extends nothing is its own files.
    let o = tdm(&["show", "--resolved", "rules/ki-oncology"]);
    assert!(out(&o).contains("== drugs/imatinib.yaml\n# from drugs/imatinib.yaml:1\n"));
}

#[test]
fn an_error_in_an_override_is_reported_in_the_overlay_file() {
    let dir = overlay(
        "",
        &[(
            "drugs/imatinib.yaml",
            "drug: imatinib\ntargets:\n  - id: local\n    use: primary\n    measure: cmin\n    lower: 750\n    unit: ng/dl\n    basis: threshold\n    evidence: viable\n    source: \"verheijen2017 text\"\n",
        )],
    );
    let o = tdm(&[
        "validate",
        "--error-format",
        "plain",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(out(&o).contains("drugs/imatinib.yaml:7:"), "{}", out(&o));
    assert!(out(&o).contains("ng/dl"), "{}", out(&o));
}

#[test]
fn the_base_version_must_meet_the_requirement() {
    let dir = overlay("", &[]);
    let manifest = dir.path().join("pack.yaml");
    let text = fs::read_to_string(&manifest)
        .unwrap()
        .replace("^1.0", "^2.0");
    fs::write(&manifest, text).unwrap();
    let o = tdm(&[
        "validate",
        "--error-format",
        "plain",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(out(&o).contains("pack.yaml:4:1:"), "{}", out(&o));
    assert!(
        out(&o).contains("which does not meet `^2.0`"),
        "{}",
        out(&o)
    );
}

#[test]
fn disabled_drugs_are_not_in_the_resolved_pack() {
    let dir = overlay("disable: [vandetanib]\n", &[]);
    let d = dir.path().to_str().unwrap();
    let o = tdm(&["show", d]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("29 drugs"), "{}", out(&o));
    let o = tdm(&[
        "eval",
        "--pack",
        d,
        "--drug",
        "vandetanib",
        "--value",
        "800",
        "--unit",
        "ng/mL",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("not a drug of pack local"), "{}", out(&o));

    let dir = overlay("disable: [aspirin]\n", &[]);
    let o = tdm(&[
        "validate",
        "--error-format",
        "plain",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        out(&o).contains("`aspirin` is not a drug of the base pack"),
        "{}",
        out(&o)
    );
}

#[test]
fn an_overlay_may_add_a_drug_the_base_lacks() {
    let drug = fs::read_to_string(root().join("tests/broken/_base/drugs/testinib.yaml")).unwrap();
    let dir = overlay(
        "sources:\n  base: {citation: a local drug rule}\n",
        &[("drugs/testinib.yaml", &drug)],
    );
    let d = dir.path().to_str().unwrap();
    let o = tdm(&["show", d]);
    assert!(out(&o).contains("31 drugs"), "{}", out(&o));
    let o = tdm(&[
        "eval",
        "--pack",
        d,
        "--drug",
        "testinib",
        "--value",
        "1500",
        "--unit",
        "ng/mL",
        "--hours-since-dose",
        "24",
        "--format",
        "json",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["classification"], "within");
    assert_eq!(v[0]["pack"]["name"], "local");
}

#[test]
fn a_reader_that_goes_away_is_no_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tdm"))
        .current_dir(root())
        .args(["show", "--resolved", "rules/examples/hospital-overlay"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
}

#[test]
fn init_scaffolds_a_local_pack_that_validates_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("hospital");
    let base = root().join("rules/ki-oncology");
    let o = tdm(&[
        "init",
        local.to_str().unwrap(),
        "--extends",
        base.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    for file in ["pack.yaml", "drugs/imatinib.yaml", "tests/local.yaml"] {
        let text = fs::read_to_string(local.join(file)).unwrap();
        // The schema line points at a schema that exists.
        let schema = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# yaml-language-server: $schema="))
            .unwrap_or_else(|| panic!("{file} has no schema line"));
        let schema_path = local.join(file).parent().unwrap().join(schema);
        assert!(schema_path.exists(), "{file}: {schema}");
    }
    let manifest = fs::read_to_string(local.join("pack.yaml")).unwrap();
    assert!(manifest.contains("extends:\n  pack: "), "{manifest}");
    assert!(manifest.contains("  version: \"^1.5\""), "{manifest}");
    let l = local.to_str().unwrap();
    let o = tdm(&["validate", l]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = tdm(&["test", l]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("1 passed, 0 failed"));
    // A second init into the same directory is refused.
    let o = tdm(&["init", l, "--extends", base.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_override_that_drops_what_the_base_has_is_warned_of_and_refused_on_request() {
    // Rewriting `targets:` to change CML drops GIST and the alternatives.
    let dir = overlay(
        "",
        &[(
            "drugs/imatinib.yaml",
            "drug: imatinib\ntargets:\n  - id: cml\n    use: primary\n    indications: [CML]\n    measure: cmin\n    lower: 1100\n    unit: ng/mL\n    basis: threshold\n    evidence: viable\n    population_mean: 1170\n    source: \"verheijen2017 Table 2 (imatinib)\"\n",
        )],
    );
    let path = dir.path().to_str().unwrap();
    let o = tdm(&["validate", path]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let text = out(&o);
    assert!(
        text.contains("ki-oncology/drugs/imatinib.yaml:")
            && text.contains("drops target `gist` of imatinib"),
        "{text}"
    );
    assert!(
        text.contains("has no target for GIST in imatinib"),
        "{text}"
    );
    let o = tdm(&["validate", "--deny-warnings", path]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(out(&o).contains("refused: "), "{}", out(&o));
    let o = tdm(&[
        "validate",
        "--deny-warnings",
        "--error-format",
        "json",
        path,
    ]);
    let v: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["kind"] == "overlay" || w["kind"] == "model")
    );
    // The example overlay keeps everything its base has.
    let o = tdm(&[
        "validate",
        "--deny-warnings",
        "rules/examples/hospital-overlay",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}
