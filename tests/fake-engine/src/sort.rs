//! Sort expressions (`field:asc`, `_geoPoint(lat, lng):desc`) and Meilisearch's order
//! of mixed values.
//!
//! Meilisearch sorts from its facet databases: numbers come before strings whatever
//! the direction, numbers compare numerically, strings compare on their normalised
//! (lowercased) form, and documents without a sortable value come last. A document
//! with several values (an array) is placed by its first value in the walking order:
//! its smallest when ascending, its largest when descending.

use std::cmp::Ordering;

use serde_json::Value;

use crate::fields::{leaves_at, setting_strings};
use crate::filter::normalize;
use crate::geo::{distance_meters, document_point};
use crate::settings::is_reserved_keyword;
use crate::wire::invalid;
use crate::{Document, IndexContext, MeiliError};

/// One parsed sort criterion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortRule {
    /// Sort on a field's values.
    Field { name: String, ascending: bool },
    /// Sort on the distance to a point.
    Geo { point: [f64; 2], ascending: bool },
}

/// The value a document is sorted by for one rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SortValue {
    /// A number; `original` is the JSON value shown in score details.
    Number { value: f64, original: Value },
    /// A string; `key` is its normalised form.
    Text { key: String, original: Value },
    /// A geo distance in meters and the point it was measured from.
    Distance { meters: f64, point: [f64; 2] },
    /// No sortable value.
    Missing,
}

impl SortValue {
    /// The `value` field of the rule's score details.
    pub(crate) fn detail_value(&self) -> Value {
        match self {
            SortValue::Number { original, .. } | SortValue::Text { original, .. } => {
                original.clone()
            }
            SortValue::Distance { point, .. } => {
                serde_json::json!({"lat": point[0], "lng": point[1]})
            }
            SortValue::Missing => Value::Null,
        }
    }
}

/// Which endpoint validates the sort: selects code and message wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortCaller {
    Search,
    Documents,
}

/// Parse and validate the `sort` parameter against `sortableAttributes`.
pub(crate) fn parse_sort(
    value: &Value,
    index: &IndexContext<'_>,
    caller: SortCaller,
) -> Result<Vec<SortRule>, MeiliError> {
    let code = match caller {
        SortCaller::Search => "invalid_search_sort",
        SortCaller::Documents => "invalid_document_sort",
    };
    let items = crate::wire::as_strings(code, ".sort", value)?;
    let sortable = setting_strings(index, "sortableAttributes").unwrap_or_default();
    let mut rules = Vec::with_capacity(items.len());
    for text in items {
        let (member, ascending) = match text.rsplit_once(':') {
            Some((member, "asc")) => (member, true),
            Some((member, "desc")) => (member, false),
            _ => {
                return Err(invalid(
                    code,
                    format!(
                        "Invalid syntax for the sort parameter: expected expression ending by `:asc` or `:desc`, found `{text}`."
                    ),
                ))
            }
        };
        if let Some(inner) = member
            .strip_prefix("_geoPoint(")
            .and_then(|m| m.strip_suffix(')'))
        {
            let point = inner.split_once(',').and_then(|(lat, lng)| {
                Some([
                    lat.trim().parse::<f64>().ok()?,
                    lng.trim().parse::<f64>().ok()?,
                ])
            });
            let Some(point) = point else {
                return Err(invalid(code, format!("`{member}` is a reserved keyword and thus can't be used as a sort expression.")));
            };
            if !sortable.contains(&"_geo") {
                return Err(not_sortable("_geo", &sortable, index, caller, code));
            }
            rules.push(SortRule::Geo { point, ascending });
            continue;
        }
        if is_reserved_keyword(member)
            || ["_geoRadius(", "_geoBoundingBox(", "_geo(", "_geoDistance("]
                .iter()
                .any(|p| member.starts_with(p))
        {
            let detail = if member == "_geo" || member.starts_with("_geo(") {
                format!(
                    "`{member}` is a reserved keyword and thus can't be used as a sort expression. Use the \
                     _geoPoint(latitude, longitude) built-in rule to sort on _geo field coordinates."
                )
            } else {
                format!(
                    "`{member}` is a reserved keyword and thus can't be used as a sort expression."
                )
            };
            return Err(invalid(code, detail));
        }
        if !sortable
            .iter()
            .any(|s| *s == member || member.strip_prefix(s).is_some_and(|r| r.starts_with('.')))
        {
            return Err(not_sortable(member, &sortable, index, caller, code));
        }
        rules.push(SortRule::Field {
            name: member.to_owned(),
            ascending,
        });
    }
    Ok(rules)
}

fn not_sortable(
    field: &str,
    sortable: &[&str],
    index: &IndexContext<'_>,
    caller: SortCaller,
    code: &str,
) -> MeiliError {
    let mut names: Vec<&str> = sortable.to_vec();
    names.sort_unstable();
    let (shown, hidden): (Vec<&str>, bool) = match caller {
        SortCaller::Documents => (names, false),
        SortCaller::Search => {
            let displayed =
                setting_strings(index, "displayedAttributes").unwrap_or_else(|| vec!["*"]);
            if displayed.contains(&"*") {
                (names, false)
            } else {
                let shown: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| displayed.contains(n))
                    .collect();
                let hidden = shown.len() < names.len();
                (shown, hidden)
            }
        }
    };
    let tail = if shown.is_empty() && !hidden {
        "This index does not have configured sortable attributes.".to_owned()
    } else {
        format!(
            "Available sortable attributes are: `{}{}`.",
            shown.join(", "),
            if hidden {
                ", <..hidden-attributes>"
            } else {
                ""
            }
        )
    };
    let message = format!("Attribute `{field}` is not sortable. {tail}");
    match caller {
        SortCaller::Search => invalid(code, format!("Index `{}`: {message}", index.uid)),
        SortCaller::Documents => invalid(code, message),
    }
}

