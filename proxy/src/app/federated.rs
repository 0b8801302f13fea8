//! Federated multi-search (`POST /multi-search` with `federation`).
//!
//! Every node of the covering sets runs the whole federated request over its own
//! documents — each query narrowed to the shards the node answers for — and the merger
//! combines the nodes' federated answers (DESIGN.md §6). Letting the nodes federate is
//! what keeps two queries on one index exact: a node drops a document both queries
//! matched and counts the index's candidates once, and since every document is answered
//! by exactly one node, the nodes' totals and facet counts add up.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use http::Method;
use miroir_merger::{FacetSettings, FederatedNodeQuery, FederatedRequest};
use serde_json::{Map, Value};

use super::App;
use crate::error::ApiError;
use crate::fanout::{NodeAddress, NodeRequest, NodeResponse};
use crate::http::{ClientRequest, Response};
use crate::runtime::{ReadPlan, Runtime};
use crate::search_plan::{plan, scored_and_restricted, shard_filter, Pagination, SHARD_NONE};

/// Members of `federation` Miroir knows how to split over nodes.
const FEDERATION_FIELDS: &[&str] = &[
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "facetsByIndex",
    "mergeFacets",
    "distinct",
];

/// Query members a federated query may not carry: a node words the error.
const NOT_IN_FEDERATED_QUERY: &[&str] = &["offset", "limit", "page", "hitsPerPage", "facets"];

/// A federated request Miroir can split over nodes.
struct Federated {
    federation: Map<String, Value>,
    queries: Vec<Map<String, Value>>,
    /// Each query's index, weight and score flags, in request order.
    described: Vec<FederatedNodeQuery>,
    pagination: Pagination,
}

/// Read a federated request, or `None` when something in it is for a node to judge
/// (a type Meilisearch rejects, a forbidden member, a remote query).
fn read_request(federation: &Value, queries: &[Value]) -> Option<Federated> {
    let federation = federation.as_object()?.clone();
    if federation
        .keys()
        .any(|k| !FEDERATION_FIELDS.contains(&k.as_str()))
    {
        return None;
    }
    if let Some(facets) = federation.get("facetsByIndex") {
        if !facets.is_null() && !facets.is_object() {
            return None;
        }
    }
    let pagination = plan(&federation).ok()?.pagination;
    let mut described = Vec::with_capacity(queries.len());
    let mut maps = Vec::with_capacity(queries.len());
    for query in queries {
        let query = query.as_object()?;
        let index_uid = query.get("indexUid")?.as_str()?.to_owned();
        if NOT_IN_FEDERATED_QUERY
            .iter()
            .any(|field| query.contains_key(*field))
        {
            return None;
        }
        let weight = match query.get("federationOptions") {
            None | Some(Value::Null) => 1.0,
            Some(Value::Object(options)) => {
                if options.keys().any(|k| k != "weight") {
                    return None;
                }
                match options.get("weight") {
                    None => 1.0,
                    Some(w) => w.as_f64().filter(|w| *w >= 0.0)?,
                }
            }
            Some(_) => return None,
        };
        let flag = |name: &str| match query.get(name) {
            None | Some(Value::Null) => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => None,
        };
        described.push(FederatedNodeQuery {
            index_uid,
            weight,
            show_ranking_score: flag("showRankingScore")?,
            show_ranking_score_details: flag("showRankingScoreDetails")?,
        });
        maps.push(query.clone());
    }
    Some(Federated {
        federation,
        queries: maps,
        described,
        pagination,
    })
}

/// The federation object every node runs: the window from the top, facets per index
/// (Miroir merges them itself when the client asked for `mergeFacets`).
fn node_federation(federation: &Map<String, Value>, pagination: Pagination) -> Map<String, Value> {
    let mut out = federation.clone();
    for key in ["offset", "limit", "page", "hitsPerPage"] {
        out.remove(key);
    }
    match pagination {
        Pagination::Offset { .. } => {
            out.insert("offset".to_owned(), Value::from(0u64));
            out.insert("limit".to_owned(), Value::from(pagination.node_window()));
        }
        Pagination::Page { .. } => {
            out.insert("page".to_owned(), Value::from(1u64));
            out.insert(
                "hitsPerPage".to_owned(),
                Value::from(pagination.node_window()),
            );
        }
    }
    let has_facets = out
        .get("facetsByIndex")
        .and_then(Value::as_object)
        .is_some_and(|f| !f.is_empty());
    if has_facets {
        out.remove("mergeFacets");
    }
    out
}

