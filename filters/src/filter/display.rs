//! The canonical text of a filter: what `Display` prints for a [`Filter`].
//!
//! The output is a filter string [`super::parse`] accepts and that parses back to the same
//! AST (spans aside), for every AST the parser can produce. Tokens are written bare when
//! they can be, and between double quotes (with `\` and `"` escaped) when the client
//! quoted them or when a bare word would be read differently at that place (keywords,
//! empty strings, characters outside words, the reserved `_geo...` names, `_vectors`
//! before `EXISTS`, `EXISTS...` before `TO`). `AND` binds tighter than `OR`; parentheses are printed only where the
//! nesting needs them.
//!
//! Shapes the parser never produces have no faithful text: an `And`/`Or` without children
//! prints nothing, one with a single child prints the child, `NOT` directly around `NOT`
//! collapses when parsed back, and a vector selector without an embedder prints as if
//! the selector were the embedder.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::{Filter, Token, VectorSelector};
use super::parser::KEYWORDS;

impl Display for Filter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Filter::And(children) => join(
                f,
                children,
                " AND ",
                |child| matches!(child, Filter::And(c) | Filter::Or(c) if c.len() > 1),
            ),
            Filter::Or(children) => join(
                f,
                children,
                " OR ",
                |child| matches!(child, Filter::Or(c) if c.len() > 1),
            ),
            Filter::Not(inner) => write_not(f, inner),
            Filter::Compare { field, op, value } => {
                write!(f, "{} {op} {}", Value::field(field), Value::plain(value))
            }
            Filter::Range { field, from, to } => {
                write!(
                    f,
                    "{} {} TO {}",
                    Value::field_before_keyword(field),
                    Value::range_start(from),
                    Value::plain(to)
                )
            }
            Filter::In { field, values } => write_in(f, field, "IN", values),
            Filter::Exists { field } => write!(f, "{} EXISTS", Value::field_before_keyword(field)),
            Filter::IsNull { field } => write!(f, "{} IS NULL", Value::field(field)),
            Filter::IsEmpty { field } => write!(f, "{} IS EMPTY", Value::field(field)),
            Filter::Contains { field, value } => {
                write!(
                    f,
                    "{} CONTAINS {}",
                    Value::field_before_keyword(field),
                    Value::plain(value)
                )
            }
            Filter::StartsWith { field, value } => {
                write!(
                    f,
                    "{} STARTS WITH {}",
                    Value::field_before_keyword(field),
                    Value::plain(value)
                )
            }
            Filter::VectorExists { embedder, selector } => {
                write_vectors(f, embedder.as_ref(), selector)?;
                f.write_str(" EXISTS")
            }
            Filter::GeoRadius {
                lat,
                lng,
                radius,
                resolution,
            } => {
                write!(
                    f,
                    "_geoRadius({}, {}, {}",
                    lat.value, lng.value, radius.value
                )?;
                if let Some(resolution) = resolution {
                    write!(f, ", {}", resolution.value)?;
                }
                f.write_str(")")
            }
            Filter::GeoBoundingBox {
                top_right,
                bottom_left,
            } => {
                f.write_str("_geoBoundingBox(")?;
                write_point(f, top_right)?;
                f.write_str(", ")?;
                write_point(f, bottom_left)?;
                f.write_str(")")
            }
            Filter::GeoPolygon { points } => {
                f.write_str("_geoPolygon(")?;
                for (index, point) in points.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write_point(f, point)?;
                }
                f.write_str(")")
            }
            Filter::Foreign { field, filter } => {
                write!(f, "_foreign({}, {filter})", Value::plain(field))
            }
        }
    }
}

fn join(
    f: &mut Formatter<'_>,
    children: &[Filter],
    separator: &str,
    needs_parentheses: impl Fn(&Filter) -> bool,
) -> fmt::Result {
    for (index, child) in children.iter().enumerate() {
        if index > 0 {
            f.write_str(separator)?;
        }
        if children.len() > 1 && needs_parentheses(child) {
            write!(f, "({child})")?;
        } else {
            write!(f, "{child}")?;
        }
    }
    Ok(())
}

fn write_not(f: &mut Formatter<'_>, inner: &Filter) -> fmt::Result {
    match inner {
        Filter::In { field, values } => write_in(f, field, "NOT IN", values),
        Filter::Exists { field } => write!(f, "{} NOT EXISTS", Value::field_before_keyword(field)),
        Filter::IsNull { field } => write!(f, "{} IS NOT NULL", Value::field(field)),
        Filter::IsEmpty { field } => write!(f, "{} IS NOT EMPTY", Value::field(field)),
        Filter::Contains { field, value } => {
            write!(
                f,
                "{} NOT CONTAINS {}",
                Value::field_before_keyword(field),
                Value::plain(value)
            )
        }
        Filter::StartsWith { field, value } => {
            write!(
                f,
                "{} NOT STARTS WITH {}",
                Value::field_before_keyword(field),
                Value::plain(value)
            )
        }
        Filter::VectorExists { embedder, selector } => {
            write_vectors(f, embedder.as_ref(), selector)?;
            f.write_str(" NOT EXISTS")
        }
        Filter::And(children) | Filter::Or(children) if children.len() > 1 => {
            write!(f, "NOT ({inner})")
        }
        Filter::Not(_) => write!(f, "NOT ({inner})"),
        other => write!(f, "NOT {other}"),
    }
}

