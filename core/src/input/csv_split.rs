//! CSV records, each at most [`MAX_RECORD_BYTES`]: a longer record (a
//! quoted cell may span many lines) is one error record and the input goes
//! on. The csv crate has no record size limit, so [`RecordGate`] finds the
//! records' ends ahead of it, following quotes as the crate does (RFC 4180:
//! `"` opens a quoted cell only at its start, `""` inside one is a quote; a
//! record ends at `\n`, `\r` or `\r\n` outside quotes), and passes an
//! over-long record on as its newlines only (the crate skips empty lines).
//! The gate also tells each record's first line: the crate's own count
//! leaves out blank lines and miscounts `\r\n`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::rc::Rc;
use std::sync::Arc;

use super::fields::CsvHeader;
use super::{Body, InputError, MAX_RECORD_BYTES, RawRecord};

/// Each record the gate saw, in order, with the line where it starts.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Passed(u64),
    /// Too long: not passed on.
    Dropped(u64),
}

type Ledger = Rc<RefCell<VecDeque<Seen>>>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cell {
    Start,
    Unquoted,
    Quoted,
    /// A quote inside a quoted cell: the cell's end, or the first of `""`.
    QuoteInQuoted,
}

/// Passes whole records of at most `limit` bytes on to the csv reader.
struct RecordGate<R> {
    inner: R,
    limit: usize,
    /// The cell separator: `,`, or `;` (European exports) or a tab.
    delimiter: u8,
    cell: Cell,
    /// The record being read; emptied once it is too long.
    record: Vec<u8>,
    /// The record holds more than line ends.
    content: bool,
    too_long: bool,
    /// Newlines of the record being read, and before it.
    record_newlines: u64,
    lines_before: u64,
    /// A record was passed on (the header).
    passed: bool,
    /// Ready for the reader.
    out: Vec<u8>,
    at: usize,
    seen: Ledger,
}

impl<R: BufRead> RecordGate<R> {
    fn new(inner: R, limit: usize, delimiter: u8, seen: Ledger) -> Self {
        RecordGate {
            inner,
            limit,
            delimiter,
            cell: Cell::Start,
            record: Vec::new(),
            content: false,
            too_long: false,
            record_newlines: 0,
            lines_before: 0,
            passed: false,
            out: Vec::new(),
            at: 0,
            seen,
        }
    }

    fn byte(&mut self, b: u8) -> io::Result<()> {
        let ends = matches!(b, b'\n' | b'\r') && self.cell != Cell::Quoted;
        self.cell = match (self.cell, b) {
            _ if ends => Cell::Start,
            (Cell::Quoted, b'"') => Cell::QuoteInQuoted,
            (Cell::Quoted, _) | (Cell::QuoteInQuoted, b'"') | (Cell::Start, b'"') => Cell::Quoted,
            (_, d) if d == self.delimiter => Cell::Start,
            _ => Cell::Unquoted,
        };
        if b == b'\n' {
            self.record_newlines += 1;
        }
        if !self.too_long {
            self.record.push(b);
            if self.record.len() > self.limit {
                self.too_long = true;
                self.record = Vec::new();
            }
        }
        if ends {
            self.finish()?;
        } else {
            self.content = true;
        }
        Ok(())
    }

    /// The record (or a blank line) is complete.
    fn finish(&mut self) -> io::Result<()> {
        let line = self.lines_before + 1;
        if self.too_long {
            if !self.passed {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the header row is longer than {} bytes", self.limit),
                ));
            }
            self.seen.borrow_mut().push_back(Seen::Dropped(line));
            let newlines = usize::try_from(self.record_newlines).unwrap_or(usize::MAX);
            self.out.resize(self.out.len() + newlines, b'\n');
        } else {
            self.out.append(&mut self.record);
            if self.content {
                self.passed = true;
                self.seen.borrow_mut().push_back(Seen::Passed(line));
            }
        }
        self.lines_before += self.record_newlines;
        self.record.clear();
        self.record_newlines = 0;
        self.content = false;
        self.too_long = false;
        Ok(())
    }
}

