//! Sentences built piece by piece: every result carries several (the
//! rationale, the reason, warnings), and `format!` with its intermediate
//! strings was a third of the cost of an evaluation.

/// Appends each piece to `out` (a `&mut String`), without the intermediate
/// strings and formatting passes of `format!`.
macro_rules! put {
    ($out:expr, $($piece:expr),+ $(,)?) => {{
        let out: &mut String = $out;
        $( $crate::eval::sentence::Piece::put($piece, out); )+
    }};
}

/// A new sentence of the pieces.
macro_rules! sentence {
    ($($piece:expr),+ $(,)?) => {{
        let mut text = String::with_capacity(128);
        put!(&mut text, $($piece),+);
        text
    }};
}

use crate::pack::model::{DoseLevel, Frequency};
use crate::result::num::Num;

/// A piece of a sentence: text is copied as it is, numbers are formatted.
pub(crate) trait Piece {
    fn put(self, out: &mut String);
}

impl Piece for &str {
    fn put(self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for &String {
    fn put(self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for Num {
    fn put(self, out: &mut String) {
        self.push_to(out);
    }
}

/// `once daily`, `every 8 h`.
impl Piece for Frequency {
    fn put(self, out: &mut String) {
        match self.words() {
            Some(words) => out.push_str(words),
            None => put!(out, "every ", Num(self.0), " h"),
        }
    }
}

/// `400 mg once daily`.
impl Piece for &DoseLevel {
    fn put(self, out: &mut String) {
        put!(out, Num(self.mg), " mg ", Frequency(self.interval_h));
    }
}
