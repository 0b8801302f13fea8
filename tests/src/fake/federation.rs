//! Federated multi-search on the fake node (`POST /multi-search` with `federation`).
//!
//! As on Meilisearch: every query runs with ranking scores on; the hits of all queries
//! are merged by weighted ranking score (`federationOptions.weight`, default 1), ties to
//! the earlier query; a document two queries on one index both matched appears once
//! (with its better hit); each index's candidates are counted once and the totals are
//! summed over the indexes; `facetsByIndex` computes each index's facets over its
//! candidates, and `mergeFacets` merges them into one distribution. Meilisearch
//! compares the weighted score details rule by rule first; the fake compares global
//! scores only (its scores depend on the query and the document alone).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde_json::{json, Map, Value};

use super::auth::Grant;
use super::engine;
use super::error::{self, ApiError, ApiResult};
use super::routes::{expect_object, json_type_name, query_error, run_search, with_index};
use super::Node;

/// The window and facet options of a `federation` object.
struct Options {
    /// `(page, hitsPerPage)` in page mode.
    page: Option<(usize, usize)>,
    offset: usize,
    limit: usize,
    facets_by_index: Option<Map<String, Value>>,
    /// `mergeFacets`: `Some(max)` merges the facets, `max` being its
    /// `maxValuesPerFacet` if given.
    merge_facets: Option<Option<usize>>,
}

impl Options {
    fn read(federation: &Map<String, Value>) -> ApiResult<Options> {
        let mut numbers: HashMap<&str, usize> = HashMap::new();
        let mut facets_by_index = None;
        let mut merge_facets = None;
        for (key, value) in federation {
            match key.as_str() {
                "limit" | "offset" | "page" | "hitsPerPage" => {
                    let number = value.as_u64().ok_or_else(|| {
                        error::bad(
                            &format!("invalid_multi_search_federation_{key}"),
                            format!(
                                "Invalid value type at `.federation.{key}`: expected a positive integer, but found {}: `{value}`",
                                json_type_name(value)
                            ),
                        )
                    })?;
                    numbers.insert(key.as_str(), number as usize);
                }
                "facetsByIndex" => match value {
                    Value::Null => {}
                    Value::Object(map) => facets_by_index = Some(map.clone()),
                    _ => return Err(not_implemented("a `facetsByIndex` that is not an object")),
                },
                "mergeFacets" => match value {
                    Value::Null => {}
                    Value::Object(options) => {
                        merge_facets = Some(
                            options
                                .get("maxValuesPerFacet")
                                .and_then(Value::as_u64)
                                .map(|max| max as usize),
                        )
                    }
                    _ => return Err(not_implemented("a `mergeFacets` that is not an object")),
                },
                other => return Err(not_implemented(&format!("`federation.{other}`"))),
            }
        }
        let paged = numbers.contains_key("page") || numbers.contains_key("hitsPerPage");
        Ok(Options {
            page: paged.then(|| {
                (
                    numbers.get("page").copied().unwrap_or(1),
                    numbers.get("hitsPerPage").copied().unwrap_or(20),
                )
            }),
            offset: numbers.get("offset").copied().unwrap_or(0),
            limit: numbers.get("limit").copied().unwrap_or(20),
            facets_by_index,
            merge_facets,
        })
    }

    /// Hits to skip and to return.
    fn window(&self) -> (usize, usize) {
        match self.page {
            Some((0, _)) => (0, 0),
            Some((page, per_page)) => ((page - 1) * per_page, per_page),
            None => (self.offset, self.limit),
        }
    }
}

fn not_implemented(what: &str) -> ApiError {
    error::bad(
        "bad_request",
        format!("The fake Meilisearch node does not implement {what} in federated search."),
    )
}

/// One query's hits, best first: weighted score, document id, hit.
struct Run {
    index: String,
    hits: VecDeque<(f64, String, Value)>,
}