impl<R: BufRead> Read for RecordGate<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.out.len() {
            self.out.clear();
            self.at = 0;
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                // The last record may have no line end.
                if !self.record.is_empty() || self.too_long {
                    self.finish()?;
                    continue;
                }
                return Ok(0);
            }
            let chunk = chunk.to_vec();
            self.inner.consume(chunk.len());
            for b in chunk {
                self.byte(b)?;
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

pub(super) fn csv_records<R: BufRead>(
    mut input: R,
    each: &mut dyn FnMut(RawRecord) -> io::Result<()>,
) -> Result<(), InputError> {
    let delimiter = detect_delimiter(input.fill_buf().map_err(InputError::Io)?);
    let seen = Ledger::default();
    let gate = RecordGate::new(input, MAX_RECORD_BYTES, delimiter, seen.clone());
    // Cells are trimmed when they are read (`fields.rs`): the csv crate's
    // own trimming copies every record twice.
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::None)
        .flexible(false)
        .delimiter(delimiter)
        .from_reader(gate);
    let header = Arc::new(read_header(&mut reader, delimiter)?);
    seen.borrow_mut().pop_front();
    let mut row = csv::StringRecord::new();
    let mut index = 0;
    loop {
        let outcome = reader.read_record(&mut row);
        // Records dropped before this one come first, in their place.
        let line = loop {
            let next = seen.borrow_mut().pop_front();
            match next {
                Some(Seen::Dropped(line)) => {
                    index += 1;
                    let why = format!(
                        "CSV line {line}: the record is longer than {MAX_RECORD_BYTES} bytes: not a sample"
                    );
                    each(RawRecord::new(index, line, Body::Unreadable(why)))
                        .map_err(InputError::Stopped)?;
                }
                Some(Seen::Passed(line)) => break line,
                None => break reader.position().line(),
            }
        };
        let record = match outcome {
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
                let why = format!("CSV line {line} cannot be read: {}", csv_reason(&e));
                RawRecord::new(index, line, Body::Unreadable(why))
            }
        };
        each(record).map_err(InputError::Stopped)?;
    }
}

/// The separator of the header row, outside quotes: the most frequent of
/// `,`, `;` (spreadsheets in locales whose decimal mark is a comma) and a
/// tab; `,` when there is none or a tie.
fn detect_delimiter(start: &[u8]) -> u8 {
    let line = start
        .split(|&b| b == b'\n' || b == b'\r')
        .next()
        .unwrap_or_default();
    let mut quoted = false;
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|c| c.0 == b) {
            c.1 += 1;
        }
    }
    counts
        .iter()
        .fold((b',', 0), |best, c| if c.1 > best.1 { *c } else { best })
        .0
}

/// How a separator is named in a message.
fn separator_name(delimiter: u8) -> &'static str {
    match delimiter {
        b';' => "`;`",
        b'\t' => "a tab",
        _ => "`,`",
    }
}

