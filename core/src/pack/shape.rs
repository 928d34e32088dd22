//! The shape check: a pack file's located YAML tree against the JSON Schema
//! generated from the raw types. Unlike deserialization, which stops at the
//! first mistake, it reports every unknown key (with a did-you-mean), every
//! missing key, every wrong type and every value outside an enumeration,
//! each at its line and column.

use serde_json::Value;

use crate::pack::error::Position;
use crate::pack::yaml::{Node, Spanned};

/// One shape problem: where, what, and how to fix it.
pub(crate) struct ShapeProblem {
    pub position: Position,
    pub message: String,
    pub help: Option<String>,
}

/// Checks `node` against `schema` (a root schema with `definitions`).
pub(crate) fn check(node: &Spanned<Node>, schema: &Value) -> Vec<ShapeProblem> {
    let mut walker = Walker {
        root: schema,
        out: Vec::new(),
    };
    if matches!(node.value, Node::Null) {
        walker.report(
            node.position,
            "the file is empty".into(),
            Some(format!(
                "it must be a mapping with the keys {}",
                keys(resolve(schema, schema))
            )),
        );
        return walker.out;
    }
    walker.walk(node, schema, "");
    walker.out
}

struct Walker<'a> {
    root: &'a Value,
    out: Vec<ShapeProblem>,
}

fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    // References are local (`#/definitions/Name`); a bounded loop guards a cycle.
    for _ in 0..16 {
        let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let name = reference.trim_start_matches("#/definitions/");
        match root.get("definitions").and_then(|d| d.get(name)) {
            Some(s) => schema = s,
            None => break,
        }
    }
    schema
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn admits(node: &Node, ty: &str) -> bool {
    match (node, ty) {
        (Node::Null, "null") | (Node::Bool(_), "boolean") | (Node::String(_), "string") => true,
        (Node::Seq(_), "array") | (Node::Map(_), "object") => true,
        (Node::Number(_), "number") => true,
        (Node::Number(n), "integer") => n.fract() == 0.0,
        _ => false,
    }
}

fn type_name(ty: &str) -> &str {
    match ty {
        "string" => "text",
        "number" => "a number",
        "integer" => "a whole number",
        "boolean" => "true or false",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "empty",
        other => other,
    }
}

fn show(node: &Node) -> String {
    match node {
        Node::String(s) => format!("text `{}`", s.chars().take(40).collect::<String>()),
        Node::Number(n) => format!("the number {n}"),
        Node::Bool(b) => format!("`{b}`"),
        other => other.kind().to_owned(),
    }
}

fn keys(schema: &Value) -> String {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

fn at(path: &str) -> String {
    if path.is_empty() {
        "the file".into()
    } else {
        format!("`{path}`")
    }
}

/// The allowed values of an enumeration schema (`enum`, or `oneOf` of `const`s).
fn allowed(schema: &Value, root: &Value) -> Option<Vec<String>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        );
    }
    let branches = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))?
        .as_array()?;
    let mut out = Vec::new();
    for b in branches {
        let b = resolve(root, b);
        if let Some(c) = b.get("const").and_then(Value::as_str) {
            out.push(c.to_owned());
        } else if let Some(values) = b.get("enum").and_then(Value::as_array) {
            out.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
        } else if types(b) == ["null"] {
            continue;
        } else {
            return None;
        }
    }
    Some(out)
}

