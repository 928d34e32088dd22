//! Numbers in sentences, as a pharmacist writes them.
//!
//! Every rationale, reason and warning carries a few numbers, and batches
//! write millions of them: `Num` formats without the general float
//! machinery, with the same text as `{}` of the rounded value.

use std::fmt;

/// `value` with at most 3 decimals and no trailing zeros (`1400`, `0.25`,
/// `12.346`); `0` for anything that rounds to zero. Width and precision
/// flags are ignored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

/// Below this many thousandths, the decimal digits of the rounded value are
/// exactly its shortest representation (doubles are far closer together
/// than 0.001 there), so they can be written as an integer.
const EXACT_MILLIS: f64 = 1e14;

impl Num {
    /// Appends the text to `out`: the direct path for sentences, without the
    /// formatting machinery of `write!`.
    pub fn push_to(self, out: &mut String) {
        let mut buf = [0u8; 24];
        match self.digits(&mut buf) {
            Some(text) => out.push_str(text),
            None => {
                use std::fmt::Write as _;
                let _ = write!(out, "{self}");
            }
        }
    }

    /// The text written into `buf`, or `None` outside the exact range
    /// (huge, infinite, NaN), which the standard form handles.
    fn digits(self, buf: &mut [u8; 24]) -> Option<&str> {
        let millis = (self.0 * 1000.0).round();
        if millis == 0.0 {
            return Some("0");
        }
        if !millis.is_finite() || millis.abs() >= EXACT_MILLIS {
            return None;
        }
        // Digits written from the right: 14 digits, a point, a sign, and a
        // leading `0` before the point at most.
        let mut at = buf.len();
        let mut rest = millis.abs() as u64;
        let mut decimals = rest % 1000;
        rest /= 1000;
        if decimals != 0 {
            let mut width = 3;
            while decimals.is_multiple_of(10) {
                decimals /= 10;
                width -= 1;
            }
            for _ in 0..width {
                at -= 1;
                buf[at] = b'0' + (decimals % 10) as u8;
                decimals /= 10;
            }
            at -= 1;
            buf[at] = b'.';
        }
        loop {
            at -= 1;
            buf[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        if millis < 0.0 {
            at -= 1;
            buf[at] = b'-';
        }
        // Only ASCII digits, `.` and `-` were written.
        std::str::from_utf8(&buf[at..]).ok()
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        match self.digits(&mut buf) {
            Some(text) => f.write_str(text),
            // Huge, infinite or NaN: the standard shortest form.
            None => write!(f, "{}", (self.0 * 1000.0).round() / 1000.0),
        }
    }
}

/// Powers of ten from 1e-12 to 1e6, as the nearest doubles. Above 1e6 the
/// roundings scale by negative powers of ten, which are inexact, and the
/// logarithm is kept so that results stay bit for bit what they were.
const POWERS_OF_TEN: [f64; 19] = [
    1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3,
    1e4, 1e5, 1e6,
];
const LOWEST_POWER: i32 = -12;

/// The decimal exponent of a finite `a > 0`: `(floor(log10 a), ceil(log10 a))`.
/// Found by comparison in the range of clinical values (a logarithm costs
/// more than the rest of a rounding); `log10` outside it. Next to a power of
/// ten the two may differ by one, which changes no rounding (tested).
pub(crate) fn decimal_exponents(a: f64) -> (i32, i32) {
    let (first, last) = (POWERS_OF_TEN[0], POWERS_OF_TEN[POWERS_OF_TEN.len() - 1]);
    if !(a >= first && a < last) {
        let l = a.log10();
        return (l.floor() as i32, l.ceil() as i32);
    }
    // The last power at or below `a`.
    let i = POWERS_OF_TEN.partition_point(|&p| p <= a) - 1;
    let floor = i as i32 + LOWEST_POWER;
    let ceil = if POWERS_OF_TEN[i] == a {
        floor
    } else {
        floor + 1
    };
    (floor, ceil)
}

/// `value` rounded to `digits` significant digits, for sentences (never
/// into the integer part: 1234.5 stays 1235 with 3 digits).
pub fn round_sig(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    round_to(
        value,
        (digits - 1 - decimal_exponents(value.abs()).0).max(0),
    )
}

/// Rounds to 6 significant digits, into the integer part too, so that
/// floating-point noise (816.6409291...) does not reach the output's
/// numbers; decisions use full precision. Unlike [`round_sig`], a large
/// value (an AUC of 1,234,567 ng*h/mL) keeps 6 digits, not all of them.
pub(crate) fn tidy(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    round_to(value, 6 - decimal_exponents(value.abs()).1)
}

/// `value` rounded to `decimals` places (negative: to tens, hundreds ...).
fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let scaled = value * scale;
    // At the ends of the double range (5e-324, 1e308) the scale itself
    // overflows or vanishes: such a value is kept as it is, never NaN.
    if !scaled.is_finite() || scale == 0.0 || !scale.is_finite() {
        return value;
    }
    scaled.round() / scale
}

/// A range of results as tables print it: `50–100`, `>= 1000`, `<= 100`,
/// empty when there is no bound. (A rationale rounds its bounds as a
/// laboratory reports a level; tables give them as they are.)
#[derive(Debug, Clone, Copy)]
pub struct Bounds(pub Option<f64>, pub Option<f64>);

impl fmt::Display for Bounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (Some(l), Some(u)) => write!(f, "{}–{}", Num(l), Num(u)),
            (Some(l), None) => write!(f, ">= {}", Num(l)),
            (None, Some(u)) => write!(f, "<= {}", Num(u)),
            (None, None) => Ok(()),
        }
    }
}

