//! Timestamps as the catalogue stores them: RFC 3339 in UTC with exactly six fractional
//! digits (`2026-11-25T10:13:32.123456Z`). The fixed width makes text order equal time order,
//! so `ORDER BY created_at` and `run_at <= $now` are correct on any backend that stores them
//! as text (PostgreSQL columns are declared `COLLATE "C"` for that). The job queue stores its
//! times the same way.

use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const STORED: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The current time, cut to the precision the catalogue keeps (microseconds).
pub fn now() -> OffsetDateTime {
    truncate(OffsetDateTime::now_utc())
}

/// Drops sub-microsecond digits so a value read back equals the value written.
pub fn truncate(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(UtcOffset::UTC);
    let micros = at.nanosecond() / 1_000;
    at.replace_nanosecond(micros * 1_000)
        .expect("a whole number of microseconds below one second is a valid nanosecond value")
}

/// The stored text form of `at` (converted to UTC, truncated to microseconds).
pub fn format(at: OffsetDateTime) -> String {
    truncate(at)
        .format(STORED)
        .expect("formatting a UTC date-time into a String cannot fail")
}

/// Parses a stored timestamp (any RFC 3339 text is accepted) into UTC.
pub fn parse(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339).map(|at| at.to_offset(UtcOffset::UTC))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_width_round_trip() {
        let at = datetime!(2026-11-25 10:13:32.5 UTC);
        let text = format(at);
        assert_eq!(text, "2026-11-25T10:13:32.500000Z");
        assert_eq!(parse(&text).unwrap(), at);
        // Whole seconds keep the fraction, so they sort before later fractions.
        let whole = format(datetime!(2026-11-25 10:13:32 UTC));
        assert_eq!(whole, "2026-11-25T10:13:32.000000Z");
        assert!(whole < text);
    }

    #[test]
    fn other_offsets_are_stored_in_utc() {
        let at = datetime!(2026-11-25 12:00:00 +02:00);
        assert_eq!(format(at), "2026-11-25T10:00:00.000000Z");
    }
}
