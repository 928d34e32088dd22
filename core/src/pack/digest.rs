//! The content digest: sha256 over a canonical form of the pack that does
//! not depend on formatting, key order, comments or how a number is written.

use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// `sha256:<hex>` of the canonical form of `(file name, content)` pairs.
pub(crate) fn digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a Value)>) -> String {
    let mut files: Vec<_> = files.into_iter().collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let mut canonical = String::new();
    for (name, value) in files {
        write_string(&mut canonical, name);
        canonical.push('=');
        write_value(&mut canonical, value);
        canonical.push('\n');
    }
    let hash = Sha256::digest(canonical.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in hash {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // 18, 18.0 and 1.8e1 are the same clinical number.
        Value::Number(n) => {
            let _ = write!(out, "{}", n.as_f64().unwrap_or(f64::NAN));
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    // serde_json's escaping is canonical for a given string.
    out.push_str(&Value::String(s.to_owned()).to_string());
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::digest;

    #[test]
    fn key_order_and_number_spelling_do_not_matter() {
        let a = json!({"lower": 1000, "unit": "ng/mL"});
        let b = json!({"unit": "ng/mL", "lower": 1000.0});
        assert_eq!(digest([("x", &a)]), digest([("x", &b)]));
    }

    #[test]
    fn a_changed_value_changes_the_digest() {
        let a = json!({"lower": 1000});
        let b = json!({"lower": 1100});
        assert_ne!(digest([("x", &a)]), digest([("x", &b)]));
        assert!(digest([("x", &a)]).starts_with("sha256:"));
    }
}
