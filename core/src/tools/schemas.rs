//! The JSON Schemas of every contract: pack files, test cases, samples and
//! results, generated from the Rust types the loader and writers use.

use crate::input::SampleInput;
use crate::pack::raw::{RawDrug, RawManifest};
use crate::result::EvalResult;
use crate::tools::cases::RawCaseFile;

/// The schemas, by file name: `pack`, `drug`, `tests` for pack files;
/// `sample` and `result` for the evaluation contracts.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "pack.schema.json",
            crate::pack::schema::generate::<RawManifest>("TDM rule pack manifest (pack.yaml)"),
        ),
        (
            "drug.schema.json",
            crate::pack::schema::generate::<RawDrug>("TDM drug rule (drugs/<drug>.yaml)"),
        ),
        (
            "overlay.schema.json",
            crate::pack::schema::overlay_manifest(),
        ),
        (
            "drug-override.schema.json",
            crate::pack::schema::drug_override(),
        ),
        (
            "tests.schema.json",
            crate::pack::schema::generate::<RawCaseFile>("TDM pack test cases (tests/<name>.yaml)"),
        ),
        (
            "sample.schema.json",
            crate::pack::schema::generate::<SampleInput>("TDM sample (input contract)"),
        ),
        (
            "result.schema.json",
            crate::pack::schema::generate::<EvalResult>("TDM evaluation result"),
        ),
    ]
}
