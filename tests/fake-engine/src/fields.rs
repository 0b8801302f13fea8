//! Field access in documents: dotted paths, projection, field distribution.
//!
//! Meilisearch addresses nested fields with dotted paths (`info.director`) and sees
//! through arrays: `arr.x` is every `x` of every object in `arr`. A document may also
//! hold a literal key containing dots; a path matches it too. Projection keeps the
//! document's own key order, not the order of the requested fields.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::{Document, IndexContext};

/// Every value reachable at `path` in `doc`, arrays flattened, in document order.
///
/// `info.director` reaches `{"info": {"director": x}}`, `{"info.director": x}` and
/// `{"info": [{"director": x}, ...]}`. Arrays found at the end of the path are
/// returned whole; callers that want their elements flatten them.
pub fn values_at<'d>(doc: &'d Document, path: &str) -> Vec<&'d Value> {
    let mut out = Vec::new();
    collect_in_object(doc, path, &mut out);
    out
}

fn collect_in_object<'d>(object: &'d Map<String, Value>, path: &str, out: &mut Vec<&'d Value>) {
    for (key, value) in object {
        if key == path {
            out.push(value);
        } else if let Some(rest) = path
            .strip_prefix(key.as_str())
            .and_then(|r| r.strip_prefix('.'))
        {
            collect_in_value(value, rest, out);
        }
    }
}

fn collect_in_value<'d>(value: &'d Value, path: &str, out: &mut Vec<&'d Value>) {
    match value {
        Value::Object(object) => collect_in_object(object, path, out),
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_in_value(item, path, out)),
        _ => {}
    }
}

/// The leaf values at `path`: like [`values_at`] with arrays opened (recursively).
pub fn leaves_at<'d>(doc: &'d Document, path: &str) -> Vec<&'d Value> {
    fn open<'d>(value: &'d Value, out: &mut Vec<&'d Value>) {
        match value {
            Value::Array(items) => items.iter().for_each(|item| open(item, out)),
            other => out.push(other),
        }
    }
    let mut out = Vec::new();
    for value in values_at(doc, path) {
        open(value, &mut out);
    }
    out
}

/// Every (dotted path, leaf value) pair of a document, in document order, arrays
/// opened. Objects are walked into; their own path is not listed.
pub fn flatten(doc: &Document) -> Vec<(String, &Value)> {
    fn walk<'d>(prefix: &str, value: &'d Value, out: &mut Vec<(String, &'d Value)>) {
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    walk(&format!("{prefix}.{key}"), child, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(prefix, item, out)),
            leaf => out.push((prefix.to_owned(), leaf)),
        }
    }
    let mut out = Vec::new();
    for (key, value) in doc {
        walk(key, value, &mut out);
    }
    out
}

/// Whether `field` is selected by `pattern`: equal, the wildcard `*`, a `prefix*`
/// pattern, or `field` nested under `pattern` (`info` selects `info.director`).
pub(crate) fn pattern_selects(pattern: &str, field: &str) -> bool {
    if pattern == "*" || pattern == field {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return field.starts_with(prefix);
    }
    field
        .strip_prefix(pattern)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// Keep only the parts of `doc` that the selectors name (dotted paths, no patterns).
fn select(doc: &Document, selectors: &[&str]) -> Document {
    let mut out = Map::new();
    for (key, value) in doc {
        if selectors.contains(&key.as_str()) {
            out.insert(key.clone(), value.clone());
            continue;
        }
        let nested: Vec<&str> = selectors
            .iter()
            .filter_map(|s| {
                s.strip_prefix(key.as_str())
                    .and_then(|r| r.strip_prefix('.'))
            })
            .collect();
        if nested.is_empty() {
            continue;
        }
        match value {
            Value::Object(object) => {
                out.insert(key.clone(), Value::Object(select(object, &nested)));
            }
            Value::Array(items) => {
                let kept: Vec<Value> = items
                    .iter()
                    .filter_map(|item| {
                        item.as_object()
                            .map(|object| Value::Object(select(object, &nested)))
                    })
                    .collect();
                out.insert(key.clone(), Value::Array(kept));
            }
            _ => {}
        }
    }
    out
}

/// The strings of a settings list, or `None` when the key is absent or not a list.
pub(crate) fn setting_strings<'s>(index: &IndexContext<'s>, key: &str) -> Option<Vec<&'s str>> {
    index
        .settings
        .get(key)?
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
}

