//! Streaming batch input: a JSON array (or one object), NDJSON, or CSV.
//! Records are handed to a callback one at a time, in order, so memory does
//! not grow with the number of records. A record that cannot be read
//! becomes an error record with its line; only a JSON array whose syntax
//! breaks stops the stream (nothing after the break can be delimited).

pub(crate) mod clinical;
pub(crate) mod contract;
pub(crate) mod fields;
pub(crate) mod sample;
pub(crate) mod strict;
pub(crate) mod time;
pub(crate) mod units;

pub use contract::SampleInput;
pub use fields::Cells;
pub use sample::{Comedication, FIELDS, METABOLITE_COLUMN_PREFIX, Matrix, Sample, SampleError};
pub use time::{parse as parse_date_time, rfc3339, today};
pub use units::{Quantity, Unit, UnitError};

use std::cell::Cell;

use crate::result::ErrorCode;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::Value;

use crate::input::fields::CsvHeader;

/// The largest record read: a sample is a few hundred bytes. A longer NDJSON
/// line is an error record (skipped without being held in memory); a longer
/// CSV line or JSON element stops the input.
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
        } else {
            None
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
    /// The callback asked to stop (for example, output failed).
    #[error("stopped: {0}")]
    Stopped(io::Error),
}

/// Reads every record of `input` and hands each to `each`, in order.
pub fn read_records<R: BufRead>(
    input: R,
    format: InputFormat,
    mut each: impl FnMut(Record) -> io::Result<()>,
) -> Result<(), InputError> {
    read_raw_records(input, format, |raw| each(raw.check()))
}

/// Splits `input` into records, in order, without checking their fields:
/// splitting is sequential, but [`RawRecord::check`] can then run on
/// several threads. [`read_records`] is both steps in one.
pub fn read_raw_records<R: BufRead>(
    input: R,
    format: InputFormat,
    mut each: impl FnMut(RawRecord) -> io::Result<()>,
) -> Result<(), InputError> {
    match format {
        InputFormat::Ndjson => ndjson(input, &mut each),
        InputFormat::Csv => csv_records(input, &mut each),
        InputFormat::Json => json(input, &mut each),
    }
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
    /// A JSON array element, already parsed.
    Value(Value),
    /// Could not be split out as a record: why.
    Unreadable(String),
}

impl RawRecord {
    fn new(index: usize, line: u64, body: Body) -> Self {
        RawRecord { index, line, body }
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
            Body::Value(value) => record_from_value(index, line, value),
            Body::Unreadable(message) => unreadable(index, line, message),
        }
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

/// What the CSV reader may have read ahead of the record it hands on.
const RECORD_SLACK: usize = 64 * 1024;

/// Fails the input when one line grows past `limit` bytes, so that a CSV
/// file with an endless line cannot exhaust memory.
struct LineLimit<R> {
    inner: R,
    since_newline: usize,
    /// Bytes read since the last record was handed on.
    since_record: Rc<Cell<usize>>,
    limit: usize,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // A quoted cell may hold newlines: the bytes of one record count,
        // whatever its lines (the reader resets this after each record; its
        // read-ahead buffer is the slack).
        self.since_record.set(self.since_record.get() + n);
        if self.since_record.get() > self.limit + RECORD_SLACK {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a record is longer than {} bytes", self.limit),
            ));
        }
        for &b in &buf[..n] {
            if b == b'\n' {
                self.since_newline = 0;
            } else {
                self.since_newline += 1;
            }
        }
        if self.since_newline > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a line is longer than {} bytes", self.limit),
            ));
        }
        Ok(n)
    }
}

