//! W3C date-times as Wallet wants them: a time zone, no fractional seconds.
//!
//! Wallet refuses passes whose dates carry milliseconds or no offset
//! ("We expect dates in 'W3C date time stamp format'").

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Parses a W3C date-time with seconds optional (`2026-11-23T10:30+01:00`),
/// an offset required, and fractional seconds refused.
pub fn parse_w3c(s: &str) -> Result<OffsetDateTime, String> {
    let fraction_or_zone = |s: &str| {
        let after_t = s.split_once('T').map(|(_, t)| t).unwrap_or("");
        (after_t.contains('.'), after_t.ends_with('Z') || after_t.contains(['+', '-']))
    };
    let (fraction, zone) = fraction_or_zone(s);
    if !s.contains('T') {
        return Err("expected a date-time like 2026-11-23T10:30:00+01:00".into());
    }
    if fraction {
        return Err("fractional seconds are not allowed (Wallet rejects them)".into());
    }
    if !zone {
        return Err("a time zone offset is required (e.g. +01:00 or Z)".into());
    }
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(dt);
    }
    // W3C also allows hh:mm without seconds.
    let (local, offset) = split_offset(s).ok_or("expected a date-time like 2026-11-23T10:30:00+01:00")?;
    let local = PrimitiveDateTime::parse(local, format_description!("[year]-[month]-[day]T[hour]:[minute]"))
        .map_err(|_| "expected a date-time like 2026-11-23T10:30:00+01:00".to_string())?;
    Ok(local.assume_offset(offset))
}

fn split_offset(s: &str) -> Option<(&str, UtcOffset)> {
    if let Some(local) = s.strip_suffix('Z') {
        return Some((local, UtcOffset::UTC));
    }
    let idx = s.rfind(['+', '-'])?;
    let (local, off) = s.split_at(idx);
    let offset = UtcOffset::parse(off, format_description!("[offset_hour sign:mandatory]:[offset_minute]")).ok()?;
    Some((local, offset))
}

/// Unix milliseconds as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Formats as `2026-11-23T10:30:00+01:00`, the form Wallet documents.
pub fn format_w3c(dt: OffsetDateTime) -> String {
    dt.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    ))
    .expect("formatting a valid date-time cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_w3c_forms_and_normalises() {
        assert_eq!(format_w3c(parse_w3c("2026-11-23T10:30+01:00").unwrap()), "2026-11-23T10:30:00+01:00");
        assert_eq!(format_w3c(parse_w3c("2026-11-23T10:30:05Z").unwrap()), "2026-11-23T10:30:05+00:00");
        assert_eq!(format_w3c(parse_w3c("2026-11-23T10:30:05-05:00").unwrap()), "2026-11-23T10:30:05-05:00");
    }

    #[test]
    fn refuses_fractions_missing_zone_and_garbage() {
        assert!(parse_w3c("2026-11-23T10:30:05.123Z").unwrap_err().contains("fractional"));
        assert!(parse_w3c("2026-11-23T10:30:05").unwrap_err().contains("time zone"));
        assert!(parse_w3c("2026-11-23").is_err());
        assert!(parse_w3c("2026-13-23T10:30:05Z").is_err());
        assert!(parse_w3c("tomorrow").is_err());
    }
}
