//! Meilisearch's request-validation error messages, rebuilt.
//!
//! Meilisearch validates request bodies field by field and words its errors in a fixed
//! way ("Invalid value type at `.limit`: expected a positive integer, but found a
//! string: `\"x\"`"). Clients and our compatibility tests compare those messages, so
//! this module owns the wording: value-kind descriptions, JSON locations, unknown
//! fields and values with the "did you mean" hint. Everything else in the crate builds
//! its 400 errors through these helpers.

use serde_json::{Map, Value};

use crate::MeiliError;

/// A 400 `invalid_request` error with the given code and message.
pub(crate) fn invalid(code: &str, message: impl Into<String>) -> MeiliError {
    MeiliError::new(400, code, "invalid_request", message)
}

/// Describe the kind of a JSON value with its article, as Meilisearch does.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() => "a positive integer",
        Value::Number(n) if n.is_i64() => "a negative integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `null`, or the kind followed by the compact JSON of the value.
pub(crate) fn found(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        other => format!("{}: `{}`", kind(other), other),
    }
}

/// ` at `.a.b``, or nothing at the root of the body.
fn at(location: &str, word: &str) -> String {
    if location.is_empty() {
        String::new()
    } else {
        format!(" {word} `{location}`")
    }
}

/// A value of the wrong JSON type.
pub(crate) fn wrong_type(code: &str, location: &str, expected: &str, value: &Value) -> MeiliError {
    invalid(
        code,
        format!(
            "Invalid value type{}: expected {expected}, but found {}",
            at(location, "at"),
            found(value)
        ),
    )
}

/// A value of the right type that is not acceptable; `detail` explains why.
pub(crate) fn bad_value(code: &str, location: &str, detail: &str) -> MeiliError {
    invalid(
        code,
        format!("Invalid value{}: {detail}", at(location, "at")),
    )
}

/// A key that the object at `location` does not accept.
pub(crate) fn unknown_field(
    code: &str,
    location: &str,
    key: &str,
    accepted: &[&str],
) -> MeiliError {
    invalid(
        code,
        format!(
            "Unknown field `{key}`{}: {}expected one of {}",
            at(location, "inside"),
            did_you_mean(key, accepted),
            backticked(accepted)
        ),
    )
}

/// A string value outside an enumeration.
pub(crate) fn unknown_value(
    code: &str,
    location: &str,
    value: &str,
    accepted: &[&str],
) -> MeiliError {
    invalid(
        code,
        format!(
            "Unknown value `{value}`{}: {}expected one of {}",
            at(location, "at"),
            did_you_mean(value, accepted),
            backticked(accepted)
        ),
    )
}

/// A mandatory key that is absent from the object at `location`.
pub(crate) fn missing_field(code: &str, location: &str, field: &str) -> MeiliError {
    invalid(
        code,
        format!("Missing field `{field}`{}", at(location, "inside")),
    )
}

fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The "did you mean `x`? " hint of Meilisearch's body and query-string errors: the
/// closest accepted word within a typo budget that grows with the length of what was
/// received (none below four bytes).
pub fn did_you_mean(received: &str, accepted: &[&str]) -> String {
    let budget = match received.len() {
        0..=3 => return String::new(),
        4..=7 => 1,
        8..=12 => 2,
        13..=17 => 3,
        18..=24 => 4,
        _ => 5,
    };
    accepted
        .iter()
        .map(|candidate| (candidate, damerau_levenshtein(received, candidate)))
        .filter(|(_, distance)| *distance <= budget)
        .min_by_key(|(_, distance)| *distance)
        .map(|(candidate, _)| format!("did you mean `{candidate}`? "))
        .unwrap_or_default()
}