/// The value `doc` is sorted by under `rule`.
pub(crate) fn sort_value(doc: &Document, rule: &SortRule) -> SortValue {
    match rule {
        SortRule::Geo { point, .. } => match document_point(doc) {
            Some(at) => SortValue::Distance {
                meters: distance_meters(*point, at),
                point: at,
            },
            None => SortValue::Missing,
        },
        SortRule::Field { name, ascending } => {
            let leaves = leaves_at(doc, name);
            let numbers = leaves
                .iter()
                .filter_map(|l| l.as_f64().map(|n| (n, (*l).clone())));
            let best_number = if *ascending {
                numbers.min_by(|a, b| a.0.total_cmp(&b.0))
            } else {
                numbers.max_by(|a, b| a.0.total_cmp(&b.0))
            };
            if let Some((value, original)) = best_number {
                return SortValue::Number { value, original };
            }
            let texts = leaves
                .iter()
                .filter_map(|l| l.as_str().map(|s| (normalize(s), (*l).clone())));
            let best_text = if *ascending {
                texts.min_by(|a, b| a.0.cmp(&b.0))
            } else {
                texts.max_by(|a, b| a.0.cmp(&b.0))
            };
            match best_text {
                Some((key, original)) => SortValue::Text { key, original },
                None => SortValue::Missing,
            }
        }
    }
}

/// How two documents' values compare under a rule: `Less` means `left` comes first.
pub(crate) fn compare(left: &SortValue, right: &SortValue, ascending: bool) -> Ordering {
    use SortValue::*;
    let class = |v: &SortValue| match v {
        Number { .. } | Distance { .. } => 0,
        Text { .. } => 1,
        Missing => 2,
    };
    let directed = |o: Ordering| if ascending { o } else { o.reverse() };
    match (left, right) {
        (Number { value: a, .. }, Number { value: b, .. }) => directed(a.total_cmp(b)),
        (Distance { meters: a, .. }, Distance { meters: b, .. }) => directed(a.total_cmp(b)),
        (Text { key: a, .. }, Text { key: b, .. }) => directed(a.cmp(b)),
        (a, b) => class(a).cmp(&class(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(settings: &serde_json::Map<String, Value>) -> IndexContext<'_> {
        IndexContext {
            uid: "movies",
            primary_key: Some("id"),
            settings,
        }
    }

    fn sortable(fields: Value) -> serde_json::Map<String, Value> {
        let mut settings = crate::default_settings();
        settings.insert("sortableAttributes".into(), fields);
        settings
    }

    #[test]
    fn sort_syntax_error_quotes_the_expression() {
        let settings = sortable(json!(["title"]));
        let err =
            parse_sort(&json!(["title:up"]), &ctx(&settings), SortCaller::Search).unwrap_err();
        assert_eq!(err.code, "invalid_search_sort");
        assert_eq!(
            err.message,
            "Invalid syntax for the sort parameter: expected expression ending by `:asc` or `:desc`, found `title:up`."
        );
    }

    #[test]
    fn unsortable_field_lists_sortable_ones_per_caller() {
        let settings = sortable(json!(["price", "title", "year"]));
        let err =
            parse_sort(&json!(["info:asc"]), &ctx(&settings), SortCaller::Search).unwrap_err();
        assert_eq!(
            err.message,
            "Index `movies`: Attribute `info` is not sortable. Available sortable attributes are: `price, title, year`."
        );
        let err = parse_sort(
            &json!(["genre:desc"]),
            &ctx(&settings),
            SortCaller::Documents,
        )
        .unwrap_err();
        assert_eq!(err.code, "invalid_document_sort");
        assert_eq!(err.message, "Attribute `genre` is not sortable. Available sortable attributes are: `price, title, year`.");
    }

    #[test]
    fn index_without_sortable_attributes_says_so() {
        let settings = crate::default_settings();
        let err =
            parse_sort(&json!(["a:asc"]), &ctx(&settings), SortCaller::Documents).unwrap_err();
        assert_eq!(err.message, "Attribute `a` is not sortable. This index does not have configured sortable attributes.");
    }

    fn order(values: &[Value], ascending: bool) -> Vec<usize> {
        let rule = SortRule::Field {
            name: "p".into(),
            ascending,
        };
        let docs: Vec<Document> = values
            .iter()
            .map(|v| {
                if v.is_null() {
                    Document::new()
                } else {
                    json!({"p": v}).as_object().cloned().expect("object")
                }
            })
            .collect();
        let mut idx: Vec<usize> = (0..docs.len()).collect();
        idx.sort_by(|a, b| {
            compare(
                &sort_value(&docs[*a], &rule),
                &sort_value(&docs[*b], &rule),
                ascending,
            )
        });
        idx
    }

    #[test]
    fn numbers_come_before_strings_and_missing_values_last_in_both_directions() {
        let values = [
            json!(10),
            json!("cheap"),
            json!(5.5),
            Value::Null,
            json!(20),
            json!("Apple"),
        ];
        assert_eq!(order(&values, true), [2, 0, 4, 5, 1, 3]);
        assert_eq!(order(&values, false), [4, 0, 2, 1, 5, 3]);
    }

    #[test]
    fn arrays_sort_by_their_smallest_value_ascending_and_largest_descending() {
        let values = [json!([1, 50]), json!(10)];
        assert_eq!(order(&values, true), [0, 1]);
        assert_eq!(order(&values, false), [0, 1]);
    }
}
