//! Fan-out reads besides search: document listings, stats, facet search; and the
//! routed deletions by document id.

use std::collections::BTreeSet;
use std::sync::Arc;

use http::Method;
use miroir_merger::FacetSearchRequest;
use miroir_store::TaskKind;
use serde_json::{json, Map, Value};

use super::writes::urlencode;
use super::App;
use crate::documents::canonical_document_id;
use crate::error::ApiError;
use crate::fanout::{NodeAddress, NodeRequest};
use crate::http::{parse_query, ClientRequest, Response};
use crate::quorum::{judge, QuorumVerdict, ShardPlan};
use crate::runtime::Runtime;

/// Join a client's string filter and a shard restriction.
pub(crate) fn combine_string_filter(
    client: Option<&str>,
    restriction: Option<&str>,
) -> Option<String> {
    match (client, restriction) {
        (Some(client), Some(restriction)) => Some(format!("({client}) AND {restriction}")),
        (Some(client), None) => Some(client.to_owned()),
        (None, Some(restriction)) => Some(restriction.to_owned()),
        (None, None) => None,
    }
}

/// Join a client's JSON filter (string or array form) and a shard restriction, in the
/// array form so the client's part is parsed exactly as the client wrote it.
pub(crate) fn combine_json_filter(
    client: Option<Value>,
    restriction: Option<&str>,
) -> Option<Value> {
    let Some(restriction) = restriction else {
        return client;
    };
    let restriction = Value::String(restriction.to_owned());
    Some(match client {
        None | Some(Value::Null) => restriction,
        Some(Value::Array(mut clauses)) => {
            clauses.push(restriction);
            Value::Array(clauses)
        }
        Some(other) => Value::Array(vec![other, restriction]),
    })
}

/// Divide the document counts of a stats object by the number of copies of each
/// document the answering nodes hold together.
fn divide_index_stats(stats: &mut Map<String, Value>, copies: u64) {
    for field in [
        "numberOfDocuments",
        "rawDocumentDbSize",
        "numberOfEmbeddings",
        "numberOfEmbeddedDocuments",
    ] {
        if let Some(n) = stats.get(field).and_then(Value::as_u64) {
            stats.insert(field.to_owned(), Value::from(n / copies));
        }
    }
    if let Some(Value::Object(fields)) = stats.get_mut("fieldDistribution") {
        for count in fields.values_mut() {
            if let Some(n) = count.as_u64() {
                *count = Value::from(n / copies);
            }
        }
    }
}

