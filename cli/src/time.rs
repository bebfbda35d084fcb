//! Block times as people read and write them: RFC 3339 dates in UTC and short durations.
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{anyhow, Result};

/// A block time (ms since the Unix epoch) as an RFC 3339 date, UTC, to the second.
pub fn date(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// A span of milliseconds as a person reads it, to the second, e.g. `5h 2m 10s`.
pub fn duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    humantime::format_duration(Duration::from_secs(ms / 1000)).to_string()
}

/// A date as ms since the Unix epoch: `2026-12-01`, `2026-12-01T08:30:00Z` (UTC; a space may
/// stand for the `T`, the `Z` may be left out) or a plain number of milliseconds.
pub fn parse_date(text: &str) -> Result<u64> {
    if let Ok(ms) = text.parse::<u64>() {
        return Ok(ms);
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    let at = humantime::parse_rfc3339_weak(&full).map_err(|e| {
        anyhow!("`{text}` is not a date (2026-12-01, 2026-12-01T08:30:00Z or milliseconds): {e}")
    })?;
    let ms = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| anyhow!("`{text}` is before 1970"))?
        .as_millis();
    u64::try_from(ms).map_err(|_| anyhow!("`{text}` is too far in the future"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_and_read_back_in_utc() {
        let ms = 1_796_169_600_000; // 2026-12-02T00:00:00Z
        assert_eq!(date(ms), "2026-12-02T00:00:00Z");
        for text in [
            "2026-12-02",
            "2026-12-02T00:00:00Z",
            "2026-12-02 00:00:00",
            "1796169600000",
        ] {
            assert_eq!(parse_date(text).expect(text), ms, "{text}");
        }
        assert_eq!(
            parse_date("2026-12-02T08:30:00Z").expect("time"),
            ms + 30_600_000
        );
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("2026-13-02").is_err());
        assert_eq!(duration(5 * 3_600_000 + 2 * 60_000), "5h 2m");
        assert_eq!(duration(250), "250ms");
    }
}
