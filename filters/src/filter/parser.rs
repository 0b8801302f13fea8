//! The filter string parser: a hand-written recursive descent over byte offsets.
//!
//! It accepts exactly the language Meilisearch 1.50 accepts and fails where it fails,
//! with the same diagnostic on the same fragment. To get the same errors it follows
//! Meilisearch's rules for trying alternatives: a parse step either *declines*
//! ([`Fail::Error`], the next alternative is tried) or *fails* ([`Fail::Failure`], the
//! whole parse stops with that error). A step commits (turns declines into failures) at
//! the same points Meilisearch does: after an operator, after `NOT`/`AND`/`OR`, after an
//! opening parenthesis, after `IN`, after `_geoRadius`/`_geoBoundingBox`/`_geoPolygon`,
//! after `_vectors.` and after `_foreign`.
//!
//! Grammar (keywords are case-sensitive, as in Meilisearch):
//!
//! ```text
//! filter     = or EOF
//! or         = and ("OR" and)*
//! and        = not ("AND" not)*
//! not        = "NOT" not | primary
//! primary    = "(" or ")" | geo | in | not_in | compare | is_null | is_not_null
//!            | is_empty | is_not_empty | vectors | exists | not_exists | to
//!            | contains | not_contains | starts_with | not_starts_with | foreign
//! value      = word | 'single quoted' | "double quoted"
//! word       = (alphanumeric | "_" | "-" | ".")+ but not a keyword
//! ```

use std::cell::Cell;

use super::ast::{CompareOp, Filter, Span, Token, VectorSelector};
use super::error::{ErrorKind, FilterError, ParseError};

/// How deep `NOT`s and parentheses may nest, counted as Meilisearch counts them (each
/// parenthesis costs four levels, each `NOT` one).
pub const MAX_FILTER_DEPTH: usize = 150;

/// Words that cannot be written bare as a field name or a value.
pub(crate) const KEYWORDS: [&str; 14] = [
    "AND",
    "OR",
    "IN",
    "NOT",
    "TO",
    "EXISTS",
    "IS",
    "NULL",
    "EMPTY",
    "CONTAINS",
    "STARTS",
    "WITH",
    "_geoRadius",
    "_geoBoundingBox",
];

/// Parses a filter string.
///
/// Returns `Ok(None)` for an empty or all-whitespace filter (Meilisearch treats it as no
/// filter), the expression otherwise. `NOT NOT x` collapses to `x`, and the negated
/// operators (`NOT IN`, `IS NOT NULL`, ...) become [`Filter::Not`] around the positive
/// form, as in Meilisearch. Token spans are byte ranges of `input`; for a quoted token
/// the span covers the text between the quotes.
pub fn parse(input: &str) -> Result<Option<Filter>, FilterError> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    let parser = Parser {
        src: input,
        echo: Cell::new(0),
    };
    let result = parser.or(0, 0).and_then(|(end, filter)| {
        if end == input.len() {
            Ok(filter)
        } else {
            Err(parser.decline(ErrorKind::ExpectedEof, end))
        }
    });
    match result {
        Ok(filter) => Ok(Some(filter)),
        Err(Fail::Error(error) | Fail::Failure(error)) => Err(error.render(input)),
        Err(Fail::Incomplete) => Err(ParseError {
            kind: ErrorKind::Incomplete,
            start: 0,
            end: input.len(),
            echo_from: 0,
        }
        .render(input)),
    }
}

/// Why a parse step did not succeed.
#[derive(Debug)]
enum Fail {
    /// The step does not apply here; the caller may try something else.
    Error(ParseError),
    /// The input is wrong; the whole parse stops with this error.
    Failure(ParseError),
    /// An escape sequence ended too early; Meilisearch reports it against the whole input.
    Incomplete,
}

type PResult<T> = Result<(usize, T), Fail>;

/// Turns a decline into a failure: the caller has committed to this branch.
fn cut<T>(result: PResult<T>) -> PResult<T> {
    result.map_err(|fail| match fail {
        Fail::Error(error) => Fail::Failure(error),
        other => other,
    })
}

/// Any decline or failure becomes a failure of `kind` at the same place (Meilisearch's
/// `map_cut`).
fn cut_as<T>(result: PResult<T>, kind: ErrorKind) -> PResult<T> {
    result.map_err(|fail| match fail {
        Fail::Error(error) | Fail::Failure(error) => Fail::Failure(ParseError { kind, ..error }),
        Fail::Incomplete => Fail::Incomplete,
    })
}

fn is_value_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn is_syntax_char(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '=' | '<' | '>' | '!')
}

fn is_multispace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A quoted or bare value before escape processing.
struct RawValue {
    /// Byte range of the text (between the quotes when quoted).
    span: Span,
    /// The text with `\<quote>` already turned into the quote.
    text: String,
    quoted: bool,
}

