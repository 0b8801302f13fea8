//! The canonical text of a filter: what `Display` prints for a [`Filter`].
//!
//! The output is a filter string [`super::parse`] accepts and that parses back to the same
//! AST (spans aside), for every AST the parser can produce. Tokens are written bare when
//! they can be, and between double quotes (with `\` and `"` escaped) when the client
//! quoted them or when a bare word would be read differently (keywords, empty strings,
//! characters outside words, names the parser treats specially such as `_geo...` and
//! `_vectors...`). `AND` binds tighter than `OR`; parentheses are printed only where the
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
                write!(f, "{} {op} {}", Value(field), Value(value))
            }
            Filter::Range { field, from, to } => {
                write!(f, "{} {} TO {}", Value(field), Value(from), Value(to))
            }
            Filter::In { field, values } => write_in(f, field, "IN", values),
            Filter::Exists { field } => write!(f, "{} EXISTS", Value(field)),
            Filter::IsNull { field } => write!(f, "{} IS NULL", Value(field)),
            Filter::IsEmpty { field } => write!(f, "{} IS EMPTY", Value(field)),
            Filter::Contains { field, value } => {
                write!(f, "{} CONTAINS {}", Value(field), Value(value))
            }
            Filter::StartsWith { field, value } => {
                write!(f, "{} STARTS WITH {}", Value(field), Value(value))
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
                write!(f, "_foreign({}, {filter})", Value(field))
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
        Filter::Exists { field } => write!(f, "{} NOT EXISTS", Value(field)),
        Filter::IsNull { field } => write!(f, "{} IS NOT NULL", Value(field)),
        Filter::IsEmpty { field } => write!(f, "{} IS NOT EMPTY", Value(field)),
        Filter::Contains { field, value } => {
            write!(f, "{} NOT CONTAINS {}", Value(field), Value(value))
        }
        Filter::StartsWith { field, value } => {
            write!(f, "{} NOT STARTS WITH {}", Value(field), Value(value))
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
    write!(f, "{} {keyword} [", Value(field))?;
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", Value(value))?;
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

/// A field name or value token.
struct Value<'t>(&'t Token);

impl Display for Value<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let text = &self.0.value;
        if self.0.quoted || !can_be_bare_value(text) {
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
    /// (it then does so unless [`Token::quoted`] is set).
    pub fn can_be_written_bare(&self) -> bool {
        can_be_bare_value(&self.value)
    }
}

/// Whether `text` reads back as itself when written without quotes wherever a field name
/// or a value stands.
fn can_be_bare_value(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        // `x EXISTSy TO 3` would read as `x EXISTS` followed by garbage, and so on: keep
        // anything that starts like a keyword between quotes.
        && !KEYWORDS.iter().any(|keyword| text.starts_with(keyword))
        && !text.starts_with("_geo")
        && !text.starts_with("_vectors")
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