/// One query as a node runs it: scores on, narrowed by `restriction` when given.
fn node_query(query: &Map<String, Value>, restriction: Option<&str>) -> Map<String, Value> {
    let mut out = query.clone();
    scored_and_restricted(&mut out, restriction);
    out
}

/// What a node must be told for one index: nothing (it answers for all its shards),
/// its shards, or that it answers for none of them.
fn restriction_for(plan: &ReadPlan, node: &Arc<str>) -> Option<String> {
    match plan.by_node.get(node) {
        Some(shards) => plan.restrict.then(|| shard_filter(shards)),
        None => Some(SHARD_NONE.to_owned()),
    }
}

impl App {
    /// `POST /multi-search` with `federation`.
    pub(crate) async fn federated_search(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        federation: &Value,
        queries: &[Value],
    ) -> Result<Response, ApiError> {
        let Some(fed) = read_request(federation, queries) else {
            return self.ask_one_node(runtime, request).await;
        };
        // Every index must be known to Miroir: an unknown one gets the node's error.
        let mut shards_of: BTreeMap<String, u32> = BTreeMap::new();
        for query in &fed.described {
            if shards_of.contains_key(&query.index_uid) {
                continue;
            }
            match self.index_meta(&query.index_uid).await? {
                Some(meta) => {
                    shards_of.insert(query.index_uid.clone(), meta.shards);
                }
                None => return self.ask_one_node(runtime, request).await,
            }
        }
        let mut index_facets: BTreeMap<String, FacetSettings> = BTreeMap::new();
        if let Some(Value::Object(by_index)) = fed.federation.get("facetsByIndex") {
            for index in by_index.keys() {
                let settings = self.merge_settings(runtime, index).await?;
                index_facets.insert(index.clone(), settings.facets);
            }
        }
        let federation = node_federation(&fed.federation, fed.pagination);
        let bodies = self
            .scatter_federated(runtime, request, &shards_of, |plans, node| {
                let queries: Vec<Value> = fed
                    .queries
                    .iter()
                    .zip(&fed.described)
                    .map(|(query, described)| {
                        let restriction = plans
                            .get(&shards_of[&described.index_uid])
                            .and_then(|plan| restriction_for(plan, node));
                        Value::Object(node_query(query, restriction.as_deref()))
                    })
                    .collect();
                let mut body = Map::new();
                body.insert("federation".to_owned(), Value::Object(federation.clone()));
                body.insert("queries".to_owned(), Value::Array(queries));
                let bytes = serde_json::to_vec(&Value::Object(body))
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                Ok(NodeRequest::json(Method::POST, "/multi-search", bytes))
            })
            .await?;
        let merge_facets = match fed.federation.get("mergeFacets") {
            None | Some(Value::Null) => None,
            Some(options) => Some(
                options
                    .get("maxValuesPerFacet")
                    .and_then(Value::as_u64)
                    .map(|max| max as usize),
            ),
        };
        let merge_request = FederatedRequest {
            pagination: super::merge::merger_pagination(fed.pagination),
            merge_facets,
            request_uid: Some(uuid::Uuid::now_v7().to_string()),
            distinct: fed
                .federation
                .get("distinct")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        let slices: Vec<&[u8]> = bodies.iter().map(|b| b.body.as_ref()).collect();
        let merged = miroir_merger::merge_federated_nodes(
            &slices,
            &fed.described,
            &index_facets,
            &merge_request,
        )
        .map_err(|error| {
            ApiError::internal(format!("Miroir could not merge the node answers: {error}"))
        })?;
        Ok(Response::json_bytes(200, merged))
    }

    /// Send the federated request to every node that answers for some shard of some
    /// queried index; `build` gets the read plan of every shard count and the node.
    /// Failing nodes are marked down and the fan-out planned again without them.
    async fn scatter_federated(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        shards_of: &BTreeMap<String, u32>,
        build: impl Fn(&BTreeMap<u32, ReadPlan>, &Arc<str>) -> Result<NodeRequest, ApiError>,
    ) -> Result<Vec<NodeResponse>, ApiError> {
        let headers = App::forwarded_headers(request);
        let mut avoid = self.avoid();
        loop {
            let mut plans: BTreeMap<u32, ReadPlan> = BTreeMap::new();
            for shards in shards_of.values() {
                if plans.contains_key(shards) {
                    continue;
                }
                let plan = runtime.plan_reads_avoiding(*shards, &avoid);
                if !plan.uncovered.is_empty() {
                    return Err(super::search::uncovered(&plan.uncovered));
                }
                plans.insert(*shards, plan);
            }
            let nodes: BTreeSet<&Arc<str>> = plans
                .values()
                .flat_map(|plan| plan.by_node.keys())
                .collect();
            let mut parts: Vec<(NodeAddress, NodeRequest)> = Vec::new();
            for node_id in nodes {
                let Some(node) = runtime.nodes.get(node_id) else {
                    continue;
                };
                let mut part = build(&plans, node_id)?;
                part.headers.extend(headers.iter().cloned());
                parts.push((node.address.clone(), part));
            }
            let answers = self.fanout.scatter(parts, runtime.limits).await;
            if let Some(bodies) = self.settle_reads(answers, &mut avoid)? {
                return Ok(bodies);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nodes_get_the_window_from_the_top_and_facets_per_index() {
        let federation = json!({"offset": 5, "limit": 10, "facetsByIndex": {"movies": ["genre"]}, "mergeFacets": {}});
        let fed = read_request(&federation, &[json!({"indexUid": "movies", "q": "a"})]).unwrap();
        assert_eq!(
            Value::Object(node_federation(&fed.federation, fed.pagination)),
            json!({"offset": 0, "limit": 15, "facetsByIndex": {"movies": ["genre"]}})
        );
        let paged = read_request(&json!({"page": 3, "hitsPerPage": 4}), &[]).unwrap();
        assert_eq!(
            Value::Object(node_federation(&paged.federation, paged.pagination)),
            json!({"page": 1, "hitsPerPage": 12})
        );
    }

    #[test]
    fn queries_are_narrowed_and_scored() {
        let query = json!({"indexUid": "movies", "filter": "genre = drama"});
        assert_eq!(
            Value::Object(node_query(
                query.as_object().unwrap(),
                Some("_miroir_shard IN [1]")
            )),
            json!({"indexUid": "movies", "filter": ["genre = drama", "_miroir_shard IN [1]"], "showRankingScore": true, "showRankingScoreDetails": true})
        );
    }

    #[test]
    fn what_a_node_must_judge_is_left_to_it() {
        let ok = json!({"indexUid": "movies"});
        assert!(read_request(&json!({}), std::slice::from_ref(&ok)).is_some());
        assert!(read_request(&json!({"limit": "ten"}), std::slice::from_ref(&ok)).is_none());
        assert!(read_request(&json!({"unknown": 1}), std::slice::from_ref(&ok)).is_none());
        assert!(read_request(&json!({}), &[json!({"indexUid": "movies", "limit": 3})]).is_none());
        assert!(read_request(
            &json!({}),
            &[json!({"indexUid": "movies", "federationOptions": {"remote": "a"}})]
        )
        .is_none());
        let weighted = read_request(
            &json!({}),
            &[json!({"indexUid": "m", "federationOptions": {"weight": 2.5}, "showRankingScore": true})],
        )
        .unwrap();
        assert_eq!(
            weighted.described,
            vec![FederatedNodeQuery {
                index_uid: "m".into(),
                weight: 2.5,
                show_ranking_score: true,
                show_ranking_score_details: false
            }]
        );
    }
}
