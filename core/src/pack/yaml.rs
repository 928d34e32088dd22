//! The one place that knows which YAML crate reads packs (serde-saphyr).
//!
//! Everything else asks this module for a typed value, for a [`Node`] tree
//! that keeps the line and column of every value (for the shape check), or
//! for a plain `serde_json::Value` (for the content digest), and gets parse
//! errors as [`Problem`]s with file, line and column.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::pack::error::{Position, Problem, ProblemKind};

/// The largest pack file read (a drug file is a few kilobytes). Larger files
/// are refused before they are read.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A value read from YAML together with where it stood.
#[derive(Debug, Clone)]
pub(crate) struct Spanned<T> {
    pub value: T,
    pub position: Position,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        Ok(Spanned {
            position: Position {
                line: s.referenced.line(),
                column: s.referenced.column(),
            },
            value: s.value,
        })
    }
}

// The schema of a located value is the schema of the value.
impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// Parser settings shared by every pack file. Duplicate keys are errors (a
/// second `lower:` silently winning is a clinical error), and the budget is
/// sized for pack files, far below the crate's defaults, so that an alias
/// bomb or a deeply nested document is refused quickly in little memory.
fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(MAX_FILE_BYTES as usize);
    budget.max_events = 200_000;
    budget.max_nodes = 100_000;
    budget.max_depth = 32;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_total_scalar_bytes = 4 * 1024 * 1024;
    let mut aliases = serde_saphyr::options::AliasLimits::default();
    aliases.max_total_replayed_events = 20_000;
    aliases.max_alias_expansions_per_anchor = 100;
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    options.budget = Some(budget);
    options.alias_limits = aliases;
    options
}

/// Parses `text` (the contents of `file`) into `T`.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, Box<Problem>> {
    serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| Box::new(problem(&e, text, file)))
}

/// A YAML value with the position of every node.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "nothing (null)",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::String(_) => "text",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The plain value, for the digest.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Node::String(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(|i| i.value.to_json()).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.value.to_json()))
                    .collect(),
            ),
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Number(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
        Ok(Node::Number(n))
    }
    fn visit_str<E>(self, s: &str) -> Result<Node, E> {
        Ok(Node::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Node, E> {
        Ok(Node::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// Parses `text` into a located tree. An empty file is a `Null` node.
pub(crate) fn parse_node(text: &str, file: &str) -> Result<Spanned<Node>, Box<Problem>> {
    if text.trim().is_empty() {
        return Ok(Spanned {
            value: Node::Null,
            position: Position { line: 1, column: 1 },
        });
    }
    parse(text, file)
}

fn problem(error: &serde_saphyr::Error, text: &str, file: &str) -> Problem {
    let position = error
        .location()
        .map(|l| Position {
            line: l.line(),
            column: l.column(),
        })
        .unwrap_or_default();
    let full = error.to_string();
    let first = full.lines().next().unwrap_or(&full).trim();
    let message = if first.contains("duplicate mapping key") {
        let key = first
            .split("duplicate mapping key:")
            .nth(1)
            .and_then(|k| k.split(',').next())
            .unwrap_or("")
            .trim();
        format!("duplicate key `{key}`")
    } else if first.contains("alias replay limit")
        || first.contains("alias") && first.contains("limit")
    {
        "too many alias expansions: the document expands far beyond its size (an alias bomb?)"
            .to_owned()
    } else if first.contains("recursion limit") || first.contains("depth") {
        "the document is nested too deeply".to_owned()
    } else {
        // The position is reported separately; drop the crate's own copy of it.
        match first.find(" at line ") {
            Some(i) => first[..i].to_owned(),
            None => first.to_owned(),
        }
    };
    let help = help_for(&message);
    let mut p = Problem::new(ProblemKind::Syntax, file, position, message);
    p.help = help;
    p.text = Some(Arc::from(text));
    p
}

/// A fix for the commonest syntax mistakes.
fn help_for(message: &str) -> Option<String> {
    let m = message.to_lowercase();
    if m.starts_with("duplicate key") {
        Some("each key may appear once per mapping; remove one of them".into())
    } else if m.contains("tabs") {
        Some("indent with spaces: YAML does not allow tabs for indentation".into())
    } else if m.contains("alias") || m.contains("nested too deeply") {
        Some("pack files are small and plain: write the values out instead of anchors and aliases, and keep nesting shallow".into())
    } else if m.contains("indent")
        || m.contains("mapping values are not allowed")
        || m.contains("did not find expected")
    {
        Some(
            "check the indentation: keys of one mapping line up, list items start with `- `".into(),
        )
    } else if m.contains("placement") || m.contains("unclosed") || m.contains("flow") {
        Some("check brackets and quotes: every `[` and `{` needs its closing `]` and `}`".into())
    } else {
        None
    }
}

/// Where a spanned value stood.
pub(crate) fn position<T>(spanned: &Spanned<T>) -> Position {
    spanned.position
}

/// Reads YAML text as a plain JSON value, with the pack loader's limits.
pub fn to_json_value(text: &str, file: &str) -> Result<serde_json::Value, Problem> {
    parse_node(text, file)
        .map(|n| n.value.to_json())
        .map_err(|p| *p)
}