/// The header row: trimmed names, not all empty, none twice.
fn read_header<R: Read>(
    reader: &mut csv::Reader<R>,
    delimiter: u8,
) -> Result<CsvHeader, InputError> {
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| InputError::CsvHeader(e.to_string()))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(InputError::CsvHeader("the first row is empty".into()));
    }
    // One column whose name holds another separator: a file of another
    // separator than the one seen (say `|`), whose columns would all be
    // missing.
    if let [only] = headers.as_slice()
        && let Some(other) = only.chars().find(|c| matches!(c, ',' | ';' | '\t' | '|'))
    {
        return Err(InputError::CsvHeader(format!(
            "the header row is one column `{only}` read with {} as the separator; the file seems \
             to separate its cells with `{}`, which is not supported: export it with `,` or `;`",
            separator_name(delimiter),
            other.escape_default()
        )));
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
    Ok(CsvHeader::new(headers))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// (index, line, drug cell or the error) of each record.
    fn records(text: &str, limit: usize) -> Vec<(usize, u64, String)> {
        let seen = Ledger::default();
        let gate = RecordGate::new(text.as_bytes(), limit, b',', seen.clone());
        let mut reader = csv::ReaderBuilder::new().from_reader(gate);
        reader.headers().unwrap();
        seen.borrow_mut().pop_front();
        let mut row = csv::StringRecord::new();
        let mut out = Vec::new();
        loop {
            let more = reader.read_record(&mut row).unwrap();
            let line = loop {
                let next = seen.borrow_mut().pop_front();
                match next {
                    Some(Seen::Dropped(line)) => out.push((out.len() + 1, line, "too long".into())),
                    Some(Seen::Passed(line)) => break line,
                    None => break 0,
                }
            };
            if !more {
                return out;
            }
            out.push((out.len() + 1, line, row[0].to_owned()));
        }
    }

    #[test]
    fn quotes_are_followed_as_the_csv_crate_does() {
        let text = "drug,x\n\"a\nb\",1\nc\"d,2\n\"e\"\"f\",3\r\ng,4\n\n\nh,5";
        let got = records(text, 100);
        let drugs: Vec<(u64, &str)> = got.iter().map(|r| (r.1, r.2.as_str())).collect();
        assert_eq!(
            drugs,
            [(2, "a\nb"), (4, "c\"d"), (5, "e\"f"), (6, "g"), (9, "h")]
        );
    }

    #[test]
    fn an_over_long_record_is_dropped_in_its_place_and_lines_stay_right() {
        let long = format!("\"{}\n{}\",1", "x".repeat(60), "y".repeat(60));
        let text = format!("drug,x\na,1\n{long}\nb,2\n{long}");
        let got = records(&text, 100);
        assert_eq!(
            got,
            [
                (1, 2, "a".to_owned()),
                (2, 3, "too long".to_owned()),
                (3, 5, "b".to_owned()),
                (4, 6, "too long".to_owned()),
            ]
        );
    }

    #[test]
    fn an_over_long_header_stops_the_input() {
        let text = format!("{},x\na,1\n", "d".repeat(200));
        let gate = RecordGate::new(text.as_bytes(), 100, b',', Rc::default());
        let e = csv::Reader::from_reader(gate)
            .headers()
            .map(|_| ())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("header row is longer than 100 bytes"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod separator_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(text: &str) -> Result<Vec<String>, InputError> {
        let mut out = Vec::new();
        csv_records(text.as_bytes(), &mut |r| {
            out.push(format!("{}:{}", r.line, r.as_given()));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn the_separator_is_the_headers() {
        assert_eq!(detect_delimiter(b"id;drug;value;unit\n1,5"), b';');
        assert_eq!(detect_delimiter(b"id,drug,value\n"), b',');
        assert_eq!(detect_delimiter(b"id\tdrug\tvalue\r\n"), b'\t');
        // A separator inside a quoted name does not count.
        assert_eq!(detect_delimiter(b"\"a;b;c\",drug\n"), b',');
        assert_eq!(detect_delimiter(b"drug\n"), b',');
    }

    #[test]
    fn a_semicolon_file_reads_with_its_lines_right() {
        let rows = read("id;drug;value;unit\r\nA;imatinib;1000;ng/mL\r\n\r\nB;\"x;y\";2;ng/mL\r\n")
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert!(
            rows[0].starts_with("2:") && rows[0].contains("\"drug\":\"imatinib\""),
            "{rows:?}"
        );
        assert!(
            rows[1].starts_with("4:") && rows[1].contains("\"drug\":\"x;y\""),
            "{rows:?}"
        );
    }

    #[test]
    fn another_separator_is_named() {
        let Err(InputError::CsvHeader(why)) = read("id|drug|value\nA|imatinib|1\n") else {
            panic!("a header read as one column must be refused");
        };
        assert!(
            why.contains("`|`") && why.contains("`,` as the separator"),
            "{why}"
        );
    }
}
