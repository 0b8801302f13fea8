//! The application: turns one client request into one answer.
//!
//! [`App::handle`] classifies the request (see [`crate::route`]) and dispatches it to
//! the handler of its serving mode. Handlers return a [`Response`] or ask the Pingora
//! shell to relay the request to one node; they never touch a Pingora session.

mod access;
mod batches;
mod broadcast;
mod federated;
mod hedge;
mod merge;
mod reads;
mod search;
mod similar;
mod sizes;
mod task_admin;
mod tasks;
mod writes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::Method;
use miroir_store::{Store, StoreConfig};
use serde_json::{json, Value};

use crate::error::{ApiError, ErrorType};
use crate::fanout::{FanOut, NodeAddress, NodeRequest};
use crate::http::{ClientRequest, Response};
use crate::route::Route;
use crate::runtime::{Avoid, Runtime};
use crate::strip::Relayed;

/// What to do with a request.
#[derive(Debug)]
pub enum Outcome {
    /// Write this response.
    Respond(Response),
    /// Let Pingora proxy the request to one node.
    Relay(Relay),
}

/// A request relayed to one node.
#[derive(Debug, Clone)]
pub struct Relay {
    /// The node that answers.
    pub node: NodeAddress,
    /// Whether (and how) the body must be cleaned of Miroir's fields.
    pub rewrite: Option<Relayed>,
}

/// Meilisearch's `payload_too_large` error for a body limit.
pub fn payload_too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        "payload_too_large",
        ErrorType::InvalidRequest,
        format!(
            "The provided payload reached the size limit. The maximum accepted payload size is {}.",
            human_bytes(limit)
        ),
    )
}