struct Parser<'a> {
    src: &'a str,
    /// Where the input echoed on an error's position line starts for errors created from
    /// now on. Meilisearch echoes the whole input, except after it has entered a
    /// `_foreign(`: from then on it echoes the input from that `_foreign` on. A parse
    /// never backtracks over a `_foreign(` it entered (it succeeds or fails for good),
    /// so one value updated in parse order is enough.
    echo: Cell<usize>,
}

impl<'a> Parser<'a> {
    // ----- low-level scanning -------------------------------------------------------

    fn rest(&self, at: usize) -> &'a str {
        &self.src[at..]
    }

    fn peek(&self, at: usize) -> Option<char> {
        self.rest(at).chars().next()
    }

    fn starts_with(&self, at: usize, tag: &str) -> bool {
        self.rest(at).starts_with(tag)
    }

    /// Skips `[ \t\r\n]*`.
    fn ms0(&self, at: usize) -> usize {
        at + self.rest(at).len() - self.rest(at).trim_start_matches(is_multispace).len()
    }

    /// Skips `[ \t\r\n]+`, or declines.
    fn ms1(&self, at: usize) -> Option<usize> {
        let end = self.ms0(at);
        (end > at).then_some(end)
    }

    /// Skips Unicode whitespace.
    fn skip_whitespace(&self, at: usize) -> usize {
        at + self.rest(at).len() - self.rest(at).trim_start().len()
    }

    fn take_while(&self, at: usize, keep: impl Fn(char) -> bool) -> usize {
        at + self
            .rest(at)
            .find(|c: char| !keep(c))
            .unwrap_or(self.rest(at).len())
    }

    /// The word at `at` is exactly `word` (not merely prefixed by it).
    fn word_exact(&self, at: usize, word: &str) -> Option<usize> {
        let end = self.take_while(at, is_value_char);
        (end > at && &self.src[at..end] == word).then_some(end)
    }

    fn tag(&self, at: usize, tag: &str) -> Option<usize> {
        self.starts_with(at, tag).then_some(at + tag.len())
    }

    /// A parse error pointing from `at` to the end of the input.
    fn error_from(&self, kind: ErrorKind, at: usize) -> ParseError {
        ParseError {
            kind,
            start: at,
            end: self.src.len(),
            echo_from: self.echo.get(),
        }
    }

    fn decline(&self, kind: ErrorKind, at: usize) -> Fail {
        Fail::Error(self.error_from(kind, at))
    }

    fn fail(&self, kind: ErrorKind, at: usize) -> Fail {
        Fail::Failure(self.error_from(kind, at))
    }

    fn fail_span(&self, kind: ErrorKind, span: Span) -> Fail {
        Fail::Failure(ParseError {
            kind,
            start: span.start,
            end: span.end,
            echo_from: self.echo.get(),
        })
    }

    // ----- boolean structure --------------------------------------------------------

    fn or(&self, at: usize, depth: usize) -> PResult<Filter> {
        if depth > MAX_FILTER_DEPTH {
            return Err(self.decline(ErrorKind::DepthLimitReached, at));
        }
        let (mut at, first) = self.and(at, depth + 1)?;
        let mut children = vec![first];
        while let Some(after) = self.word_exact(self.ms0(at), "OR") {
            let (end, next) = cut(self.and(self.ms0(after), depth + 1))?;
            children.push(next);
            at = end;
        }
        Ok((at, combine(children, Filter::Or)))
    }

    fn and(&self, at: usize, depth: usize) -> PResult<Filter> {
        if depth > MAX_FILTER_DEPTH {
            return Err(self.decline(ErrorKind::DepthLimitReached, at));
        }
        let (mut at, first) = self.not(at, depth + 1)?;
        let mut children = vec![first];
        while let Some(after) = self.word_exact(self.ms0(at), "AND") {
            let (end, next) = cut(self.not(self.ms0(after), depth + 1))?;
            children.push(next);
            at = end;
        }
        Ok((at, combine(children, Filter::And)))
    }

    fn not(&self, at: usize, depth: usize) -> PResult<Filter> {
        if depth > MAX_FILTER_DEPTH {
            return Err(self.decline(ErrorKind::DepthLimitReached, at));
        }
        if let Some(after) = self.word_exact(self.ms0(at), "NOT") {
            let (end, inner) = cut(self.not(self.ms0(after), depth + 1))?;
            return Ok((end, negate(inner)));
        }
        self.primary(at, depth + 1)
    }

    fn primary(&self, at: usize, depth: usize) -> PResult<Filter> {
        if depth > MAX_FILTER_DEPTH {
            return Err(self.decline(ErrorKind::DepthLimitReached, at));
        }
        let open = self.ms0(at);
        if self.peek(open) == Some('(') {
            let echo_from = self.echo.get();
            let (end, inner) = cut(self.or(self.ms0(open + 1), depth + 1))?;
            let close = self.ms0(end);
            if self.peek(close) != Some(')') {
                let kind = ErrorKind::MissingClosingDelimiter(')');
                let error = ParseError {
                    kind,
                    start: at,
                    end: self.src.len(),
                    echo_from,
                };
                return Err(Fail::Failure(error));
            }
            return Ok((self.ms0(close + 1), inner));
        }
        type Alternative<'p> = fn(&Parser<'p>, usize, usize) -> PResult<Filter>;
        let alternatives: [Alternative<'a>; 21] = [
            |p, at, _| p.geo_radius(at),
            |p, at, _| p.geo_bounding_box(at),
            |p, at, _| p.geo_polygon(at),
            |p, at, _| p.in_list(at),
            |p, at, _| p.not_in_list(at),
            |p, at, _| p.compare(at),
            |p, at, _| p.is_check(at, false, "NULL"),
            |p, at, _| p.is_check(at, true, "NULL"),
            |p, at, _| p.is_check(at, false, "EMPTY"),
            |p, at, _| p.is_check(at, true, "EMPTY"),
            |p, at, _| p.vectors_exists(at),
            |p, at, _| p.exists(at),
            |p, at, _| p.not_exists(at),
            |p, at, _| p.range(at),
            |p, at, _| p.word_operator(at, false, "CONTAINS"),
            |p, at, _| p.word_operator(at, true, "CONTAINS"),
            |p, at, _| p.word_operator(at, false, "STARTS WITH"),
            |p, at, _| p.word_operator(at, true, "STARTS WITH"),
            |p, at, depth| p.foreign(at, depth),
            |p, at, _| match p.reserved_geo(at) {
                Some(fail) => Err(fail),
                None => Err(p.decline(ErrorKind::Mismatch, at)),
            },
            |p, at, _| p.reserved_keyword_field(at),
        ];
        for alternative in alternatives {
            match alternative(self, at, depth) {
                Err(Fail::Error(_)) => continue,
                other => return other,
            }
        }
        Err(self.decline(ErrorKind::InvalidPrimary, at))
    }

    // ----- values ---------------------------------------------------------------------

    /// `value = WS* (word | 'quoted' | "quoted") [ \t\r\n]*`, with Meilisearch's checks for
    /// geo operations written where a value belongs.
    fn value(&self, at: usize) -> PResult<Token> {
        let at = self.skip_whitespace(at);
        if let Some(fail) = self.reserved_geo(at) {
            return Err(fail);
        }
        let start = self.ms0(at);
        if self.word_exact(start, "_geoRadius").is_some() {
            return Err(self.fail(ErrorKind::MisusedGeoRadius, at));
        }
        if self.word_exact(start, "_geoBoundingBox").is_some() {
            return Err(self.fail(ErrorKind::MisusedGeoBoundingBox, at));
        }

        let raw = match self.peek(at) {
            Some(quote @ ('\'' | '"')) => {
                let (end, raw) = self.quoted(at + 1, quote).map_err(|fail| match fail {
                    Fail::Error(error) => Fail::Failure(error),
                    other => other,
                })?;
                if self.peek(end) != Some(quote) {
                    return Err(self.fail(ErrorKind::MissingClosingDelimiter(quote), at));
                }
                (end + 1, raw)
            }
            _ => {
                let end = self.take_while(at, is_value_char);
                let word = &self.src[at..end];
                if end == at || KEYWORDS.contains(&word) {
                    let reserved = end > at;
                    let word_end = self.take_while(at, |c| !is_syntax_char(c));
                    return Err(Fail::Error(ParseError {
                        kind: ErrorKind::ExpectedValue { reserved },
                        start: at,
                        end: word_end,
                        echo_from: self.echo.get(),
                    }));
                }
                let raw = RawValue {
                    span: Span { start: at, end },
                    text: word.to_string(),
                    quoted: false,
                };
                (end, raw)
            }
        };
        let (end, raw) = raw;
        let end = self.ms0(end);
        let value = match unescape(&raw.text) {
            Ok(value) => value,
            Err(Unescape::Incomplete) => return Err(Fail::Incomplete),
            Err(Unescape::BadNumber) => {
                return Err(Fail::Error(ParseError {
                    kind: ErrorKind::InvalidEscapedNumber,
                    start: raw.span.start,
                    end: raw.span.end,
                    echo_from: self.echo.get(),
                }))
            }
            Err(Unescape::BadChar) => {
                return Err(Fail::Error(ParseError {
                    kind: ErrorKind::MalformedValue,
                    start: raw.span.start,
                    end: raw.span.end,
                    echo_from: self.echo.get(),
                }))
            }
        };
        Ok((
            end,
            Token {
                value,
                quoted: raw.quoted,
                span: raw.span,
            },
        ))
    }

    /// The text of a quoted value from just after the opening quote up to (not
    /// including) the closing quote or the end of the input. A backslash escapes the next
    /// character; a backslash at the very end is malformed.
    fn quoted(&self, at: usize, quote: char) -> PResult<RawValue> {
        let mut escaped_quote = false;
        let mut chars = self.rest(at).char_indices();
        let mut end = self.src.len();
        while let Some((offset, c)) = chars.next() {
            if c == quote {
                end = at + offset;
                break;
            }
            if c == '\\' {
                match chars.next() {
                    Some((_, next)) => escaped_quote |= next == quote,
                    None => return Err(self.decline(ErrorKind::MalformedValue, at)),
                }
            }
        }
        let raw = &self.src[at..end];
        let text = if escaped_quote {
            raw.replace(&format!("\\{quote}"), &quote.to_string())
        } else {
            raw.to_string()
        };
        Ok((
            end,
            RawValue {
                span: Span { start: at, end },
                text,
                quoted: true,
            },
        ))
    }

    /// `_geoPoint(..)`, `_geoDistance(..)` and `_geo(..)` are reserved: if the input at `at`
    /// starts with one of them, the failure Meilisearch reports.
    fn reserved_geo(&self, at: usize) -> Option<Fail> {
        let start = self.ms0(at);
        let name = if self.starts_with(start, "_geoPoint") {
            "_geoPoint"
        } else if self.starts_with(start, "_geoDistance") {
            "_geoDistance"
        } else if self.word_exact(start, "_geo").is_some() {
            "_geo"
        } else {
            return None;
        };
        Some(self.fail(ErrorKind::ReservedGeo(name), at))
    }

    // ----- conditions -----------------------------------------------------------------

    fn in_list(&self, at: usize) -> PResult<Filter> {
        let (at, field) = self.value(at)?;
        let (end, values) = self.in_body(at)?;
        Ok((end, Filter::In { field, values }))
    }

    fn not_in_list(&self, at: usize) -> PResult<Filter> {
        let (at, field) = self.value(at)?;
        let at = self
            .word_exact(at, "NOT")
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, at))?;
        let (end, values) = self.in_body(at)?;
        Ok((end, Filter::Not(Box::new(Filter::In { field, values }))))
    }

    /// `IN [v, v, ...]`: everything after `IN` is committed.
    fn in_body(&self, at: usize) -> PResult<Vec<Token>> {
        let keyword = self.ms0(at);
        let after = self
            .word_exact(keyword, "IN")
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, keyword))?;
        let open = self.ms0(after);
        if !self.starts_with(open, "[") {
            return Err(self.fail(ErrorKind::InOpeningBracket, open));
        }
        let (list_end, values) = self.value_list(open + 1)?;
        let close = self.ms0(list_end);
        if self.starts_with(close, "]") {
            return Ok((self.ms0(close + 1), values));
        }
        if list_end == self.src.len() {
            Err(self.fail(ErrorKind::InClosingBracket, list_end))
        } else {
            Err(self.fail(ErrorKind::InExpectedValue, list_end))
        }
    }

    /// `(value ("," value)* ","?)?` — never declines, only fails.
    fn value_list(&self, at: usize) -> PResult<Vec<Token>> {
        let mut values = Vec::new();
        let mut at = match self.value(at) {
            Ok((end, value)) => {
                values.push(value);
                end
            }
            Err(Fail::Error(_)) => return Ok((at, values)),
            Err(other) => return Err(other),
        };
        loop {
            let comma = self.ms0(at);
            if !self.starts_with(comma, ",") {
                break;
            }
            match self.value(self.ms0(comma + 1)) {
                Ok((end, value)) => {
                    values.push(value);
                    at = end;
                }
                Err(Fail::Error(_)) => break,
                Err(other) => return Err(other),
            }
        }
        let comma = self.ms0(at);
        if self.starts_with(comma, ",") {
            at = self.ms0(comma + 1);
        }
        Ok((at, values))
    }

    fn compare(&self, at: usize) -> PResult<Filter> {
        let (at, field) = self.value(at)?;
        let operators = [
            ("<=", CompareOp::LowerThanOrEqual),
            (">=", CompareOp::GreaterThanOrEqual),
            ("!=", CompareOp::NotEqual),
            ("<", CompareOp::LowerThan),
            (">", CompareOp::GreaterThan),
            ("=", CompareOp::Equal),
        ];
        let Some((symbol, op)) = operators
            .into_iter()
            .find(|(symbol, _)| self.starts_with(at, symbol))
        else {
            return Err(self.decline(ErrorKind::Mismatch, at));
        };
        let (end, value) = cut(self.value(at + symbol.len()))?;
        Ok((end, Filter::Compare { field, op, value }))
    }

    /// `field IS [NOT] NULL` and `field IS [NOT] EMPTY`.
    fn is_check(&self, at: usize, negated: bool, keyword: &str) -> PResult<Filter> {
        let (at, field) = self.value(at)?;
        let mismatch = || self.decline(ErrorKind::Mismatch, at);
        let mut cursor = self.tag(at, "IS").ok_or_else(mismatch)?;
        if negated {
            cursor = self.ms1(cursor).ok_or_else(mismatch)?;
            cursor = self.tag(cursor, "NOT").ok_or_else(mismatch)?;
        }
        cursor = self.ms1(cursor).ok_or_else(mismatch)?;
        cursor = self.tag(cursor, keyword).ok_or_else(mismatch)?;
        let positive = if keyword == "NULL" {
            Filter::IsNull { field }
        } else {
            Filter::IsEmpty { field }
        };
        Ok((
            cursor,
            if negated {
                Filter::Not(Box::new(positive))
            } else {
                positive
            },
        ))
    }

    fn exists(&self, at: usize) -> PResult<Filter> {
        let (at, field) = self.value(at)?;
        let end = self
            .tag(at, "EXISTS")
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, at))?;
        Ok((end, Filter::Exists { field }))
    }

    fn not_exists(&self, at: usize) -> PResult<Filter> {
        let (at, field) = self.value(at)?;
        let end = self
            .not_then(at, "EXISTS")
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, at))?;
        Ok((end, Filter::Not(Box::new(Filter::Exists { field }))))
    }

    /// `NOT` whitespace `word`, returning the end.
    fn not_then(&self, at: usize, word: &str) -> Option<usize> {
        let after = self.tag(at, "NOT")?;
        self.tag(self.ms1(after)?, word)
    }

    fn range(&self, at: usize) -> PResult<Filter> {
        let (at, field) = self.value(at)?;
        let (at, from) = self.value(at)?;
        let after = self
            .tag(at, "TO")
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, at))?;
        let after = self
            .ms1(after)
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, after))?;
        let (end, to) = cut(self.value(after))?;
        Ok((end, Filter::Range { field, from, to }))
    }

    /// `field [NOT] CONTAINS value` and `field [NOT] STARTS WITH value`.
    fn word_operator(&self, at: usize, negated: bool, keyword: &str) -> PResult<Filter> {
        let (at, field) = self.value(at)?;
        let after = if negated {
            self.not_then(at, keyword)
        } else {
            self.tag(at, keyword)
        };
        let after = after.ok_or_else(|| self.decline(ErrorKind::Mismatch, at))?;
        let (end, value) = cut(self.value(after))?;
        let positive = if keyword == "CONTAINS" {
            Filter::Contains { field, value }
        } else {
            Filter::StartsWith { field, value }
        };
        Ok((
            end,
            if negated {
                Filter::Not(Box::new(positive))
            } else {
                positive
            },
        ))
    }

    /// A keyword written where a field name belongs fails loudly instead of giving the
    /// generic "expecting an operation" error.
    fn reserved_keyword_field(&self, at: usize) -> PResult<Filter> {
        match self.compare(at) {
            Err(Fail::Error(error) | Fail::Failure(error))
                if error.kind == (ErrorKind::ExpectedValue { reserved: true }) =>
            {
                Err(Fail::Failure(error))
            }
            Err(Fail::Failure(error)) => Err(Fail::Error(error)),
            other => other,
        }
    }

    // ----- geo ------------------------------------------------------------------------

    /// `[ \t\r\n]* float [ \t\r\n]*` separated by commas, at least one.
    fn float_list(&self, at: usize) -> PResult<Vec<Token>> {
        self.separated_list(at, |at| {
            let start = self.ms0(at);
            let end = self.float(start)?;
            let token = Token {
                value: self.src[start..end].to_string(),
                quoted: false,
                span: Span { start, end },
            };
            Ok((self.ms0(end), token))
        })
    }

    /// `element ("," element)*`: stops before a comma not followed by an element.
    fn separated_list<T>(
        &self,
        at: usize,
        element: impl Fn(usize) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let (mut at, first) = element(at)?;
        let mut items = vec![first];
        while self.starts_with(at, ",") {
            match element(at + 1) {
                Ok((end, item)) => {
                    items.push(item);
                    at = end;
                }
                Err(Fail::Error(_)) => break,
                Err(other) => return Err(other),
            }
        }
        Ok((at, items))
    }

    /// `[+-]? (digits ("." digits?)? | "." digits) ([eE] [+-]? digits)?`, returning its end.
    fn float(&self, at: usize) -> Result<usize, Fail> {
        let digits = |at: usize| self.take_while(at, |c| c.is_ascii_digit());
        let mut cursor = at;
        if matches!(self.peek(cursor), Some('+' | '-')) {
            cursor += 1;
        }
        let integer_end = digits(cursor);
        if integer_end > cursor {
            cursor = integer_end;
            if self.peek(cursor) == Some('.') {
                cursor = digits(cursor + 1);
            }
        } else if self.peek(cursor) == Some('.') {
            let fraction_end = digits(cursor + 1);
            if fraction_end == cursor + 1 {
                return Err(self.decline(ErrorKind::Mismatch, cursor + 1));
            }
            cursor = fraction_end;
        } else {
            return Err(self.decline(ErrorKind::Mismatch, cursor));
        }
        if matches!(self.peek(cursor), Some('e' | 'E')) {
            let mut exponent = cursor + 1;
            if matches!(self.peek(exponent), Some('+' | '-')) {
                exponent += 1;
            }
            let exponent_end = digits(exponent);
            if exponent_end == exponent {
                return Err(self.fail(ErrorKind::Mismatch, exponent));
            }
            cursor = exponent_end;
        }
        Ok(cursor)
    }

    /// `[ \t\r\n]* "[" float_list "]" [ \t\r\n]*`.
    fn bracketed_point(&self, at: usize) -> PResult<Vec<Token>> {
        let open = self.ms0(at);
        if !self.starts_with(open, "[") {
            return Err(self.decline(ErrorKind::Char('['), open));
        }
        let (end, floats) = self.float_list(open + 1)?;
        if !self.starts_with(end, "]") {
            return Err(self.decline(ErrorKind::Char(']'), end));
        }
        Ok((self.ms0(end + 1), floats))
    }

    /// The word `name` (after optional whitespace), then `(`; declines if the word is not
    /// there, fails with `kind` if the parenthesis is not.
    fn geo_head(&self, at: usize, name: &str, kind: ErrorKind) -> Result<usize, Fail> {
        let start = self.ms0(at);
        let after = self
            .word_exact(start, name)
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, start))?;
        if !self.starts_with(after, "(") {
            return Err(self.fail(kind, after));
        }
        Ok(after + 1)
    }

    fn geo_radius(&self, at: usize) -> PResult<Filter> {
        let at = self.geo_head(at, "_geoRadius", ErrorKind::GeoRadius)?;
        let (end, args) = cut_as(self.float_list(at), ErrorKind::GeoRadius)?;
        if !self.starts_with(end, ")") {
            return Err(self.fail(ErrorKind::GeoRadius, end));
        }
        let end = end + 1;
        if !(3..=4).contains(&args.len()) {
            return Err(self.fail(ErrorKind::GeoRadiusArgumentCount(args.len()), end));
        }
        let mut args = args.into_iter();
        let mut next = || {
            args.next()
                .expect("the argument count was checked to be 3 or 4")
        };
        let (lat, lng, radius) = (next(), next(), next());
        let resolution = args.next();
        Ok((
            end,
            Filter::GeoRadius {
                lat,
                lng,
                radius,
                resolution,
            },
        ))
    }

    fn geo_bounding_box(&self, at: usize) -> PResult<Filter> {
        let at = self.geo_head(at, "_geoBoundingBox", ErrorKind::GeoBoundingBox)?;
        let (end, points) = cut_as(
            self.separated_list(at, |at| self.bracketed_point(at)),
            ErrorKind::GeoBoundingBox,
        )?;
        if !self.starts_with(end, ")") {
            return Err(self.fail(ErrorKind::GeoBoundingBox, end));
        }
        let end = end + 1;
        if points.len() != 2 {
            return Err(self.fail(ErrorKind::GeoBoundingBox, end));
        }
        let mut pairs = self.pairs(points)?.into_iter();
        let mut next = || pairs.next().expect("the point count was checked to be 2");
        let (top_right, bottom_left) = (next(), next());
        Ok((
            end,
            Filter::GeoBoundingBox {
                top_right,
                bottom_left,
            },
        ))
    }

    fn geo_polygon(&self, at: usize) -> PResult<Filter> {
        let at = self.geo_head(at, "_geoPolygon", ErrorKind::GeoPolygon)?;
        let (mut end, points) = cut_as(
            self.separated_list(at, |at| self.bracketed_point(at)),
            ErrorKind::GeoPolygon,
        )?;
        let comma = self.ms0(end);
        if self.starts_with(comma, ",") {
            end = self.ms0(comma + 1);
        }
        if !self.starts_with(end, ")") {
            return Err(self.fail(ErrorKind::GeoPolygon, end));
        }
        let end = end + 1;
        if points.len() < 3 {
            let last = points
                .last()
                .and_then(|point| point.last())
                .map(|token| token.span);
            let span = last.unwrap_or(Span {
                start: end,
                end: self.src.len(),
            });
            return Err(self.fail_span(ErrorKind::GeoPolygonNotEnoughPoints(points.len()), span));
        }
        let points = self.pairs(points)?;
        Ok((end, Filter::GeoPolygon { points }))
    }

    /// Checks that every point has two coordinates.
    fn pairs(&self, points: Vec<Vec<Token>>) -> Result<Vec<[Token; 2]>, Fail> {
        let mut pairs = Vec::with_capacity(points.len());
        for point in points {
            let count = point.len();
            let first_span = point.first().map(|token| token.span);
            match <[Token; 2]>::try_from(point) {
                Ok(pair) => pairs.push(pair),
                Err(_) => {
                    let span = first_span.expect("a point holds at least one coordinate");
                    return Err(self.fail_span(ErrorKind::GeoCoordinatesNotPair(count), span));
                }
            }
        }
        Ok(pairs)
    }

    // ----- _vectors -------------------------------------------------------------------

    fn vectors_exists(&self, at: usize) -> PResult<Filter> {
        let start = self.ms0(at);
        let after = self
            .tag(start, "_vectors")
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, start))?;
        let (at, embedder, selector) = if let Some(after_space) = self.ms1(after) {
            (after_space, None, VectorSelector::Any)
        } else {
            if !self.starts_with(after, ".") {
                return Err(self.decline(ErrorKind::Mismatch, after));
            }
            let name_at = after + 1;
            if self.starts_with(name_at, " ") {
                let span = Span {
                    start: name_at,
                    end: name_at + 1,
                };
                return Err(self.fail_span(ErrorKind::VectorFilterMissingEmbedder, span));
            }
            let (at, embedder) =
                self.vector_value_cut(name_at, ErrorKind::VectorFilterInvalidEmbedder)?;
            let (at, selector, previous) = if let Some(dot) = self.tag(at, ".fragments") {
                if !self.starts_with(dot, ".") {
                    return Err(self.fail(ErrorKind::VectorFilterMissingFragment, dot));
                }
                let (end, name) =
                    self.vector_value_cut(dot + 1, ErrorKind::VectorFilterInvalidFragment)?;
                (end, VectorSelector::Fragment(name), Some("fragments"))
            } else if let Some(end) = self.tag(at, ".userProvided") {
                (end, VectorSelector::UserProvided, Some("userProvided"))
            } else if let Some(end) = self.tag(at, ".documentTemplate") {
                (
                    end,
                    VectorSelector::DocumentTemplate,
                    Some("documentTemplate"),
                )
            } else if let Some(end) = self.tag(at, ".regenerate") {
                (end, VectorSelector::Regenerate, Some("regenerate"))
            } else {
                (at, VectorSelector::Any, None)
            };
            if self.starts_with(at, ".") {
                let (value, span) = match self.vector_value(at + 1) {
                    Ok((_, token)) => (token.value, token.span),
                    Err(_) => (
                        ".".to_string(),
                        Span {
                            start: at,
                            end: at + 1,
                        },
                    ),
                };
                return Err(
                    self.fail_span(ErrorKind::VectorFilterUnknownSuffix(previous, value), span)
                );
            }
            let at = self
                .ms1(at)
                .ok_or_else(|| self.fail(ErrorKind::VectorFilterLeftover, at))?;
            (at, Some(embedder), selector)
        };
        let positive = Filter::VectorExists { embedder, selector };
        if let Some(end) = self.tag(at, "EXISTS") {
            return Ok((end, positive));
        }
        if let Some(end) = self.not_then(at, "EXISTS") {
            return Ok((end, Filter::Not(Box::new(positive))));
        }
        Err(self.fail(ErrorKind::VectorFilterOperation, at))
    }

    /// An embedder or fragment name: quoted, or a word without dots.
    fn vector_value(&self, at: usize) -> PResult<Token> {
        let (end, raw) = match self.peek(at) {
            Some(quote @ ('\'' | '"')) => {
                let (end, raw) = cut(self.quoted(at + 1, quote))?;
                if self.peek(end) != Some(quote) {
                    return Err(self.fail(ErrorKind::Char(quote), end));
                }
                (end + 1, raw)
            }
            _ => {
                let end = self.take_while(at, |c| is_value_char(c) && c != '.');
                if end == at {
                    return Err(self.decline(ErrorKind::Mismatch, at));
                }
                let raw = RawValue {
                    span: Span { start: at, end },
                    text: self.src[at..end].to_string(),
                    quoted: false,
                };
                (end, raw)
            }
        };
        match unescape(&raw.text) {
            Ok(value) => Ok((
                end,
                Token {
                    value,
                    quoted: raw.quoted,
                    span: raw.span,
                },
            )),
            Err(Unescape::Incomplete) => Err(Fail::Incomplete),
            Err(_) => Err(self.decline(ErrorKind::MalformedValue, end)),
        }
    }

    fn vector_value_cut(&self, at: usize, kind: ErrorKind) -> PResult<Token> {
        self.vector_value(at).map_err(|fail| match fail {
            Fail::Failure(ParseError {
                kind: ErrorKind::Char('"' | '\''),
                ..
            }) => self.fail(ErrorKind::VectorFilterInvalidQuotes, at),
            _ => self.fail(kind.clone(), at),
        })
    }

    // ----- _foreign -------------------------------------------------------------------

    /// `_foreign(field, filter)`. Any error inside the parentheses becomes the `_foreign`
    /// error; from here on, position lines echo the input from the `_foreign` on.
    fn foreign(&self, at: usize, depth: usize) -> PResult<Filter> {
        let start = self.ms0(at);
        let after = self
            .word_exact(start, "_foreign")
            .ok_or_else(|| self.decline(ErrorKind::Mismatch, start))?;
        self.echo.set(at);
        let inner = || -> PResult<Filter> {
            if !self.starts_with(after, "(") {
                return Err(self.decline(ErrorKind::Char('('), after));
            }
            let (at, field) = self.value(self.ms0(after + 1))?;
            let comma = self.ms0(at);
            if !self.starts_with(comma, ",") {
                return Err(self.decline(ErrorKind::Char(','), comma));
            }
            let (end, filter) = self.or(self.ms0(comma + 1), depth)?;
            let close = self.ms0(end);
            if !self.starts_with(close, ")") {
                return Err(self.decline(ErrorKind::Char(')'), close));
            }
            Ok((
                close + 1,
                Filter::Foreign {
                    field,
                    filter: Box::new(filter),
                },
            ))
        };
        inner().map_err(|fail| match fail {
            Fail::Error(error) | Fail::Failure(error) => Fail::Failure(ParseError {
                kind: ErrorKind::Foreign,
                ..error
            }),
            Fail::Incomplete => Fail::Incomplete,
        })
    }
}

