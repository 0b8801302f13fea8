//! The locale codes Meilisearch accepts in `locales` (search) and `localizedAttributes`
//! (settings). The fake engine tokenises every language the same way; it only checks
//! that the codes are ones Meilisearch knows.

use serde_json::Value;

use crate::wire::{as_str, unknown_value, wrong_type};
use crate::MeiliError;

/// Accepted codes in Meilisearch's order (two-letter ISO 639-1, then ISO 639-3).
const LOCALES: &[&str] = &[
    "af", "ak", "am", "ar", "az", "be", "bn", "bg", "ca", "cs", "da", "de", "el", "en", "eo", "et",
    "fi", "fr", "gu", "he", "hi", "hr", "hu", "hy", "id", "it", "jv", "ja", "kn", "ka", "km", "ko",
    "la", "lv", "lt", "ml", "mr", "mk", "my", "ne", "nl", "nb", "or", "pa", "fa", "pl", "pt", "ro",
    "ru", "si", "sk", "sl", "sn", "es", "sr", "sv", "ta", "te", "tl", "th", "tk", "tr", "uk", "ur",
    "uz", "vi", "yi", "zh", "zu", "afr", "aka", "amh", "ara", "aze", "bel", "ben", "bul", "cat",
    "ces", "dan", "deu", "ell", "eng", "epo", "est", "fin", "fra", "guj", "heb", "hin", "hrv",
    "hun", "hye", "ind", "ita", "jav", "jpn", "kan", "kat", "khm", "kor", "lat", "lav", "lit",
    "mal", "mar", "mkd", "mya", "nep", "nld", "nob", "ori", "pan", "pes", "pol", "por", "ron",
    "rus", "sin", "slk", "slv", "sna", "spa", "srp", "swe", "tam", "tel", "tgl", "tha", "tuk",
    "tur", "ukr", "urd", "uzb", "vie", "yid", "zho", "zul", "cmn",
];

/// Validate an array of locale codes; the error uses `code` and names the bad item.
pub(crate) fn parse_locales(
    code: &str,
    location: &str,
    value: &Value,
) -> Result<Vec<String>, MeiliError> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(code, location, "an array", value))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let item_location = format!("{location}[{i}]");
            let locale = as_str(code, &item_location, item)?;
            if LOCALES.contains(&locale) {
                Ok(locale.to_owned())
            } else {
                Err(unknown_value(code, &item_location, locale, LOCALES))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_locales_pass_through() {
        assert_eq!(
            parse_locales("c", ".locales", &json!(["fra", "en"])).unwrap(),
            ["fra", "en"]
        );
    }

    #[test]
    fn unknown_locale_is_reported_at_its_index() {
        let err =
            parse_locales("invalid_search_locales", ".locales", &json!(["en", "xx"])).unwrap_err();
        assert!(err
            .message
            .starts_with("Unknown value `xx` at `.locales[1]`: expected one of `af`, `ak`,"));
        assert!(err.message.ends_with("`zul`, `cmn`"));
    }
}
