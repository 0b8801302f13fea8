//! `GET`/`POST /indexes/{uid}/similar` and `POST /indexes/{uid}/fields`.
//!
//! **Similar documents.** The reference document lives on one shard only, so no node
//! but its owners can run Meilisearch's `/similar` for the whole index. Miroir answers
//! in four steps:
//!
//! 1. An owner of the reference's shard runs the client's request exactly as sent: it
//!    validates every parameter, the key and the reference's existence, so any error is
//!    Meilisearch's own.
//! 2. From that owner: the reference's embedding for the requested embedder
//!    (`retrieveVectors`), and whether the reference passes the client's filter (the
//!    shard's filtered count by a search, minus its count by `/similar`, which leaves
//!    the reference out).
//! 3. Every node of one group's covering set runs a semantic search with that vector
//!    (`hybrid.semanticRatio` 1, the client's filter, its first `offset + limit + 1`
//!    hits, scores on); the merger orders the hits across nodes.
//! 4. The reference and documents without an embedding are dropped, the client's
//!    window and `rankingScoreThreshold` are applied as `/similar` applies them, and the
//!    total is the filtered documents minus the reference, up to `maxTotalHits`.
//!
//! **Index fields.** Each node knows the fields its own documents hold, so every node
//! of the covering set lists all its fields (the client's filter applied), Miroir
//! unites them by name, hides `_miroir_shard`, sorts them by name as Meilisearch does
//! and cuts the client's page.

use std::collections::BTreeMap;

use http::Method;
use serde_json::{json, Map, Value};

use super::hedge::Replicas;
use super::reads::combine_json_filter;
use super::writes::urlencode;
use super::App;
use crate::documents::{canonical_document_id, primary_key_value};
use crate::error::ApiError;
use crate::fanout::{NodeAddress, NodeRequest, NodeResponse};
use crate::http::{parse_query, ClientRequest, Response};
use crate::runtime::Runtime;
use crate::strip::{is_reserved, SHARD_FIELD};

/// Meilisearch's default `limit` of `/similar` and of `/fields`.
const DEFAULT_LIMIT: u64 = 20;

/// The most fields one node can list: Meilisearch numbers fields with 16 bits.
const MAX_FIELDS: u64 = 65_536;

/// A `/similar` query in its body form (the `GET` parameters converted as Meilisearch
/// converts them).
#[derive(Debug, Clone, PartialEq)]
struct SimilarQuery {
    /// The body as the client wrote it (or as its `GET` parameters read).
    body: Map<String, Value>,
    /// The reference's canonical document id.
    id: String,
    embedder: String,
    offset: u64,
    limit: u64,
    threshold: Option<f64>,
    show_score: bool,
    show_details: bool,
}

/// Read the reference id alone: enough to find its shard before a node validates the
/// rest. `None` when there is no valid id (a node then words the error).
fn reference_id(request: &ClientRequest) -> Option<String> {
    if request.method == Method::GET {
        let id = request.query_param("id")?;
        canonical_document_id(&Value::String(id)).ok()
    } else {
        let body: Value = serde_json::from_slice(&request.body).ok()?;
        canonical_document_id(body.get("id")?).ok()
    }
}

/// The body form of a `GET /similar`: lists split on commas, numbers and booleans
/// parsed, `filter` read as JSON when it is JSON, as Meilisearch reads them.
fn get_params_as_body(query: &str) -> Option<Map<String, Value>> {
    let mut body = Map::new();
    for (key, value) in parse_query(query) {
        let converted = match key.as_str() {
            "id" | "embedder" => Value::String(value),
            "offset" | "limit" => Value::from(value.parse::<u64>().ok()?),
            "attributesToRetrieve" => Value::Array(
                value
                    .split(',')
                    .map(|f| Value::String(f.trim().to_owned()))
                    .collect(),
            ),
            "retrieveVectors"
            | "showRankingScore"
            | "showRankingScoreDetails"
            | "showPerformanceDetails" => Value::Bool(value.parse().ok()?),
            "filter" => serde_json::from_str(&value).unwrap_or(Value::String(value)),
            "rankingScoreThreshold" => json!(value.parse::<f64>().ok()?),
            _ => return None,
        };
        body.insert(key, converted);
    }
    Some(body)
}

