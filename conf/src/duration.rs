//! Humane durations in the configuration file: `"500ms"`, `"5s"`, `"2m"`, `"1h"`, and
//! sums of them such as `"1m30s"`.
//!
//! The grammar is small on purpose and is part of the stable file format, documented in
//! `docs/configuration.md`: one or more `<integer><unit>` segments with no spaces, units
//! `ms`, `s`, `m` and `h`. Fractions (`1.5s`) and bare numbers (`5`) are refused so that
//! a value always says its own unit.

use std::fmt;
use std::time::Duration;

/// Why a duration string does not parse. The caller adds the field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The text does not follow the `<integer><unit>` grammar.
    #[error(
        "{0:?} is not a duration; write an integer followed by a unit (ms, s, m or h), e.g. \"500ms\", \"5s\" or \"1m30s\""
    )]
    Syntax(String),
    /// The value does not fit in a [`Duration`].
    #[error("{0:?} is too long a duration")]
    Overflow(String),
}

/// Parse a humane duration such as `"500ms"` or `"1m30s"`.
///
/// # Errors
/// [`DurationError::Syntax`] for anything outside the grammar, including the empty
/// string, bare numbers, fractions, spaces and unknown units;
/// [`DurationError::Overflow`] when the total does not fit in a `Duration`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let syntax = || DurationError::Syntax(text.to_owned());
    if text.is_empty() {
        return Err(syntax());
    }
    let mut total_ms: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(syntax());
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        if unit_len == 0 {
            return Err(syntax());
        }
        let (unit, after) = after.split_at(unit_len);
        let per_unit_ms: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(syntax()),
        };
        let overflow = || DurationError::Overflow(text.to_owned());
        let value: u64 = number.parse().map_err(|_| overflow())?;
        let segment = value.checked_mul(per_unit_ms).ok_or_else(overflow)?;
        total_ms = total_ms.checked_add(segment).ok_or_else(overflow)?;
        rest = after;
    }
    Ok(Duration::from_millis(total_ms))
}

/// A [`Duration`] shown the way the file writes it: `1m30s`, `500ms`, `0s`.
///
/// Sub-millisecond parts are not shown; configuration durations never have them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [("h", 3_600_000u128), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
    }

    #[test]
    fn adds_segments() {
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1s250ms"), Ok(Duration::from_millis(1250)));
    }

    #[test]
    fn accepts_zero_so_that_validation_can_name_the_field() {
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_bare_numbers_fractions_spaces_and_unknown_units() {
        for text in [
            "", "5", "1.5s", "5 s", " 5s", "5sec", "s", "5d", "-5s", "5S",
        ] {
            assert_eq!(
                parse_duration(text),
                Err(DurationError::Syntax(text.to_owned())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn refuses_overflow() {
        assert_eq!(
            parse_duration("99999999999999999999h"),
            Err(DurationError::Overflow("99999999999999999999h".to_owned()))
        );
    }

    #[test]
    fn syntax_error_says_what_to_write() {
        assert_eq!(
            parse_duration("5").map_err(|error| error.to_string()),
            Err("\"5\" is not a duration; write an integer followed by a unit (ms, s, m or h), e.g. \"500ms\", \"5s\" or \"1m30s\"".to_owned())
        );
    }

    #[test]
    fn displays_in_file_syntax() {
        assert_eq!(
            HumanDuration(Duration::from_millis(500)).to_string(),
            "500ms"
        );
        assert_eq!(HumanDuration(Duration::from_secs(90)).to_string(), "1m30s");
        assert_eq!(
            HumanDuration(Duration::from_millis(3_601_001)).to_string(),
            "1h1s1ms"
        );
        assert_eq!(HumanDuration(Duration::ZERO).to_string(), "0s");
    }
}