pub fn federated_search(
    node: &Node,
    grant: &Grant,
    federation: Map<String, Value>,
    queries: Vec<Value>,
) -> ApiResult<Value> {
    let options = Options::read(&federation)?;
    let mut runs: Vec<Run> = Vec::with_capacity(queries.len());
    let mut candidates: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for (i, query) in queries.into_iter().enumerate() {
        let inside = |e: ApiError| query_error(i, e);
        let mut query = expect_object(query).map_err(inside)?;
        let uid = match query.remove("indexUid") {
            Some(Value::String(uid)) => uid,
            _ => {
                return Err(error::bad(
                    "missing_index_uid",
                    format!("Missing field `indexUid` inside `.queries[{i}]`"),
                ))
            }
        };
        for field in ["offset", "limit", "page", "hitsPerPage"] {
            if query.contains_key(field) {
                return Err(inside(error::bad(
                    "invalid_multi_search_query_pagination",
                    format!("Using pagination options is not allowed in federated queries.\n - Hint: remove `{field}` from the query or remove `federation` from the request\n - Hint: pass `federation.limit` and `federation.offset` for pagination in federated search"),
                )));
            }
        }
        if query.contains_key("facets") {
            return Err(inside(not_implemented("facets in a query")));
        }
        let weight = match query.remove("federationOptions") {
            Some(Value::Object(options)) => {
                options.get("weight").and_then(Value::as_f64).unwrap_or(1.0)
            }
            _ => 1.0,
        };
        if !grant.allows_index(&uid) {
            return Err(inside(error::invalid_api_key(
                "The provided API key is invalid.",
            )));
        }
        let (primary_key, count) = with_index(node, &uid, |index| {
            Ok((index.primary_key.clone(), index.docs.len()))
        })
        .map_err(inside)?;
        let show_score = query.get("showRankingScore") == Some(&Value::Bool(true));
        query.insert("showRankingScore".into(), Value::Bool(true));
        // Every match: the index's candidates are the union over its queries.
        query.insert("limit".into(), json!(count.max(1)));
        let result = run_search(node, grant, &uid, Value::Object(query)).map_err(inside)?;
        let seen = candidates.entry(uid.clone()).or_default();
        let mut hits = VecDeque::new();
        for hit in result
            .get("hits")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Value::Object(mut hit) = hit else {
                continue;
            };
            let id = primary_key
                .as_deref()
                .and_then(|pk| hit.get(pk))
                .and_then(super::worker::id_string)
                .unwrap_or_default();
            seen.insert(id.clone());
            let score = hit
                .get("_rankingScore")
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            if !show_score {
                hit.remove("_rankingScore");
            }
            let weighted = score * weight;
            hit.insert(
                "_federation".into(),
                json!({ "indexUid": uid, "queriesPosition": i, "weightedRankingScore": weighted }),
            );
            hits.push_back((weighted, id, Value::Object(hit)));
        }
        runs.push(Run { index: uid, hits });
    }

    let (skip, take) = options.window();
    let mut merged = Vec::new();
    let mut shown: HashSet<(String, String)> = HashSet::new();
    while merged.len() < skip + take {
        let mut best: Option<(usize, f64)> = None;
        for (i, run) in runs.iter().enumerate() {
            if let Some((score, _, _)) = run.hits.front() {
                if best.is_none_or(|(_, b)| *score > b) {
                    best = Some((i, *score));
                }
            }
        }
        let Some((i, _)) = best else { break };
        let index = runs[i].index.clone();
        if let Some((_, id, hit)) = runs[i].hits.pop_front() {
            if shown.insert((index, id)) {
                merged.push(hit);
            }
        }
    }
    let total: usize = candidates.values().map(HashSet::len).sum();
    let mut out = Map::new();
    out.insert(
        "hits".into(),
        Value::Array(merged.into_iter().skip(skip).collect()),
    );
    out.insert("processingTimeMs".into(), json!(0));
    match options.page {
        Some((page, per_page)) => {
            out.insert("hitsPerPage".into(), json!(per_page));
            out.insert("page".into(), json!(page));
            let pages = if per_page == 0 {
                0
            } else {
                total.div_ceil(per_page)
            };
            out.insert("totalPages".into(), json!(pages));
            out.insert("totalHits".into(), json!(total));
        }
        None => {
            out.insert("limit".into(), json!(take));
            out.insert("offset".into(), json!(skip));
            out.insert("estimatedTotalHits".into(), json!(total));
        }
    }
    if let Some(facets_by_index) = &options.facets_by_index {
        let mut by_index = Map::new();
        let none = HashSet::new();
        for (uid, patterns) in facets_by_index {
            let ids = candidates.get(uid).unwrap_or(&none);
            let query = json!({ "facets": patterns, "limit": 0 });
            let result = with_index(node, uid, |index| {
                Ok(engine::search_among(index, ids, &query)?)
            })?;
            let part = |name: &str| result.get(name).cloned().unwrap_or_else(|| json!({}));
            let order = with_index(node, uid, |index| {
                Ok(index
                    .settings
                    .get("faceting")
                    .and_then(|f| f.get("sortFacetValuesBy"))
                    .cloned()
                    .unwrap_or(Value::Null))
            })?;
            by_index.insert(
                uid.clone(),
                json!({ "distribution": part("facetDistribution"), "stats": part("facetStats"), "order": order }),
            );
        }
        match options.merge_facets {
            Some(max) => {
                let (distribution, stats) = merge_facets(&by_index, max);
                out.insert("facetDistribution".into(), distribution);
                out.insert("facetStats".into(), stats);
            }
            None => {
                for entry in by_index.values_mut() {
                    if let Value::Object(entry) = entry {
                        entry.remove("order");
                    }
                }
                out.insert("facetsByIndex".into(), Value::Object(by_index));
            }
        }
    }
    out.insert("requestUid".into(), json!(uuid::Uuid::now_v7().to_string()));
    Ok(Value::Object(out))
}

