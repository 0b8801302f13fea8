//! Document browsing: `GET /indexes/{uid}/documents` and `POST .../documents/fetch`.

use serde_json::{json, Value};

use crate::filter::{compile_filter, matches, FilterContext};
use crate::sort::{compare, parse_sort, sort_value, SortCaller, SortRule};
use crate::wire::{as_bool, as_strings, as_usize, body_object, only_keys, wrong_type};
use crate::{project, Document, IndexContext, MeiliError};

/// Keys of a fetch body, in Meilisearch's order.
const BROWSE_KEYS: &[&str] = &[
    "offset",
    "limit",
    "fields",
    "retrieveVectors",
    "ids",
    "filter",
    "sort",
    "useNetwork",
];

/// The primary key of a document as Meilisearch prints it: strings as given, integers
/// in decimal.
pub(crate) fn document_id(doc: &Document, primary_key: Option<&str>) -> Option<String> {
    match doc.get(primary_key?)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Remove `_vectors` unless the client asked for them (Meilisearch never returns the
/// raw field otherwise); when asked, show them last, in Meilisearch's
/// `{"<embedder>": {"embeddings": [[...]], "regenerate": bool}}` form.
/// `original` is the stored document, whose embeddings are shown even when the
/// projection left `_vectors` out.
pub(crate) fn strip_vectors(
    doc: &mut Document,
    original: &Document,
    retrieve_vectors: bool,
    index: &IndexContext<'_>,
) {
    let shown = doc.remove("_vectors");
    if retrieve_vectors {
        doc.insert(
            "_vectors".into(),
            crate::vectors::retrieved(shown.as_ref(), original, index),
        );
    }
}

/// One document for output: projected on the displayed attributes and `fields`, with
/// `_vectors` hidden unless `retrieve_vectors` (then in Meilisearch's retrieved form).
pub fn show_document(
    doc: &Document,
    index: IndexContext<'_>,
    fields: Option<&[String]>,
    retrieve_vectors: bool,
) -> Document {
    let mut shown = project(doc, index, fields);
    strip_vectors(&mut shown, doc, retrieve_vectors, &index);
    shown
}

/// Browse documents in the body form of `POST /indexes/{uid}/documents/fetch`.
///
/// Accepts `offset` (default 0), `limit` (default 20), `fields`, `retrieveVectors`,
/// `ids` (strings or integers, matched against the primary key), `filter`, `sort`
/// (validated against `sortableAttributes`) and `useNetwork` (ignored). The server
/// converts `GET` query parameters into this form first (`fields=a,b` becomes
/// `["a","b"]`). Documents come in iterator (insertion) order unless sorted.
///
/// Returns `{"results", "offset", "limit", "total"}` where `total` counts every match.
pub fn browse<'a>(
    docs: impl Iterator<Item = &'a Document>,
    index: IndexContext<'_>,
    query: &Value,
) -> Result<Value, MeiliError> {
    let body = body_object(query)?;
    only_keys(body, "bad_request", "", BROWSE_KEYS)?;
    let present = |key: &str| body.get(key).filter(|v| !v.is_null());
    let offset = present("offset")
        .map(|v| as_usize("invalid_document_offset", ".offset", v))
        .transpose()?
        .unwrap_or(0);
    let limit = present("limit")
        .map(|v| as_usize("invalid_document_limit", ".limit", v))
        .transpose()?
        .unwrap_or(20);
    let fields = present("fields")
        .map(|v| as_strings("invalid_document_fields", ".fields", v))
        .transpose()?;
    let retrieve_vectors = present("retrieveVectors")
        .map(|v| as_bool("invalid_document_retrieve_vectors", ".retrieveVectors", v))
        .transpose()?
        .unwrap_or(false);
    let ids = present("ids").map(parse_ids).transpose()?;
    let filter = match present("filter") {
        Some(filter) => compile_filter(filter, index, FilterContext::Documents)?,
        None => None,
    };
    let sort: Vec<SortRule> = match present("sort") {
        Some(sort) => parse_sort(sort, &index, SortCaller::Documents)?,
        None => Vec::new(),
    };
    if let Some(v) = present("useNetwork") {
        as_bool("invalid_document_use_network", ".useNetwork", v)?;
    }

    let mut selected: Vec<&Document> = docs
        .filter(|doc| match &ids {
            Some(ids) => document_id(doc, index.primary_key).is_some_and(|id| ids.contains(&id)),
            None => true,
        })
        .filter(|doc| filter.as_ref().is_none_or(|f| matches(doc, f)))
        .collect();
    if !sort.is_empty() {
        let keyed: Vec<(Vec<_>, &Document)> = selected
            .iter()
            .map(|doc| {
                (
                    sort.iter().map(|rule| sort_value(doc, rule)).collect(),
                    *doc,
                )
            })
            .collect();
        let mut keyed = keyed;
        keyed.sort_by(|(a, _), (b, _)| {
            sort.iter()
                .zip(a.iter().zip(b))
                .map(|(rule, (x, y))| {
                    let ascending = match rule {
                        SortRule::Field { ascending, .. } | SortRule::Geo { ascending, .. } => {
                            *ascending
                        }
                    };
                    compare(x, y, ascending)
                })
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        selected = keyed.into_iter().map(|(_, doc)| doc).collect();
    }
    let total = selected.len();
    let results: Vec<Value> = selected
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|doc| {
            let mut shown = project(doc, index, fields.as_deref());
            strip_vectors(&mut shown, doc, retrieve_vectors, &index);
            Value::Object(shown)
        })
        .collect();
    Ok(json!({"results": results, "offset": offset, "limit": limit, "total": total}))
}

fn parse_ids(value: &Value) -> Result<Vec<String>, MeiliError> {
    const CODE: &str = "invalid_document_ids";
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(CODE, ".ids", "an array", value))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
            other => Err(wrong_type(
                CODE,
                &format!(".ids[{i}]"),
                "a string or an integer",
                other,
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn corpus() -> Vec<Document> {
        [
            json!({"id": 1, "title": "The Dark Knight", "price": 10, "info": {"director": "Nolan", "rating": 9.0}}),
            json!({"id": 2, "title": "Dark Shadows", "price": "cheap", "info": {"director": "Burton"}}),
            json!({"id": 3, "title": "Knight and Day", "price": 5.5}),
            json!({"id": 4, "title": "The Shining"}),
            json!({"id": 5, "title": "Batman", "price": 20, "_vectors": {"x": [1.0]}}),
        ]
        .into_iter()
        .map(|v| v.as_object().cloned().expect("object"))
        .collect()
    }

    fn settings() -> Map<String, Value> {
        let mut settings = crate::default_settings();
        settings.insert("sortableAttributes".into(), json!(["price", "title"]));
        settings
    }

    fn run(body: Value) -> Result<Value, MeiliError> {
        let docs = corpus();
        let settings = settings();
        browse(
            docs.iter(),
            IndexContext {
                uid: "movies",
                primary_key: Some("id"),
                settings: &settings,
            },
            &body,
        )
    }

    #[test]
    fn browse_pages_in_insertion_order_with_total() {
        assert_eq!(
            run(json!({"limit": 2, "offset": 1, "fields": ["title"]})).unwrap(),
            json!({"results": [{"title": "Dark Shadows"}, {"title": "Knight and Day"}], "offset": 1, "limit": 2, "total": 5})
        );
    }

    #[test]
    fn browse_selects_nested_fields() {
        assert_eq!(
            run(json!({"limit": 2, "fields": ["title", "info.director"]})).unwrap()["results"],
            json!([{"title": "The Dark Knight", "info": {"director": "Nolan"}}, {"title": "Dark Shadows", "info": {"director": "Burton"}}])
        );
    }

    #[test]
    fn browse_by_ids_keeps_insertion_order_and_accepts_both_id_forms() {
        assert_eq!(
            run(json!({"ids": [5, "1"], "fields": ["id"]})).unwrap(),
            json!({"results": [{"id": 1}, {"id": 5}], "offset": 0, "limit": 20, "total": 2})
        );
    }

    #[test]
    fn browse_sorts_numbers_then_strings_then_missing() {
        assert_eq!(
            run(json!({"sort": ["price:desc"], "fields": ["id", "price"]})).unwrap()["results"],
            json!([{"id": 5, "price": 20}, {"id": 1, "price": 10}, {"id": 3, "price": 5.5}, {"id": 2, "price": "cheap"}, {"id": 4}])
        );
    }

    #[test]
    fn browse_hides_vectors_unless_asked() {
        assert_eq!(
            run(json!({"ids": [5]})).unwrap()["results"],
            json!([{"id": 5, "title": "Batman", "price": 20}])
        );
        assert_eq!(
            run(json!({"ids": [5], "retrieveVectors": true})).unwrap()["results"],
            json!([{"id": 5, "title": "Batman", "price": 20, "_vectors": {"x": [1.0]}}])
        );
    }

    #[test]
    fn browse_offset_past_the_end_is_empty() {
        assert_eq!(
            run(json!({"offset": 10})).unwrap(),
            json!({"results": [], "offset": 10, "limit": 20, "total": 5})
        );
    }

    #[test]
    fn browse_rejects_unknown_keys_and_bad_types() {
        let err = run(json!({"foo": 1})).unwrap_err();
        assert_eq!(err.code, "bad_request");
        assert_eq!(
            err.message,
            "Unknown field `foo`: expected one of `offset`, `limit`, `fields`, `retrieveVectors`, `ids`, `filter`, `sort`, `useNetwork`"
        );
        let err = run(json!({"limit": -1})).unwrap_err();
        assert_eq!(err.code, "invalid_document_limit");
        assert_eq!(err.message, "Invalid value type at `.limit`: expected a positive integer, but found a negative integer: `-1`");
        let err = run(json!({"fields": "id"})).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value type at `.fields`: expected an array, but found a string: `\"id\"`"
        );
    }

    #[test]
    fn browse_rejects_unsortable_fields() {
        let err = run(json!({"sort": ["genre:desc"]})).unwrap_err();
        assert_eq!(err.code, "invalid_document_sort");
        assert_eq!(
            err.message,
            "Attribute `genre` is not sortable. Available sortable attributes are: `price, title`."
        );
    }
}
