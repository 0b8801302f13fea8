//! The compiled, validated configuration that code uses.
//!
//! Built only by [`crate::load_str`] and friends, so every value here has passed
//! validation: addresses parse, durations are positive and ordered, the topology is
//! consistent, referenced environment variables were read. The file format
//! ([`crate::file`]) can evolve without touching the users of these types.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::node_url::NodeUrl;
use crate::topology::{NodeId, Topology};

/// Defaults of every optional field, as documented in `docs/configuration.md`.
pub mod defaults {
    use std::time::Duration;

    /// `listen`.
    pub const LISTEN: &str = "127.0.0.1:7700";
    /// `shards`.
    pub const SHARDS: u32 = 64;
    /// Largest `shards`.
    pub const MAX_SHARDS: u32 = 65_536;
    /// `replication_factor`.
    pub const REPLICATION_FACTOR: usize = 1;
    /// A node's `group` when the entry has none.
    pub const GROUP: &str = "default";
    /// `task_store.sqlite.path`.
    pub const SQLITE_PATH: &str = "./miroir-tasks.db";
    /// `health_check.interval`.
    pub const HEALTH_INTERVAL: Duration = Duration::from_secs(5);
    /// `health_check.timeout`.
    pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
    /// `health_check.unhealthy_threshold`.
    pub const UNHEALTHY_THRESHOLD: u32 = 3;
    /// `health_check.healthy_threshold`.
    pub const HEALTHY_THRESHOLD: u32 = 2;
    /// `timeouts.connect`.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
    /// `timeouts.node_request`.
    pub const NODE_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// `timeouts.request`.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// `limits.max_body_bytes`: Meilisearch's own default payload limit (100 MiB).
    pub const MAX_BODY_BYTES: u64 = 104_857_600;
    /// `limits.fan_out_concurrency`.
    pub const FAN_OUT_CONCURRENCY: usize = 64;
    /// `limits.max_tasks`: the size at which Meilisearch trims its task queue.
    pub const MAX_TASKS: u64 = 1_000_000;
    /// Shortest accepted `master_key` and `admin_key`, bytes (Meilisearch's production
    /// minimum for its master key).
    pub const MIN_KEY_BYTES: usize = 16;
}

/// A secret (key or URL with a password). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One Meilisearch node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Stable id; the rendezvous hash input.
    pub id: NodeId,
    /// Where it listens.
    pub url: NodeUrl,
    /// Its replica group.
    pub group: Arc<str>,
}

/// The keys. `None` means not configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// Client-facing master key. `None`: clients are not authenticated, as on a
    /// Meilisearch started without a master key.
    pub master_key: Option<Secret>,
    /// The nodes' master key, sent by Miroir on its own calls. `None`: the nodes have
    /// no master key.
    pub node_master_key: Option<Secret>,
    /// Admin API key. Always `Some` when `admin_listen` is set.
    pub admin_key: Option<Secret>,
}

/// Where Miroir keeps its tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStore {
    /// Embedded SQLite database file.
    Sqlite {
        /// The database file.
        path: PathBuf,
    },
    /// Redis server (`redis://` or `rediss://`).
    Redis {
        /// The URL; may carry a password.
        url: Secret,
    },
}

/// Node health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthCheck {
    /// Time between two checks of one node.
    pub interval: Duration,
    /// Deadline of one check; never longer than `interval`.
    pub timeout: Duration,
    /// Consecutive failures that mark a node unhealthy.
    pub unhealthy_threshold: u32,
    /// Consecutive successes that mark an unhealthy node healthy again.
    pub healthy_threshold: u32,
}

/// Deadlines, ordered `connect <= node_request <= request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting to a node.
    pub connect: Duration,
    /// One subrequest to one node.
    pub node_request: Duration,
    /// A whole client request, fan-out included.
    pub request: Duration,
}

/// Bounds on what one request may claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body; protects memory, as Meilisearch's own limit does.
    pub max_body_bytes: u64,
    /// Node subrequests in flight at once for one client request; protects sockets
    /// and memory on a wide fleet.
    pub fan_out_concurrency: usize,
    /// Tasks kept in the registry: at this many, the oldest finished tasks (up to
    /// 100,000) are deleted by a `taskDeletion` task, as Meilisearch trims its queue.
    pub max_tasks: u64,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Client-facing address.
    pub listen: SocketAddr,
    /// Admin API address; `None` disables the admin listener.
    pub admin_listen: Option<SocketAddr>,
    /// Every node, in file order.
    pub nodes: Vec<Node>,
    /// Groups (in order of first appearance in `nodes`) and the replication factor.
    pub topology: Topology,
    /// Shards given to a new index.
    pub default_shards: u32,
    /// Keys.
    pub keys: Keys,
    /// Task store.
    pub task_store: TaskStore,
    /// Health checks.
    pub health_check: HealthCheck,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// Bounds.
    pub limits: Limits,
}

impl RuntimeConfig {
    /// The node with id `id`.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|node| node.id.as_str() == id)
    }

    /// The replication factor (shortcut for `topology.rf()`).
    pub fn replication_factor(&self) -> usize {
        self.topology.rf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2-hunter2-hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
        assert_eq!(secret.to_string(), "<redacted>");
        assert_eq!(secret.expose(), "hunter2-hunter2-hunter2");
    }
}
