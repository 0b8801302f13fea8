//! Miroir task and topology store: SQLite (default) and Redis backends.
//!
//! The store persists what must survive a restart and be shared between proxies and
//! control planes:
//!
//! - **tasks**: the cluster-wide integer task uid counter and one [`TaskRecord`] per
//!   Miroir task, listed with Meilisearch's `GET /tasks` semantics ([`TaskQuery`]);
//! - **index metadata**: the shard count fixed at index creation ([`IndexMeta`]);
//! - **cluster state**: a versioned key/value with compare-and-set, and named leader
//!   leases.
//!
//! One trait, [`Store`], two backends: [`SqliteStore`] (one file, nothing to install)
//! and [`RedisStore`] (shared by several processes). [`open`] picks one from a
//! [`StoreConfig`]. The same conformance suite (`tests/conformance.rs`) runs on both.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod error;
mod query;
mod redis;
mod sqlite;
mod task;

pub use error::StoreError;
pub use query::{
    TaskFilter, TaskFilterAction, TaskPage, TaskQuery, TaskQueryError, DEFAULT_TASK_LIMIT,
};
pub use redis::RedisStore;
pub use sqlite::SqliteStore;
pub use task::{
    format_date, format_iso8601_duration, NodeTask, TaskKind, TaskRecord, TaskStatus, UnknownName,
};

/// The key prefix of [`StoreConfig::Redis`] when none is configured.
pub const DEFAULT_REDIS_PREFIX: &str = "miroir:";

/// Which backend to open, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// One SQLite file; created (with its directory) when missing.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// A Redis server shared by several processes.
    Redis {
        /// `redis://[user:password@]host:port[/db]`.
        url: String,
        /// Prepended to every key, so several clusters can share one server.
        /// Default [`DEFAULT_REDIS_PREFIX`].
        prefix: String,
    },
}

impl StoreConfig {
    /// A Redis configuration with the default key prefix.
    pub fn redis(url: impl Into<String>) -> StoreConfig {
        StoreConfig::Redis {
            url: url.into(),
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
        }
    }
}

/// Open the configured store: create or migrate the SQLite schema, or connect to Redis.
///
/// # Errors
/// The file cannot be opened or migrated ([`StoreError::Sqlite`],
/// [`StoreError::SchemaTooNew`]), the Redis URL asks for TLS
/// ([`StoreError::Unsupported`]), or the Redis server cannot be reached
/// ([`StoreError::Redis`]).
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match config {
        StoreConfig::Sqlite { path } => Arc::new(SqliteStore::open(path.clone()).await?),
        StoreConfig::Redis { url, prefix } => {
            Arc::new(RedisStore::connect(url, prefix.clone()).await?)
        }
    })
}

/// What Miroir knows about an index beyond what its nodes know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexMeta {
    /// The index uid.
    pub uid: String,
    /// The primary key, once known.
    pub primary_key: Option<String>,
    /// The number of logical shards S. Fixed at creation: routing depends on it.
    pub shards: u32,
    /// When Miroir created the index.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When its metadata last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The persistence Miroir's proxies and control planes share.
///
/// Every method is atomic on its own; the backends agree on every behaviour listed
/// here (the conformance suite checks it).
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Hand out the next task uid: 0 first, then strictly increasing, never twice, even
    /// across processes sharing the store.
    ///
    /// # Errors
    /// [`StoreError::TaskUidsExhausted`] once uids no longer fit a `u32`.
    async fn next_task_uid(&self) -> Result<u32, StoreError>;

    /// Insert the task, or replace the stored task with the same uid.
    async fn put_task(&self, task: &TaskRecord) -> Result<(), StoreError>;

    /// The task with this uid, if stored.
    async fn get_task(&self, uid: u32) -> Result<Option<TaskRecord>, StoreError>;

    /// One page of the tasks matching the query, with Meilisearch's `GET /tasks`
    /// semantics: newest first (oldest first with `reverse`), starting at `from`
    /// inclusive, at most `limit`; `total` counts every match ignoring `from` and
    /// `limit`; `next` is the `from` of the following page.
    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage, StoreError>;

    /// Delete the tasks with these uids; returns how many existed.
    async fn delete_tasks(&self, uids: &[u32]) -> Result<u64, StoreError>;

    /// Every task still `enqueued` or `processing`, oldest first.
    async fn unfinished_tasks(&self) -> Result<Vec<TaskRecord>, StoreError>;

    /// Insert the index metadata, or replace the stored one with the same uid.
    async fn put_index(&self, index: &IndexMeta) -> Result<(), StoreError>;

    /// Insert the index metadata only if no index with this uid is stored; returns
    /// whether it was inserted. Two proxies creating one index agree on one S this way.
    async fn create_index(&self, index: &IndexMeta) -> Result<bool, StoreError>;

    /// The metadata of this index, if stored.
    async fn get_index(&self, uid: &str) -> Result<Option<IndexMeta>, StoreError>;

    /// Every stored index, by uid.
    async fn list_indexes(&self) -> Result<Vec<IndexMeta>, StoreError>;

    /// Delete the index metadata; returns whether it existed.
    async fn delete_index(&self, uid: &str) -> Result<bool, StoreError>;

    /// The value under `key` and its version (1 for the first write, then +1 per write).
    async fn get_kv(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, StoreError>;

    /// Write `value` under `key` if the stored version is `expected_version` (`None`:
    /// the key must not exist). Returns `false`, and writes nothing, on a mismatch.
    async fn cas_kv(
        &self,
        key: &str,
        expected_version: Option<u64>,
        value: &[u8],
    ) -> Result<bool, StoreError>;

    /// Take the lease `name` for `ttl` if it is free, expired, or already held by
    /// `holder` (then it is extended). Returns whether `holder` now holds it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Extend the lease for `ttl` from now if `holder` still holds it. Returns `false`
    /// when the lease expired or belongs to someone else.
    async fn renew_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Give the lease up if `holder` holds it. Returns whether it did.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError>;

    /// The current holder of the lease, if it is held and not expired.
    async fn lease_holder(&self, name: &str) -> Result<Option<String>, StoreError>;
}
