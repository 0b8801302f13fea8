//! Fan-out reads besides search: document listings, stats, facet search; and the
//! routed deletions by document id.

use std::collections::BTreeSet;
use std::sync::Arc;

use http::Method;
use miroir_merger::FacetSearchRequest;
use miroir_store::TaskKind;
use serde_json::{json, Map, Value};

use super::hedge::Replicas;
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

/// Meilisearch's validation of the stats query (`showInternalDatabaseSizes`,
/// `sizeFormat`), so Miroir rejects what a node would. Miroir always answers with raw
/// sizes and without internal database sizes (see docs/status.md).
fn check_stats_params(request: &ClientRequest) -> Result<(), ApiError> {
    request.reject_unknown_params(&["showInternalDatabaseSizes", "sizeFormat"])?;
    for (name, value) in request.query_pairs() {
        match name.as_str() {
            "sizeFormat" if value != "human" && value != "raw" => {
                return Err(ApiError::invalid(
                    "invalid_stats_size_format",
                    format!("Unknown value `{value}` for parameter `sizeFormat`: expected one of `human`, `raw`"),
                ))
            }
            "showInternalDatabaseSizes" if value != "true" && value != "false" => {
                return Err(ApiError::invalid(
                    "invalid_stats_show_internal_database_sizes",
                    format!("Invalid value in parameter `showInternalDatabaseSizes`: could not parse `{value}` as a boolean, expected either `true` or `false`"),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// A byte count as Meilisearch prints it with `sizeFormat=human`: binary units, at most
/// two decimals, trailing zeros dropped (`4 KiB`, `1.99 KiB`, `640 B`).
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let printed = format!("{value:.2}");
    let printed = printed.trim_end_matches('0').trim_end_matches('.');
    format!("{printed} {}", UNITS[unit])
}

/// Replace a size in bytes by its human form.
fn humanize(size: Option<&mut Value>) {
    if let Some(size) = size {
        if let Some(bytes) = size.as_u64() {
            *size = Value::String(human_size(bytes));
        }
    }
}

/// `internalDatabaseSizes` of an index: each database's size summed over the nodes'
/// answers and divided by the copies, placed after `isIndexing` as Meilisearch places it.
fn insert_internal_sizes(stats: &mut Map<String, Value>, per_node: &[&Value], copies: u64) {
    let mut sizes: Map<String, Value> = Map::new();
    for node in per_node {
        for (name, size) in node
            .get("internalDatabaseSizes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let sum =
                sizes.get(name).and_then(Value::as_u64).unwrap_or(0) + size.as_u64().unwrap_or(0);
            sizes.insert(name.clone(), Value::from(sum));
        }
    }
    for size in sizes.values_mut() {
        *size = Value::from(size.as_u64().unwrap_or(0) / copies.max(1));
    }
    let rest = std::mem::take(stats);
    for (key, value) in rest {
        let after = key == "isIndexing";
        stats.insert(key, value);
        if after {
            stats.insert(
                "internalDatabaseSizes".to_owned(),
                Value::Object(std::mem::take(&mut sizes)),
            );
        }
    }
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

/// One `attribute:asc|desc` rule of a document listing's `sort`; `None` for a geo
/// rule. A malformed rule is read as an attribute: the nodes refuse it with
/// Meilisearch's own error before anything is merged.
fn parse_document_sort(rule: &str) -> Option<miroir_merger::DocumentSort> {
    if rule.starts_with("_geoPoint(") {
        return None;
    }
    let (field, asc) = match rule.rsplit_once(':') {
        Some((field, "desc")) => (field, false),
        Some((field, _)) => (field, true),
        None => (rule, true),
    };
    Some(miroir_merger::DocumentSort {
        field: field.to_owned(),
        asc,
    })
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
        // A sorted listing is merged in sort order; sort attributes the client's
        // `fields` leaves out are asked for and removed again.
        let (sort_rules, fields): (Option<Vec<String>>, Option<Vec<String>>) = match &body {
            Some(body) => (
                body.get("sort").and_then(Value::as_array).map(|rules| {
                    rules
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                }),
                body.get("fields").and_then(Value::as_array).map(|fields| {
                    fields
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                }),
            ),
            None => {
                let list = |name: &str| {
                    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| {
                        v.split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect()
                    })
                };
                (list("sort"), list("fields"))
            }
        };
        let sort = match sort_rules.filter(|rules| !rules.is_empty()) {
            None => None,
            Some(rules) => Some(
                rules
                    .iter()
                    .map(|rule| parse_document_sort(rule))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        ApiError::unsupported_route(
                            "sorting documents by `_geoPoint` is not served over a sharded fleet yet",
                        )
                    })?,
            ),
        };
        let added: Vec<String> = match (&sort, &fields) {
            (Some(sort), Some(fields)) if !fields.iter().any(|f| f == "*") => sort
                .iter()
                .map(|rule| rule.field.clone())
                .filter(|field| !fields.contains(field))
                .collect(),
            _ => Vec::new(),
        };
        let bodies = self
            .scatter_covering(
                runtime,
                request,
                meta.shards,
                Replicas::Fixed,
                |restriction| {
                    Ok(match &body {
                        Some(body) => {
                            let mut node = body.clone();
                            node.insert("offset".to_owned(), json!(0));
                            node.insert("limit".to_owned(), json!(window));
                            if let Some(Value::Array(fields)) = node.get_mut("fields") {
                                fields.extend(added.iter().cloned().map(Value::String));
                            }
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
                                .map(|(k, mut v)| {
                                    if k == "fields" {
                                        for field in &added {
                                            v.push(',');
                                            v.push_str(field);
                                        }
                                    }
                                    (k, v)
                                })
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
                },
            )
            .await?;
        let merged = match &sort {
            Some(sort) => {
                miroir_merger::merge_documents_sorted(&bodies.slices(), offset, limit, sort, &added)
            }
            None => miroir_merger::merge_documents(&bodies.slices(), offset, limit),
        }
        .map_err(|e| ApiError::internal(format!("Miroir could not merge the node answers: {e}")))?;
        Ok(bodies.answer(merged))
    }

    /// `GET /indexes/{uid}/stats` and `GET /stats`: one group's nodes, counts divided
    /// by the replication factor (each document is on RF of them). A group with a node
    /// known to be down is passed over when another group has none.
    pub(crate) async fn stats(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: Option<&str>,
    ) -> Result<Response, ApiError> {
        check_stats_params(request)?;
        // Every node of one group answers: the first group none of whose nodes is
        // known to be down, else the first group.
        let down = self.health.down_nodes();
        let (_, members) = runtime
            .groups
            .iter()
            .find(|(_, nodes)| nodes.iter().all(|n| !down.contains(n)))
            .or(runtime.groups.first())
            .ok_or_else(|| ApiError::shard_unavailable("No replica group is configured."))?;
        let nodes: Vec<NodeAddress> = members
            .iter()
            .filter_map(|n| runtime.nodes.get(n))
            .map(|n| n.address.clone())
            .collect();
        let headers = App::forwarded_headers(request);
        let human = request.query_param("sizeFormat").as_deref() == Some("human");
        let internal = request.query_param("showInternalDatabaseSizes").as_deref() == Some("true");
        // Nodes answer in bytes; Miroir sums, then prints sizes the client's way.
        let path = if internal {
            format!("{}?showInternalDatabaseSizes=true", request.path)
        } else {
            request.path.clone()
        };
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
        if copies == 1 && !human && !internal {
            return Ok(Response::json_bytes(200, merged));
        }
        let mut value: Value =
            serde_json::from_slice(&merged).map_err(|e| ApiError::internal(e.to_string()))?;
        let node_stats: Vec<Value> = bodies
            .iter()
            .filter_map(|b| serde_json::from_slice(&b.body).ok())
            .collect();
        let finish = |stats: &mut Map<String, Value>, per_node: Vec<&Value>| {
            if internal {
                insert_internal_sizes(stats, &per_node, copies);
            }
            divide_index_stats(stats, copies);
            if human {
                for field in ["rawDocumentDbSize", "avgDocumentSize"] {
                    humanize(stats.get_mut(field));
                }
                if let Some(Value::Object(sizes)) = stats.get_mut("internalDatabaseSizes") {
                    sizes.values_mut().for_each(|size| humanize(Some(size)));
                }
            }
        };
        match index {
            Some(_) => {
                if let Some(stats) = value.as_object_mut() {
                    finish(stats, node_stats.iter().collect());
                }
            }
            None => {
                if let Some(Value::Object(indexes)) = value.get_mut("indexes") {
                    for (uid, stats) in indexes.iter_mut() {
                        let per_node = node_stats
                            .iter()
                            .filter_map(|n| n.get("indexes").and_then(|i| i.get(uid)))
                            .collect();
                        if let Some(stats) = stats.as_object_mut() {
                            finish(stats, per_node);
                        }
                    }
                }
                if human {
                    for field in ["databaseSize", "usedDatabaseSize"] {
                        humanize(value.get_mut(field));
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
            .scatter_covering(
                runtime,
                request,
                meta.shards,
                Replicas::Fastest,
                |restriction| {
                    let mut node = body.clone();
                    if let Some(filter) = combine_json_filter(node.remove("filter"), restriction) {
                        node.insert("filter".to_owned(), filter);
                    }
                    let bytes = serde_json::to_vec(&Value::Object(node))
                        .map_err(|e| ApiError::internal(e.to_string()))?;
                    Ok(NodeRequest::json(Method::POST, request.path.clone(), bytes))
                },
            )
            .await?;
        let settings = self.merge_settings(runtime, index).await?;
        let order = settings.facets.order_of(&facet);
        let facet_request = FacetSearchRequest {
            order,
            max_values_per_facet: settings.facets.max_values_per_facet,
        };
        let merged =
            miroir_merger::merge_facet_search(&bodies.slices(), &facet_request).map_err(|e| {
                ApiError::internal(format!("Miroir could not merge the node answers: {e}"))
            })?;
        Ok(bodies.answer(merged))
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
        request.reject_unknown_params(&["customMetadata"])?;
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
    fn human_sizes_are_printed_like_meilisearch() {
        assert_eq!(human_size(4096), "4 KiB");
        assert_eq!(human_size(2040), "1.99 KiB");
        assert_eq!(human_size(258_048), "252 KiB");
        assert_eq!(human_size(640), "640 B");
        assert_eq!(human_size(3 << 20), "3 MiB");
    }

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
