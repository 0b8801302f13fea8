//! Broadcast writes: the same request to every node, one Miroir task for all of them.
//!
//! Index lifecycle, settings, delete-all, delete-by-filter, document edition, swaps,
//! keys, dumps and snapshots. Settings writes keep `_miroir_shard` filterable on every
//! node whatever the client sends.

use http::Method;
use miroir_store::{IndexMeta, TaskKind};
use serde_json::{json, Value};

use super::writes::urlencode;
use super::App;
use crate::error::ApiError;
use crate::fanout::{NodeAddress, NodeRequest};
use crate::http::{ClientRequest, Response};
use crate::route::Route;
use crate::runtime::Runtime;
use crate::strip::{is_reserved, SHARD_FIELD};

/// Add `_miroir_shard` to a client's filterable attributes list (and drop any
/// `_miroir_*` entry the client wrote).
pub(crate) fn with_shard_filterable(list: &Value) -> Value {
    let mut entries: Vec<Value> = match list {
        Value::Array(entries) => entries
            .iter()
            .filter(|entry| !entry.as_str().is_some_and(is_reserved))
            .cloned()
            .collect(),
        // `null` resets the list: Miroir's attribute stays.
        Value::Null => Vec::new(),
        // Anything else is invalid: let the node reject it exactly as Meilisearch does.
        other => return other.clone(),
    };
    entries.push(Value::String(SHARD_FIELD.to_owned()));
    Value::Array(entries)
}

/// Rewrite a settings write body so the node keeps `_miroir_shard` filterable.
/// Bodies that are not JSON are passed unchanged for the node to reject.
pub(crate) fn rewrite_settings_body(sub: Option<&str>, body: &[u8]) -> Vec<u8> {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    match sub {
        None => {
            if let Some(object) = value.as_object_mut() {
                if let Some(list) = object.get("filterableAttributes") {
                    let rewritten = with_shard_filterable(list);
                    object.insert("filterableAttributes".to_owned(), rewritten);
                }
            }
        }
        Some("filterable-attributes") => value = with_shard_filterable(&value),
        Some(_) => return body.to_vec(),
    }
    serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec())
}

/// The task type Meilisearch reports for a broadcast route.
fn task_kind(route: &Route) -> Option<TaskKind> {
    Some(match route {
        Route::CreateIndex => TaskKind::IndexCreation,
        Route::UpdateIndex { .. } => TaskKind::IndexUpdate,
        Route::DeleteIndex { .. } => TaskKind::IndexDeletion,
        Route::SwapIndexes => TaskKind::IndexSwap,
        Route::Settings { .. } => TaskKind::SettingsUpdate,
        Route::DeleteDocumentsByFilter { .. } | Route::DeleteAllDocuments { .. } => {
            TaskKind::DocumentDeletion
        }
        Route::EditDocuments { .. } => TaskKind::DocumentEdition,
        Route::CreateDump => TaskKind::DumpCreation,
        Route::CreateSnapshot => TaskKind::SnapshotCreation,
        Route::CompactIndex { .. } => TaskKind::IndexCompaction,
        _ => return None,
    })
}

impl App {
    /// Send the client's request, unchanged but for `body`, to every node.
    fn broadcast_parts(
        runtime: &Runtime,
        request: &ClientRequest,
        body: Vec<u8>,
    ) -> Vec<(NodeAddress, NodeRequest)> {
        let path = request.path_and_query();
        let mut headers = App::forwarded_headers(request);
        if let Some(content_type) = request.header("content-type") {
            headers.push(("Content-Type".to_owned(), content_type.to_owned()));
        }
        runtime
            .all_nodes()
            .map(|node| {
                let mut part = NodeRequest::new(request.method.clone(), path.clone());
                part.headers = headers.clone();
                part.body = body.clone().into();
                (node.clone(), part)
            })
            .collect()
    }

    /// A broadcast write (index lifecycle, settings, bulk deletions, dumps...).
    pub(crate) async fn broadcast_write(
        &self,
        runtime: &Runtime,
        route: &Route,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let Some(kind) = task_kind(route) else {
            return Err(ApiError::internal(format!(
                "{route:?} is not a task-producing broadcast"
            )));
        };
        let index = route.index().map(str::to_owned);
        let lock = index.as_deref().map(|i| self.index_lock(i));
        let _serialized = match &lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };

