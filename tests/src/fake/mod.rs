//! The fake Meilisearch node: an in-memory, single-process imitation of Meilisearch 1.50's
//! HTTP API (indexes, documents, settings, search, tasks, batches, keys, tenant tokens),
//! used by the end-to-end suites when no Meilisearch binary is available.
//!
//! The node owns its storage ([`store`]), its task queue and worker ([`tasks`],
//! [`worker`]), authorization ([`auth`]) and HTTP routes ([`routes`]); searching,
//! settings and filters are delegated to `miroir-fake-engine` ([`engine`]). The HTTP
//! listener is a [`FrontDoor`], which gives every node the fault switches of
//! [`crate::fault`] and a stop/restart that keeps the port and the data.

pub mod auth;
pub mod engine;
pub mod error;
pub mod federation;
pub mod payload;
pub mod routes;
pub mod store;
pub mod tasks;
pub mod worker;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::fault::{FaultSwitches, FrontDoor, HarnessError, Upstream};
use store::Store;
use tasks::{Details, Operation, Task, TaskStatus};

/// Default maximum body size, Meilisearch's default `--http-payload-size-limit` (100 MB).
pub const DEFAULT_PAYLOAD_LIMIT: usize = 100_000_000;

/// How to start a fake node.
#[derive(Debug, Clone)]
pub struct FakeNodeOptions {
    /// Master key; `None` runs the node without authentication, like Meilisearch.
    pub master_key: Option<String>,
    /// Address to listen on; `None` is 127.0.0.1 on a free port.
    pub http_addr: Option<SocketAddr>,
    /// Maximum accepted body size in bytes.
    pub payload_limit: usize,
}

impl Default for FakeNodeOptions {
    fn default() -> Self {
        FakeNodeOptions {
            master_key: None,
            http_addr: None,
            payload_limit: DEFAULT_PAYLOAD_LIMIT,
        }
    }
}

/// Shared state of one node: the store, the worker's wake-ups and the task delay.
pub struct Node {
    store: Mutex<Store>,
    /// Master key, if any.
    pub master_key: Option<String>,
    /// Maximum body size.
    pub payload_limit: usize,
    task_delay_ns: AtomicU64,
    wake: Arc<Notify>,
    cancel: Arc<Notify>,
}

impl Node {
    fn new(options: &FakeNodeOptions) -> Node {
        let now = OffsetDateTime::now_utc();
        let mut store = Store {
            features: store::default_features(),
            ..Store::default()
        };
        if options.master_key.is_some() {
            store.keys = auth::default_keys(now);
        }
        Node {
            store: Mutex::new(store),
            master_key: options.master_key.clone(),
            payload_limit: options.payload_limit,
            task_delay_ns: AtomicU64::new(0),
            wake: Arc::new(Notify::new()),
            cancel: Arc::new(Notify::new()),
        }
    }

    /// Lock the store. Critical sections never await, so a poisoned lock can only come
    /// from a panic in a handler; the data is still consistent enough for tests.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn task_delay(&self) -> Duration {
        Duration::from_nanos(self.task_delay_ns.load(Ordering::SeqCst))
    }

    /// Register a task and wake the worker; returns the summarized task view (202 body).
    pub fn enqueue(
        &self,
        index_uid: Option<String>,
        op: Operation,
        original_filter: Option<&str>,
    ) -> Value {
        let is_cancel = matches!(op, Operation::TaskCancelation { .. });
        let summary = {
            let mut store = self.lock();
            let uid = store.next_task_uid;
            store.next_task_uid += 1;
            let task = Task {
                uid,
                batch_uid: None,
                index_uid,
                status: TaskStatus::Enqueued,
                kind: op.kind(),
                details: Details::initial(&op, original_filter),
                op,
                error: None,
                canceled_by: None,
                enqueued_at: OffsetDateTime::now_utc(),
                started_at: None,
                finished_at: None,
            };
            let summary = task.summary();
            store.tasks.insert(uid, task);
            summary
        };
        self.wake.notify_one();
        if is_cancel {
            self.cancel.notify_one();
        }
        summary
    }
}

/// Entry point of the fake node.
pub struct FakeNode;

impl FakeNode {
    /// Start a node listening on `options.http_addr` (default: 127.0.0.1, free port).
    pub async fn start(options: FakeNodeOptions) -> Result<FakeNodeHandle, HarnessError> {
        let node = Arc::new(Node::new(&options));
        tokio::spawn(worker::run(Arc::downgrade(&node)));
        let router = routes::router(node.clone());
        let addr = options
            .http_addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let door = FrontDoor::open(addr, Upstream::Router(router)).await?;
        Ok(FakeNodeHandle { node, door })
    }
}

/// A running fake node. Dropping it stops the listener and the worker.
pub struct FakeNodeHandle {
    node: Arc<Node>,
    door: FrontDoor,
}

impl FakeNodeHandle {
    /// Listening address.
    pub fn addr(&self) -> SocketAddr {
        self.door.addr()
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.door.addr())
    }

    /// The master key, if any.
    pub fn master_key(&self) -> Option<&str> {
        self.node.master_key.as_deref()
    }

    /// The fault switches (delay, forced failures, dropped connections).
    pub fn faults(&self) -> &FaultSwitches {
        self.door.switches()
    }

    /// Add latency before every answer.
    pub fn set_delay(&self, delay: Duration) {
        self.door.switches().set_delay(delay);
    }

    /// Answer every request with `status` and an internal error (`None`: back to normal).
    pub fn fail_with(&self, status: Option<u16>) {
        self.door.switches().fail_with(status);
    }

    /// Accept connections and close them without answering.
    pub fn drop_connections(&self, on: bool) {
        self.door.switches().drop_connections(on);
    }

    /// Make each task stay `processing` this long before it is applied.
    pub fn set_task_delay(&self, delay: Duration) {
        self.node.task_delay_ns.store(
            delay.as_nanos().min(u64::MAX as u128) as u64,
            Ordering::SeqCst,
        );
    }

    /// Stop listening (clients get "connection refused"); data and tasks are kept.
    pub async fn stop(&self) {
        self.door.stop().await;
    }

    /// Listen again on the same port with the same data.
    pub async fn restart(&self) -> Result<(), HarnessError> {
        self.door.restart().await
    }

    /// Whether the node is listening.
    pub async fn is_running(&self) -> bool {
        self.door.is_open().await
    }

    /// The key string of the default key with this name (e.g. "Default Admin API Key").
    pub fn default_key(&self, name: &str) -> Option<String> {
        let master = self.node.master_key.as_deref()?;
        let store = self.node.lock();
        store
            .keys
            .iter()
            .find(|k| k.name.as_deref() == Some(name))
            .map(|k| auth::derive_key(&k.uid, master))
    }
}
