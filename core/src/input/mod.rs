//! Streaming batch input: a JSON array (or one object), NDJSON, or CSV.
//! Records are handed to a callback one at a time, in order, so memory does
//! not grow with the number of records. A record that cannot be read
//! becomes an error record with its line; only a JSON array whose own
//! structure breaks (unclosed, an element missing between commas) stops the
//! stream: nothing after the break can be delimited.

pub(crate) mod clinical;
pub(crate) mod contract;
mod csv_split;
pub mod doses;
pub(crate) mod fields;
mod json_split;
pub(crate) mod sample;
pub(crate) mod strict;
pub(crate) mod time;
pub(crate) mod units;

pub use contract::SampleInput;
pub use fields::Cells;
pub use sample::{Comedication, FIELDS, METABOLITE_COLUMN_PREFIX, Matrix, Sample, SampleError};
pub use time::{parse as parse_date_time, rfc3339, today};
pub use units::{Quantity, Unit, UnitError};

use crate::result::ErrorCode;
use std::io::{self, BufRead};
use std::sync::Arc;

use serde_json::Value;

use crate::input::fields::CsvHeader;

/// The largest record read: a sample is a few hundred bytes. A longer
/// record (NDJSON line, CSV record, JSON array element) is an error record,
/// skipped without being held in memory, and the input goes on.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A JSON array of sample objects, or a single object.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A header row of contract field names, then one sample per row.
    Csv,
    /// A FHIR R4 JSON Bundle or resource: one sample per drug-level
    /// Observation, read through the pack's code maps.
    Fhir,
    /// HL7 v2.5.1 ORU^R01 messages: one sample per drug-level OBX.
    Hl7,
}

impl InputFormat {
    /// The format a file name implies (`.json`, `.ndjson`/`.jsonl`, `.csv`).
    pub fn from_path(path: &str) -> Option<InputFormat> {
        let lower = path.to_lowercase();
        if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
            Some(InputFormat::Ndjson)
        } else if lower.ends_with(".json") {
            Some(InputFormat::Json)
        } else if lower.ends_with(".csv") {
            Some(InputFormat::Csv)
        } else if lower.ends_with(".hl7") {
            Some(InputFormat::Hl7)
        } else {
            None
        }
    }
}

impl InputFormat {
    /// A JSON document's format from its first bytes: a FHIR resource (an
    /// object whose `resourceType` appears there) or samples.
    pub fn sniff_json(head: &[u8]) -> InputFormat {
        let text = String::from_utf8_lossy(head);
        let body = text.trim_start_matches('\u{feff}').trim_start();
        if body.starts_with('{') && body.contains("\"resourceType\"") {
            InputFormat::Fhir
        } else {
            InputFormat::Json
        }
    }
}

/// One input record.
#[derive(Debug, Clone)]
pub struct Record {
    /// 1-based position in the input.
    pub index: usize,
    /// Line of the record (for a JSON array: the line where it ends).
    pub line: u64,
    /// The sample, or why it could not be read.
    pub sample: Result<Sample, SampleError>,
}

/// The input as a whole could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InputError {
    /// Reading failed.
    #[error("cannot read the input: {0}")]
    #[diagnostic(code(tdm::input::io))]
    Io(#[from] io::Error),
    /// The JSON document is broken at this position; records after it are unknown.
    #[error("the JSON input is malformed at line {line}, column {column}: {message}")]
    #[diagnostic(
        code(tdm::input::json),
        help("records before this point were evaluated; fix the file and run it again")
    )]
    Json {
        /// Line of the break.
        line: usize,
        /// Column of the break.
        column: usize,
        /// serde_json's reason.
        message: String,
    },
    /// The CSV has no usable header row (missing, empty, or a column named twice).
    #[error("the CSV header row cannot be used: {0}")]
    #[diagnostic(
        code(tdm::input::csv),
        help("the first row names the fields: drug,value,unit,...")
    )]
    CsvHeader(String),
    /// A FHIR document or HL7 message stream that cannot be read as a whole.
    #[error("{0}")]
    #[diagnostic(code(tdm::input::document))]
    Document(String),
    /// The callback asked to stop (for example, output failed).
    #[error("stopped: {0}")]
    Stopped(io::Error),
}

/// Reads every record of `input` and hands each to `each`, in order. FHIR
/// and HL7 input are read through `pack`'s code maps; the other formats
/// do not use it.
pub fn read_records<R: BufRead>(
    input: R,
    format: InputFormat,
    pack: &crate::Pack,
    mut each: impl FnMut(Record) -> io::Result<()>,
) -> Result<(), InputError> {
    read_raw_records(input, format, pack, |raw| each(raw.check()))
}

