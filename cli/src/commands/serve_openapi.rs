//! `/openapi.json`: docs/openapi.yaml as one self-contained OpenAPI 3.1
//! document. The YAML refers to the JSON Schemas beside it
//! (`../schemas/sample.schema.json`) so that an editor resolves them; the
//! served document holds them as components instead (`Sample`, `Result`),
//! their draft-07 `definitions` hoisted into `components/schemas`, so a
//! client needs nothing else.

use serde_json::{Map, Value};

/// The document, built once at start.
pub(crate) fn document() -> Result<Value, String> {
    let text = include_str!("../../../docs/openapi.yaml");
    let mut doc =
        tdm_core::pack::yaml_to_json(text, "docs/openapi.yaml").map_err(|p| p.to_string())?;
    let mut components = Map::new();
    for (file, name) in [
        ("sample.schema.json", "Sample"),
        ("result.schema.json", "Result"),
    ] {
        let schema = tdm_core::tools::schemas()
            .into_iter()
            .find(|(f, _)| *f == file)
            .map(|(_, s)| s)
            .ok_or_else(|| format!("no schema {file}"))?;
        bundle(name, schema, &mut components);
        replace_ref(
            &mut doc,
            &format!("../schemas/{file}"),
            &format!("#/components/schemas/{name}"),
        );
    }
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or("docs/openapi.yaml has no components/schemas")?;
    schemas.extend(components);
    Ok(doc)
}

/// Adds `schema` as `name`, and its definitions beside it.
fn bundle(name: &str, mut schema: Value, into: &mut Map<String, Value>) {
    replace_prefix(&mut schema, "#/definitions/", "#/components/schemas/");
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        if let Some(Value::Object(definitions)) = object.remove("definitions") {
            // The two schemas share definitions only where they are the
            // same type (`Matrix`): one copy serves both.
            into.extend(definitions);
        }
    }
    into.insert(name.to_owned(), schema);
}

fn replace_ref(value: &mut Value, from: &str, to: &str) {
    walk(value, &mut |r| {
        if r == from {
            *r = to.to_owned();
        }
    });
}

fn replace_prefix(value: &mut Value, from: &str, to: &str) {
    walk(value, &mut |r| {
        if let Some(rest) = r.strip_prefix(from) {
            *r = format!("{to}{rest}");
        }
    });
}

/// Calls `f` on every `$ref` string.
fn walk(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(r) if key == "$ref" => f(r),
                    _ => walk(item, f),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, f)),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn the_document_is_whole() {
        let doc = super::document().unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let text = doc.to_string();
        assert!(!text.contains("../schemas/") && !text.contains("#/definitions/"));
        assert!(
            doc.pointer("/components/schemas/Result/properties/pack")
                .is_some()
        );
        assert!(doc.pointer("/components/schemas/Matrix").is_some());
    }
}
