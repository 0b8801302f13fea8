//! The configuration file as written: the stable, user-facing YAML format.
//!
//! Every struct refuses unknown fields and every key is `snake_case`. Values whose
//! checks need context (addresses, URLs, durations, ranges, cross-field rules) are read
//! as plain text or numbers here and checked in [`crate::validate`], which reports every
//! problem at once with its field path. What code uses is [`crate::RuntimeConfig`], never
//! these types directly.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileConfig {
    /// Client-facing address, `IP:PORT`. Default `127.0.0.1:7700`.
    pub listen: Option<String>,
    /// Admin API address, `IP:PORT`. Absent: no admin API listener.
    pub admin_listen: Option<String>,
    /// The Meilisearch nodes. At least one.
    #[serde(default)]
    pub nodes: Vec<FileNode>,
    /// Shards of a new index. Default 64, range 1..=65536.
    pub shards: Option<i64>,
    /// Owners of each shard inside each replica group. Default 1.
    pub replication_factor: Option<i64>,
    /// The keys.
    #[serde(default)]
    pub keys: FileKeys,
    /// Where Miroir keeps its tasks. Default SQLite at `./miroir-tasks.db`.
    pub task_store: Option<FileTaskStore>,
    /// Node health checks.
    #[serde(default)]
    pub health_check: FileHealthCheck,
    /// Connect and request deadlines.
    #[serde(default)]
    pub timeouts: FileTimeouts,
    /// Size and concurrency bounds.
    #[serde(default)]
    pub limits: FileLimits,
}

/// One node entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileNode {
    /// Stable node id (routing hashes it). A number is read as its decimal text.
    #[serde(deserialize_with = "text_or_integer")]
    pub id: String,
    /// `http://HOST:PORT` or `https://HOST[:PORT]`.
    pub url: String,
    /// Replica group name; a number is read as its decimal text. Default `default`.
    #[serde(default, deserialize_with = "optional_text_or_integer")]
    pub group: Option<String>,
}

/// The three keys, each either literal or read from an environment variable.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileKeys {
    /// Client-facing master key.
    pub master_key: Option<String>,
    /// Environment variable holding the client-facing master key.
    pub master_key_env: Option<String>,
    /// The master key of the nodes, which Miroir sends on its own calls.
    pub node_master_key: Option<String>,
    /// Environment variable holding the nodes' master key.
    pub node_master_key_env: Option<String>,
    /// Key of the admin API.
    pub admin_key: Option<String>,
    /// Environment variable holding the admin key.
    pub admin_key_env: Option<String>,
}

/// `{ sqlite: { path } }` or `{ redis: { url } }`: a map with exactly one of the two
/// keys (validation reports zero or two). Read as a struct rather than an enum because
/// `serde_yaml` spells enums as YAML tags (`!sqlite`), which operators do not expect.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileTaskStore {
    /// The embedded default.
    pub sqlite: Option<FileSqlite>,
    /// Shared by several proxies and control planes.
    pub redis: Option<FileRedis>,
}

/// SQLite task store.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileSqlite {
    /// Database file. Default `./miroir-tasks.db`.
    pub path: Option<String>,
}

/// Redis task store.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileRedis {
    /// `redis://` or `rediss://` URL.
    pub url: Option<String>,
    /// Environment variable holding the URL (it often carries a password).
    pub url_env: Option<String>,
}

/// Health checks of the nodes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileHealthCheck {
    /// Time between two checks of one node. Default `5s`.
    pub interval: Option<String>,
    /// Deadline of one check. Default `2s`.
    pub timeout: Option<String>,
    /// Consecutive failures before a node is marked unhealthy. Default 3.
    pub unhealthy_threshold: Option<i64>,
    /// Consecutive successes before an unhealthy node is healthy again. Default 2.
    pub healthy_threshold: Option<i64>,
}

/// Deadlines.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileTimeouts {
    /// TCP (and TLS) connect to a node. Default `1s`.
    pub connect: Option<String>,
    /// One subrequest to one node. Default `10s`.
    pub node_request: Option<String>,
    /// A whole client request, fan-out included. Default `30s`.
    pub request: Option<String>,
}

/// Bounds.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileLimits {
    /// Largest accepted request body, bytes. Default 104857600 (100 MiB).
    pub max_body_bytes: Option<i64>,
    /// Node subrequests in flight at once for one client request. Default 64.
    pub fan_out_concurrency: Option<i64>,
    /// Tasks Miroir keeps before deleting its oldest finished ones, as Meilisearch does
    /// at 1,000,000. Default 1000000.
    pub max_tasks: Option<i64>,
}

/// Deserialize a string, or an integer as its decimal text (`group: 1` is group "1").
fn text_or_integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct TextOrInteger;

    impl Visitor<'_> for TextOrInteger {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or an integer")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
            Ok(value.to_owned())
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
            Ok(value.to_string())
        }
    }

    deserializer.deserialize_any(TextOrInteger)
}

fn optional_text_or_integer<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    text_or_integer(deserializer).map(Some)
}