impl SimilarQuery {
    /// Read a query a node has accepted. `None` only when it does not have the shape
    /// Meilisearch accepts (which a node would have refused).
    fn read(request: &ClientRequest) -> Option<SimilarQuery> {
        let body = if request.method == Method::GET {
            get_params_as_body(request.query.as_deref().unwrap_or_default())?
        } else {
            match serde_json::from_slice(&request.body).ok()? {
                Value::Object(body) => body,
                _ => return None,
            }
        };
        let number = |key: &str, default: u64| match body.get(key) {
            None | Some(Value::Null) => Some(default),
            Some(value) => value.as_u64(),
        };
        let flag = |key: &str| body.get(key).and_then(Value::as_bool).unwrap_or(false);
        Some(SimilarQuery {
            id: canonical_document_id(body.get("id")?).ok()?,
            embedder: body.get("embedder")?.as_str()?.to_owned(),
            offset: number("offset", 0)?,
            limit: number("limit", DEFAULT_LIMIT)?,
            threshold: body.get("rankingScoreThreshold").and_then(Value::as_f64),
            show_score: flag("showRankingScore"),
            show_details: flag("showRankingScoreDetails"),
            body,
        })
    }

    fn filter(&self) -> Option<Value> {
        self.body.get("filter").filter(|f| !f.is_null()).cloned()
    }
}

/// The first embedding of `embedder` in a document read with `retrieveVectors`.
fn reference_vector(document: &Value, embedder: &str) -> Option<Vec<Value>> {
    let entry = document.get("_vectors")?.get(embedder)?;
    let embeddings = match entry {
        Value::Object(explicit) => explicit.get("embeddings")?,
        other => other,
    };
    let items = embeddings.as_array()?;
    match items.first()? {
        Value::Array(first) => Some(first.clone()),
        Value::Number(_) => Some(items.clone()),
        _ => None,
    }
}

/// The vector similarity a semantic-search hit carries, if it has an embedding.
fn hit_similarity(hit: &Value) -> Option<f64> {
    hit.pointer("/_rankingScoreDetails/vectorSort/similarity")?
        .as_f64()
}

/// A node answer's total.
fn total_of(response: &NodeResponse) -> Option<u64> {
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    body.get("estimatedTotalHits")
        .or_else(|| body.get("totalHits"))
        .and_then(Value::as_u64)
}

/// The window `/similar` answers from hits in similarity order (the reference already
/// out): skip `offset`, keep up to `limit`, stop at the first hit under the threshold.
/// Returns the kept hits and, when the threshold stopped the walk, the number of
/// documents walked before the stop (Meilisearch's total then).
fn similar_window(
    hits: Vec<Value>,
    offset: usize,
    limit: usize,
    threshold: Option<f64>,
) -> (Vec<Value>, Option<u64>) {
    let mut kept = Vec::new();
    for (walked, hit) in hits.into_iter().enumerate().skip(offset).take(limit) {
        let score = hit
            .get("_rankingScore")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        if threshold.is_some_and(|t| score < t) {
            return (kept, Some(walked as u64));
        }
        kept.push(hit);
    }
    (kept, None)
}

