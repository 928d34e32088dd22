//! The one place that knows which YAML crate reads packs (serde-saphyr).
//!
//! Everything else asks this module for a typed value or for a plain
//! `serde_json::Value` (used for the content digest), and gets parse errors
//! as [`Problem`]s with file, line and column.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::error::{Position, Problem};

/// A value read from YAML together with where it stood.
pub use serde_saphyr::Spanned;

/// Parser settings shared by every pack file: duplicate keys are errors
/// (a second `lower:` silently winning is a clinical error), and the
/// default budget bounds alias expansion and nesting.
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    options
}

/// Parses `text` (the contents of `file`) into `T`.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, Box<Problem>> {
    serde_saphyr::from_str_with_options(text, options())
        .map_err(|e| Box::new(problem(&e, text, file)))
}

/// Parses `text` into a plain JSON value (for canonical digests).
pub(crate) fn parse_value(text: &str, file: &str) -> Result<serde_json::Value, Box<Problem>> {
    parse(text, file)
}

/// Where a spanned value stood.
pub(crate) fn position<T>(spanned: &Spanned<T>) -> Position {
    Position {
        line: spanned.referenced.line(),
        column: spanned.referenced.column(),
    }
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
    // The crate's message may repeat the location; keep the first line,
    // which is the reason.
    let first = full.lines().next().unwrap_or(&full).trim();
    // The position is reported separately; drop the crate's own copy of it.
    let message = match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    };
    let help = help_for(&message);
    let mut p = Problem::new(file, position, message);
    p.help = help;
    p.text = Some(Arc::from(text));
    p
}

/// A fix for the commonest authoring mistakes.
fn help_for(message: &str) -> Option<String> {
    if message.contains("unknown field") {
        Some("remove the key or correct its spelling; docs/packs.md lists every key".into())
    } else if message.contains("duplicate") {
        Some("each key may appear once per mapping; remove one of them".into())
    } else if message.contains("missing field") {
        Some("add the required key".into())
    } else {
        None
    }
}