        let enqueued_at = time::OffsetDateTime::now_utc();
        let body = match route {
            Route::Settings { sub, .. } if request.method != Method::DELETE => {
                rewrite_settings_body(sub.as_deref(), &request.body)
            }
            _ => request.body.to_vec(),
        };
        let known = match &index {
            Some(uid) => self.index_meta(uid).await?,
            None => None,
        };
        if let Some(uid) = &index {
            self.settings_cache_forget(uid);
        }
        let parts = Self::broadcast_parts(runtime, request, body);
        let (accepted, mut node_tasks, first) = self.send_parts(runtime, parts).await?;
        let Some(first) = first else {
            return Err(ApiError::no_quorum(
                "No node accepted the operation; nothing was changed.",
            ));
        };
        let majority = runtime.groups.iter().any(|(_, nodes)| {
            let acks = nodes.iter().filter(|n| accepted.contains(*n)).count();
            !nodes.is_empty() && acks > nodes.len() / 2
        });
        if !majority {
            if let (Route::CreateIndex, None) = (route, &known) {
                if let Some(uid) = created_uid_of(&request.body) {
                    let nodes: Vec<String> = accepted.iter().map(|n| n.to_string()).collect();
                    self.undo_creation(runtime, &uid, &nodes).await;
                    return Err(ApiError::no_quorum(
                        "Fewer than a majority of the nodes of every replica group accepted the index creation; the nodes that accepted it delete the index again. Retry when the nodes are back.",
                    ));
                }
            }
            return Err(ApiError::no_quorum(
                "Fewer than a majority of the nodes of every replica group accepted the operation. Retry when the nodes are back.",
            ));
        }

        // Follow-up node tasks that keep Miroir's invariants: a new index gets
        // `_miroir_shard` filterable, a settings reset keeps it.
        let restore_filterable = match route {
            Route::CreateIndex => known.is_none(),
            Route::Settings { sub, method, .. } => {
                *method == Method::DELETE
                    && matches!(sub.as_deref(), None | Some("filterable-attributes"))
            }
            _ => false,
        };
        let created_uid = match route {
            Route::CreateIndex => created_uid_of(&request.body),
            _ => None,
        };
        if restore_filterable {
            if let Some(uid) = created_uid.as_deref().or(index.as_deref()) {
                let path = format!("/indexes/{}/settings/filterable-attributes", urlencode(uid));
                let body = json!([SHARD_FIELD]).to_string();
                let parts = runtime
                    .all_nodes()
                    .filter(|node| accepted.contains(&node.id))
                    .map(|node| {
                        let mut part = NodeRequest::json(Method::PUT, path.clone(), body.clone());
                        if let Some(auth) = runtime.node_authorization() {
                            part = part.header("Authorization", auth);
                        }
                        (node.clone(), part)
                    })
                    .collect();
                let (_, follow_up, _) = self.send_parts(runtime, parts).await?;
                node_tasks.extend(follow_up);
            }
        }

        // Registry of indexes: creation fixes the shard count, deletion forgets it.
        match route {
            Route::CreateIndex if known.is_none() => {
                if let Some(uid) = created_uid.clone() {
                    let primary_key = serde_json::from_slice::<Value>(&request.body)
                        .ok()
                        .and_then(|b| {
                            b.get("primaryKey")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                        });
                    let now = time::OffsetDateTime::now_utc();
                    let meta = IndexMeta {
                        uid,
                        primary_key,
                        shards: runtime.default_shards,
                        created_at: now,
                        updated_at: now,
                    };
                    self.store()
                        .await?
                        .put_index(&meta)
                        .await
                        .map_err(super::tasks::store_error)?;
                }
            }
            Route::DeleteIndex { index } => {
                self.store()
                    .await?
                    .delete_index(index)
                    .await
                    .map_err(super::tasks::store_error)?;
            }
            Route::UpdateIndex { index } => {
                let renamed = serde_json::from_slice::<Value>(&request.body)
                    .ok()
                    .and_then(|b| b.get("uid").and_then(Value::as_str).map(str::to_owned));
                if let Some(new_uid) = renamed.filter(|new_uid| new_uid != index) {
                    self.rename_indexes(&[(index.clone(), new_uid, true)])
                        .await?;
                }
            }
            Route::SwapIndexes => {
                let swaps = swaps_of(&request.body);
                self.rename_indexes(&swaps).await?;
            }
            _ => {}
        }