/// Project a document for output.
///
/// Applies the index's `displayedAttributes`, then `fields` (the request's
/// `fields`/`attributesToRetrieve`; `None` or a list containing `*` keeps everything
/// displayed). Both accept dotted paths into nested objects. Key order is the
/// document's.
pub fn project(doc: &Document, index: IndexContext<'_>, fields: Option<&[String]>) -> Document {
    let displayed = setting_strings(&index, "displayedAttributes").unwrap_or_else(|| vec!["*"]);
    let shown = if displayed.contains(&"*") {
        doc.clone()
    } else {
        select(doc, &displayed)
    };
    match fields {
        Some(fields) if !fields.iter().any(|f| f == "*") => {
            let wanted: Vec<&str> = fields.iter().map(String::as_str).collect();
            select(&shown, &wanted)
        }
        _ => shown,
    }
}

/// `fieldDistribution` of index stats: for each top-level field, the number of
/// documents that have it (even with a `null` value), keys sorted.
pub fn field_distribution<'a>(docs: impl Iterator<Item = &'a Document>) -> Map<String, Value> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for doc in docs {
        for key in doc.keys() {
            *counts.entry(key.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(field, n)| (field.to_owned(), Value::from(n)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> Document {
        value
            .as_object()
            .cloned()
            .expect("test documents are objects")
    }

    fn context(settings: &Map<String, Value>) -> IndexContext<'_> {
        IndexContext {
            uid: "movies",
            primary_key: Some("id"),
            settings,
        }
    }

    #[test]
    fn values_at_walks_nested_objects_arrays_and_dotted_keys() {
        let d = doc(
            json!({"info": {"director": "Nolan"}, "cast": [{"name": "a"}, {"name": "b"}], "x.y": 1}),
        );
        assert_eq!(values_at(&d, "info.director"), [&json!("Nolan")]);
        assert_eq!(values_at(&d, "cast.name"), [&json!("a"), &json!("b")]);
        assert_eq!(values_at(&d, "x.y"), [&json!(1)]);
        assert!(values_at(&d, "info.missing").is_empty());
    }

    #[test]
    fn flatten_lists_leaves_with_dotted_paths() {
        let d = doc(json!({"a": {"b": [1, 2]}, "c": "x"}));
        let flat: Vec<(String, Value)> = flatten(&d)
            .into_iter()
            .map(|(p, v)| (p, v.clone()))
            .collect();
        assert_eq!(
            flat,
            [
                ("a.b".to_owned(), json!(1)),
                ("a.b".to_owned(), json!(2)),
                ("c".to_owned(), json!("x"))
            ]
        );
    }

    #[test]
    fn project_keeps_document_order_and_selects_nested_paths() {
        let settings = crate::default_settings();
        let d = doc(json!({"id": 1, "title": "T", "info": {"director": "N", "rating": 9}}));
        let fields = [
            "title".to_owned(),
            "info.director".to_owned(),
            "id".to_owned(),
        ];
        assert_eq!(
            Value::Object(project(&d, context(&settings), Some(&fields))),
            json!({"id": 1, "title": "T", "info": {"director": "N"}})
        );
    }

    #[test]
    fn project_filters_objects_inside_arrays() {
        let settings = crate::default_settings();
        let d = doc(json!({"arr": [{"x": 1}, {"y": 2}]}));
        let fields = ["arr.x".to_owned()];
        assert_eq!(
            Value::Object(project(&d, context(&settings), Some(&fields))),
            json!({"arr": [{"x": 1}, {}]})
        );
    }

    #[test]
    fn project_never_shows_what_is_not_displayed() {
        let mut settings = crate::default_settings();
        settings.insert("displayedAttributes".into(), json!(["title"]));
        let d = doc(json!({"id": 1, "title": "T"}));
        let fields = ["id".to_owned(), "title".to_owned()];
        assert_eq!(
            Value::Object(project(&d, context(&settings), Some(&fields))),
            json!({"title": "T"})
        );
        assert_eq!(
            Value::Object(project(&d, context(&settings), None)),
            json!({"title": "T"})
        );
    }

    #[test]
    fn field_distribution_counts_top_level_fields_sorted() {
        let docs = [
            doc(json!({"id": 1, "title": "a", "n": null})),
            doc(json!({"id": 2, "info": {"x": 1}})),
        ];
        assert_eq!(
            Value::Object(field_distribution(docs.iter())),
            json!({"id": 2, "info": 1, "n": 1, "title": 1})
        );
    }

    #[test]
    fn pattern_selects_nested_fields_and_prefixes() {
        assert!(pattern_selects("info", "info.director"));
        assert!(pattern_selects("inf*", "info"));
        assert!(!pattern_selects("info", "information"));
    }
}
