//! Filter errors, worded and positioned exactly as Meilisearch words them.
//!
//! Meilisearch answers an invalid filter with `invalid_search_filter` (or the route's own
//! filter code) and a message of two lines: a diagnostic, then
//! `START:END INPUT` where `START` is the 1-based character column (counted from the last
//! newline) of the offending fragment, `END` is `START` plus the fragment's length in
//! characters, and `INPUT` is the filter string as the client sent it. This module owns
//! the diagnostics and that position line; the parser only says which kind of error
//! happened on which byte range.

use std::fmt;

use super::ast::Span;

/// An invalid filter, with the message Meilisearch would answer.
///
/// The message is the whole `message` field of Meilisearch's error body (diagnostic and
/// position line). The error code (`invalid_search_filter`, `invalid_document_filter`,
/// ...) depends on the route and is the caller's to choose.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    message: String,
}

impl FilterError {
    /// The full message, diagnostic and position line.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Consumes the error into its message.
    pub fn into_message(self) -> String {
        self.message
    }

    /// An error about one token of a filter that parsed, such as Meilisearch's
    /// "Attribute `x` is not filterable." or a bad geo latitude: `diagnostic` followed by
    /// the position line pointing at `span` of `input`.
    ///
    /// `span` must lie inside `input` on character boundaries (as every [`Span`] the
    /// parser produces for that input does); an out-of-range span is clamped.
    pub fn at_span(input: &str, span: Span, diagnostic: impl fmt::Display) -> Self {
        let mut message = diagnostic.to_string();
        message.push('\n');
        push_position(&mut message, input, span.start, span.end, 0);
        FilterError { message }
    }

    /// An error with a message that has no position line (the JSON type errors of the
    /// array form).
    pub(crate) fn plain(message: String) -> Self {
        FilterError { message }
    }
}

/// What went wrong, as the parser reports it. One variant per diagnostic Meilisearch
/// can print for a filter string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// A value was expected; `reserved` when the word found is a keyword.
    ExpectedValue {
        reserved: bool,
    },
    MalformedValue,
    MissingClosingDelimiter(char),
    InvalidPrimary,
    InvalidEscapedNumber,
    ExpectedEof,
    Incomplete,
    GeoRadius,
    GeoRadiusArgumentCount(usize),
    GeoBoundingBox,
    GeoPolygon,
    GeoPolygonNotEnoughPoints(usize),
    GeoCoordinatesNotPair(usize),
    ReservedGeo(&'static str),
    MisusedGeoRadius,
    MisusedGeoBoundingBox,
    VectorFilterLeftover,
    VectorFilterInvalidQuotes,
    VectorFilterMissingEmbedder,
    VectorFilterInvalidEmbedder,
    VectorFilterMissingFragment,
    VectorFilterInvalidFragment,
    /// A `.suffix` after the vector filter: the selector already seen, and the suffix.
    VectorFilterUnknownSuffix(Option<&'static str>, String),
    VectorFilterOperation,
    InOpeningBracket,
    InClosingBracket,
    InExpectedValue,
    /// A single expected character was missing; always replaced by a more precise kind
    /// before it can reach a client.
    Char(char),
    /// A keyword or symbol did not match; always backtracked over or replaced.
    Mismatch,
    DepthLimitReached,
    Foreign,
}

/// A parse error: its kind and the byte range of the input it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub kind: ErrorKind,
    pub start: usize,
    pub end: usize,
    /// Where the input echoed on the position line starts. Always 0, except inside
    /// `_foreign(..)`, where Meilisearch echoes the input from the `_foreign` on.
    pub echo_from: usize,
}

const OPERATIONS: &str = "`=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, \
`NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, \
`NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or \
`_geoPolygon`";

const VECTOR_SELECTORS: [&str; 4] = [
    "fragments",
    "userProvided",
    "documentTemplate",
    "regenerate",
];

impl ParseError {
    /// Renders the error for `input`, the string it was produced from.
    pub fn render(&self, input: &str) -> FilterError {
        let fragment = input.get(self.start..self.end).unwrap_or("");
        let mut message = diagnostic(&self.kind, fragment);
        message.push('\n');
        push_position(&mut message, input, self.start, self.end, self.echo_from);
        FilterError { message }
    }
}

