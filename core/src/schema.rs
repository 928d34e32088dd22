//! JSON Schemas (draft-07, which the YAML language server and most editors
//! support) generated from the Rust types, so that the schemas an editor
//! checks against are the types the loader reads.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

use crate::raw::{RawCaseFile, RawDrug, RawManifest};
use crate::result::EvalResult;
use crate::sample::SampleInput;

/// The schemas, by file name: `pack`, `drug`, `tests` for pack files;
/// `sample` and `result` for the evaluation contracts.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "pack.schema.json",
            generate::<RawManifest>("TDM rule pack manifest (pack.yaml)"),
        ),
        (
            "drug.schema.json",
            generate::<RawDrug>("TDM drug rule (drugs/<drug>.yaml)"),
        ),
        (
            "tests.schema.json",
            generate::<RawCaseFile>("TDM pack test cases (tests/<name>.yaml)"),
        ),
        (
            "sample.schema.json",
            generate::<SampleInput>("TDM sample (input contract)"),
        ),
        (
            "result.schema.json",
            generate::<EvalResult>("TDM evaluation result"),
        ),
    ]
}

/// The schema a pack file is checked against, by its place in the pack;
/// generated once per process.
pub(crate) fn for_file(file: &str) -> &'static serde_json::Value {
    static SCHEMAS: OnceLock<[serde_json::Value; 3]> = OnceLock::new();
    let [manifest, drug, cases] = SCHEMAS.get_or_init(|| {
        [
            generate::<RawManifest>(""),
            generate::<RawDrug>(""),
            generate::<RawCaseFile>(""),
        ]
    });
    if file == "pack.yaml" {
        manifest
    } else if file.starts_with("tests/") {
        cases
    } else {
        drug
    }
}

fn generate<T: JsonSchema>(title: &str) -> serde_json::Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema: Schema = generator.into_root_schema_for::<T>();
    if !title.is_empty() {
        schema.insert("title".into(), title.into());
    }
    schema.to_value()
}
