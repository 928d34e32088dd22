//! Splits a JSON array into its elements as raw bytes, so that one element
//! that cannot be read (broken JSON, invalid UTF-8, longer than
//! [`MAX_RECORD_BYTES`], nested too deep) is one error record and the batch
//! goes on, as with NDJSON. serde_json reads an array as one document, and
//! its first bad element would end the batch; no crate we know hands on an
//! array's elements as bytes, so this follows strings and brackets by hand
//! and leaves each element's parsing to serde_json ([`super::RawRecord::check`]).
//!
//! Only the array's own structure stops the input: an unclosed array, a
//! missing element between commas, text after the end.

use std::io::{self, BufRead};

use super::{InputError, MAX_RECORD_BYTES};

/// One element of the array, or the lone top-level object.
pub(crate) struct Element {
    /// The element's bytes; `None` when it was longer than the limit (its
    /// bytes were dropped as they came).
    pub bytes: Option<Vec<u8>>,
    /// The line where the element ends.
    pub line: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the first non-blank byte.
    Start,
    /// After `[` (`first`) or a comma: an element comes next.
    Open { first: bool },
    /// Inside an element.
    Element,
    /// After the closing `]`, or after the lone object: only blanks.
    Done,
}

struct Splitter<'a> {
    phase: Phase,
    /// The top level is one object, not an array.
    lone: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    bytes: Vec<u8>,
    too_long: bool,
    line: u64,
    column: u64,
    each: &'a mut dyn FnMut(Element) -> io::Result<()>,
}

/// Hands each element of the JSON array in `input` (or its one top-level
/// object) to `each`, in order.
pub(crate) fn split<R: BufRead>(
    mut input: R,
    each: &mut dyn FnMut(Element) -> io::Result<()>,
) -> Result<(), InputError> {
    let mut s = Splitter {
        phase: Phase::Start,
        lone: false,
        depth: 0,
        in_string: false,
        escaped: false,
        bytes: Vec::new(),
        too_long: false,
        line: 1,
        column: 0,
        each,
    };
    // A UTF-8 byte-order mark at the start is dropped.
    if input.fill_buf()?.starts_with(&[0xef, 0xbb, 0xbf]) {
        input.consume(3);
    }
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return s.end();
        }
        let n = chunk.len();
        for &b in chunk {
            s.step(b)?;
        }
        input.consume(n);
    }
}