/// Splits `input` into records, in order, without checking their fields:
/// splitting is sequential, but [`RawRecord::check`] can then run on
/// several threads. [`read_records`] is both steps in one.
pub fn read_raw_records<R: BufRead>(
    input: R,
    format: InputFormat,
    pack: &crate::Pack,
    mut each: impl FnMut(RawRecord) -> io::Result<()>,
) -> Result<(), InputError> {
    match format {
        InputFormat::Ndjson => ndjson(input, &mut each),
        InputFormat::Csv => csv_split::csv_records(input, &mut each),
        InputFormat::Json => json(input, &mut each),
        InputFormat::Fhir => mapped(input, pack, &mut each, crate::interop::fhir::read),
        InputFormat::Hl7 => mapped(input, pack, &mut each, crate::interop::hl7::read),
    }
}

/// The function that reads a FHIR document or HL7 messages.
type MapReader<R> = fn(
    R,
    &crate::Pack,
    &mut dyn FnMut(crate::interop::Mapped) -> io::Result<()>,
) -> Result<(), InputError>;

fn mapped<R: BufRead>(
    input: R,
    pack: &crate::Pack,
    each: &mut dyn FnMut(RawRecord) -> io::Result<()>,
    read: MapReader<R>,
) -> Result<(), InputError> {
    let mut index = 0;
    read(input, pack, &mut |m| {
        index += 1;
        each(RawRecord::new(index, m.line, Body::Mapped(Box::new(m))))
    })
}

/// One record as split from the input, its fields not yet checked.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// 1-based position in the input.
    pub index: usize,
    /// Line of the record.
    pub line: u64,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    /// An NDJSON line (trimmed, not empty).
    Line(String),
    /// A CSV row and the header that names its cells.
    Row {
        header: Arc<CsvHeader>,
        row: csv::StringRecord,
    },
    /// A JSON array element (or the lone object), not yet parsed.
    Json(Vec<u8>),
    /// A FHIR or HL7 result read into a contract sample.
    Mapped(Box<crate::interop::Mapped>),
    /// Could not be split out as a record: why.
    Unreadable(String),
}

impl RawRecord {
    fn new(index: usize, line: u64, body: Body) -> Self {
        RawRecord { index, line, body }
    }

