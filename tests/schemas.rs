//! The committed JSON Schemas are what the types generate, every pack file
//! points an editor at its schema, and every shipped file, sample and result
//! is valid against the schema an editor or a tool would use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema(name: &str) -> Value {
    serde_json::from_str(&fs::read_to_string(root().join("schemas").join(name)).unwrap()).unwrap()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn committed_schemas_are_fresh() {
    for (name, generated) in tdm_core::tools::schemas() {
        let path = root().join("schemas").join(name);
        let committed = fs::read_to_string(&path).unwrap_or_default();
        let expected = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        assert!(
            committed == expected,
            "schemas/{name} is stale: run `cargo run -p tdm-cli -- schema --out schemas` and commit the result"
        );
    }
}

#[test]
fn every_rule_file_names_its_schema_and_is_valid_against_it() {
    let mut files = Vec::new();
    yaml_files(&root().join("rules"), &mut files);
    assert!(files.len() > 30);
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let reference = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| {
                panic!(
                    "{} does not start with a yaml-language-server schema line",
                    file.display()
                )
            });
        let schema_path = file.parent().unwrap().join(reference);
        // A pack that extends another has its own manifest schema, and its
        // drug files may be overrides (only `drug` required) or whole files.
        let pack_dir = if file.ends_with("pack.yaml") || file.ends_with("signatures.yaml") {
            file.parent().unwrap()
        } else {
            file.parent().unwrap().parent().unwrap()
        };
        let overlay = fs::read_to_string(pack_dir.join("pack.yaml"))
            .unwrap()
            .lines()
            .any(|l| l.starts_with("extends:"));
        let expected: &[&str] = if file.ends_with("signatures.yaml") {
            &["signatures.schema.json"]
        } else if file.ends_with("pack.yaml") {
            if overlay {
                &["overlay.schema.json"]
            } else {
                &["pack.schema.json"]
            }
        } else if file.parent().unwrap().ends_with("tests") {
            &["tests.schema.json"]
        } else if file.parent().unwrap().ends_with("codes") {
            &["codes.schema.json"]
        } else if overlay {
            &["drug-override.schema.json", "drug.schema.json"]
        } else {
            &["drug.schema.json"]
        };
        assert!(
            expected.iter().any(|e| reference.ends_with(e)),
            "{}: points at {reference}",
            file.display()
        );
        let schema: Value =
            serde_json::from_str(&fs::read_to_string(&schema_path).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let value = tdm_core::pack::yaml_to_json(&text, &file.display().to_string()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{}:\n{}",
            file.display(),
            errors.join("\n")
        );
    }
}

#[test]
fn example_samples_and_their_results_match_the_contract_schemas() {
    let samples = jsonschema::validator_for(&schema("sample.schema.json")).unwrap();
    let results = jsonschema::validator_for(&schema("result.schema.json")).unwrap();
    let pack = tdm_core::load_pack(root().join("rules/ki-oncology")).unwrap();
    let text = fs::read_to_string(root().join("examples/samples.ndjson")).unwrap();
    for line in text.lines() {
        let sample: Value = serde_json::from_str(line).unwrap();
        assert!(samples.is_valid(&sample), "{line}");
        let result = serde_json::to_value(tdm_core::eval::evaluate_value(&pack, &sample)).unwrap();
        let errors: Vec<String> = results
            .iter_errors(&result)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
    // An error result is valid too, and a sample without a unit is not.
    let bad = serde_json::json!({"id": "x", "drug": "imatinib", "value": 1});
    assert!(!samples.is_valid(&bad));
    let error = serde_json::to_value(tdm_core::eval::evaluate_value(&pack, &bad)).unwrap();
    assert!(results.is_valid(&error), "{error}");
}

/// A strict validator compiles every schema: no format outside those the
/// standard defines (schemars' `double` and `uint8` are dropped), as Ajv
/// in strict mode asks.
#[test]
fn every_schema_compiles_in_a_strict_validator() {
    for entry in fs::read_dir(root().join("schemas")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let schema: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let built = jsonschema::options()
            .should_validate_formats(true)
            .should_ignore_unknown_formats(false)
            .build(&schema);
        assert!(built.is_ok(), "{}: {:?}", path.display(), built.err());
    }
}
