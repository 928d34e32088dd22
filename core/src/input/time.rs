//! Date-times of samples (`sampled_at`): `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]`
//! (a space may stand for the `T`). Without an offset the time is read as
//! given, on one clock for all samples of a patient.

/// Whether `text` is a calendar date, `YYYY-MM-DD`.
pub(crate) fn is_date(text: &str) -> bool {
    text.len() == 10 && parse(&format!("{text}T00:00")).is_some()
}

/// Seconds since 1970-01-01T00:00 (UTC when an offset is given).
pub fn parse(text: &str) -> Option<i64> {
    let t = text.trim();
    let (date, rest) = t.split_at(t.find(['T', ' '])?);
    let rest = &rest[1..];
    let mut d = date.split('-');
    let (year, month, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    if d.next().is_some()
        || !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
    {
        return None;
    }
    let (clock, offset) = match rest.find(['Z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut c = clock.split(':');
    let hour: i64 = c.next()?.parse().ok()?;
    let minute: i64 = c.next()?.parse().ok()?;
    let second: f64 = c.next().map_or(Some(0.0), |s| s.parse().ok())?;
    if c.next().is_some() || hour > 23 || minute > 59 || !(0.0..60.0).contains(&second) {
        return None;
    }
    let offset_s = match offset {
        "" | "Z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (h, m) = o[1..].split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    Some(
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second as i64
            - offset_s,
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn date_times_parse_with_and_without_offsets() {
        assert_eq!(parse("1970-01-01T00:00"), Some(0));
        assert_eq!(parse("2026-11-24T21:40:00Z"), Some(1_795_556_400));
        assert_eq!(parse("2026-11-24 22:40+01:00"), Some(1_795_556_400));
        assert_eq!(parse("2000-02-29T12:00"), Some(951_825_600));
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in [
            "2026-02-30T08:00",
            "2026-13-01T08:00",
            "2026-11-24",
            "24/11/2026 08:00",
            "2026-11-24T25:00",
            "yesterday",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
