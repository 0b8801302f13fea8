//! `POST /indexes/{uid}/fields`: every field the index's documents hold, with what the
//! settings make of it, filtered and paginated.
//!
//! A field is every key met in a document, nested objects included both as their own
//! path and as each path inside them (`info` and `info.director`), listed in name order.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::fields::{pattern_selects, setting_strings};
use crate::filter::{filter_features, glob_matches};
use crate::wire::{as_bool, as_strings, as_usize, body_object, only_keys, wrong_type};
use crate::{Document, IndexContext, MeiliError};

const KEYS: &[&str] = &["offset", "limit", "filter"];
const FILTER_KEYS: &[&str] = &[
    "attributePatterns",
    "displayed",
    "searchable",
    "sortable",
    "distinct",
    "rankingRule",
    "filterable",
];

/// Every field path of a document, parents included; `_vectors` is one field (its
/// embedders are not fields of their own).
fn paths(doc: &Document, out: &mut BTreeSet<String>) {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeSet<String>) {
        out.insert(prefix.to_owned());
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    walk(&format!("{prefix}.{key}"), child, out);
                }
            }
            Value::Array(items) => items
                .iter()
                .filter(|item| item.is_object())
                .for_each(|item| walk(prefix, item, out)),
            _ => {}
        }
    }
    for (key, value) in doc {
        if key == "_vectors" {
            out.insert(key.clone());
        } else {
            walk(key, value, out);
        }
    }
}

fn listed(index: &IndexContext<'_>, key: &str, field: &str) -> bool {
    setting_strings(index, key)
        .unwrap_or_default()
        .iter()
        .any(|pattern| pattern_selects(pattern, field))
}

/// The description of one field.
fn describe(index: &IndexContext<'_>, name: &str) -> Map<String, Value> {
    let displayed = setting_strings(index, "displayedAttributes").is_none()
        || listed(index, "displayedAttributes", name);
    // `_vectors` and `_geo` are never searchable.
    let reserved = name == "_vectors" || name == "_geo" || name.starts_with("_geo.");
    let searchable = !reserved
        && (setting_strings(index, "searchableAttributes").is_none()
            || listed(index, "searchableAttributes", name));
    let sortable = listed(index, "sortableAttributes", name);
    let distinct = index
        .settings
        .get("distinctAttribute")
        .and_then(Value::as_str)
        == Some(name);
    let order = setting_strings(index, "rankingRules")
        .unwrap_or_default()
        .into_iter()
        .find_map(|rule| match rule.rsplit_once(':') {
            Some((field, direction)) if field == name => Some(direction.to_owned()),
            _ => None,
        });
    let features = filter_features(index, name);
    let (facet_search, equality, comparison) = features
        .map(|f| (f.facet_search, f.equality, f.comparison))
        .unwrap_or((false, false, false));
    let sort_by = index
        .settings
        .get("faceting")
        .and_then(|f| f.get("sortFacetValuesBy"))
        .and_then(Value::as_object)
        .and_then(|orders| orders.get(name).or_else(|| orders.get("*")))
        .cloned()
        .unwrap_or_else(|| json!("alpha"));
    let locales: Vec<Value> = index
        .settings
        .get("localizedAttributes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|rule| {
            rule.get("attributePatterns")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|p| glob_matches(p, name))
        })
        .and_then(|rule| rule.get("locales").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let mut ranking_rule = Map::new();
    ranking_rule.insert("enabled".into(), json!(order.is_some()));
    if let Some(order) = order {
        ranking_rule.insert("order".into(), json!(order));
    }
    let mut out = Map::new();
    out.insert("name".into(), json!(name));
    out.insert("displayed".into(), json!({"enabled": displayed}));
    out.insert("searchable".into(), json!({"enabled": searchable}));
    out.insert("sortable".into(), json!({"enabled": sortable}));
    out.insert("distinct".into(), json!({"enabled": distinct}));
    out.insert("rankingRule".into(), Value::Object(ranking_rule));
    out.insert(
        "filterable".into(),
        json!({
            "enabled": facet_search || equality || comparison,
            "sortBy": sort_by,
            "facetSearch": facet_search,
            "equality": equality,
            "comparison": comparison,
        }),
    );
    out.insert("localized".into(), json!({ "locales": locales }));
    out
}

/// List the index's fields (the body of `POST /indexes/{uid}/fields`).
///
/// Returns `{"results", "offset", "limit", "total"}`, `total` counting every field the
/// filter keeps.
pub fn list_fields<'a>(
    docs: impl Iterator<Item = &'a Document>,
    index: IndexContext<'_>,
    query: &Value,
) -> Result<Value, MeiliError> {
    let body = body_object(query)?;
    only_keys(body, "bad_request", "", KEYS)?;
    let mut offset = 0;
    let mut limit = 20;
    let mut filter: Option<&Map<String, Value>> = None;
    for (key, value) in body {
        match key.as_str() {
            "offset" => offset = as_usize("invalid_index_offset", ".offset", value)?,
            "limit" => limit = as_usize("invalid_index_limit", ".limit", value)?,
            _ if value.is_null() => {}
            _ => {
                let object = value.as_object().ok_or_else(|| {
                    wrong_type("invalid_index_fields_filter", ".filter", "an object", value)
                })?;
                only_keys(
                    object,
                    "invalid_index_fields_filter",
                    ".filter",
                    FILTER_KEYS,
                )?;
                filter = Some(object);
            }
        }
    }
    let mut patterns: Option<Vec<String>> = None;
    let mut flags: Vec<(&str, bool)> = Vec::new();
    for (key, value) in filter.into_iter().flatten() {
        if value.is_null() {
            continue;
        }
        let code = format!(
            "invalid_index_fields_filter_{}",
            match key.as_str() {
                "attributePatterns" => "attribute_patterns",
                "rankingRule" => "ranking_rule",
                other => other,
            }
        );
        let at = format!(".filter.{key}");
        if key == "attributePatterns" {
            patterns = Some(as_strings(&code, &at, value)?);
        } else {
            flags.push((key.as_str(), as_bool(&code, &at, value)?));
        }
    }
    let mut names = BTreeSet::new();
    for doc in docs {
        paths(doc, &mut names);
    }
    let fields: Vec<Map<String, Value>> = names
        .iter()
        .filter(|name| {
            patterns
                .as_ref()
                .is_none_or(|p| p.iter().any(|p| glob_matches(p, name)))
        })
        .map(|name| describe(&index, name))
        .filter(|field| {
            flags.iter().all(|(flag, wanted)| {
                field
                    .get(*flag)
                    .and_then(|f| f.get("enabled"))
                    .and_then(Value::as_bool)
                    == Some(*wanted)
            })
        })
        .collect();
    let total = fields.len();
    let results: Vec<Value> = fields
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(Value::Object)
        .collect();
    Ok(json!({"results": results, "offset": offset, "limit": limit, "total": total}))
}