impl Walker<'_> {
    fn report(&mut self, position: Position, message: String, help: Option<String>) {
        self.out.push(ShapeProblem {
            position,
            message,
            help,
        });
    }

    fn walk(&mut self, node: &Spanned<Node>, schema: &Value, path: &str) {
        let schema = resolve(self.root, schema);
        // Draft-07 ignores keywords beside `$ref`, so a documented reference
        // is written `{"allOf": [{"$ref": ...}], "description": ...}`.
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for part in all {
                self.walk(node, part, path);
            }
            return;
        }
        if let Some(values) = allowed(schema, self.root) {
            if matches!(node.value, Node::Null)
                && schema
                    .get("oneOf")
                    .or_else(|| schema.get("anyOf"))
                    .is_some_and(|b| {
                        b.as_array().is_some_and(|bs| {
                            bs.iter().any(|x| types(resolve(self.root, x)) == ["null"])
                        })
                    })
            {
                return;
            }
            let given = match &node.value {
                Node::String(s) => s.clone(),
                other => {
                    self.report(
                        node.position,
                        format!(
                            "{} must be one of {}, got {}",
                            at(path),
                            values.join(", "),
                            show(other)
                        ),
                        None,
                    );
                    return;
                }
            };
            if !values.contains(&given) {
                let hint = crate::suggest(&given, values.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                self.report(
                    node.position,
                    format!(
                        "{} must be one of {}, got `{given}`",
                        at(path),
                        values.join(", ")
                    ),
                    hint,
                );
            }
            return;
        }
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            let mut fitting = None;
            for b in branches {
                let b = resolve(self.root, b);
                let mut trial = Walker {
                    root: self.root,
                    out: Vec::new(),
                };
                trial.walk(node, b, path);
                if trial.out.is_empty() {
                    return;
                }
                if fitting.is_none() && types(b).iter().any(|t| admits(&node.value, t)) {
                    fitting = Some(trial.out);
                }
            }
            match fitting {
                Some(problems) => self.out.extend(problems),
                None => {
                    let expected: Vec<&str> = branches
                        .iter()
                        .flat_map(|b| types(resolve(self.root, b)))
                        .filter(|t| *t != "null")
                        .map(type_name)
                        .collect();
                    self.report(
                        node.position,
                        format!(
                            "{} must be {}, got {}",
                            at(path),
                            expected.join(" or "),
                            show(&node.value)
                        ),
                        None,
                    );
                }
            }
            return;
        }
        let tys = types(schema);
        if !tys.is_empty() && !tys.iter().any(|t| admits(&node.value, t)) {
            let expected: Vec<&str> = tys
                .iter()
                .filter(|t| **t != "null")
                .map(|t| type_name(t))
                .collect();
            let scalar = !matches!(node.value, Node::Map(_) | Node::Seq(_) | Node::Null);
            let help = (tys.contains(&"string") && scalar)
                .then(|| "write it in quotes to make it text, e.g. \"1.0.0\"".to_owned());
            self.report(
                node.position,
                format!(
                    "{} must be {}, got {}",
                    at(path),
                    expected.join(" or "),
                    show(&node.value)
                ),
                help,
            );
            return;
        }
        match &node.value {
            Node::Number(n) => self.number(node.position, *n, schema, path),
            Node::Map(entries) => self.map(node.position, entries, schema, path),
            Node::Seq(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.walk(item, item_schema, &format!("{path}[{i}]"));
                    }
                }
            }
            _ => {}
        }
    }

    fn number(&mut self, position: Position, n: f64, schema: &Value, path: &str) {
        if let Some(min) = schema
            .get("minimum")
            .and_then(Value::as_f64)
            .filter(|m| n < *m)
        {
            self.report(
                position,
                format!("{} must be at least {min}, got {n}", at(path)),
                None,
            );
        }
        if let Some(max) = schema
            .get("maximum")
            .and_then(Value::as_f64)
            .filter(|m| n > *m)
        {
            self.report(
                position,
                format!("{} must be at most {max}, got {n}", at(path)),
                None,
            );
        }
    }

    fn map(
        &mut self,
        position: Position,
        entries: &[(Spanned<String>, Spanned<Node>)],
        schema: &Value,
        path: &str,
    ) {
        let empty = serde_json::Map::new();
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        let join = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            }
        };
        for (key, value) in entries {
            match properties.get(&key.value) {
                Some(property) => self.walk(value, property, &join(&key.value)),
                None if closed => {
                    let hint = crate::suggest(&key.value, properties.keys().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                    self.report(
                        key.position,
                        format!("unknown key `{}` in {}", key.value, at(path)),
                        Some(format!("{hint}allowed keys: {}", keys(schema))),
                    );
                }
                None => {
                    if let Some(extra) =
                        schema.get("additionalProperties").filter(|v| v.is_object())
                    {
                        self.walk(value, extra, &join(&key.value));
                    }
                }
            }
        }
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = required.as_str() else {
                continue;
            };
            if !entries.iter().any(|(k, _)| k.value == name) {
                let about = properties
                    .get(name)
                    .map(|p| resolve(self.root, p))
                    .and_then(|p| p.get("description"))
                    .and_then(Value::as_str)
                    .map(|d| format!(": {}", d.lines().next().unwrap_or_default()))
                    .unwrap_or_default();
                self.report(
                    position,
                    format!("missing key `{name}` in {}", at(path)),
                    Some(format!("add `{name}`{about}")),
                );
            }
        }
    }
}
