//! Facets: `facetDistribution`, `facetStats` and facet search.
//!
//! Values are grouped as Meilisearch's facet databases group them: strings by their
//! normalised form (trimmed, lowercased) shown with the first original spelling met
//! in document order; numbers by value, printed like JSON numbers; booleans as the
//! strings `true`/`false`. A document counts once per value. Numbers are listed
//! before strings under the default `alpha` order.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::fields::leaves_at;
use crate::filter::{filter_features, filterable_patterns, normalize};
use crate::search::parse_params;
use crate::text::words;
use crate::wire::{as_str, body_object, invalid, missing_field};
use crate::{Document, IndexContext, MeiliError};

/// Reject facets that are not filterable, with Meilisearch's message.
pub(crate) fn validate_facets(
    facets: &[String],
    index: &IndexContext<'_>,
) -> Result<(), MeiliError> {
    for facet in facets {
        if filter_features(index, facet).is_none() {
            let patterns = filterable_patterns(index);
            let tail = if patterns.is_empty() {
                "This index does not have configured filterable attributes.".to_owned()
            } else {
                format!(
                    "Available filterable attributes patterns are: `{}`.",
                    patterns.join(", ")
                )
            };
            return Err(invalid(
                "invalid_search_facets",
                format!("Invalid facet distribution: Pattern `{facet}` is not filterable. {tail}"),
            ));
        }
    }
    Ok(())
}

/// One facet value with its documents count.
struct Bucket {
    label: String,
    count: u64,
    number: Option<f64>,
}

/// Count the values of `facet` over `docs`, grouped and ordered (numbers ascending,
/// then strings by normalised form).
fn buckets(docs: &[&Document], facet: &str) -> Vec<Bucket> {
    let mut numbers: Vec<(f64, String, u64)> = Vec::new();
    let mut strings: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for doc in docs {
        let mut seen_numbers: Vec<f64> = Vec::new();
        let mut seen_strings: Vec<String> = Vec::new();
        for leaf in leaves_at(doc, facet) {
            match leaf {
                Value::Number(n) => {
                    let Some(v) = n.as_f64() else { continue };
                    if seen_numbers.contains(&v) {
                        continue;
                    }
                    seen_numbers.push(v);
                    match numbers.iter_mut().find(|(x, _, _)| *x == v) {
                        Some(entry) => entry.2 += 1,
                        None => numbers.push((v, n.to_string(), 1)),
                    }
                }
                Value::String(_) | Value::Bool(_) => {
                    let original = match leaf {
                        Value::String(s) => s.trim().to_owned(),
                        other => other.to_string(),
                    };
                    let key = normalize(&original);
                    if seen_strings.contains(&key) {
                        continue;
                    }
                    seen_strings.push(key.clone());
                    strings.entry(key).or_insert((original, 0)).1 += 1;
                }
                _ => {}
            }
        }
    }
    numbers.sort_by(|a, b| a.0.total_cmp(&b.0));
    numbers
        .into_iter()
        .map(|(v, label, count)| Bucket {
            label,
            count,
            number: Some(v),
        })
        .chain(strings.into_values().map(|(label, count)| Bucket {
            label,
            count,
            number: None,
        }))
        .collect()
}

/// The sort order configured for a facet: `alpha` or `count`.
fn sort_by_count(index: &IndexContext<'_>, facet: &str) -> bool {
    let by = index
        .settings
        .get("faceting")
        .and_then(|f| f.get("sortFacetValuesBy"));
    let order = by
        .and_then(|b| b.get(facet))
        .or_else(|| by.and_then(|b| b.get("*")));
    order.and_then(Value::as_str) == Some("count")
}

fn max_values_per_facet(index: &IndexContext<'_>) -> usize {
    index
        .settings
        .get("faceting")
        .and_then(|f| f.get("maxValuesPerFacet"))
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .unwrap_or(100)
}