/// `mergeFacets`: the indexes' distributions merged by exact value, each facet ordered
/// by the first index's `sortFacetValuesBy` for it (alpha: byte order of the values;
/// count: descending count, then value) and cut at `max` when given; stats: the least
/// minimum and the greatest maximum.
fn merge_facets(by_index: &Map<String, Value>, max: Option<usize>) -> (Value, Value) {
    let mut counts: BTreeMap<String, (bool, Vec<(String, u64)>)> = BTreeMap::new();
    let mut stats: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for entry in by_index.values() {
        let order = &entry["order"];
        if let Some(distribution) = entry["distribution"].as_object() {
            for (facet, values) in distribution {
                let by_count = order
                    .get(facet)
                    .or_else(|| order.get("*"))
                    .and_then(Value::as_str)
                    == Some("count");
                let (_, merged) = counts
                    .entry(facet.clone())
                    .or_insert_with(|| (by_count, Vec::new()));
                for (value, count) in values.as_object().into_iter().flatten() {
                    let count = count.as_u64().unwrap_or(0);
                    match merged.iter_mut().find(|(v, _)| v == value) {
                        Some((_, c)) => *c += count,
                        None => merged.push((value.clone(), count)),
                    }
                }
            }
        }
        for (facet, s) in entry["stats"].as_object().into_iter().flatten() {
            let (Some(min), Some(high)) = (s["min"].as_f64(), s["max"].as_f64()) else {
                continue;
            };
            let e = stats.entry(facet.clone()).or_insert((min, high));
            e.0 = e.0.min(min);
            e.1 = e.1.max(high);
        }
    }
    let mut distribution = Map::new();
    for (facet, (by_count, mut values)) in counts {
        if by_count {
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        } else {
            values.sort_by(|a, b| a.0.cmp(&b.0));
        }
        if let Some(max) = max {
            values.truncate(max);
        }
        let mut facet_values = Map::new();
        for (value, count) in values {
            facet_values.insert(value, json!(count));
        }
        distribution.insert(facet, Value::Object(facet_values));
    }
    let stats: Map<String, Value> = stats
        .into_iter()
        .map(|(facet, (min, max))| (facet, json!({ "min": min, "max": max })))
        .collect();
    (Value::Object(distribution), Value::Object(stats))
}
