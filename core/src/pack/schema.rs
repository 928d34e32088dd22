//! JSON Schemas of pack files (draft-07, which the YAML language server and most editors
//! support) generated from the Rust types, so that the schemas an editor
//! checks against are the types the loader reads.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

use crate::pack::raw::{RawDrug, RawManifest};
use crate::pack::raw_codes::RawCodes;

/// The schema a pack file is checked against, by its place in the pack;
/// generated once per process.
pub(crate) fn for_file(file: &str) -> &'static serde_json::Value {
    static SCHEMAS: OnceLock<[serde_json::Value; 3]> = OnceLock::new();
    let [manifest, drug, codes] = SCHEMAS.get_or_init(|| {
        [
            generate::<RawManifest>(""),
            generate::<RawDrug>(""),
            generate::<RawCodes>(""),
        ]
    });
    if file == "pack.yaml" {
        manifest
    } else if file.starts_with("codes/") {
        codes
    } else {
        drug
    }
}

/// The manifest of a pack that extends another: `extends` and `disable`
/// added; only the identity and `extends` required; `policy` may give some
/// keys only (each replaces the base's).
pub(crate) fn overlay_manifest() -> serde_json::Value {
    let mut schema = generate::<RawManifest>("TDM overlay pack manifest (pack.yaml with extends)");
    let root = schema.as_object_mut();
    if let Some(root) = root {
        root.insert(
            "required".into(),
            serde_json::json!(["name", "version", "title", "extends"]),
        );
        if let Some(props) = root.get_mut("properties").and_then(|p| p.as_object_mut()) {
            props.insert(
                "extends".into(),
                serde_json::json!({
                    "description": "The base pack: its directory relative to this pack, and the versions accepted (`1.2.3`, `^1.2`, `~1.2.3`, `>=1.2.0`).",
                    "type": "object",
                    "properties": {"pack": {"type": "string"}, "version": {"type": "string"}},
                    "required": ["pack"],
                    "additionalProperties": false
                }),
            );
            props.insert(
                "disable".into(),
                serde_json::json!({
                    "description": "Drugs of the base not used in this pack.",
                    "type": "array",
                    "items": {"type": "string"}
                }),
            );
        }
        if let Some(policy) = root
            .get_mut("definitions")
            .and_then(|d| d.get_mut("RawPolicy"))
            .and_then(|p| p.as_object_mut())
        {
            policy.remove("required");
        }
    }
    schema
}

/// A drug file of an overlay: any top-level key of a drug file, each
/// replacing the base's; only `drug` required.
pub(crate) fn drug_override() -> serde_json::Value {
    let mut schema = generate::<RawDrug>("TDM drug override (drugs/<drug>.yaml of an overlay)");
    if let Some(root) = schema.as_object_mut() {
        root.insert("required".into(), serde_json::json!(["drug"]));
    }
    schema
}

pub(crate) fn generate<T: JsonSchema>(title: &str) -> serde_json::Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema: Schema = generator.into_root_schema_for::<T>();
    if !title.is_empty() {
        schema.insert("title".into(), title.into());
    }
    schema.to_value()
}