/// Edit distance counting insertions, deletions, substitutions and transpositions of
/// adjacent characters (unrestricted Damerau–Levenshtein).
pub(crate) fn damerau_levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let max = n + m;
    let width = m + 2;
    let mut d = vec![0usize; (n + 2) * width];
    let idx = |i: usize, j: usize| i * width + j;
    d[idx(0, 0)] = max;
    for i in 0..=n {
        d[idx(i + 1, 0)] = max;
        d[idx(i + 1, 1)] = i;
    }
    for j in 0..=m {
        d[idx(0, j + 1)] = max;
        d[idx(1, j + 1)] = j;
    }
    let mut last_row: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for i in 1..=n {
        let mut last_match_col = 0;
        for j in 1..=m {
            let i1 = last_row.get(&b[j - 1]).copied().unwrap_or(0);
            let j1 = last_match_col;
            let cost = if a[i - 1] == b[j - 1] {
                last_match_col = j;
                0
            } else {
                1
            };
            d[idx(i + 1, j + 1)] = (d[idx(i, j)] + cost)
                .min(d[idx(i + 1, j)] + 1)
                .min(d[idx(i, j + 1)] + 1)
                .min(d[idx(i1, j1)] + (i - i1 - 1) + 1 + (j - j1 - 1));
        }
        last_row.insert(a[i - 1], i);
    }
    d[idx(n + 1, m + 1)]
}

/// The body must be a JSON object; Meilisearch answers `bad_request` otherwise.
pub(crate) fn body_object(body: &Value) -> Result<&Map<String, Value>, MeiliError> {
    body.as_object()
        .ok_or_else(|| wrong_type("bad_request", "", "an object", body))
}

/// Reject the first key of `object` that is not in `accepted`.
pub(crate) fn only_keys(
    object: &Map<String, Value>,
    code: &str,
    location: &str,
    accepted: &[&str],
) -> Result<(), MeiliError> {
    match object.keys().find(|key| !accepted.contains(&key.as_str())) {
        Some(key) => Err(unknown_field(code, location, key, accepted)),
        None => Ok(()),
    }
}

/// A non-negative integer that fits in `usize`, or the matching type error.
pub(crate) fn as_usize(code: &str, location: &str, value: &Value) -> Result<usize, MeiliError> {
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| wrong_type(code, location, "a positive integer", value))
}

/// A string, or the matching type error.
pub(crate) fn as_str<'v>(
    code: &str,
    location: &str,
    value: &'v Value,
) -> Result<&'v str, MeiliError> {
    value
        .as_str()
        .ok_or_else(|| wrong_type(code, location, "a string", value))
}

/// A boolean, or the matching type error.
pub(crate) fn as_bool(code: &str, location: &str, value: &Value) -> Result<bool, MeiliError> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(code, location, "a boolean", value))
}

/// An array of strings, or the type error for the array or for its first bad item.
pub(crate) fn as_strings(
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
        .map(|(i, item)| as_str(code, &format!("{location}[{i}]"), item).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_type_names_location_kind_and_value() {
        let err = wrong_type(
            "invalid_search_limit",
            ".limit",
            "a positive integer",
            &json!("x"),
        );
        assert_eq!(
            err.message,
            "Invalid value type at `.limit`: expected a positive integer, but found a string: `\"x\"`"
        );
    }

    #[test]
    fn negative_integers_and_floats_have_their_own_kinds() {
        assert_eq!(found(&json!(-1)), "a negative integer: `-1`");
        assert_eq!(found(&json!(1.5)), "a number: `1.5`");
        assert_eq!(found(&Value::Null), "null");
    }

    #[test]
    fn unknown_field_suggests_a_close_key() {
        let err = unknown_field("bad_request", "", "filtr", &["q", "filter"]);
        assert_eq!(
            err.message,
            "Unknown field `filtr`: did you mean `filter`? expected one of `q`, `filter`"
        );
    }

    #[test]
    fn unknown_field_inside_a_nested_object_names_it() {
        let err = unknown_field(
            "invalid_settings_pagination",
            ".pagination",
            "foo",
            &["maxTotalHits"],
        );
        assert_eq!(
            err.message,
            "Unknown field `foo` inside `.pagination`: expected one of `maxTotalHits`"
        );
    }

    #[test]
    fn damerau_levenshtein_counts_a_transposition_as_one_edit() {
        assert_eq!(damerau_levenshtein("sotr", "sort"), 1);
        assert_eq!(damerau_levenshtein("kitten", "sitting"), 3);
    }
}