fn write_in(f: &mut Formatter<'_>, field: &Token, keyword: &str, values: &[Token]) -> fmt::Result {
    write!(f, "{} {keyword} [", Value::field(field))?;
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", Value::plain(value))?;
    }
    f.write_str("]")
}

fn write_point(f: &mut Formatter<'_>, point: &[Token; 2]) -> fmt::Result {
    write!(f, "[{}, {}]", point[0].value, point[1].value)
}

fn write_vectors(
    f: &mut Formatter<'_>,
    embedder: Option<&Token>,
    selector: &VectorSelector,
) -> fmt::Result {
    f.write_str("_vectors")?;
    if let Some(embedder) = embedder {
        write!(f, ".{}", VectorName(embedder))?;
    }
    match selector {
        VectorSelector::Any => Ok(()),
        VectorSelector::Fragment(name) => write!(f, ".fragments.{}", VectorName(name)),
        VectorSelector::DocumentTemplate => f.write_str(".documentTemplate"),
        VectorSelector::UserProvided => f.write_str(".userProvided"),
        VectorSelector::Regenerate => f.write_str(".regenerate"),
    }
}

/// A field name or value token, with what follows it in the printed filter.
struct Value<'t> {
    token: &'t Token,
    place: Place,
}

/// Where a token is printed; some places read a bare word differently.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// After an operator, in a list, after `TO`, the field of `_foreign(..)`.
    Value,
    /// The field of a comparison, `IN`, `IS NULL` or `IS EMPTY`, which Meilisearch tries
    /// to read as a geo filter first.
    Field,
    /// The field of `EXISTS`, `TO`, `CONTAINS` and `STARTS WITH`, which Meilisearch tries
    /// to read as a geo or `_vectors` filter first.
    FieldBeforeKeyword,
    /// The lower bound of `TO`, which Meilisearch tries to read as `EXISTS` first.
    RangeStart,
}

impl<'t> Value<'t> {
    fn plain(token: &'t Token) -> Self {
        Value {
            token,
            place: Place::Value,
        }
    }

    fn field(token: &'t Token) -> Self {
        Value {
            token,
            place: Place::Field,
        }
    }

    fn field_before_keyword(token: &'t Token) -> Self {
        Value {
            token,
            place: Place::FieldBeforeKeyword,
        }
    }

    fn range_start(token: &'t Token) -> Self {
        Value {
            token,
            place: Place::RangeStart,
        }
    }
}

impl Display for Value<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let text = &self.token.value;
        if self.token.quoted || !can_be_bare_at(text, self.place) {
            write_quoted(f, text)
        } else {
            f.write_str(text)
        }
    }
}

/// An embedder or fragment name token (`_vectors.NAME.fragments.NAME`).
struct VectorName<'t>(&'t Token);

impl Display for VectorName<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let text = &self.0.value;
        let bare = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if self.0.quoted || !bare {
            write_quoted(f, text)
        } else {
            f.write_str(text)
        }
    }
}

impl Token {
    /// Whether `Display` for a filter can write this field name or value without quotes
    /// wherever it stands (it then does so unless [`Token::quoted`] is set).
    pub fn can_be_written_bare(&self) -> bool {
        [
            Place::Value,
            Place::Field,
            Place::FieldBeforeKeyword,
            Place::RangeStart,
        ]
        .into_iter()
        .all(|place| can_be_bare_at(&self.value, place))
    }
}

/// Whether `text`, written without quotes at `place`, reads back as itself. These are
/// exactly the words the parser accepts bare there, so a token parsed bare prints bare.
fn can_be_bare_at(text: &str, place: Place) -> bool {
    let word = !text.is_empty()
        && text.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !KEYWORDS.contains(&text)
        // Names Meilisearch reserves for geo operations.
        && !text.starts_with("_geoPoint")
        && !text.starts_with("_geoDistance")
        && text != "_geo";
    let vectors = text == "_vectors" || text.starts_with("_vectors.");
    word && match place {
        Place::Value => true,
        Place::Field => text != "_geoPolygon",
        Place::FieldBeforeKeyword => text != "_geoPolygon" && !vectors,
        Place::RangeStart => !text.starts_with("EXISTS"),
    }
}

fn write_quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}
