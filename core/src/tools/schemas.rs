//! The JSON Schemas of every contract: pack files, test cases, samples and
//! results, generated from the Rust types the loader and writers use.

use crate::input::SampleInput;
use crate::pack::raw::{RawDrug, RawManifest, RawSignatures};
use crate::result::EvalResult;
use crate::tools::cases::RawCaseFile;

/// The schemas, by file name: `pack`, `drug`, `tests`, `signatures` for pack files;
/// `sample` and `result` for the evaluation contracts.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    let mut all = vec![
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
            "codes.schema.json",
            crate::pack::schema::generate::<crate::pack::raw_codes::RawCodes>(
                "TDM code maps (codes/<name>.yaml)",
            ),
        ),
        (
            "tests.schema.json",
            crate::pack::schema::generate::<RawCaseFile>("TDM pack test cases (tests/<name>.yaml)"),
        ),
        (
            "signatures.schema.json",
            crate::pack::schema::generate::<RawSignatures>(
                "Approvers' signatures of a TDM rule pack (signatures.yaml)",
            ),
        ),
        (
            "sample.schema.json",
            crate::pack::schema::generate::<SampleInput>("TDM sample (input contract)"),
        ),
        (
            "result.schema.json",
            crate::pack::schema::generate::<EvalResult>("TDM evaluation result"),
        ),
    ];
    for (_, schema) in &mut all {
        standard_formats(schema);
    }
    all
}

/// The formats JSON Schema draft-07 defines (§7.3).
const DRAFT_07_FORMATS: [&str; 17] = [
    "date-time",
    "date",
    "time",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Drops the formats schemars adds that the standard does not define
/// (`double`, `uint8`, ...): strict validators (Ajv) refuse a schema with an
/// unknown format. Their ranges stay as `minimum` and `maximum`.
fn standard_formats(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map
                .get("format")
                .and_then(|f| f.as_str())
                .is_some_and(|f| !DRAFT_07_FORMATS.contains(&f))
            {
                map.remove("format");
            }
            map.values_mut().for_each(standard_formats);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(standard_formats),
        _ => {}
    }
}