impl App {
    /// `GET`/`POST /indexes/{uid}/similar`.
    pub(crate) async fn similar(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: &str,
    ) -> Result<Response, ApiError> {
        let meta = self.index_meta(index).await?;
        let (Some(meta), Some(id)) = (meta, reference_id(request)) else {
            // An index Miroir does not know or no valid reference id: a node words the
            // error (every node gives the same one).
            return self.ask_one_node(runtime, request).await;
        };
        let shard = miroir_conf::routing::shard_for_pk(&id, meta.shards);

        // 1. An owner validates the request as the client sent it.
        let (owner, probe) = self.ask_owner(runtime, request, shard).await?;
        if !probe.is_success() {
            if (400..500).contains(&probe.status) {
                return Err(super::node_error(&probe));
            }
            return Ok(Response::json_bytes(probe.status, probe.body.clone()));
        }
        let query = SimilarQuery::read(request).ok_or_else(|| {
            ApiError::internal("A node accepted a similar query Miroir cannot read.")
        })?;

        // 2. The reference's embedding, and whether it passes the filter.
        let headers = App::forwarded_headers(request);
        let index_path = format!("/indexes/{}", urlencode(index));
        let mut document = NodeRequest::new(
            Method::GET,
            format!(
                "{index_path}/documents/{}?retrieveVectors=true",
                urlencode(&id)
            ),
        );
        if let Some(auth) = runtime.node_authorization() {
            document = document.header("Authorization", auth);
        }
        let shard_only =
            combine_json_filter(query.filter(), Some(&format!("{SHARD_FIELD} = {shard}")));
        let counted = |path: &str, mut body: Map<String, Value>| {
            if let Some(filter) = &shard_only {
                body.insert("filter".into(), filter.clone());
            }
            body.insert("limit".into(), json!(0));
            let mut part = NodeRequest::json(
                Method::POST,
                format!("{index_path}/{path}"),
                Value::Object(body).to_string(),
            );
            part.headers.extend(headers.iter().cloned());
            part
        };
        let by_search = counted("search", Map::new());
        let mut similar_body = Map::new();
        similar_body.insert("id".into(), Value::String(query.id.clone()));
        similar_body.insert("embedder".into(), Value::String(query.embedder.clone()));
        let by_similar = counted("similar", similar_body);
        let (document, by_search, by_similar) = futures::join!(
            self.fanout.send(&owner, &document, runtime.limits),
            self.fanout.send(&owner, &by_search, runtime.limits),
            self.fanout.send(&owner, &by_similar, runtime.limits),
        );
        let unavailable = |e: crate::fanout::NodeError| ApiError::shard_unavailable(e.to_string());
        let (document, by_search, by_similar) = (
            document.map_err(unavailable)?,
            by_search.map_err(unavailable)?,
            by_similar.map_err(unavailable)?,
        );
        for answer in [&document, &by_search, &by_similar] {
            if !answer.is_success() {
                return Err(super::node_error(answer));
            }
        }
        let document: Value = serde_json::from_slice(&document.body)
            .map_err(|e| ApiError::internal(format!("A node sent an unreadable document: {e}")))?;
        let (Some(with_reference), Some(without_reference)) =
            (total_of(&by_search), total_of(&by_similar))
        else {
            return Err(ApiError::internal(
                "A node answered a count without a total.",
            ));
        };
        let reference_counted = u64::from(with_reference > without_reference);

        // 3. The semantic search on every shard.
        let vector = reference_vector(&document, &query.embedder);
        let primary_key = meta.primary_key.clone();
        let retrieve = query
            .body
            .get("attributesToRetrieve")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            });
        let added_key = match (&primary_key, &retrieve) {
            (Some(pk), Some(fields)) if !fields.iter().any(|f| f == "*" || f == pk) => {
                Some(pk.clone())
            }
            _ => None,
        };
        let window = query.offset.saturating_add(query.limit).saturating_add(1);
        let search_path = format!("{index_path}/search");
        let bodies = self
            .scatter_covering(
                runtime,
                request,
                meta.shards,
                Replicas::Fastest,
                |restriction| {
                    let mut node = Map::new();
                    if let Some(filter) = combine_json_filter(query.filter(), restriction) {
                        node.insert("filter".into(), filter);
                    }
                    match &vector {
                        Some(vector) => {
                            node.insert("vector".into(), Value::Array(vector.clone()));
                            node.insert(
                                "hybrid".into(),
                                json!({"embedder": query.embedder, "semanticRatio": 1.0}),
                            );
                            node.insert("offset".into(), json!(0));
                            node.insert("limit".into(), json!(window));
                            if let Some(fields) = &retrieve {
                                let mut fields = fields.clone();
                                fields.extend(added_key.clone());
                                node.insert("attributesToRetrieve".into(), json!(fields));
                            }
                            if let Some(flag) = query.body.get("retrieveVectors") {
                                node.insert("retrieveVectors".into(), flag.clone());
                            }
                            node.insert("showRankingScore".into(), json!(true));
                            node.insert("showRankingScoreDetails".into(), json!(true));
                        }
                        // Without an embedding the reference has no neighbours; only the
                        // total is needed.
                        None => {
                            node.insert("limit".into(), json!(0));
                        }
                    }
                    Ok(NodeRequest::json(
                        Method::POST,
                        search_path.clone(),
                        Value::Object(node).to_string(),
                    ))
                },
            )
            .await?
            .bodies;
        let mut request_all = miroir_merger::SearchRequest::offset_limit(0, window as usize);
        request_all.max_total_hits = usize::MAX;
        request_all.show_ranking_score = true;
        request_all.show_ranking_score_details = true;
        let slices: Vec<&[u8]> = bodies.iter().map(|b| b.body.as_ref()).collect();
        let merged = miroir_merger::merge_search(&slices, &request_all).map_err(|e| {
            ApiError::internal(format!("Miroir could not merge the node answers: {e}"))
        })?;
        let merged: Value = serde_json::from_slice(&merged)
            .map_err(|e| ApiError::internal(format!("Miroir could not read its merge: {e}")))?;

        // 4. The client's window, threshold and total.
        let is_reference = |hit: &Value| {
            let Some(pk) = &primary_key else { return false };
            hit.as_object()
                .and_then(|h| primary_key_value(h, pk).ok())
                .and_then(|v| canonical_document_id(v).ok())
                .is_some_and(|hit_id| hit_id == query.id)
        };
        let neighbours: Vec<Value> = merged
            .get("hits")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|hit| !is_reference(hit) && hit_similarity(hit).is_some())
            .collect();
        let (mut hits, stopped_at) = similar_window(
            neighbours,
            query.offset as usize,
            query.limit as usize,
            query.threshold,
        );
        for hit in hits.iter_mut().filter_map(Value::as_object_mut) {
            if !query.show_score {
                hit.remove("_rankingScore");
            }
            if !query.show_details {
                hit.remove("_rankingScoreDetails");
            }
            if let Some(pk) = &added_key {
                hit.remove(pk);
            }
        }
        let settings = self.merge_settings(runtime, index).await?;
        let total = match stopped_at {
            Some(walked) => walked,
            None => merged
                .get("estimatedTotalHits")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                .saturating_sub(reference_counted),
        }
        .min(settings.max_total_hits as u64);
        let processing = merged
            .get("processingTimeMs")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let mut out = Map::new();
        out.insert("hits".into(), Value::Array(hits));
        out.insert("id".into(), Value::String(query.id.clone()));
        out.insert("processingTimeMs".into(), json!(processing));
        out.insert("limit".into(), json!(query.limit));
        out.insert("offset".into(), json!(query.offset));
        out.insert("estimatedTotalHits".into(), json!(total));
        // `showPerformanceDetails`: the owner's own timings stand for the query.
        let probe: Value = serde_json::from_slice(&probe.body).unwrap_or(Value::Null);
        if let Some(details) = probe.get("performanceDetails") {
            out.insert("performanceDetails".into(), details.clone());
        }
        Ok(Response::json(200, &Value::Object(out)))
    }

    /// Send the client's request as it is to a live owner of `shard` (first replica
    /// group first), moving to the next owner when one cannot answer.
    async fn ask_owner(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        shard: u32,
    ) -> Result<(NodeAddress, NodeResponse), ApiError> {
        let mut avoid = self.avoid();
        let part = App::as_node_request(request);
        loop {
            let node = runtime
                .read_owner_avoiding(shard, &avoid)
                .and_then(|id| runtime.nodes.get(&*id))
                .map(|node| node.address.clone())
                .ok_or_else(|| {
                    ApiError::shard_unavailable(format!(
                        "No reachable node holds shard {shard} of this index."
                    ))
                })?;
            match self.fanout.send(&node, &part, runtime.limits).await {
                Ok(response) if response.status < 500 => return Ok((node, response)),
                Ok(response) => {
                    tracing::warn!(node = %node.id, status = response.status, "node failed a read");
                }
                Err(error) => {
                    tracing::warn!(node = %node.id, %error, "node unreachable for a read");
                }
            }
            self.health.mark_down(&node.id);
            avoid.fail(node.id.clone());
        }
    }

    /// `POST /indexes/{uid}/fields`.
    pub(crate) async fn list_fields(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: &str,
    ) -> Result<Response, ApiError> {
        let meta = self.index_meta(index).await?;
        let body = match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(body)) => body,
            _ => return self.ask_one_node(runtime, request).await,
        };
        let number = |key: &str, default: u64| match body.get(key) {
            None => Some(default),
            Some(value) => value.as_u64(),
        };
        let (Some(meta), Some(offset), Some(limit)) =
            (meta, number("offset", 0), number("limit", DEFAULT_LIMIT))
        else {
            return self.ask_one_node(runtime, request).await;
        };
        let bodies = self
            .scatter_covering(runtime, request, meta.shards, Replicas::Fastest, |_| {
                let mut node = body.clone();
                node.insert("offset".into(), json!(0));
                node.insert("limit".into(), json!(MAX_FIELDS));
                Ok(NodeRequest::json(
                    Method::POST,
                    request.path.clone(),
                    Value::Object(node).to_string(),
                ))
            })
            .await?
            .bodies;
        // Every node describes a field the same way (the settings are the same); the
        // first description met stands.
        let mut fields: BTreeMap<String, Value> = BTreeMap::new();
        for answer in &bodies {
            let listing: Value = serde_json::from_slice(&answer.body).map_err(|e| {
                ApiError::internal(format!("A node sent an unreadable field list: {e}"))
            })?;
            for field in listing
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = field.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if is_reserved(name) {
                    continue;
                }
                fields
                    .entry(name.to_owned())
                    .or_insert_with(|| field.clone());
            }
        }
        let total = fields.len();
        let results: Vec<Value> = fields
            .into_values()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        Ok(Response::json(
            200,
            &json!({"results": results, "offset": offset, "limit": limit, "total": total}),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_parameters_read_as_meilisearch_reads_them() {
        let body = get_params_as_body(
            "id=7&embedder=small&limit=3&attributesToRetrieve=id,title&filter=genre%20%3D%20drama&showRankingScore=true&rankingScoreThreshold=0.5",
        )
        .expect("valid");
        assert_eq!(
            Value::Object(body),
            json!({"id": "7", "embedder": "small", "limit": 3, "attributesToRetrieve": ["id", "title"], "filter": "genre = drama", "showRankingScore": true, "rankingScoreThreshold": 0.5})
        );
        assert_eq!(get_params_as_body("limit=ten"), None);
    }

    #[test]
    fn reference_vectors_are_read_in_both_forms() {
        let explicit =
            json!({"_vectors": {"e": {"embeddings": [[0.5, 1.0]], "regenerate": false}}});
        assert_eq!(
            reference_vector(&explicit, "e"),
            Some(vec![json!(0.5), json!(1.0)])
        );
        let flat = json!({"_vectors": {"e": [0.5, 1.0]}});
        assert_eq!(
            reference_vector(&flat, "e"),
            Some(vec![json!(0.5), json!(1.0)])
        );
        let empty = json!({"_vectors": {"e": {"embeddings": [], "regenerate": false}}});
        assert_eq!(reference_vector(&empty, "e"), None);
        assert_eq!(reference_vector(&explicit, "other"), None);
    }

    #[test]
    fn the_threshold_ends_the_window_and_sets_the_total() {
        let hits: Vec<Value> = [0.9, 0.8, 0.7, 0.6]
            .iter()
            .map(|s| json!({"_rankingScore": s}))
            .collect();
        let (kept, stopped) = similar_window(hits.clone(), 1, 2, Some(0.75));
        assert_eq!(kept, vec![json!({"_rankingScore": 0.8})]);
        assert_eq!(stopped, Some(2));
        let (kept, stopped) = similar_window(hits.clone(), 0, 2, Some(0.75));
        assert_eq!(kept.len(), 2);
        assert_eq!(stopped, None, "a full window leaves the total alone");
        let (kept, stopped) = similar_window(hits, 5, 2, Some(0.75));
        assert!(kept.is_empty());
        assert_eq!(stopped, None, "skipped hits are not checked");
    }
}
