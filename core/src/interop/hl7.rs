//! HL7 v2 messages in: a small strict reader, written here because the
//! maintained Rust crates read less than a laboratory sends (`hl7-parser`
//! and `rust-hl7` do not decode `\Xhh\` hex escapes or keep segment
//! positions for messages) and the grammar needed is a page: segments end
//! with a carriage return (a line feed is accepted too), the MSH segment
//! names the field separator (MSH-1) and the component, repetition, escape
//! and subcomponent characters (MSH-2), escape sequences are decoded in
//! each component. Messages follow each other in one file, each starting
//! with MSH; MLLP framing bytes are dropped. What the messages mean for a
//! drug level is `hl7_oru.rs`.

use std::io::{self, BufRead};

use crate::input::{InputError, MAX_RECORD_BYTES};
use crate::interop::Mapped;
use crate::pack::Pack;

/// One segment: its name, its fields as sent (not yet decoded), its line.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub name: String,
    fields: Vec<String>,
    pub line: u64,
}

/// The separators a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Separators {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

/// One message: its segments and separators.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub segments: Vec<Segment>,
    pub separators: Separators,
    /// The message's text as given, segments joined by `\r`.
    pub text: String,
}

impl Message {
    /// Field `n` of `segment` as sent (HL7 numbering: MSH-9 is MSH's ninth
    /// field, counting MSH-1, the field separator itself).
    pub(crate) fn raw<'a>(&self, segment: &'a Segment, n: usize) -> &'a str {
        segment.fields.get(n).map_or("", String::as_str)
    }

    /// Component `c` (1-based) of the first repetition of field `n`, decoded.
    pub(crate) fn component(&self, segment: &Segment, n: usize, c: usize) -> String {
        let field = self.raw(segment, n);
        let first = field.split(self.separators.repetition).next().unwrap_or("");
        let component = first
            .split(self.separators.component)
            .nth(c - 1)
            .unwrap_or("");
        let text = component
            .split(self.separators.subcomponent)
            .next()
            .unwrap_or("");
        decode(text, &self.separators)
    }

    /// The segments named `name`, in order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.name == name)
    }
}

