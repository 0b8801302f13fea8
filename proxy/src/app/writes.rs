//! Routed writes: documents split by primary key → shard → owners, one request per
//! node, all in parallel, judged by quorum, reported as one Miroir task.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use miroir_store::{IndexMeta, NodeTask, TaskKind, TaskStatus};
use serde_json::{json, Value};

use super::App;
use crate::documents::{
    canonical_document_id, infer_primary_key, parse_documents, payload_format, primary_key_value,
    reserved_field, Document,
};
use crate::error::ApiError;
use crate::fanout::{NodeAddress, NodeRequest, NodeResponse};
use crate::http::{ClientRequest, Response};
use crate::quorum::{judge, QuorumVerdict, ShardPlan};
use crate::runtime::Runtime;
use crate::strip::SHARD_FIELD;

/// The documents one node receives in one write, and the shards they belong to.
#[derive(Debug, Default)]
struct NodeBatch {
    documents: Vec<Document>,
}

/// Per-node bodies of a routed write and the quorum plan that judges it.
#[derive(Debug, Default)]
pub(crate) struct WritePlan {
    per_node: BTreeMap<Arc<str>, NodeBatch>,
    shards: BTreeMap<u32, ShardPlan>,
}

impl Runtime {
    /// The quorum plan of one shard: its owners in every group.
    pub(crate) fn shard_plan(&self, shard: u32) -> ShardPlan {
        ShardPlan {
            groups: self
                .groups
                .iter()
                .map(|(group, _)| (group.clone(), self.owners(shard, group)))
                .collect(),
        }
    }
}

/// Split documents over their shards' owners, injecting `_miroir_shard` into each.
pub(crate) fn plan_documents(
    runtime: &Runtime,
    documents: Vec<(String, Document)>,
    shards: u32,
) -> WritePlan {
    let mut plan = WritePlan::default();
    for (id, mut document) in documents {
        let shard = miroir_conf::routing::shard_for_pk(&id, shards);
        document.insert(SHARD_FIELD.to_owned(), Value::from(shard));
        let shard_plan = plan
            .shards
            .entry(shard)
            .or_insert_with(|| runtime.shard_plan(shard));
        for owners in shard_plan.groups.values() {
            for node in owners {
                plan.per_node
                    .entry(node.clone())
                    .or_default()
                    .documents
                    .push(document.clone());
            }
        }
    }
    plan
}

fn ndjson(documents: &[Document]) -> Bytes {
    let mut body = Vec::new();
    for document in documents {
        // A map of JSON values always serializes.
        serde_json::to_writer(&mut body, document).expect("a JSON object always serializes");
        body.push(b'\n');
    }
    Bytes::from(body)
}

/// The node task uid in a node's answer to a write.
pub(crate) fn enqueued_task_uid(response: &NodeResponse) -> Option<u64> {
    // Writes answer 202; task cancelation and deletion answer 200 with the same shape.
    if response.status != 202 && response.status != 200 {
        return None;
    }
    serde_json::from_slice::<Value>(&response.body)
        .ok()?
        .get("taskUid")?
        .as_u64()
}

impl App {
    /// Send per-node requests and collect the nodes that enqueued their part. A node
    /// that refused with a Meilisearch error (the same for every node, since the
    /// request is the same) makes the whole write that error.
    pub(crate) async fn send_parts(
        &self,
        runtime: &Runtime,
        parts: Vec<(NodeAddress, NodeRequest)>,
    ) -> Result<(BTreeSet<Arc<str>>, Vec<NodeTask>, Option<NodeResponse>), ApiError> {
        let answers = self.fanout.scatter(parts, runtime.limits).await;
        let mut accepted = BTreeSet::new();
        let mut node_tasks = Vec::new();
        let mut first_accepted = None;
        for (node, answer) in answers {
            match answer {
                Ok(response) => match enqueued_task_uid(&response) {
                    Some(task_uid) => {
                        accepted.insert(node.id.clone());
                        node_tasks.push(NodeTask {
                            node: node.id.to_string(),
                            task_uid,
                            status: TaskStatus::Enqueued,
                            duration_nanos: None,
                        });
                        if first_accepted.is_none() {
                            first_accepted = Some(response);
                        }
                    }
                    None if (400..500).contains(&response.status) => {
                        return Err(crate::app::node_error(&response))
                    }
                    None => {
                        tracing::warn!(node = %node.id, status = response.status, "node refused a write")
                    }
                },
                Err(error) => {
                    tracing::warn!(node = %node.id, %error, "node unreachable for a write")
                }
            }
        }
        Ok((accepted, node_tasks, first_accepted))
    }