impl App {
    /// `GET /indexes/{uid}/documents` and `POST /indexes/{uid}/documents/fetch`.
    pub(crate) async fn browse_documents(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: &str,
    ) -> Result<Response, ApiError> {
        let meta = self.index_meta(index).await?;
        let Some(meta) = meta else {
            return self.ask_one_node(runtime, request).await;
        };
        let is_get = request.method == Method::GET;
        let (offset, limit, body, pairs) = if is_get {
            let pairs = request
                .query
                .as_deref()
                .map(parse_query)
                .unwrap_or_default();
            let number = |name: &str, default: usize| -> Option<usize> {
                match pairs.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => v.parse().ok(),
                    None => Some(default),
                }
            };
            let (Some(offset), Some(limit)) = (number("offset", 0), number("limit", 20)) else {
                return self.ask_one_node(runtime, request).await;
            };
            (offset, limit, None, pairs)
        } else {
            let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&request.body) else {
                return self.ask_one_node(runtime, request).await;
            };
            let number = |name: &str, default: usize| -> Option<usize> {
                match body.get(name) {
                    None | Some(Value::Null) => Some(default),
                    Some(v) => v.as_u64().map(|n| n as usize),
                }
            };
            let (Some(offset), Some(limit)) = (number("offset", 0), number("limit", 20)) else {
                return self.ask_one_node(runtime, request).await;
            };
            (offset, limit, Some(body), Vec::new())
        };
        let window = offset.saturating_add(limit);
        let bodies = self
            .scatter_covering(runtime, request, meta.shards, |restriction| {
                Ok(match &body {
                    Some(body) => {
                        let mut node = body.clone();
                        node.insert("offset".to_owned(), json!(0));
                        node.insert("limit".to_owned(), json!(window));
                        if let Some(filter) =
                            combine_json_filter(node.remove("filter"), restriction)
                        {
                            node.insert("filter".to_owned(), filter);
                        }
                        let bytes = serde_json::to_vec(&Value::Object(node))
                            .map_err(|e| ApiError::internal(e.to_string()))?;
                        NodeRequest::json(Method::POST, request.path.clone(), bytes)
                    }
                    None => {
                        let mut out: Vec<(String, String)> = pairs
                            .iter()
                            .filter(|(k, _)| k != "offset" && k != "limit" && k != "filter")
                            .cloned()
                            .collect();
                        out.push(("offset".to_owned(), "0".to_owned()));
                        out.push(("limit".to_owned(), window.to_string()));
                        let client = pairs
                            .iter()
                            .find(|(k, _)| k == "filter")
                            .map(|(_, v)| v.as_str());
                        if let Some(filter) = combine_string_filter(client, restriction) {
                            out.push(("filter".to_owned(), filter));
                        }
                        let query: Vec<String> = out
                            .iter()
                            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
                            .collect();
                        NodeRequest::new(
                            Method::GET,
                            format!("{}?{}", request.path, query.join("&")),
                        )
                    }
                })
            })
            .await?;
        let slices: Vec<&[u8]> = bodies.iter().map(|b| b.body.as_ref()).collect();
        let merged = miroir_merger::merge_documents(&slices, offset, limit).map_err(|e| {
            ApiError::internal(format!("Miroir could not merge the node answers: {e}"))
        })?;
        Ok(Response::json_bytes(200, merged))
    }

    /// `GET /indexes/{uid}/stats` and `GET /stats`: one group's nodes, counts divided
    /// by the replication factor (each document is on RF of them).
    pub(crate) async fn stats(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: Option<&str>,
    ) -> Result<Response, ApiError> {
        let group = self.pick_group(runtime)?;
        let nodes: Vec<NodeAddress> = runtime
            .groups
            .iter()
            .find(|(name, _)| *name == group)
            .map(|(_, nodes)| {
                nodes
                    .iter()
                    .filter_map(|n| runtime.nodes.get(n))
                    .map(|n| n.address.clone())
                    .collect()
            })
            .unwrap_or_default();
        let headers = App::forwarded_headers(request);
        let path = request.path.clone();
        let parts = nodes
            .into_iter()
            .map(|node| {
                let mut part = NodeRequest::new(Method::GET, path.clone());
                part.headers = headers.clone();
                (node, part)
            })
            .collect();
        let answers = self.fanout.scatter(parts, runtime.limits).await;
        let mut bodies = Vec::new();
        for (node, answer) in answers {
            match answer {
                Ok(response) if response.is_success() => bodies.push(response),
                Ok(response) if (400..500).contains(&response.status) => {
                    return Err(super::node_error(&response))
                }
                Ok(response) => {
                    return Err(ApiError::shard_unavailable(format!(
                        "Node `{}` answered with status {}.",
                        node.id, response.status
                    )))
                }
                Err(error) => return Err(ApiError::shard_unavailable(error.to_string())),
            }
        }
        let slices: Vec<&[u8]> = bodies.iter().map(|b| b.body.as_ref()).collect();
        let merged = match index {
            Some(_) => miroir_merger::merge_index_stats(&slices),
            None => miroir_merger::merge_global_stats(&slices),
        }
        .map_err(|e| ApiError::internal(format!("Miroir could not merge the node answers: {e}")))?;
        let copies = runtime.replication_factor.max(1) as u64;
        if copies == 1 {
            return Ok(Response::json_bytes(200, merged));
        }
        let mut value: Value =
            serde_json::from_slice(&merged).map_err(|e| ApiError::internal(e.to_string()))?;
        match index {
            Some(_) => {
                if let Some(stats) = value.as_object_mut() {
                    divide_index_stats(stats, copies);
                }
            }
            None => {
                if let Some(Value::Object(indexes)) = value.get_mut("indexes") {
                    for stats in indexes.values_mut().filter_map(Value::as_object_mut) {
                        divide_index_stats(stats, copies);
                    }
                }
            }
        }
        Ok(Response::json(200, &value))
    }

    /// `POST /indexes/{uid}/facet-search`.
    pub(crate) async fn facet_search(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: &str,
    ) -> Result<Response, ApiError> {
        let meta = self.index_meta(index).await?;
        let (Some(meta), Ok(Value::Object(body))) =
            (meta, serde_json::from_slice::<Value>(&request.body))
        else {
            return self.ask_one_node(runtime, request).await;
        };
        let Some(facet) = body
            .get("facetName")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return self.ask_one_node(runtime, request).await;
        };
        let bodies = self
            .scatter_covering(runtime, request, meta.shards, |restriction| {
                let mut node = body.clone();
                if let Some(filter) = combine_json_filter(node.remove("filter"), restriction) {
                    node.insert("filter".to_owned(), filter);
                }
                let bytes = serde_json::to_vec(&Value::Object(node))
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                Ok(NodeRequest::json(Method::POST, request.path.clone(), bytes))
            })
            .await?;
        let settings = self.merge_settings(runtime, index).await?;
        let order = settings.facets.order_of(&facet);
        let facet_request = FacetSearchRequest {
            order,
            max_values_per_facet: settings.facets.max_values_per_facet,
        };
        let slices: Vec<&[u8]> = bodies.iter().map(|b| b.body.as_ref()).collect();
        let merged = miroir_merger::merge_facet_search(&slices, &facet_request).map_err(|e| {
            ApiError::internal(format!("Miroir could not merge the node answers: {e}"))
        })?;
        Ok(Response::json_bytes(200, merged))
    }

    /// `DELETE /indexes/{uid}/documents/{id}` and `POST .../documents/delete-batch`:
    /// each id goes to its shard's owners.
    pub(crate) async fn delete_documents_by_id(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: &str,
        single: Option<&str>,
    ) -> Result<Response, ApiError> {
        let ids: Vec<Value> = match single {
            Some(id) => vec![Value::String(id.to_owned())],
            None => match serde_json::from_slice::<Value>(&request.body) {
                Ok(Value::Array(ids)) => ids,
                _ => return self.ask_one_node(runtime, request).await,
            },
        };
        let lock = self.index_lock(index);
        let _serialized = lock.lock().await;
        let enqueued_at = time::OffsetDateTime::now_utc();
        let meta = self.index_meta(index).await?;
        let Some(meta) = meta else {
            return self.ask_one_node(runtime, request).await;
        };
        // Group ids per node; an id that is not a valid document id matches no
        // document and goes to no node, as it would delete nothing on Meilisearch.
        let mut per_node: std::collections::BTreeMap<Arc<str>, Vec<Value>> = Default::default();
        let mut plan: std::collections::BTreeMap<u32, ShardPlan> = Default::default();
        for id in &ids {
            let Ok(canonical) = canonical_document_id(id) else {
                continue;
            };
            let shard = miroir_conf::routing::shard_for_pk(&canonical, meta.shards);
            let shard_plan = plan
                .entry(shard)
                .or_insert_with(|| runtime.shard_plan(shard));
            for owners in shard_plan.groups.values() {
                for node in owners {
                    per_node.entry(node.clone()).or_default().push(id.clone());
                }
            }
        }
        let headers = App::forwarded_headers(request);
        let path = format!("/indexes/{}/documents/delete-batch", urlencode(index));
        let parts: Vec<(NodeAddress, NodeRequest)> = per_node
            .iter()
            .filter_map(|(node, ids)| {
                let address = runtime.nodes.get(node)?.address.clone();
                let mut part = NodeRequest::json(
                    Method::POST,
                    path.clone(),
                    Value::Array(ids.clone()).to_string(),
                );
                part.headers.extend(headers.iter().cloned());
                Some((address, part))
            })
            .collect();
        let (accepted, node_tasks, _) = self.send_parts(runtime, parts).await?;
        if let QuorumVerdict::NoQuorum { shards } =
            judge(&plan, &accepted, runtime.replication_factor)
        {
            return Err(ApiError::no_quorum(format!(
                "The deletion reached too few replicas for {} shard(s); nothing was acknowledged. Retry when the nodes are back.",
                shards.len()
            )));
        }
        let missing: BTreeSet<&str> = plan
            .values()
            .flat_map(|p| p.groups.values().flatten())
            .filter(|n| !accepted.contains(*n))
            .map(|n| &**n)
            .collect();
        let details = json!({"providedIds": ids.len(), "deletedDocuments": null});
        let custom_metadata = request.query_param("customMetadata");
        let record = self
            .register_task(
                Some(index.to_owned()),
                TaskKind::DocumentDeletion,
                Some(details),
                node_tasks,
                custom_metadata,
                enqueued_at,
            )
            .await?;
        let mut response = super::tasks::accepted(&record);
        if !missing.is_empty() {
            response = response.with_header(
                "X-Miroir-Degraded",
                missing.into_iter().collect::<Vec<_>>().join(","),
            );
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrictions_join_client_filters() {
        assert_eq!(
            combine_string_filter(Some("a = 1"), Some("s IN [1]")),
            Some("(a = 1) AND s IN [1]".to_owned())
        );
        assert_eq!(combine_string_filter(None, None), None);
        assert_eq!(
            combine_json_filter(Some(json!("a = 1")), Some("s IN [1]")),
            Some(json!(["a = 1", "s IN [1]"]))
        );
        assert_eq!(
            combine_json_filter(Some(json!(["a = 1"])), None),
            Some(json!(["a = 1"]))
        );
    }

    #[test]
    fn stats_counts_are_divided_by_copies() {
        let mut stats = json!({"numberOfDocuments": 10, "isIndexing": false, "fieldDistribution": {"id": 10, "title": 6}})
            .as_object()
            .cloned()
            .unwrap();
        divide_index_stats(&mut stats, 2);
        assert_eq!(
            Value::Object(stats),
            json!({"numberOfDocuments": 5, "isIndexing": false, "fieldDistribution": {"id": 5, "title": 3}})
        );
    }
}