/// [`Num`] as an owned string.
pub fn fmt_num(value: f64) -> String {
    Num(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition `Num` must match: rounded to 3 decimals, then the
    /// standard shortest form.
    fn reference(value: f64) -> String {
        let rounded = (value * 1000.0).round() / 1000.0;
        if rounded == 0.0 {
            "0".into()
        } else {
            format!("{rounded}")
        }
    }

    #[test]
    fn as_a_pharmacist_writes() {
        for (value, text) in [
            (1400.0, "1400"),
            (0.25, "0.25"),
            (12.3456, "12.346"),
            (0.0004, "0"),
            (-0.0004, "0"),
            (-2.5, "-2.5"),
            (0.001, "0.001"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(Num(value).to_string(), text, "{value}");
            assert_eq!(reference(value), text, "{value}");
        }
    }

    /// Rounding to significant digits the way it was first written, with
    /// logarithms: the comparisons must give the same numbers.
    fn sig_by_log(value: f64, digits: i32) -> f64 {
        let decimals = (digits - 1 - value.abs().log10().floor() as i32).max(0);
        let scale = 10f64.powi(decimals);
        (value * scale).round() / scale
    }

    fn tidy_by_log(value: f64) -> f64 {
        let digits = 6 - value.abs().log10().ceil() as i32;
        let scale = 10f64.powi(digits);
        (value * scale).round() / scale
    }

    fn same_roundings(value: f64) {
        assert_eq!(
            round_sig(value, 3).to_bits(),
            sig_by_log(value, 3).to_bits(),
            "round_sig({value:e})"
        );
        assert_eq!(
            tidy(value).to_bits(),
            tidy_by_log(value).to_bits(),
            "tidy({value:e})"
        );
    }

    #[test]
    fn exponents_at_and_next_to_every_power_of_ten() {
        for p in POWERS_OF_TEN {
            for value in [
                p,
                p.next_down(),
                p.next_up(),
                p.next_down().next_down(),
                p.next_up().next_up(),
            ] {
                same_roundings(value);
                same_roundings(-value);
            }
        }
        assert_eq!(decimal_exponents(1000.0), (3, 3));
        assert_eq!(decimal_exponents(999.0), (2, 3));
        assert_eq!(decimal_exponents(0.05), (-2, -1));
        assert_eq!(decimal_exponents(1e20), (20, 20));
    }

    proptest! {
        #[test]
        fn roundings_as_with_logarithms(value in 1e-13f64..1e16) {
            same_roundings(value);
        }

        #[test]
        fn roundings_as_with_logarithms_for_lab_values(value in 0.001f64..100_000.0) {
            same_roundings(value);
        }

        #[test]
        fn same_text_as_the_standard_form(value in -1e12f64..1e12) {
            prop_assert_eq!(Num(value).to_string(), reference(value));
        }

        #[test]
        fn same_text_for_lab_sized_values(value in 0.0f64..10_000.0) {
            prop_assert_eq!(Num(value).to_string(), reference(value));
        }

        #[test]
        fn same_text_for_any_double(bits in any::<u64>()) {
            let value = f64::from_bits(bits);
            prop_assert_eq!(Num(value).to_string(), reference(value));
            let mut pushed = String::from("x");
            Num(value).push_to(&mut pushed);
            prop_assert_eq!(pushed, format!("x{}", reference(value)));
        }
    }
}