        let summary: Value = serde_json::from_slice(&first.body).unwrap_or(Value::Null);
        let index_uid = summary
            .get("indexUid")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or(created_uid)
            .or(index);
        let custom_metadata = request.query_param("customMetadata");
        // A compaction's sizes are unknown until it is done; Meilisearch shows `{}`.
        let details = (kind == TaskKind::IndexCompaction).then(|| json!({}));
        let record = self
            .register_task(
                index_uid,
                kind,
                details,
                node_tasks,
                custom_metadata,
                enqueued_at,
            )
            .await?;
        let mut response = super::tasks::accepted(&record);
        let missing: Vec<&str> = runtime
            .nodes
            .keys()
            .filter(|n| !accepted.contains(*n))
            .map(|n| &**n)
            .collect();
        if !missing.is_empty() {
            response = response.with_header("X-Miroir-Degraded", missing.join(","));
        }
        Ok(response)
    }
}

/// The `uid` of a `POST /indexes` body.
fn created_uid_of(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b.get("uid").and_then(Value::as_str).map(str::to_owned))
}

/// The swaps of a `POST /swap-indexes` body: `(first, second, rename)`.
fn swaps_of(body: &[u8]) -> Vec<(String, String, bool)> {
    let Ok(Value::Array(swaps)) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    swaps
        .iter()
        .filter_map(|swap| {
            let indexes = swap.get("indexes")?.as_array()?;
            let [a, b] = indexes.as_slice() else {
                return None;
            };
            let rename = swap.get("rename").and_then(Value::as_bool).unwrap_or(false);
            Some((a.as_str()?.to_owned(), b.as_str()?.to_owned(), rename))
        })
        .collect()
}

impl App {
    /// Roll back an index creation on the nodes that made it (`nodes`, by id): each
    /// gets `DELETE /indexes/{uid}`, queued after its creation task. Miroir forgets the
    /// index. Nodes that cannot be reached are logged; the index stays there until an
    /// operator deletes it.
    pub(crate) async fn undo_creation(&self, runtime: &Runtime, uid: &str, nodes: &[String]) {
        let path = format!("/indexes/{}", urlencode(uid));
        let parts: Vec<(NodeAddress, NodeRequest)> = runtime
            .all_nodes()
            .filter(|node| nodes.iter().any(|n| **n == *node.id))
            .map(|node| {
                let mut part = NodeRequest::new(Method::DELETE, path.clone());
                if let Some(auth) = runtime.node_authorization() {
                    part = part.header("Authorization", auth);
                }
                (node.clone(), part)
            })
            .collect();
        tracing::warn!(index = uid, nodes = ?nodes, "rolling back an index creation");
        for (node, answer) in self.fanout.scatter(parts, runtime.limits).await {
            match answer {
                Ok(response) if response.is_success() => {}
                Ok(response) => tracing::error!(
                    node = %node.id, index = uid, status = response.status,
                    "node refused to delete a rolled-back index"
                ),
                Err(error) => tracing::error!(
                    node = %node.id, index = uid, %error,
                    "node unreachable to delete a rolled-back index"
                ),
            }
        }
        match self.store().await {
            Ok(store) => {
                if let Err(error) = store.delete_index(uid).await {
                    tracing::error!(index = uid, %error, "cannot forget a rolled-back index");
                }
            }
            Err(error) => tracing::error!(index = uid, message = %error.message, "no task store"),
        }
    }

    /// Keep Miroir's index registry in step with renames and swaps the nodes accepted:
    /// `(a, b, true)` moves what Miroir knows of `a` (its shard count, primary key) to
    /// `b`; `(a, b, false)` exchanges the two. The merge settings of both are forgotten.
    async fn rename_indexes(&self, moves: &[(String, String, bool)]) -> Result<(), ApiError> {
        let store = self.store().await?;
        for (a, b, rename) in moves {
            let first = store
                .get_index(a)
                .await
                .map_err(super::tasks::store_error)?;
            let second = store
                .get_index(b)
                .await
                .map_err(super::tasks::store_error)?;
            let now = time::OffsetDateTime::now_utc();
            let moved = |meta: Option<IndexMeta>, uid: &str| {
                meta.map(|meta| IndexMeta {
                    uid: uid.to_owned(),
                    updated_at: now,
                    ..meta
                })
            };
            let (new_a, new_b) = if *rename {
                (None, moved(first, b))
            } else {
                (moved(second, a), moved(first, b))
            };
            for (uid, meta) in [(a, new_a), (b, new_b)] {
                match meta {
                    Some(meta) => store.put_index(&meta).await,
                    None => store.delete_index(uid).await.map(|_| ()),
                }
                .map_err(super::tasks::store_error)?;
                self.settings_cache_forget(uid);
            }
        }
        Ok(())
    }

