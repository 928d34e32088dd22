//! A result as compact JSON, written directly: the same bytes as
//! `serde_json::to_vec(&result)`, in a third of the time.
//!
//! A batch writes one result of about 1.5 kB per record, most of it text,
//! and serde_json checks a string one byte at a time. Here strings are
//! scanned for the few bytes JSON must escape and copied in runs, and
//! numbers are formatted by the formatter serde_json uses (zmij). `tests::same_bytes_as_serde_json` and the batch tests hold every
//! result of the shipped packs' cases to serde_json's bytes, so a field
//! added to the result without being added here fails the tests.

use crate::result::{
    AnalyteValue, Assessment, Correction, EvalResult, Expected, Exposure, PackId, Sampling,
    ScriptUsed, TargetUsed,
};

impl EvalResult {
    /// Appends the result as one line of compact JSON (no newline), exactly
    /// as `serde_json::to_writer` writes it.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut o = Object::new(out);
        o.opt_str("id", self.id.as_deref());
        if let Some(patient) = &self.patient {
            o.str("patient", patient);
        }
        if let Some(at) = &self.sampled_at {
            o.str("sampled_at", at);
        }
        o.opt_str("drug", self.drug.as_deref());
        o.str("status", self.status.as_str());
        if let Some(error) = &self.error {
            o.str("error", error);
        }
        if let Some(code) = self.error_code {
            o.str("error_code", code.as_str());
        }
        if let Some(line) = self.line {
            o.key("line");
            o.out.extend_from_slice(line.to_string().as_bytes());
        }
        if let Some(a) = &self.assessment {
            assessment_fields(&mut o, a);
        }
        o.strs("warnings", &self.warnings);
        if let Some(rationale) = &self.rationale {
            o.str("rationale", rationale);
        }
        o.key("pack");
        pack(o.out, &self.pack);
        o.str("engine", self.engine);
        if let Some(id) = &self.decision_id {
            o.str("decision_id", id);
        }
        o.end();
    }
}

/// The fields of an assessment, flattened into the result.
fn assessment_fields(o: &mut Object, a: &Assessment) {
    o.opt_str("indication", a.indication.as_deref());
    o.opt_str("regimen", a.regimen.as_deref());
    o.opt_str("product", a.product.as_deref());
    o.key("exposure");
    exposure(o.out, &a.exposure);
    o.key("sampling");
    sampling(o.out, &a.sampling);
    o.key("target");
    target(o.out, &a.target);
    o.opt_str("classification", a.classification.map(|c| c.as_str()));
    o.bool("toxicity_signal_exceeded", a.toxicity_signal_exceeded);
    o.str("advice", a.advice.as_str());
    o.opt_num("next_dose_mg", a.next_dose_mg);
    o.opt_num("next_interval_h", a.next_interval_h);
    o.strs("interventions", &a.interventions);
    o.strs("conditions", &a.conditions);
    o.key("script");
    match &a.script {
        Some(s) => script(o.out, s),
        None => o.out.extend_from_slice(b"null"),
    }
    // Rare and nested: serde_json writes it, so it is its bytes by construction.
    if let Some(m) = &a.model {
        o.key("model");
        let _ = serde_json::to_writer(&mut *o.out, m);
    }
}

fn exposure(out: &mut Vec<u8>, e: &Exposure) {
    let mut o = Object::new(out);
    o.num("value", e.value);
    o.str("unit", &e.unit);
    o.str("measure", e.measure.as_str());
    o.key("analytes");
    o.out.push(b'[');
    for (i, a) in e.analytes.iter().enumerate() {
        if i > 0 {
            o.out.push(b',');
        }
        analyte(o.out, a);
    }
    o.out.push(b']');
    o.bool("parent_only", e.parent_only);
    o.opt_num("population_percentile", e.population_percentile);
    o.key("expected");
    match &e.expected {
        Some(x) => expected(o.out, x),
        None => o.out.extend_from_slice(b"null"),
    }
    o.key("corrected_from");
    match &e.corrected_from {
        Some(c) => correction(o.out, c),
        None => o.out.extend_from_slice(b"null"),
    }
    o.end();
}

fn expected(out: &mut Vec<u8>, x: &Expected) {
    let mut o = Object::new(out);
    o.num("value", x.value);
    o.num("daily_dose_mg", x.daily_dose_mg);
    o.num("cv", x.cv);
    o.str("cv_from", x.cv_from.as_str());
    o.num("swing", x.swing);
    o.num("steady_state_reached", x.steady_state_reached);
    o.opt_num("improbable_below", x.improbable_below);
    o.opt_num("improbable_above", x.improbable_above);
    o.num("impossible_below", x.impossible_below);
    o.num("impossible_above", x.impossible_above);
    o.end();
}

fn analyte(out: &mut Vec<u8>, a: &AnalyteValue) {
    let mut o = Object::new(out);
    o.str("name", &a.name);
    o.num("measured", a.measured);
    o.str("measured_unit", &a.measured_unit);
    o.num("value", a.value);
    o.opt_num("at_trough", a.at_trough);
    o.opt_num("half_life_h", a.half_life_h);
    o.end();
}

fn correction(out: &mut Vec<u8>, c: &Correction) {
    let mut o = Object::new(out);
    o.num("value", c.value);
    o.num("hours_since_dose", c.hours_since_dose);
    o.num("interval_h", c.interval_h);
    o.opt_num("half_life_h", c.half_life_h);
    o.opt_num("model_ratio", c.model_ratio);
    o.str("method", c.method.as_str());
    o.end();
}

