//! The service's log on standard error: a line per request and per event,
//! as text for a person or as JSON lines for a log collector
//! (`--log-format json`). Never sample values or patient identifiers; sample
//! ids only with `--log-ids`.

use std::sync::OnceLock;

use clap::ValueEnum;
use serde_json::{Value, json};

/// How the service writes its log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// `POST /v1/evaluate 200 0.6 ms`: for a person.
    #[default]
    Text,
    /// One JSON object a line with `time`, `level`, `event` and its fields.
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Sets the format once, at start.
pub(crate) fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// One request: its method, path, status, time taken and, for a refusal,
/// why; the caller and the decision id when known.
pub(crate) struct RequestLine<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub ms: Option<f64>,
    pub why: Option<&'a str>,
    pub caller: Option<&'a str>,
    pub decision_id: Option<&'a str>,
}

/// Logs a request.
pub(crate) fn request(line: &RequestLine<'_>) {
    match format() {
        LogFormat::Text => {
            let mut text = format!("{} {} {}", line.method, line.path, line.status);
            if let Some(ms) = line.ms {
                text.push_str(&format!(" {ms:.1} ms"));
            }
            if let Some(why) = line.why {
                text.push_str(&format!(" ({why})"));
            }
            if let Some(id) = line.decision_id {
                text.push_str(&format!(" decision {id}"));
            }
            eprintln!("{text}");
        }
        LogFormat::Json => emit(
            if line.status >= 500 { "error" } else { "info" },
            "request",
            json!({
                "method": line.method,
                "path": line.path,
                "status": line.status,
                "ms": line.ms.map(|ms| (ms * 1000.0).round() / 1000.0),
                "why": line.why,
                "caller": line.caller,
                "decision_id": line.decision_id,
            }),
        ),
    }
}

/// Logs an event (`start`, `reload`, `stop`, ...) with a sentence and fields.
pub(crate) fn event(level: &str, event: &str, message: &str, fields: Value) {
    match format() {
        LogFormat::Text => eprintln!("{message}"),
        LogFormat::Json => {
            let mut fields = fields;
            if let Some(map) = fields.as_object_mut() {
                map.insert("message".into(), Value::String(message.to_owned()));
            }
            emit(level, event, fields);
        }
    }
}

fn emit(level: &str, event: &str, fields: Value) {
    let mut line = json!({
        "time": jiff::Timestamp::now().round(jiff::Unit::Millisecond).map(|t| t.to_string()).unwrap_or_default(),
        "level": level,
        "event": event,
    });
    if let (Some(map), Value::Object(more)) = (line.as_object_mut(), fields) {
        map.extend(more.into_iter().filter(|(_, v)| !v.is_null()));
    }
    eprintln!("{line}");
}