    /// `POST` / `PUT /indexes/{uid}/documents`.
    pub(crate) async fn add_documents(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: &str,
        replace: bool,
    ) -> Result<Response, ApiError> {
        let format = payload_format(
            request.header("content-type"),
            request.query_param("csvDelimiter").as_deref(),
        )?;
        let documents = parse_documents(format, &request.body)?;
        if let Some(field) = documents.iter().find_map(reserved_field) {
            return Err(ApiError::reserved_field(field));
        }
        let custom_metadata = request.query_param("customMetadata");
        let received = documents.len();
        let details = json!({"receivedDocuments": received, "indexedDocuments": null});
        // A task that fails before reaching the nodes indexed nothing.
        let failed_details = json!({"receivedDocuments": received, "indexedDocuments": 0});
        let kind = TaskKind::DocumentAdditionOrUpdate;

        let lock = self.index_lock(index);
        let _serialized = lock.lock().await;
        let enqueued_at = time::OffsetDateTime::now_utc();
        let meta = self.ensure_index(runtime, request, index).await?;

        let requested_key = request.query_param("primaryKey");
        let primary_key = match (&meta.primary_key, requested_key) {
            (Some(existing), Some(requested)) if *existing != requested => {
                let error = ApiError::invalid(
                    "index_primary_key_already_exists",
                    format!("Index already has a primary key: `{existing}`."),
                );
                let record = self
                    .register_failed_task(
                        Some(index.to_owned()),
                        kind,
                        Some(failed_details),
                        &error,
                        custom_metadata,
                    )
                    .await?;
                return Ok(super::tasks::accepted(&record));
            }
            (Some(existing), _) => existing.clone(),
            (None, Some(requested)) => requested,
            (None, None) => match infer_primary_key(documents.first()) {
                Ok(key) => key,
                Err(inference) => {
                    let record = self
                        .register_failed_task(
                            Some(index.to_owned()),
                            kind,
                            Some(failed_details),
                            &inference.to_api_error(),
                            custom_metadata,
                        )
                        .await?;
                    return Ok(super::tasks::accepted(&record));
                }
            },
        };

        let mut routed = Vec::with_capacity(documents.len());
        for document in documents {
            let id = primary_key_value(&document, &primary_key).and_then(canonical_document_id);
            match id {
                Ok(id) => routed.push((id, document)),
                Err(error) => {
                    let error = error.to_api_error(&primary_key, &document);
                    let record = self
                        .register_failed_task(
                            Some(index.to_owned()),
                            kind,
                            Some(failed_details),
                            &error,
                            custom_metadata,
                        )
                        .await?;
                    return Ok(super::tasks::accepted(&record));
                }
            }
        }

        // The first batch fixes the primary key: every node gets it, including nodes
        // that receive no document now, so every node describes the index alike.
        let mut key_tasks = Vec::new();
        if meta.primary_key.is_none() {
            let body = json!({ "primaryKey": primary_key }).to_string();
            let path = format!("/indexes/{}", urlencode(index));
            let parts: Vec<(NodeAddress, NodeRequest)> = runtime
                .all_nodes()
                .map(|node| {
                    let mut part = NodeRequest::json(Method::PATCH, path.clone(), body.clone());
                    if let Some(auth) = runtime.node_authorization() {
                        part = part.header("Authorization", auth);
                    }
                    (node.clone(), part)
                })
                .collect();
            key_tasks = self.send_parts(runtime, parts).await?.1;
        }

        let plan = plan_documents(runtime, routed, meta.shards);
        let method = if replace { Method::POST } else { Method::PUT };
        let mut query = format!("primaryKey={}", urlencode(&primary_key));
        if let Some(metadata) = &custom_metadata {
            query.push_str(&format!("&customMetadata={}", urlencode(metadata)));
        }
        let path = format!("/indexes/{}/documents?{query}", urlencode(index));
        let headers = App::forwarded_headers(request);
        let parts: Vec<(NodeAddress, NodeRequest)> = plan
            .per_node
            .iter()
            .filter_map(|(node, batch)| {
                let address = runtime.nodes.get(node)?.address.clone();
                let mut part = NodeRequest::new(method.clone(), path.clone());
                part.headers = headers.clone();
                part.headers
                    .push(("Content-Type".to_owned(), "application/x-ndjson".to_owned()));
                part.body = ndjson(&batch.documents);
                Some((address, part))
            })
            .collect();
        let (accepted, mut node_tasks, _) = self.send_parts(runtime, parts).await?;
        node_tasks.extend(key_tasks);
        let degraded = match judge(&plan.shards, &accepted, runtime.replication_factor) {
            QuorumVerdict::NoQuorum { shards } => {
                return Err(ApiError::no_quorum(format!(
                    "The write reached too few replicas for {} shard(s) (first: {}); nothing was acknowledged. Retry when the nodes are back.",
                    shards.len(),
                    shards[0]
                )))
            }
            QuorumVerdict::Degraded { missing } => Some(missing),
            QuorumVerdict::Complete => None,
        };
        if meta.primary_key.is_none() {
            self.set_index_primary_key(index, &primary_key).await?;
        }
        let record = self
            .register_task(
                Some(index.to_owned()),
                kind,
                Some(details),
                node_tasks,
                custom_metadata,
                enqueued_at,
            )
            .await?;
        let mut response = super::tasks::accepted(&record);
        if let Some(missing) = degraded {
            let list: Vec<&str> = missing.iter().map(|n| &**n).collect();
            response = response.with_header("X-Miroir-Degraded", list.join(","));
        }
        Ok(response)
    }