fn csv_records<R: BufRead>(
    input: R,
    each: &mut dyn FnMut(RawRecord) -> io::Result<()>,
) -> Result<(), InputError> {
    let since_record = Rc::new(Cell::new(0));
    let guarded = LineLimit {
        inner: input,
        since_newline: 0,
        since_record: since_record.clone(),
        limit: MAX_RECORD_BYTES,
    };
    // Cells are trimmed when they are read (`fields.rs`): the csv crate's
    // own trimming copies every record twice.
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::None)
        .flexible(false)
        .from_reader(guarded);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| InputError::CsvHeader(e.to_string()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(InputError::CsvHeader("the first row is empty".into()));
    }
    // As with a JSON key given twice, which column was meant cannot be told.
    // A set, so that a header of 100,000 columns is checked in linear time.
    let mut seen = std::collections::HashSet::with_capacity(headers.len());
    for name in &headers {
        if !name.is_empty() && !seen.insert(name.as_str()) {
            return Err(InputError::CsvHeader(format!(
                "the column `{name}` appears twice; which one was meant cannot be told"
            )));
        }
    }
    let header = Arc::new(CsvHeader::new(headers));
    let mut row = csv::StringRecord::new();
    let mut index = 0;
    loop {
        let line_before = reader.position().line() + 1;
        let read = reader.read_record(&mut row);
        since_record.set(0);
        let line = row.position().map_or(line_before, |p| p.line());
        let record = match read {
            Ok(false) => return Ok(()),
            Ok(true) => {
                index += 1;
                let body = Body::Row {
                    header: header.clone(),
                    row: row.clone(),
                };
                RawRecord::new(index, line, body)
            }
            Err(e) if e.is_io_error() => {
                return Err(InputError::Io(io::Error::other(e.to_string())));
            }
            Err(e) => {
                index += 1;
                let line = e.position().map_or(line, |p| p.line());
                let why = format!("CSV line {line} cannot be read: {}", csv_reason(&e));
                RawRecord::new(index, line, Body::Unreadable(why))
            }
        };
        each(record).map_err(InputError::Stopped)?;
    }
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("it has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "it is not valid UTF-8".into(),
        _ => e.to_string(),
    }
}

/// Counts lines of what the JSON parser has consumed, so each array element
/// can be given a line.
struct LineCounter<R> {
    inner: R,
    line: Rc<Cell<u64>>,
    /// Bytes read since the last element was handed on.
    since_element: Rc<Cell<usize>>,
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.line.set(self.line.get() + newlines);
        self.since_element.set(self.since_element.get() + n);
        if self.since_element.get() > MAX_RECORD_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a sample is longer than {MAX_RECORD_BYTES} bytes"),
            ));
        }
        Ok(n)
    }
}

fn json<R: BufRead>(
    input: R,
    each: &mut dyn FnMut(RawRecord) -> io::Result<()>,
) -> Result<(), InputError> {
    let line = Rc::new(Cell::new(1));
    let since_element = Rc::new(Cell::new(0));
    let counter = LineCounter {
        inner: SkipBom::new(input),
        line: line.clone(),
        since_element: since_element.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(counter);
    let mut stopped = None;
    let outcome = {
        let seed = Elements {
            each,
            stopped: &mut stopped,
            index: 0,
            line,
            since_element,
        };
        seed.deserialize(&mut de).and_then(|()| de.end())
    };
    if let Some(e) = stopped {
        return Err(InputError::Stopped(e));
    }
    outcome.map_err(|e| {
        if e.is_io() {
            InputError::Io(io::Error::other(e.to_string()))
        } else {
            InputError::Json {
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            }
        }
    })
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Hands each element of a top-level array (or a lone object) to the callback.
struct Elements<'a> {
    each: &'a mut dyn FnMut(RawRecord) -> io::Result<()>,
    stopped: &'a mut Option<io::Error>,
    index: usize,
    line: Rc<Cell<u64>>,
    since_element: Rc<Cell<usize>>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of sample objects, or one sample object")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element_seed(crate::input::strict::Strict)? {
            self.since_element.set(0);
            self.index += 1;
            let record = RawRecord::new(self.index, self.line.get(), Body::Value(value));
            if let Err(e) = (self.each)(record) {
                *self.stopped = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let value = crate::input::strict::Strict
            .deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        let record = RawRecord::new(1, self.line.get(), Body::Value(value));
        if let Err(e) = (self.each)(record) {
            *self.stopped = Some(e);
            return Err(serde::de::Error::custom("stopped"));
        }
        Ok(())
    }
}

/// Drops a UTF-8 byte-order mark at the start of the input.
struct SkipBom<R> {
    inner: R,
    checked: bool,
}

impl<R: BufRead> SkipBom<R> {
    fn new(inner: R) -> Self {
        SkipBom {
            inner,
            checked: false,
        }
    }
}

impl<R: BufRead> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let head = self.inner.fill_buf()?;
            if head.starts_with(&[0xef, 0xbb, 0xbf]) {
                self.inner.consume(3);
            }
        }
        self.inner.read(buf)
    }
}

/// Parses JSON text strictly: a key that appears twice in an object marks
/// the sample as an error (which value was meant cannot be told).
pub fn parse_json(text: &[u8]) -> Result<serde_json::Value, serde_json::Error> {
    strict::from_slice(text)
}