/// Decodes HL7 escape sequences: `\F\ \S\ \T\ \R\ \E\` are the separators,
/// `\Xhh…\` bytes in hexadecimal (as UTF-8), `\.br\` a line break; other
/// formatting escapes (`\H\`, `\N\`, `\.sp\`…) are dropped. An escape left
/// open is kept as it was written.
pub(crate) fn decode(text: &str, s: &Separators) -> String {
    if !text.contains(s.escape) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(s.escape) {
        out.push_str(&rest[..start]);
        let after = &rest[start + s.escape.len_utf8()..];
        let Some(end) = after.find(s.escape) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let sequence = &after[..end];
        match sequence {
            "F" => out.push(s.field),
            "S" => out.push(s.component),
            "T" => out.push(s.subcomponent),
            "R" => out.push(s.repetition),
            "E" => out.push(s.escape),
            ".br" => out.push('\n'),
            hex if hex.starts_with('X') && hex.len() % 2 == 1 => {
                let bytes: Option<Vec<u8>> = (1..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                    .collect();
                match bytes.map(String::from_utf8) {
                    Some(Ok(decoded)) => out.push_str(&decoded),
                    _ => {
                        out.push(s.escape);
                        out.push_str(sequence);
                        out.push(s.escape);
                    }
                }
            }
            _ => {}
        }
        rest = &after[end + s.escape.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// Reads HL7 messages and hands each drug-level result to `each`.
pub(crate) fn read<R: BufRead>(
    input: R,
    pack: &Pack,
    each: &mut dyn FnMut(Mapped) -> io::Result<()>,
) -> Result<(), InputError> {
    let mut number = 0;
    split_messages(input, &mut |message| {
        number += 1;
        for mapped in crate::interop::hl7_oru::map_message(message, number, pack) {
            each(mapped)?;
        }
        Ok(())
    })
}

/// A message as split from the input: its segments' texts and lines, or
/// why it cannot be read.
pub(crate) type Split = Result<Message, (u64, String)>;

/// Splits the input into messages at each segment that starts with MSH.
fn split_messages<R: BufRead>(
    mut input: R,
    each: &mut dyn FnMut(Split) -> io::Result<()>,
) -> Result<(), InputError> {
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut size = 0usize;
    let mut skipping = false;
    let mut line = 0u64;
    let mut buf = Vec::new();
    let flush = |lines: &mut Vec<(u64, String)>, each: &mut dyn FnMut(Split) -> io::Result<()>| {
        if lines.is_empty() {
            return Ok(());
        }
        each(parse(std::mem::take(lines))).map_err(InputError::Stopped)
    };
    loop {
        buf.clear();
        if read_segment(&mut input, &mut buf)? == 0 {
            break;
        }
        line += 1;
        let text = String::from_utf8_lossy(&buf)
            .trim_matches(|c| c == '\u{b}' || c == '\u{1c}' || c == '\u{feff}')
            .trim_end()
            .to_owned();
        if text.is_empty() {
            continue;
        }
        if text.starts_with("MSH") {
            flush(&mut lines, each)?;
            (size, skipping) = (0, false);
        }
        if skipping {
            continue;
        }
        size += text.len();
        if size > MAX_RECORD_BYTES {
            // A message this long is no laboratory result: refused whole,
            // its rest skipped without being held.
            let start = lines.first().map_or(line, |l| l.0);
            lines.clear();
            skipping = true;
            let why = format!(
                "the message at line {start} is longer than {MAX_RECORD_BYTES} bytes: not read"
            );
            each(Err((start, why))).map_err(InputError::Stopped)?;
            continue;
        }
        lines.push((line, text));
    }
    flush(&mut lines, each)
}

/// Reads one segment (up to `\r` or `\n`) into `buf`, at most a record's
/// length; answers the bytes consumed.
fn read_segment<R: BufRead>(input: &mut R, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut read = 0;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(read);
        }
        let (used, done) = match chunk.iter().position(|&b| b == b'\r' || b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() < MAX_RECORD_BYTES {
            let keep = used.min(MAX_RECORD_BYTES - buf.len());
            buf.extend_from_slice(&chunk[..keep]);
        }
        input.consume(used);
        read += used;
        if done {
            let ended_cr = buf.last() == Some(&b'\r');
            if let Some(b'\r' | b'\n') = buf.last() {
                buf.pop();
            }
            // `\r\n` ends one segment, not two.
            if ended_cr && input.fill_buf()?.first() == Some(&b'\n') {
                input.consume(1);
                read += 1;
            }
            return Ok(read);
        }
    }
}

/// A message's segments, read with the separators its MSH declares.
fn parse(lines: Vec<(u64, String)>) -> Split {
    let (first_line, msh) = lines.first().cloned().unwrap_or_default();
    if !msh.starts_with("MSH") {
        return Err((
            first_line,
            format!(
                "line {first_line}: a message starts with MSH, got `{}`",
                msh.chars().take(8).collect::<String>()
            ),
        ));
    }
    let chars: Vec<char> = msh.chars().skip(3).take(5).collect();
    let [field, component, repetition, escape, subcomponent] = chars[..] else {
        return Err((
            first_line,
            format!(
                "line {first_line}: MSH-1 and MSH-2 must give the field separator and four encoding characters"
            ),
        ));
    };
    let separators = Separators {
        field,
        component,
        repetition,
        escape,
        subcomponent,
    };
    let distinct = [field, component, repetition, escape, subcomponent];
    if (1..5).any(|i| distinct[..i].contains(&distinct[i]))
        || distinct.iter().any(|c| c.is_alphanumeric())
    {
        return Err((
            first_line,
            format!(
                "line {first_line}: MSH-1 and MSH-2 give separators that are not five distinct punctuation characters"
            ),
        ));
    }
    let text = lines
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join("\r");
    let segments = lines
        .into_iter()
        .map(|(line, text)| {
            let mut parts = text.split(field);
            let name = parts.next().unwrap_or("").to_owned();
            let mut fields: Vec<String> = vec![name.clone()];
            if name == "MSH" {
                // MSH-1 is the separator itself; MSH-2 the encoding characters.
                fields.push(field.to_string());
            }
            fields.extend(parts.map(str::to_owned));
            Segment { name, fields, line }
        })
        .collect();
    Ok(Message {
        segments,
        separators,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Message {
        let lines = text
            .split('\r')
            .enumerate()
            .map(|(i, t)| (i as u64 + 1, t.to_owned()))
            .collect();
        parse(lines).unwrap()
    }

    #[test]
    fn fields_components_and_escapes_follow_msh() {
        let m = message(
            "MSH|^~\\&|LIS|LAB|||20261124090000||ORU^R01|M1|P|2.5.1\rOBX|1|NM|SUNI^Sunitinib \\T\\ SU\\F\\x^99LAB||32|ng/mL",
        );
        let msh = &m.segments[0];
        assert_eq!(m.raw(msh, 1), "|");
        assert_eq!(m.raw(msh, 2), "^~\\&");
        assert_eq!(m.component(msh, 9, 1), "ORU");
        assert_eq!(m.component(msh, 9, 2), "R01");
        assert_eq!(m.component(msh, 12, 1), "2.5.1");
        let obx = &m.segments[1];
        assert_eq!(m.component(obx, 3, 2), "Sunitinib & SU|x");
        assert_eq!(m.component(obx, 3, 3), "99LAB");
        assert_eq!(m.component(obx, 5, 1), "32");
    }

    #[test]
    fn other_separators_are_honoured_and_hex_escapes_decoded() {
        let m = message("MSH#:*!@#LIS\rOBX#1#ST#A:B#:#caf!XC3A9! 1:2*3");
        let obx = &m.segments[1];
        assert_eq!(m.separators.component, ':');
        assert_eq!(m.component(obx, 3, 2), "B");
        assert_eq!(m.component(obx, 5, 1), "café 1");
        assert_eq!(m.component(obx, 5, 2), "2");
        // An escape left open is kept as written.
        let s = m.separators;
        assert_eq!(decode("a!b", &s), "a!b");
        assert_eq!(decode("!.br!x!H!y", &s), "\nxy");
    }

    #[test]
    fn messages_split_at_msh_with_mllp_framing_and_either_line_end() {
        let input = "\u{b}MSH|^~\\&|A\rPID|1||P1\r\u{1c}\r\nMSH|^~\\&|B\nPID|1||P2\n";
        let mut got = Vec::new();
        split_messages(input.as_bytes(), &mut |m| {
            let m = m.unwrap();
            got.push((
                m.segments.len(),
                m.segments[1].line,
                m.component(&m.segments[1], 3, 1),
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(got, vec![(2, 2, "P1".to_owned()), (2, 5, "P2".to_owned())]);
    }

    #[test]
    fn a_message_without_msh_or_with_bad_separators_is_refused() {
        assert!(
            parse(vec![(1, "PID|1".into())])
                .unwrap_err()
                .1
                .contains("starts with MSH")
        );
        assert!(
            parse(vec![(1, "MSH|^^\\&|".into())])
                .unwrap_err()
                .1
                .contains("distinct")
        );
    }
}
