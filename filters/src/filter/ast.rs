//! The abstract syntax tree of a Meilisearch filter expression.
//!
//! This is the contract between the parser (`super::parse`), the shard planner and the
//! fake node's evaluator. Values stay strings, exactly as Meilisearch keeps them: whether
//! `10` is a number or a string is decided when the filter is evaluated against a
//! document, not when it is parsed.

use std::fmt;

/// A byte range in the original filter string, used for error messages and round trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
}

/// A field name or a value as written by the client, with quotes and escapes resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The text with surrounding quotes removed and escapes resolved (`\"`, `\'`, `\\`,
    /// `\n`, `\t`, `\xHH`, `\u{..}`, ...), as Meilisearch resolves them.
    pub value: String,
    /// Whether the client wrote the token between quotes.
    pub quoted: bool,
    /// Where the token stands in the original filter string: for a quoted token, the
    /// text between the quotes (Meilisearch's error positions point there too).
    pub span: Span,
}

impl Token {
    /// A token that did not come from a parsed string (tests, generated filters).
    pub fn bare(value: impl Into<String>) -> Self {
        Token {
            value: value.into(),
            quoted: false,
            span: Span::default(),
        }
    }
}

/// A comparison operator between a field and one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Equal,
    NotEqual,
    GreaterThan,
    GreaterThanOrEqual,
    LowerThan,
    LowerThanOrEqual,
}

/// Which vectors `_vectors EXISTS` / `_vectors.embedder EXISTS` asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VectorSelector {
    /// Any vector of the embedder(s).
    Any,
    /// `.fragments.NAME`.
    Fragment(Token),
    /// `.documentTemplate`.
    DocumentTemplate,
    /// `.userProvided`.
    UserProvided,
    /// `.regenerate`.
    Regenerate,
}

/// One node of a filter expression.
///
/// `NOT IN`, `NOT EXISTS`, `IS NOT NULL`, `IS NOT EMPTY`, `NOT CONTAINS` and
/// `NOT STARTS WITH` are represented as [`Filter::Not`] around the positive form, as
/// Meilisearch does.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All of the children (`AND`, or the outer level of the array form).
    And(Vec<Filter>),
    /// Any of the children (`OR`, or an inner array of the array form).
    Or(Vec<Filter>),
    /// The negation of the child.
    Not(Box<Filter>),
    /// `field OP value`.
    Compare {
        field: Token,
        op: CompareOp,
        value: Token,
    },
    /// `field from TO to` (both bounds inclusive).
    Range {
        field: Token,
        from: Token,
        to: Token,
    },
    /// `field IN [v1, v2, ...]`.
    In { field: Token, values: Vec<Token> },
    /// `field EXISTS`.
    Exists { field: Token },
    /// `field IS NULL`.
    IsNull { field: Token },
    /// `field IS EMPTY`.
    IsEmpty { field: Token },
    /// `field CONTAINS value`.
    Contains { field: Token, value: Token },
    /// `field STARTS WITH value`.
    StartsWith { field: Token, value: Token },
    /// `_vectors EXISTS` or `_vectors.EMBEDDER[.selector] EXISTS`.
    VectorExists {
        embedder: Option<Token>,
        selector: VectorSelector,
    },
    /// `_geoRadius(lat, lng, distance_in_meters[, resolution])`.
    GeoRadius {
        lat: Token,
        lng: Token,
        radius: Token,
        resolution: Option<Token>,
    },
    /// `_geoBoundingBox([top_right_lat, top_right_lng], [bottom_left_lat, bottom_left_lng])`.
    GeoBoundingBox {
        top_right: [Token; 2],
        bottom_left: [Token; 2],
    },
    /// `_geoPolygon([lat, lng], [lat, lng], [lat, lng], ...)`.
    GeoPolygon { points: Vec<[Token; 2]> },
    /// `_foreign(field, filter)`: documents whose `field` references a document of the
    /// foreign index matching `filter` (Meilisearch's experimental foreign keys). The
    /// parser accepts it as Meilisearch 1.50 does; a sharded fleet cannot answer it
    /// faithfully, so callers are expected to reject it.
    Foreign { field: Token, filter: Box<Filter> },
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CompareOp::Equal => "=",
            CompareOp::NotEqual => "!=",
            CompareOp::GreaterThan => ">",
            CompareOp::GreaterThanOrEqual => ">=",
            CompareOp::LowerThan => "<",
            CompareOp::LowerThanOrEqual => "<=",
        })
    }
}

impl Filter {
    /// Resets every token's span to [`Span::default`], so that filters parsed from
    /// different strings (or built by hand) compare equal when they mean the same thing.
    pub fn clear_spans(&mut self) {
        fn clear(token: &mut Token) {
            token.span = Span::default();
        }
        match self {
            Filter::And(children) | Filter::Or(children) => {
                children.iter_mut().for_each(Filter::clear_spans)
            }
            Filter::Not(inner) => inner.clear_spans(),
            Filter::Compare { field, value, .. }
            | Filter::Contains { field, value }
            | Filter::StartsWith { field, value } => {
                clear(field);
                clear(value);
            }
            Filter::Range { field, from, to } => {
                clear(field);
                clear(from);
                clear(to);
            }
            Filter::In { field, values } => {
                clear(field);
                values.iter_mut().for_each(clear);
            }
            Filter::Exists { field } | Filter::IsNull { field } | Filter::IsEmpty { field } => {
                clear(field)
            }
            Filter::VectorExists { embedder, selector } => {
                embedder.iter_mut().for_each(clear);
                if let VectorSelector::Fragment(name) = selector {
                    clear(name);
                }
            }
            Filter::GeoRadius {
                lat,
                lng,
                radius,
                resolution,
            } => {
                clear(lat);
                clear(lng);
                clear(radius);
                resolution.iter_mut().for_each(clear);
            }
            Filter::GeoBoundingBox {
                top_right,
                bottom_left,
            } => top_right
                .iter_mut()
                .chain(bottom_left.iter_mut())
                .for_each(clear),
            Filter::GeoPolygon { points } => points.iter_mut().flatten().for_each(clear),
            Filter::Foreign { field, filter } => {
                clear(field);
                filter.clear_spans();
            }
        }
    }
}
