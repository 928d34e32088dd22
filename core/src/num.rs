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

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = (self.0 * 1000.0).round();
        if millis == 0.0 {
            return f.write_str("0");
        }
        if !millis.is_finite() || millis.abs() >= EXACT_MILLIS {
            // Huge, infinite or NaN: the standard shortest form.
            return write!(f, "{}", millis / 1000.0);
        }
        // Digits written from the right into a buffer: 14 digits, a point,
        // a sign, and a leading `0` before the point at most.
        let mut buf = [0u8; 24];
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
        f.write_str(std::str::from_utf8(&buf[at..]).map_err(|_| fmt::Error)?)
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

    proptest! {
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
        }
    }
}