/// `facetDistribution` and `facetStats` over the candidates of a search.
pub(crate) fn facet_distribution(
    docs: &[&Document],
    facets: &[String],
    index: &IndexContext<'_>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut distribution = Map::new();
    let mut stats = Map::new();
    let max_values = max_values_per_facet(index);
    for facet in facets {
        let mut values = buckets(docs, facet);
        let numbers: Vec<f64> = values.iter().filter_map(|b| b.number).collect();
        if let (Some(min), Some(max)) = (
            numbers.iter().copied().min_by(f64::total_cmp),
            numbers.iter().copied().max_by(f64::total_cmp),
        ) {
            stats.insert(facet.clone(), json!({"min": min, "max": max}));
        }
        if sort_by_count(index, facet) {
            values.sort_by_key(|b| std::cmp::Reverse(b.count));
        }
        values.truncate(max_values);
        distribution.insert(
            facet.clone(),
            Value::Object(
                values
                    .into_iter()
                    .map(|b| (b.label, Value::from(b.count)))
                    .collect(),
            ),
        );
    }
    (distribution, stats)
}

/// Keys of a facet-search body besides the search ones it shares.
const FACET_SEARCH_KEYS: &[&str] = &["facetName", "facetQuery", "exhaustiveFacetCount"];

/// Facet search (the body of `POST /indexes/{uid}/facet-search`).
///
/// Runs the search part (`q`, `filter`, `matchingStrategy`, `attributesToSearchOn`,
/// ...) to get candidates, then lists the values of `facetName` whose words start
/// with the words of `facetQuery` (all values when it is absent), with their counts.
/// Returns `{"facetHits": [{"value", "count"}], "facetQuery", "processingTimeMs"}`.
pub fn facet_search<'a>(
    docs: impl Iterator<Item = &'a Document>,
    index: IndexContext<'_>,
    query: &Value,
) -> Result<Value, MeiliError> {
    let body = body_object(query)?;
    let facet_name = match body.get("facetName").filter(|v| !v.is_null()) {
        Some(name) => as_str("invalid_facet_search_facet_name", ".facetName", name)?.to_owned(),
        None => {
            return Err(missing_field(
                "missing_facet_search_facet_name",
                "",
                "facetName",
            ))
        }
    };
    let facet_query = match body.get("facetQuery").filter(|v| !v.is_null()) {
        Some(q) => Some(as_str("invalid_facet_search_facet_query", ".facetQuery", q)?.to_owned()),
        None => None,
    };
    let facet_searchable = filter_features(&index, &facet_name).is_some_and(|f| f.facet_search);
    if !facet_searchable {
        let patterns = filterable_patterns(&index);
        return Err(invalid(
            "invalid_facet_search_facet_name",
            format!(
                "Attribute `{facet_name}` is not facet-searchable. Available facet-searchable attributes patterns are: `{}`. \
                 To make it facet-searchable add it to the `filterableAttributes` index settings.",
                patterns.join(", ")
            ),
        ));
    }
    // The rest of the body is a search request; Meilisearch's facet search accepts a
    // subset of the search keys and ignores what it does not know.
    let search_body: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| !FACET_SEARCH_KEYS.contains(&k.as_str()))
        .filter(|(k, _)| {
            [
                "q",
                "filter",
                "matchingStrategy",
                "attributesToSearchOn",
                "rankingScoreThreshold",
                "locales",
                "hybrid",
                "vector",
            ]
            .contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let params = parse_params(&Value::Object(search_body), &index)?;
    let candidates = crate::search::candidates(docs, &index, &params);
    let wanted: Vec<String> = facet_query
        .as_deref()
        .map(|q| words(q).into_iter().map(|w| w.text).collect())
        .unwrap_or_default();
    let mut values: Vec<Bucket> = buckets(&candidates, &facet_name)
        .into_iter()
        .filter(|b| {
            if wanted.is_empty() {
                return true;
            }
            let value_words: Vec<String> = words(&b.label).into_iter().map(|w| w.text).collect();
            wanted
                .iter()
                .all(|w| value_words.iter().any(|v| v.starts_with(w.as_str())))
        })
        .collect();
    if sort_by_count(&index, &facet_name) {
        values.sort_by_key(|b| std::cmp::Reverse(b.count));
    }
    values.truncate(max_values_per_facet(&index));
    Ok(json!({
        "facetHits": values.into_iter().map(|b| json!({"value": b.label, "count": b.count})).collect::<Vec<_>>(),
        "facetQuery": facet_query,
        "processingTimeMs": 0,
    }))
}