fn combine(mut children: Vec<Filter>, wrap: fn(Vec<Filter>) -> Filter) -> Filter {
    if children.len() == 1 {
        children.pop().expect("one child was just checked")
    } else {
        wrap(children)
    }
}

/// `NOT` of a negation is the inner filter, as in Meilisearch.
fn negate(filter: Filter) -> Filter {
    match filter {
        Filter::Not(inner) => *inner,
        other => Filter::Not(Box::new(other)),
    }
}

/// Why an escape sequence could not be resolved.
#[derive(Debug, PartialEq, Eq)]
enum Unescape {
    /// The text ends inside an escape sequence.
    Incomplete,
    /// The digits of `\x`, `\u` or an octal escape do not form a number.
    BadNumber,
    /// An unknown escape letter, or a `\u` code that is not a character.
    BadChar,
}

/// Resolves the escape sequences Meilisearch resolves in values: `\b \f \n \r \t`,
/// `\' \" \\ \/`, `\xHH` (a byte taken as a Latin-1 character), `\uHHHH`, `\u{H..}` and
/// octal `\NNN` (up to 0o377).
fn unescape(text: &str) -> Result<String, Unescape> {
    if !text.contains('\\') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escape = chars.next().ok_or(Unescape::Incomplete)?;
        let resolved = match escape {
            'b' => '\u{0008}',
            'f' => '\u{000c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '\'' | '"' | '\\' | '/' => escape,
            'u' => {
                let first = chars.next().ok_or(Unescape::Incomplete)?;
                let mut digits = String::new();
                if first == '{' {
                    for digit in chars.by_ref() {
                        if digit == '}' {
                            break;
                        }
                        digits.push(digit);
                    }
                } else {
                    digits.push(first);
                    for _ in 0..3 {
                        digits.push(chars.next().ok_or(Unescape::Incomplete)?);
                    }
                }
                let code = u32::from_str_radix(&digits, 16).map_err(|_| Unescape::BadNumber)?;
                char::from_u32(code).ok_or(Unescape::BadChar)?
            }
            'x' => {
                let mut digits = String::new();
                for _ in 0..2 {
                    digits.push(chars.next().ok_or(Unescape::Incomplete)?);
                }
                char::from(u8::from_str_radix(&digits, 16).map_err(|_| Unescape::BadNumber)?)
            }
            '0'..='7' => {
                let max_extra = if escape <= '3' { 2 } else { 1 };
                let mut digits = String::from(escape);
                for _ in 0..max_extra {
                    match chars.peek() {
                        Some(digit @ '0'..='7') => {
                            digits.push(*digit);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                char::from(u8::from_str_radix(&digits, 8).map_err(|_| Unescape::BadNumber)?)
            }
            _ => return Err(Unescape::BadChar),
        };
        out.push(resolved);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_resolves_the_json_like_escapes() {
        assert_eq!(
            unescape(r#"a\x20b\n\t\"\'\/\\"#),
            Ok("a b\n\t\"'/\\".to_string())
        );
    }

    #[test]
    fn unescape_reads_unicode_and_octal_escapes() {
        assert_eq!(
            unescape(r"\u00e9\u{1F43B}\101\7"),
            Ok("é🐻A\u{7}".to_string())
        );
    }

    #[test]
    fn unescape_reports_a_truncated_escape_as_incomplete() {
        assert_eq!(unescape(r"\x"), Err(Unescape::Incomplete));
        assert_eq!(unescape(r"\u12"), Err(Unescape::Incomplete));
    }

    #[test]
    fn unescape_rejects_bad_digits_and_unknown_letters() {
        assert_eq!(unescape(r"\xzz"), Err(Unescape::BadNumber));
        assert_eq!(unescape(r"\q"), Err(Unescape::BadChar));
        assert_eq!(unescape(r"\u{D800}"), Err(Unescape::BadChar));
    }
}