fn sampling(out: &mut Vec<u8>, s: &Sampling) {
    let mut o = Object::new(out);
    o.opt_num("hours_since_dose", s.hours_since_dose);
    o.num("interval_h", s.interval_h);
    o.str("interval_from", s.interval_from.as_str());
    o.str("trough", s.trough.as_str());
    o.opt_num("days_on_dose", s.days_on_dose);
    o.opt_str("matrix", s.matrix.map(|m| m.as_str()));
    o.opt_num("steady_state_days", s.steady_state_days);
    o.str("steady_state_from", s.steady_state_from.as_str());
    o.str("steady_state", s.steady_state.as_str());
    o.end();
}

fn target(out: &mut Vec<u8>, t: &TargetUsed) {
    let mut o = Object::new(out);
    o.str("id", &t.id);
    o.opt_num("lower", t.lower);
    o.opt_num("upper", t.upper);
    o.str("unit", &t.unit);
    o.str("measure", t.measure.as_str());
    o.str("basis", t.basis.as_str());
    o.str("evidence", t.evidence.as_str());
    o.str("use", t.usage.as_str());
    o.opt_str("indication", t.indication.as_deref());
    o.opt_str("regimen", t.regimen.as_deref());
    o.strs("sum_of", &t.sum_of);
    o.opt_str("outcome", t.outcome.as_deref());
    o.opt_num("population_mean", t.population_mean);
    o.strs("references", &t.references);
    o.opt_str("note", t.note.as_deref());
    o.end();
}

fn script(out: &mut Vec<u8>, s: &ScriptUsed) {
    let mut o = Object::new(out);
    o.str("kind", s.kind.as_str());
    o.str("file", &s.file);
    o.strs("hooks", s.hooks.iter().map(|h| h.as_str()));
    o.strs("notes", &s.notes);
    o.end();
}

fn pack(out: &mut Vec<u8>, p: &PackId) {
    let mut o = Object::new(out);
    o.str("name", &p.name);
    o.str("version", &p.version);
    o.str("digest", &p.digest);
    o.end();
}

/// An object being written: `{`, then `"key":value` pairs with commas.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, first: true }
    }

    /// `"key":` after a comma when needed. Keys are the contract's names,
    /// which need no escaping.
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.out.extend_from_slice(text);
    }

    fn num(&mut self, key: &str, value: f64) {
        self.key(key);
        number(self.out, value);
    }

    fn opt_num(&mut self, key: &str, value: Option<f64>) {
        self.key(key);
        match value {
            Some(v) => number(self.out, v),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        string(self.out, value);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        self.key(key);
        match value {
            Some(v) => string(self.out, v),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    fn strs<S: AsRef<str>>(&mut self, key: &str, values: impl IntoIterator<Item = S>) {
        self.key(key);
        self.out.push(b'[');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            string(self.out, v.as_ref());
        }
        self.out.push(b']');
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

/// A number as serde_json writes it: zmij's shortest form, `null` when
/// not finite.
fn number(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A JSON string: runs of plain bytes are copied whole; `"`, `\` and
/// control characters are escaped as serde_json escapes them. Eight bytes
/// are checked at a time: sentences rarely hold a byte to escape.
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0; // the first byte not yet copied
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes
            .get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            && !may_need_escape(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        // One byte at a time, to the end of this group of eight.
        let end = (i + 8).min(bytes.len());
        while i < end {
            if let Some(escaped) = escape(bytes[i]) {
                out.extend_from_slice(&bytes[start..i]);
                escaped.write(out);
                start = i + 1;
            }
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether any of the 8 bytes of `word` may be one to escape: below 0x20,
/// `"` or `\`. A byte `b` is zero exactly when `b - 1` borrows into its
/// high bit while `b`'s own high bit is clear ("Bit Twiddling Hacks",
/// haszero/hasless); a false alarm only sends the group down the byte path.
fn may_need_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x;
    (below_space | zero_in(quote) | zero_in(backslash)) & HIGH_BITS != 0
}

enum Escaped {
    Short(&'static [u8]),
    /// `\u00XX`, lower-case hex as serde_json writes it.
    Unicode(u8),
}

impl Escaped {
    fn write(self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match self {
            Escaped::Short(text) => out.extend_from_slice(text),
            Escaped::Unicode(b) => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
    }
}

fn escape(b: u8) -> Option<Escaped> {
    Some(match b {
        b'"' => Escaped::Short(b"\\\""),
        b'\\' => Escaped::Short(b"\\\\"),
        b'\n' => Escaped::Short(b"\\n"),
        b'\r' => Escaped::Short(b"\\r"),
        b'\t' => Escaped::Short(b"\\t"),
        0x08 => Escaped::Short(b"\\b"),
        0x0c => Escaped::Short(b"\\f"),
        0x00..=0x1f => Escaped::Unicode(b),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::string;

    proptest! {
        #[test]
        fn strings_as_serde_json_writes_them(s in any::<String>()) {
            let mut out = Vec::new();
            string(&mut out, &s);
            prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn long_runs_with_a_byte_to_escape_anywhere(prefix in "[a-z µ]{0,30}", b in 0u8..0x80, suffix in "[a-z]{0,30}") {
            let s = format!("{prefix}{}{suffix}", char::from(b));
            let mut out = Vec::new();
            string(&mut out, &s);
            prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn control_characters_as_serde_json_writes_them(s in "[\\x00-\\x20\"\\\\a\\x7f]{0,40}") {
            let mut out = Vec::new();
            string(&mut out, &s);
            prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }
    }
}