/// Format a byte count the way Meilisearch prints its payload limit: binary units
/// when the count is a multiple of 1024, decimal units otherwise.
pub fn human_bytes(bytes: usize) -> String {
    let (base, units): (f64, [&str; 6]) = if bytes % 1024 == 0 {
        (1024.0, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"])
    } else {
        (1000.0, ["B", "KB", "MB", "GB", "TB", "PB"])
    };
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= base && unit < units.len() - 1 {
        value /= base;
        unit += 1;
    }
    // `f64`'s Display prints the shortest exact form: `100`, `1.536`.
    format!("{value} {}", units[unit])
}

/// Why `POST /tasks/compact` is refused. On a node it runs synchronously and leaves the
/// node refusing every new task until it is restarted; broadcast, it would stop writes on
/// the whole fleet at once and need every node restarted together.
const COMPACT_TASKS_REFUSAL: &str = "compacting the task queue blocks a node's task queue until the node is restarted, so Miroir does not broadcast it to the whole fleet. Compact each node's own queue directly (`POST /tasks/compact` on the node, with its `taskQueueCompactionRoute` experimental feature on) and restart that node, one node at a time";

/// Why `GET /tasks/{uid}/documents` is refused. A node keeps a task's payload only until
/// it processed the task; a Miroir task's documents are split by shard over the nodes,
/// re-encoded with `_miroir_shard`, and processed at different times, so Miroir cannot
/// give the payload back as the client sent it (same documents, order and encoding).
const TASK_DOCUMENTS_REFUSAL: &str = "the documents of a Miroir task are split by shard across the nodes and re-encoded there, and each node drops its part as soon as it processed it, so Miroir cannot return the payload as it was sent. Keep a copy of the payload on the client side if you need it";

/// How long the merge settings read from a node are trusted.
const MERGE_SETTINGS_TTL: Duration = Duration::from_secs(5);

/// The application state shared by every request.
pub struct App {
    runtime: ArcSwap<Runtime>,
    fanout: FanOut,
    store_config: StoreConfig,
    /// Opened on first use, inside the server's runtime: the Redis client's connection
    /// task must live on the runtime that serves requests.
    store: tokio::sync::OnceCell<Arc<dyn Store>>,
    /// One lock per index, held while a write is enqueued on the nodes, so that every
    /// replica receives the writes of an index in the same order.
    index_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Per-index settings the merge needs, read from a node once and forgotten on every
    /// settings write through Miroir.
    /// Entries expire after [`MERGE_SETTINGS_TTL`]: a settings write is applied by the
    /// nodes after Miroir forgot the entry, so a search in between could cache the old
    /// values; the expiry bounds how long that lasts.
    merge_settings: Mutex<HashMap<String, (std::time::Instant, merge::MergeSettings)>>,
    /// Nodes recently seen failing, avoided by reads.
    health: crate::health::NodeHealth,
    /// Miroir's Prometheus metrics.
    metrics: crate::metrics::Metrics,
    /// API keys read from nodes to authenticate the routes Miroir answers itself.
    keys: access::KeyCache,
}

impl App {
    /// Build the application around a first runtime and the task store's location.
    pub fn new(runtime: Runtime, store_config: StoreConfig) -> Self {
        let health = crate::health::NodeHealth::default();
        let metrics = crate::metrics::Metrics::new(&health);
        App {
            runtime: ArcSwap::from_pointee(runtime),
            fanout: FanOut::new(),
            store_config,
            store: tokio::sync::OnceCell::new(),
            index_locks: Mutex::new(HashMap::new()),
            merge_settings: Mutex::new(HashMap::new()),
            health,
            metrics,
            keys: access::KeyCache::default(),
        }
    }

    /// The task store, opened on first use.
    pub(crate) async fn store(&self) -> Result<&dyn Store, ApiError> {
        let store = self
            .store
            .get_or_try_init(|| miroir_store::open(&self.store_config))
            .await
            .map_err(tasks::store_error)?;
        Ok(store.as_ref())
    }

    /// What Miroir knows about an index (its shard count and primary key), if it
    /// knows the index.
    pub(crate) async fn index_meta(
        &self,
        index: &str,
    ) -> Result<Option<miroir_store::IndexMeta>, ApiError> {
        self.store()
            .await?
            .get_index(index)
            .await
            .map_err(tasks::store_error)
    }

    /// The write lock of one index.
    pub(crate) fn index_lock(&self, index: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .index_locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(index.to_owned()).or_default().clone()
    }

    fn settings_cache_get(&self, index: &str) -> Option<merge::MergeSettings> {
        self.merge_settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(index)
            .filter(|(read_at, _)| read_at.elapsed() < MERGE_SETTINGS_TTL)
            .map(|(_, settings)| settings.clone())
    }

    fn settings_cache_put(&self, index: &str, settings: merge::MergeSettings) {
        self.merge_settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(index.to_owned(), (std::time::Instant::now(), settings));
    }

    /// Forget the cached merge settings of an index (its settings changed).
    pub(crate) fn settings_cache_forget(&self, index: &str) {
        self.merge_settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(index);
    }

    /// Swap in a new runtime (configuration reload). Requests already running keep the
    /// snapshot they started with.
    pub fn swap_runtime(&self, runtime: Runtime) {
        self.runtime.store(Arc::new(runtime));
    }

    /// What a read starting now avoids and prefers: nodes known to be down or
    /// unhealthy, and the nodes' read costs.
    pub(crate) fn avoid(&self) -> Avoid {
        Avoid::new(self.health.down_nodes()).with_costs(self.health.costs())
    }

    /// Miroir's Prometheus metrics.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// What the proxy knows of the nodes' health.
    pub fn health(&self) -> &crate::health::NodeHealth {
        &self.health
    }

    /// The current runtime snapshot.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.runtime.load_full()
    }

    /// Largest accepted request body.
    pub fn body_limit(&self) -> usize {
        self.runtime.load().max_body_bytes
    }

    /// How long to wait for a connection to a node.
    pub fn connect_timeout(&self) -> Duration {
        self.runtime.load().limits.connect
    }

    /// How long a node may take to answer.
    pub fn node_timeout(&self) -> Duration {
        self.runtime.load().limits.per_node
    }

    /// Answer one request, classified by the caller (`route::classify`).
    pub async fn handle(&self, route: Route, request: ClientRequest) -> Outcome {
        let runtime = self.runtime.load_full();
        match self.dispatch(&runtime, route, request).await {
            Ok(outcome) => outcome,
            Err(error) => Outcome::Respond(Response::from(error)),
        }
    }

    async fn dispatch(
        &self,
        runtime: &Runtime,
        route: Route,
        request: ClientRequest,
    ) -> Result<Outcome, ApiError> {
        let respond = |response: Response| Ok(Outcome::Respond(response));
        match route {
            Route::Health => respond(Response::json(200, &json!({"status": "available"}))),
            Route::Version => respond(self.version(runtime, &request).await?),
            Route::NotFound => respond(Response {
                status: 404,
                headers: Vec::new(),
                body: Bytes::new(),
            }),
            Route::MethodNotAllowed => respond(Response {
                status: 405,
                headers: Vec::new(),
                body: Bytes::new(),
            }),
            Route::Unsupported { reason } => Err(ApiError::unsupported_route(reason)),
            Route::GetTask { uid } => respond(self.get_task(runtime, &request, &uid).await?),
            Route::ListTasks => respond(self.list_tasks(runtime, &request).await?),
            Route::CancelTasks => respond(self.cancel_tasks(runtime, &request).await?),
            Route::DeleteTasks => respond(self.delete_tasks(runtime, &request).await?),
            Route::ListBatches => respond(self.list_batches(runtime, &request).await?),
            Route::GetBatch { uid } => respond(self.get_batch(runtime, &request, &uid).await?),
            Route::CompactTasks => Err(ApiError::unsupported_route(COMPACT_TASKS_REFUSAL)),
            Route::TaskDocuments { .. } => Err(ApiError::unsupported_route(TASK_DOCUMENTS_REFUSAL)),
            Route::AddDocuments { index, replace } => respond(
                self.add_documents(runtime, &request, &index, replace)
                    .await?,
            ),
            Route::Search { index } => respond(self.search(runtime, &request, &index).await?),
            Route::MultiSearch => respond(self.multi_search(runtime, &request).await?),
            Route::FacetSearch { index } => {
                respond(self.facet_search(runtime, &request, &index).await?)
            }
            Route::Similar { index } => respond(self.similar(runtime, &request, &index).await?),
            Route::Fields { index } => respond(self.list_fields(runtime, &request, &index).await?),
            Route::BrowseDocuments { index } | Route::FetchDocuments { index } => {
                respond(self.browse_documents(runtime, &request, &index).await?)
            }
            Route::IndexStats { index } => {
                respond(self.stats(runtime, &request, Some(&index)).await?)
            }
            Route::GlobalStats => respond(self.stats(runtime, &request, None).await?),
            Route::DeleteDocument { index, id } => respond(
                self.delete_documents_by_id(runtime, &request, &index, Some(&id))
                    .await?,
            ),
            Route::DeleteDocumentsBatch { index } => respond(
                self.delete_documents_by_id(runtime, &request, &index, None)
                    .await?,
            ),
            ref route @ (Route::CreateIndex
            | Route::UpdateIndex { .. }
            | Route::DeleteIndex { .. }
            | Route::SwapIndexes
            | Route::Settings { .. }
            | Route::DeleteDocumentsByFilter { .. }
            | Route::DeleteAllDocuments { .. }
            | Route::EditDocuments { .. }
            | Route::CreateDump
            | Route::CreateSnapshot
            | Route::CompactIndex { .. })
                if route.serve() == crate::route::Serve::Broadcast =>
            {
                respond(self.broadcast_write(runtime, route, &request).await?)
            }
            ref route @ (Route::CreateKey
            | Route::UpdateKey { .. }
            | Route::DeleteKey { .. }
            | Route::UpdateExperimentalFeatures) => {
                respond(self.broadcast_sync(runtime, route, &request).await?)
            }
            ref route if route.serve() == crate::route::Serve::Single => {
                Ok(Outcome::Relay(self.relay(runtime, route).await?))
            }
            other => Err(ApiError::unsupported_route(&format!(
                "`{} {}` is not served by this build of Miroir yet ({:?})",
                request.method,
                request.path,
                other.serve()
            ))),
        }
    }

    /// Choose the node that answers a single-node route: for a document by id, an
    /// owner of its shard; otherwise the first node. The body is cleaned of Miroir's
    /// fields where it can carry them.
    async fn relay(&self, runtime: &Runtime, route: &Route) -> Result<Relay, ApiError> {
        let first = || {
            self.live_nodes(runtime)
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::shard_unavailable("No node is configured."))
        };
        let (node, rewrite) = match route {
            Route::GetDocument { index, id } => {
                let meta = self.index_meta(index).await?;
                let node = match meta {
                    Some(meta) => {
                        let shard = miroir_conf::routing::shard_for_pk(id, meta.shards);
                        let avoid = self.avoid();
                        let owner = runtime.read_owner_avoiding(shard, &avoid);
                        match owner.and_then(|id| runtime.nodes.get(&*id)) {
                            Some(node) => node.address.clone(),
                            None => first()?,
                        }
                    }
                    // Unknown to Miroir: any node answers Meilisearch's own error.
                    None => first()?,
                };
                (node, Some(Relayed::Document))
            }
            Route::Settings { sub: None, .. } => (first()?, Some(Relayed::Settings)),
            Route::Settings { sub: Some(sub), .. } if sub == "filterable-attributes" => {
                (first()?, Some(Relayed::FilterableAttributes))
            }
            _ => (first()?, None),
        };
        Ok(Relay { node, rewrite })
    }

    /// Every node, those not known to be down first (each part in configuration order).
    pub(crate) fn live_nodes(&self, runtime: &Runtime) -> Vec<NodeAddress> {
        let down = self.health.down_nodes();
        let (up, down): (Vec<&NodeAddress>, Vec<&NodeAddress>) = runtime
            .all_nodes()
            .partition(|node| !down.contains(&node.id));
        up.into_iter().chain(down).cloned().collect()
    }

    /// Send one request to the first node that answers it, trying the nodes in
    /// [`App::live_nodes`] order: a node that cannot be reached or fails (5xx) is marked
    /// down and the next one is asked. Used for the questions any node can answer
    /// (settings, errors only a node can word, credentials).
    pub(crate) async fn ask_any_node(
        &self,
        runtime: &Runtime,
        request: &NodeRequest,
    ) -> Result<crate::fanout::NodeResponse, ApiError> {
        let mut last_error = None;
        for node in self.live_nodes(runtime) {
            match self.fanout.send(&node, request, runtime.limits).await {
                Ok(response) if response.status < 500 => {
                    self.health.mark_up(&node.id);
                    return Ok(response);
                }
                Ok(response) => {
                    tracing::warn!(node = %node.id, status = response.status, "node failed");
                    self.health.mark_down(&node.id);
                    last_error = Some(node_error(&response));
                }
                Err(error) => {
                    tracing::warn!(node = %node.id, %error, "node unreachable");
                    self.health.mark_down(&node.id);
                    last_error = Some(ApiError::shard_unavailable(error.to_string()));
                }
            }
        }
        Err(last_error.unwrap_or_else(|| ApiError::shard_unavailable("No node is configured.")))
    }

    /// The client's request as it is (method, path and query, credentials, content
    /// type and body), to be sent to a node.
    pub(crate) fn as_node_request(request: &ClientRequest) -> NodeRequest {
        let mut part = NodeRequest::new(request.method.clone(), request.path_and_query());
        part.headers = App::forwarded_headers(request);
        if let Some(content_type) = request.header("content-type") {
            part.headers
                .push(("Content-Type".to_owned(), content_type.to_owned()));
        }
        part.body = request.body.clone();
        part
    }

    /// Headers Miroir forwards from the client on subrequests: the client's
    /// credentials, so that every node applies Meilisearch's own key rules.
    pub(crate) fn forwarded_headers(request: &ClientRequest) -> Vec<(String, String)> {
        request
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect()
    }

    /// `GET /version`: the lowest version among the nodes, so that clients never rely
    /// on a feature one node lacks.
    async fn version(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let headers = Self::forwarded_headers(request);
        let requests = runtime
            .all_nodes()
            .map(|node| {
                let mut sub = NodeRequest::new(Method::GET, "/version");
                sub.headers = headers.clone();
                (node.clone(), sub)
            })
            .collect();
        let answers = self.fanout.scatter(requests, runtime.limits).await;
        let mut lowest: Option<(Vec<u64>, Value)> = None;
        for (_, answer) in answers {
            let Ok(response) = answer else { continue };
            if !response.is_success() {
                // An authentication error is the same on every node: pass it through.
                return Err(node_error(&response));
            }
            let Ok(body) = serde_json::from_slice::<Value>(&response.body) else {
                continue;
            };
            let Some(version) = body.get("pkgVersion").and_then(Value::as_str) else {
                continue;
            };
            let key = parse_version(version);
            if lowest.as_ref().is_none_or(|(current, _)| key < *current) {
                lowest = Some((key, body));
            }
        }
        match lowest {
            Some((_, body)) => Ok(Response::json(200, &body)),
            None => Err(ApiError::shard_unavailable(
                "No node answered `GET /version`.",
            )),
        }
    }
}