    /// The record as it was given, for an audit log: an NDJSON line or a
    /// JSON element as its text (invalid UTF-8 replaced), a CSV row as a
    /// JSON object of its header's names and its cells.
    pub fn as_given(&self) -> String {
        match &self.body {
            Body::Line(text) => text.clone(),
            Body::Json(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            Body::Row { header, row } => {
                let cells: serde_json::Map<String, serde_json::Value> = header
                    .names()
                    .iter()
                    .zip(row.iter())
                    .map(|(name, cell)| (name.clone(), serde_json::Value::String(cell.to_owned())))
                    .collect();
                serde_json::Value::Object(cells).to_string()
            }
            Body::Mapped(m) => m.given.clone(),
            Body::Unreadable(why) => why.clone(),
        }
    }

    /// A FHIR or HL7 result as the contract sample it was read into
    /// (before the contract's checks), or why it could not be; None for
    /// the other formats, whose records are contract samples already.
    pub fn mapped(&self) -> Option<Result<&serde_json::Map<String, Value>, &SampleError>> {
        match &self.body {
            Body::Mapped(m) => Some(m.sample.as_ref()),
            _ => None,
        }
    }

    /// Checks the fields: the sample, or the error that replaces it.
    pub fn check(self) -> Record {
        let RawRecord { index, line, body } = self;
        match body {
            Body::Line(text) => match crate::input::strict::from_str(&text) {
                Ok(v) => record_from_value(index, line, v),
                Err(e) => unreadable(
                    index,
                    line,
                    format!(
                        "line {line} is not valid JSON (column {}): {}",
                        e.column(),
                        strip_position(&e.to_string())
                    ),
                ),
            },
            Body::Row { header, row } => Record {
                index,
                line,
                sample: Sample::from_row(&header, &row),
            },
            Body::Json(bytes) => json_element(index, line, &bytes),
            Body::Mapped(m) => Record {
                index,
                line,
                sample: match m.sample {
                    Ok(map) => Sample::from_map(&map, Cells::Typed)
                        .map_err(|e| crate::interop::name_element(e, &m.read_from)),
                    Err(e) => Err(e),
                },
            },
            Body::Unreadable(message) => unreadable(index, line, message),
        }
    }
}

/// One JSON array element: invalid UTF-8 and broken JSON are refused for
/// this sample alone.
fn json_element(index: usize, line: u64, bytes: &[u8]) -> Record {
    if std::str::from_utf8(bytes).is_err() {
        let message =
            format!("sample {index} (ending on line {line}) is not valid UTF-8: not a sample");
        return unreadable(index, line, message);
    }
    match crate::input::strict::from_slice(bytes) {
        Ok(v) => record_from_value(index, line, v),
        Err(e) => unreadable(
            index,
            line,
            format!(
                "sample {index} (ending on line {line}) is not valid JSON: {}",
                strip_position(&e.to_string())
            ),
        ),
    }
}

pub(crate) fn record_from_value(index: usize, line: u64, value: Value) -> Record {
    if let Some(key) = value
        .get(crate::input::strict::DUPLICATE)
        .and_then(Value::as_str)
    {
        let message = format!(
            "the key `{key}` appears twice in this sample: which value was meant cannot be told"
        );
        let mut r = unreadable(index, line, message);
        if let (Err(e), Some(id)) = (&mut r.sample, value.get("id").and_then(Value::as_str)) {
            e.id = Some(id.to_owned());
        }
        return r;
    }
    let sample = match value {
        Value::Object(map) => Sample::from_map(&map, Cells::Typed),
        other => Err(SampleError {
            id: None,
            patient: None,
            drug: None,
            code: ErrorCode::Unreadable,
            message: format!("a sample must be a JSON object, got {}", kind(&other)),
        }),
    };
    Record {
        index,
        line,
        sample,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn unreadable(index: usize, line: u64, message: String) -> Record {
    Record {
        index,
        line,
        sample: Err(SampleError {
            id: None,
            patient: None,
            drug: None,
            code: ErrorCode::Unreadable,
            message,
        }),
    }
}

fn ndjson<R: BufRead>(
    mut input: R,
    each: &mut dyn FnMut(RawRecord) -> io::Result<()>,
) -> Result<(), InputError> {
    let mut buf = Vec::new();
    let mut line = 0u64;
    let mut index = 0;
    loop {
        buf.clear();
        let (read, too_long) = read_line_bounded(&mut input, &mut buf, MAX_RECORD_BYTES)?;
        if read == 0 {
            return Ok(());
        }
        line += 1;
        if too_long {
            index += 1;
            let message =
                format!("line {line} is longer than {MAX_RECORD_BYTES} bytes: not a sample");
            each(RawRecord::new(index, line, Body::Unreadable(message)))
                .map_err(InputError::Stopped)?;
            continue;
        }
        // Invalid UTF-8 is refused for its record: replacing it would make
        // different ids equal.
        let Ok(text) = std::str::from_utf8(&buf) else {
            index += 1;
            let message = format!("line {line} is not valid UTF-8: not a sample");
            each(RawRecord::new(index, line, Body::Unreadable(message)))
                .map_err(InputError::Stopped)?;
            continue;
        };
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        index += 1;
        let record = RawRecord::new(index, line, Body::Line(text.to_owned()));
        each(record).map_err(InputError::Stopped)?;
    }
}

/// Reads one line into `buf`, keeping at most `limit` bytes; the rest of a
/// longer line is consumed and dropped. Answers (bytes read, too long).
fn read_line_bounded<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<(usize, bool)> {
    let mut read = 0;
    let mut too_long = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok((read, too_long));
        }
        let (used, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            if buf.len() + used > limit {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..used]);
            }
        }
        input.consume(used);
        read += used;
        if done {
            return Ok((read, too_long));
        }
    }
}

fn json<R: BufRead>(
    input: R,
    each: &mut dyn FnMut(RawRecord) -> io::Result<()>,
) -> Result<(), InputError> {
    let mut index = 0;
    json_split::split(input, &mut |element| {
        index += 1;
        let line = element.line;
        let body = match element.bytes {
            Some(bytes) => Body::Json(bytes),
            None => Body::Unreadable(format!(
                "sample {index} (ending on line {line}) is longer than {MAX_RECORD_BYTES} bytes: not a sample"
            )),
        };
        each(RawRecord::new(index, line, body))
    })
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Parses JSON text strictly: a key that appears twice in an object marks
/// the sample as an error (which value was meant cannot be told).
pub fn parse_json(text: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    strict::from_slice(text)
}