    /// Record the primary key chosen for an index (first routed write).
    async fn set_index_primary_key(&self, index: &str, primary_key: &str) -> Result<(), ApiError> {
        let Some(mut meta) = self.index_meta(index).await? else {
            return Ok(());
        };
        meta.primary_key = Some(primary_key.to_owned());
        meta.updated_at = time::OffsetDateTime::now_utc();
        self.store()
            .await?
            .put_index(&meta)
            .await
            .map_err(super::tasks::store_error)
    }

    /// Make sure an index exists on every node, creating it (with `_miroir_shard`
    /// filterable) when Miroir does not know it yet, exactly as Meilisearch creates an
    /// index on the first document addition.
    pub(crate) async fn ensure_index(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: &str,
    ) -> Result<IndexMeta, ApiError> {
        if let Some(meta) = self.index_meta(index).await? {
            return Ok(meta);
        }
        let headers = App::forwarded_headers(request);
        let create = json!({"uid": index}).to_string();
        let parts: Vec<(NodeAddress, NodeRequest)> = runtime
            .all_nodes()
            .map(|node| {
                let mut part = NodeRequest::json(Method::POST, "/indexes", create.clone());
                part.headers.extend(headers.iter().cloned());
                (node.clone(), part)
            })
            .collect();
        self.send_parts(runtime, parts).await?;
        self.hide_shard_field_settings(runtime, index).await?;
        let now = time::OffsetDateTime::now_utc();
        let meta = IndexMeta {
            uid: index.to_owned(),
            primary_key: None,
            shards: runtime.default_shards,
            created_at: now,
            updated_at: now,
        };
        self.store()
            .await?
            .put_index(&meta)
            .await
            .map_err(super::tasks::store_error)?;
        Ok(meta)
    }

    /// Make `_miroir_shard` filterable on every node of a new index (Miroir's own call,
    /// with the node key), so searches can be narrowed to a node's shards.
    pub(crate) async fn hide_shard_field_settings(
        &self,
        runtime: &Runtime,
        index: &str,
    ) -> Result<(), ApiError> {
        let body = json!([SHARD_FIELD]).to_string();
        let path = format!(
            "/indexes/{}/settings/filterable-attributes",
            urlencode(index)
        );
        let parts: Vec<(NodeAddress, NodeRequest)> = runtime
            .all_nodes()
            .map(|node| {
                let mut part = NodeRequest::json(Method::PUT, path.clone(), body.clone());
                if let Some(auth) = runtime.node_authorization() {
                    part = part.header("Authorization", auth);
                }
                (node.clone(), part)
            })
            .collect();
        self.send_parts(runtime, parts).await?;
        Ok(())
    }
}

/// Percent-encode a query or path component.
pub(crate) fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