fn diagnostic(kind: &ErrorKind, fragment: &str) -> String {
    let shown = fragment.escape_debug().to_string();
    let nothing = fragment.trim().is_empty();
    match kind {
        ErrorKind::ExpectedValue { .. } if nothing => {
            "Was expecting a value but instead got nothing.".to_string()
        }
        ErrorKind::ExpectedValue { reserved: true } => format!(
            "Was expecting a value but instead got `{shown}`, which is a reserved keyword. \
             To use `{shown}` as a field name or a value, surround it by quotes."
        ),
        ErrorKind::ExpectedValue { reserved: false } => {
            format!("Was expecting a value but instead got `{shown}`.")
        }
        ErrorKind::MalformedValue => format!("Malformed value: `{shown}`."),
        ErrorKind::MissingClosingDelimiter(c) => {
            format!("Expression `{shown}` is missing the following closing delimiter: `{c}`.")
        }
        ErrorKind::InvalidPrimary if nothing => {
            format!("Was expecting an operation {OPERATIONS} but instead got nothing.")
        }
        ErrorKind::InvalidPrimary => {
            format!("Was expecting an operation {OPERATIONS} at `{shown}`.")
        }
        ErrorKind::InvalidEscapedNumber => {
            format!("Found an invalid escaped sequence number: `{shown}`.")
        }
        ErrorKind::ExpectedEof => format!(
            "Found unexpected characters at the end of the filter: `{shown}`. \
             You probably forgot an `OR` or an `AND` rule."
        ),
        ErrorKind::Incomplete => {
            "The filter is incomplete and requires Unknown additional bytes to be parsed."
                .to_string()
        }
        ErrorKind::GeoRadius => "The `_geoRadius` filter must be in the form: \
             `_geoRadius(latitude, longitude, radius, optionalResolution)`."
            .to_string(),
        ErrorKind::GeoRadiusArgumentCount(count) => {
            format!("Was expecting 3 or 4 arguments for `_geoRadius`, but instead found {count}.")
        }
        ErrorKind::GeoBoundingBox => "The `_geoBoundingBox` filter expects two pairs of \
             arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`."
            .to_string(),
        ErrorKind::GeoPolygon => "The `_geoPolygon` filter doesn't match the expected format: \
             `_geoPolygon([latitude, longitude], [latitude, longitude])`."
            .to_string(),
        ErrorKind::GeoPolygonNotEnoughPoints(n) => {
            format!(
                "The `_geoPolygon` filter expects at least 3 points but only {n} were specified"
            )
        }
        ErrorKind::GeoCoordinatesNotPair(n) => {
            format!("Was expecting 2 coordinates but instead found {n}.")
        }
        ErrorKind::ReservedGeo(name) => format!(
            "`{}` is a reserved keyword and thus can't be used as a filter expression. \
             Use the `_geoRadius(latitude, longitude, distance)` or \
             `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules \
             to filter on `_geo` coordinates.",
            name.escape_debug()
        ),
        ErrorKind::MisusedGeoRadius => {
            "The `_geoRadius` filter is an operation and can't be used as a value.".to_string()
        }
        ErrorKind::MisusedGeoBoundingBox => {
            "The `_geoBoundingBox` filter is an operation and can't be used as a value.".to_string()
        }
        ErrorKind::VectorFilterLeftover => "The vector filter has leftover tokens.".to_string(),
        ErrorKind::VectorFilterUnknownSuffix(_, value) if value == "." => {
            "Was expecting one of `.fragments`, `.userProvided`, `.documentTemplate`, \
             `.regenerate` or nothing, but instead found a point without a valid value."
                .to_string()
        }
        ErrorKind::VectorFilterUnknownSuffix(None, value)
            if VECTOR_SELECTORS.contains(&value.as_str()) =>
        {
            "Was expecting this part to be unquoted.".to_string()
        }
        ErrorKind::VectorFilterUnknownSuffix(None, value) => {
            let base = format!(
                "Was expecting one of `fragments`, `userProvided`, `documentTemplate`, \
                 `regenerate` or nothing, but instead found `{value}`."
            );
            match VECTOR_SELECTORS
                .iter()
                .find(|key| within_two_edits(value, key))
            {
                Some(suggestion) => format!("{base} Did you mean `{suggestion}`?"),
                None => base,
            }
        }
        ErrorKind::VectorFilterUnknownSuffix(Some(previous), value) => format!(
            "Vector filter can only accept one of `fragments`, `userProvided`, \
             `documentTemplate` or `regenerate`, but found both `{previous}` and `{value}`."
        ),
        ErrorKind::VectorFilterInvalidFragment => {
            "The vector filter's fragment name is invalid.".to_string()
        }
        ErrorKind::VectorFilterMissingFragment => {
            "The vector filter is missing a fragment name.".to_string()
        }
        ErrorKind::VectorFilterMissingEmbedder => {
            "Was expecting embedder name but found nothing.".to_string()
        }
        ErrorKind::VectorFilterInvalidEmbedder => {
            "The vector filter's embedder name is invalid.".to_string()
        }
        ErrorKind::VectorFilterOperation => "Was expecting an operation like `EXISTS` or \
             `NOT EXISTS` after the vector filter."
            .to_string(),
        ErrorKind::VectorFilterInvalidQuotes => {
            "The quotes in one of the values are inconsistent.".to_string()
        }
        ErrorKind::InOpeningBracket => "Expected `[` after `IN` keyword.".to_string(),
        ErrorKind::InClosingBracket => {
            "Expected matching `]` after the list of field names given to `IN[`".to_string()
        }
        ErrorKind::InExpectedValue => format!(
            "Expected only comma-separated field names inside `IN[..]` but instead found \
             `{shown}`."
        ),
        ErrorKind::Char(c) => format!("Was expecting `{c}` at `{shown}`."),
        ErrorKind::Mismatch => format!("Unexpected `{shown}`."),
        ErrorKind::DepthLimitReached => "The filter exceeded the maximum depth limit. Try \
             rewriting the filter so that it contains fewer nested conditions."
            .to_string(),
        ErrorKind::Foreign => format!(
            "Was expecting a field name and an condition inside `_foreign(..)` filter but \
             instead found `{shown}`."
        ),
    }
}

