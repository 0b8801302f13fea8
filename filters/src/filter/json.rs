//! The JSON forms of the `filter` request parameter: a string, or an array whose
//! elements are strings or arrays of strings (outer level AND, inner level OR).

use serde_json::Value;

use super::ast::Filter;
use super::error::FilterError;
use super::parser::parse;

/// Parses the `filter` parameter of a search-like request body.
///
/// - a string is parsed with [`parse`];
/// - an array is an AND of its elements; an element is a filter string or an array of
///   filter strings combined with OR. Empty strings and empty inner arrays are skipped, a
///   level with a single filter is that filter, and `[]` is no filter;
/// - `null` is no filter (Meilisearch treats a `null` parameter as absent);
/// - any other JSON type is an error, checked for every element before any string is
///   parsed, as Meilisearch does.
///
/// Each string is parsed on its own: the spans of its tokens and the position line of its
/// error refer to that string.
pub fn parse_json(value: &Value) -> Result<Option<Filter>, FilterError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => parse(text),
        Value::Array(elements) => parse_array(elements),
        other => Err(type_error(&["String", "Array"], other)),
    }
}

enum Element<'a> {
    Single(&'a str),
    AnyOf(Vec<&'a str>),
}

fn parse_array(elements: &[Value]) -> Result<Option<Filter>, FilterError> {
    let mut checked = Vec::with_capacity(elements.len());
    for element in elements {
        match element {
            Value::String(text) => checked.push(Element::Single(text)),
            Value::Array(inner) => {
                let mut texts = Vec::with_capacity(inner.len());
                for value in inner {
                    match value {
                        Value::String(text) => texts.push(text.as_str()),
                        other => return Err(type_error(&["String"], other)),
                    }
                }
                checked.push(Element::AnyOf(texts));
            }
            other => return Err(type_error(&["String", "[String]"], other)),
        }
    }

    let mut all = Vec::new();
    for element in checked {
        match element {
            Element::Single(text) => all.extend(parse(text)?),
            Element::AnyOf(texts) => {
                let mut any = Vec::new();
                for text in texts {
                    any.extend(parse(text)?);
                }
                all.extend(collapse(any, Filter::Or));
            }
        }
    }
    Ok(collapse(all, Filter::And))
}

fn collapse(mut filters: Vec<Filter>, wrap: fn(Vec<Filter>) -> Filter) -> Option<Filter> {
    match filters.len() {
        0 => None,
        1 => filters.pop(),
        _ => Some(wrap(filters)),
    }
}

fn type_error(expected: &[&str], found: &Value) -> FilterError {
    FilterError::plain(format!(
        "Invalid syntax for the filter parameter: `expected {}, found: {found}`.",
        expected.join(", ")
    ))
}