/// Order versions like `1.50.0` and `1.9.1-rc.1` numerically.
fn parse_version(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// Turn a node's error answer into the error Miroir sends: the node's own body when it
/// is a Meilisearch error, an internal error otherwise.
pub fn node_error(response: &crate::fanout::NodeResponse) -> ApiError {
    let parsed: Option<Value> = serde_json::from_slice(&response.body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match (field("message"), field("code"), field("type")) {
        (Some(message), Some(code), Some(kind)) => {
            let error_type = match kind.as_str() {
                "auth" => ErrorType::Auth,
                "internal" => ErrorType::Internal,
                "system" => ErrorType::System,
                _ => ErrorType::InvalidRequest,
            };
            ApiError::new(
                response.status,
                code,
                error_type,
                crate::strip::scrub_message(&message),
            )
        }
        _ => ApiError::internal(format!(
            "A node answered with status {} and an unexpected body.",
            response.status
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_limit_is_printed_like_meilisearch() {
        assert_eq!(human_bytes(104_857_600), "100 MiB");
        assert_eq!(human_bytes(1_000_000), "1 MB");
        assert_eq!(human_bytes(1536), "1.536 KB");
        assert_eq!(human_bytes(10_240), "10 KiB");
        assert_eq!(
            payload_too_large(104_857_600).message,
            "The provided payload reached the size limit. The maximum accepted payload size is 100 MiB."
        );
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("1.9.1") < parse_version("1.50.0"));
        assert!(parse_version("1.50.0") == parse_version("1.50.0"));
    }
}