/// Appends `START:END ECHO` for the byte range `start..end` of `input`.
fn push_position(out: &mut String, input: &str, start: usize, end: usize, echo_from: usize) {
    let start = floor_boundary(input, start);
    let end = floor_boundary(input, end.max(start));
    let before = &input[..start];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    let width = input[start..end].chars().count();
    let echo = &input[floor_boundary(input, echo_from)..];
    out.push_str(&format!("{column}:{} {echo}", column + width));
}

fn floor_boundary(input: &str, index: usize) -> usize {
    let mut index = index.min(input.len());
    while !input.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Whether `a` and `b` are at most two edits apart, counting insertions, deletions,
/// substitutions and transpositions of adjacent characters (optimal string alignment).
fn within_two_edits(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return false;
    }
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()] <= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_span_points_at_the_token_columns_in_characters() {
        let error = FilterError::at_span(
            "é = 1 AND doggo = 2",
            Span { start: 11, end: 16 },
            "Attribute `doggo` is not filterable.",
        );
        assert_eq!(
            error.message(),
            "Attribute `doggo` is not filterable.\n11:16 é = 1 AND doggo = 2"
        );
    }

    #[test]
    fn columns_restart_after_a_newline() {
        let error = FilterError::at_span("a = 1\nAND b", Span { start: 10, end: 11 }, "x");
        assert_eq!(error.message(), "x\n5:6 a = 1\nAND b");
    }

    #[test]
    fn two_edits_accepts_a_transposition_as_one_edit() {
        assert!(within_two_edits("fargments", "fragments"));
        assert!(within_two_edits("userprovied", "userProvided"));
        assert!(!within_two_edits("usrprovied", "userProvided"));
        assert!(within_two_edits("regenerat", "regenerate"));
        assert!(!within_two_edits("test", "fragments"));
    }
}