    /// A broadcast that Meilisearch answers synchronously (API keys, experimental
    /// features): every node must accept it, and the first node's answer is the
    /// client's. A new API key gets its uid from Miroir when the client gave none, so
    /// that every node derives the same key from the same uid.
    pub(crate) async fn broadcast_sync(
        &self,
        runtime: &Runtime,
        route: &Route,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let mut body = request.body.to_vec();
        if matches!(route, Route::CreateKey) {
            if let Ok(Value::Object(mut key)) = serde_json::from_slice::<Value>(&body) {
                if !key.contains_key("uid") {
                    key.insert(
                        "uid".to_owned(),
                        Value::String(uuid::Uuid::new_v4().to_string()),
                    );
                    body = serde_json::to_vec(&Value::Object(key))
                        .map_err(|e| ApiError::internal(e.to_string()))?;
                }
            }
        }
        let parts = Self::broadcast_parts(runtime, request, body);
        let answers = self.fanout.scatter(parts, runtime.limits).await;
        if matches!(
            route,
            Route::CreateKey | Route::UpdateKey { .. } | Route::DeleteKey { .. }
        ) {
            // The nodes applied the change (keys are written synchronously): stop
            // trusting what was read before it.
            self.forget_keys();
        }
        let mut first: Option<crate::fanout::NodeResponse> = None;
        let mut failed: Vec<String> = Vec::new();
        for (node, answer) in answers {
            match answer {
                Ok(response) if response.is_success() => {
                    if first.is_none() {
                        first = Some(response);
                    }
                }
                Ok(response) if (400..500).contains(&response.status) && first.is_none() => {
                    // The same request is refused the same way by every node.
                    return Err(super::node_error(&response));
                }
                Ok(response) => failed.push(format!("{} (status {})", node.id, response.status)),
                Err(error) => failed.push(format!("{} ({error})", node.id)),
            }
        }
        match first {
            Some(response) if failed.is_empty() => {
                Ok(Response::json_bytes(response.status, response.body.clone()))
            }
            Some(response) => Ok(Response::json_bytes(response.status, response.body.clone())
                .with_header("X-Miroir-Degraded", failed.join(","))),
            None => Err(ApiError::no_quorum(format!(
                "No node applied the change: {}.",
                failed.join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filterable_attributes_keep_the_shard_field() {
        assert_eq!(
            with_shard_filterable(&json!(["genre"])),
            json!(["genre", "_miroir_shard"])
        );
        assert_eq!(
            with_shard_filterable(&json!(["_miroir_shard", "genre"])),
            json!(["genre", "_miroir_shard"])
        );
        assert_eq!(
            with_shard_filterable(&Value::Null),
            json!(["_miroir_shard"])
        );
        assert_eq!(with_shard_filterable(&json!("genre")), json!("genre"));
    }

    #[test]
    fn settings_bodies_are_rewritten_only_where_filterable_attributes_live() {
        let whole = rewrite_settings_body(
            None,
            br#"{"filterableAttributes":["a"],"sortableAttributes":["b"]}"#,
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&whole).unwrap(),
            json!({"filterableAttributes":["a","_miroir_shard"],"sortableAttributes":["b"]})
        );
        let sub = rewrite_settings_body(Some("filterable-attributes"), br#"["a"]"#);
        assert_eq!(
            serde_json::from_slice::<Value>(&sub).unwrap(),
            json!(["a", "_miroir_shard"])
        );
        assert_eq!(
            rewrite_settings_body(Some("stop-words"), br#"["a"]"#),
            br#"["a"]"#.to_vec()
        );
        assert_eq!(rewrite_settings_body(None, b"{oops"), b"{oops".to_vec());
    }
}