impl Splitter<'_> {
    fn step(&mut self, b: u8) -> Result<(), InputError> {
        if b == b'\n' {
            self.line += 1;
            self.column = 0;
        } else {
            self.column += 1;
        }
        match self.phase {
            Phase::Element => return self.element_byte(b),
            _ if b.is_ascii_whitespace() => return Ok(()),
            Phase::Start if b == b'[' => self.phase = Phase::Open { first: true },
            Phase::Start if b == b'{' => {
                self.lone = true;
                self.begin(b);
            }
            Phase::Start => {
                return Err(
                    self.broken("expected a JSON array of sample objects, or one sample object")
                );
            }
            Phase::Open { first: true } if b == b']' => self.phase = Phase::Done,
            Phase::Open { .. } if b == b']' || b == b',' => {
                return Err(self.broken("expected a sample after the comma"));
            }
            Phase::Open { .. } => self.begin(b),
            Phase::Done => return Err(self.broken("trailing characters after the JSON input")),
        }
        Ok(())
    }

    /// The first byte of an element.
    fn begin(&mut self, b: u8) {
        self.phase = Phase::Element;
        self.bytes.clear();
        self.too_long = false;
        self.depth = 0;
        self.push(b);
        self.track(b);
    }

    fn element_byte(&mut self, b: u8) -> Result<(), InputError> {
        if !self.in_string && self.depth == 0 && !self.lone && (b == b',' || b == b']') {
            self.phase = if b == b',' {
                Phase::Open { first: false }
            } else {
                Phase::Done
            };
            return self.emit();
        }
        self.push(b);
        self.track(b);
        if self.lone && self.depth == 0 && !self.in_string {
            self.phase = Phase::Done;
            return self.emit();
        }
        Ok(())
    }

    /// Follows strings and brackets; a stray closing bracket is kept for
    /// the element's parser to report.
    fn track(&mut self, b: u8) {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return;
        }
        match b {
            b'"' => self.in_string = true,
            b'[' | b'{' => self.depth += 1,
            b']' | b'}' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
    }

    fn push(&mut self, b: u8) {
        if self.too_long {
            return;
        }
        if self.bytes.len() >= MAX_RECORD_BYTES {
            self.too_long = true;
            self.bytes = Vec::new();
        } else {
            self.bytes.push(b);
        }
    }

    fn emit(&mut self) -> Result<(), InputError> {
        let bytes = (!self.too_long).then(|| std::mem::take(&mut self.bytes));
        let element = Element {
            bytes,
            line: self.line,
        };
        (self.each)(element).map_err(InputError::Stopped)
    }

    fn end(&mut self) -> Result<(), InputError> {
        match self.phase {
            Phase::Done => Ok(()),
            Phase::Start => Err(self.broken(
                "the input is empty: expected a JSON array of sample objects, or one sample object",
            )),
            Phase::Open { .. } | Phase::Element if self.lone => {
                Err(self.broken("the input ends inside the sample object"))
            }
            Phase::Open { .. } | Phase::Element => {
                Err(self.broken("the input ends before the array is closed with `]`"))
            }
        }
    }

    fn broken(&self, message: &str) -> InputError {
        InputError::Json {
            line: self.line as usize,
            column: self.column as usize,
            message: message.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn elements(text: &str) -> Result<Vec<Option<String>>, String> {
        let mut out = Vec::new();
        split(text.as_bytes(), &mut |e| {
            out.push(
                e.bytes
                    .map(|b| String::from_utf8(b).unwrap().trim().to_owned()),
            );
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        Ok(out)
    }

    fn some(items: &[&str]) -> Vec<Option<String>> {
        items.iter().map(|s| Some((*s).to_owned())).collect()
    }

    #[test]
    fn elements_are_split_at_top_level_commas_only() {
        assert_eq!(elements("[]").unwrap(), some(&[]));
        assert_eq!(elements(" [ 1 , 2 ] ").unwrap(), some(&["1", "2"]));
        assert_eq!(
            elements(r#"[{"a": [1, 2], "b": "x,]}\"y"}, {"c": {}}]"#).unwrap(),
            some(&[r#"{"a": [1, 2], "b": "x,]}\"y"}"#, r#"{"c": {}}"#])
        );
        assert_eq!(
            elements(r#" {"a": "}"} "#).unwrap(),
            some(&[r#"{"a": "}"}"#])
        );
    }

    #[test]
    fn a_broken_element_is_handed_on_for_its_parser_to_refuse() {
        assert_eq!(
            elements(r#"[{"a": }}, {"b": 1}]"#).unwrap(),
            some(&[r#"{"a": }}"#, r#"{"b": 1}"#])
        );
    }

    #[test]
    fn the_arrays_own_structure_stops_the_input() {
        for (text, why) in [
            ("", "empty"),
            ("42", "expected a JSON array"),
            ("[1,]", "after the comma"),
            ("[1,,2]", "after the comma"),
            ("[1, 2", "before the array is closed"),
            ("[1] x", "trailing characters"),
            (r#"{"a": 1} {"b": 2}"#, "trailing characters"),
            (r#"{"a": 1"#, "inside the sample object"),
        ] {
            let e = elements(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn an_element_over_the_limit_is_dropped_and_the_next_one_read() {
        let long = format!("[\"{}\", 2]", "x".repeat(MAX_RECORD_BYTES));
        assert_eq!(elements(&long).unwrap(), vec![None, Some("2".into())]);
    }

    #[test]
    fn each_element_has_the_line_where_it_ends() {
        let mut lines = Vec::new();
        split("[1,\n2,\n\n3]".as_bytes(), &mut |e| {
            lines.push(e.line);
            Ok(())
        })
        .unwrap();
        assert_eq!(lines, [1, 2, 4]);
    }
}
