//! Date-times of samples (`sampled_at`): `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]`
//! (a space may stand for the `T`), read by `jiff` as ISO 8601 / RFC 3339.
//! Without an offset the time is read as given, on one clock for all
//! samples of a patient.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// Whether `text` is a calendar date, `YYYY-MM-DD`.
pub(crate) fn is_date(text: &str) -> bool {
    text.len() == 10 && text.parse::<Date>().is_ok()
}

/// Seconds since 1970-01-01T00:00 (UTC when an offset is given).
pub fn parse(text: &str) -> Option<i64> {
    let t = text.trim();
    // A date alone is not a time of sampling.
    let (date, clock) = t.split_at(t.find(['T', 't', ' '])?);
    if !is_date(date) || clock.len() < 6 {
        return None;
    }
    if let Ok(instant) = t.parse::<Timestamp>() {
        return Some(instant.as_second());
    }
    let local: DateTime = t.parse().ok()?;
    Some(TimeZone::UTC.to_timestamp(local).ok()?.as_second())
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    Timestamp::now().strftime("%Y-%m-%d").to_string()
}

/// An instant as RFC 3339 in UTC to the second: `2026-11-24T21:40:00Z`.
pub fn rfc3339(time: std::time::SystemTime) -> String {
    Timestamp::try_from(time)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::{parse, rfc3339};

    #[test]
    fn date_times_parse_with_and_without_offsets() {
        assert_eq!(parse("1970-01-01T00:00"), Some(0));
        assert_eq!(parse("2026-11-24T21:40:00Z"), Some(1_795_556_400));
        assert_eq!(parse("2026-11-24 22:40+01:00"), Some(1_795_556_400));
        assert_eq!(parse("2000-02-29T12:00"), Some(951_825_600));
        assert_eq!(parse("2000-02-29 12:00:30.5"), Some(951_825_630));
        // RFC 3339 allows the lower-case separators.
        assert_eq!(parse("2026-11-24t21:40:00z"), Some(1_795_556_400));
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in [
            "2026-02-30T08:00",
            "2026-13-01T08:00",
            "2026-11-24",
            "24/11/2026 08:00",
            "2026-11-24T25:00",
            "2026-3-2T9:10",
            "2026-03-02T9:10",
            "yesterday",
            "2026-11-24T",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_556_400)),
            "2026-11-24T21:40:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
