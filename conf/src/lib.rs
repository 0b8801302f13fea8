//! Miroir's configuration and routing core, shared by the proxy and the control plane.
//!
//! - [`load_file`] / [`load_str`]: read the YAML file ([`file::FileConfig`], the stable
//!   format documented in `docs/configuration.md`), check everything, and return the
//!   validated [`RuntimeConfig`] or every problem at once ([`ConfigErrors`]).
//! - [`routing`]: the frozen routing functions — primary key → shard (jump consistent
//!   hash over xxh3) and shard → owners in a group (rendezvous hashing).
//! - [`topology`]: replica groups, owners, write targets and covering sets.
//!
//! No I/O beyond reading the file and the environment; no Pingora types.
//!
//! ```
//! use miroir_conf::routing::{primary_key_string, shard_for_pk};
//!
//! let config = miroir_conf::load_str(
//!     "nodes:\n  - { id: n1, url: \"http://127.0.0.1:7701\", group: a }\n  - { id: n2, url: \"http://127.0.0.1:7702\", group: a }\n",
//! )
//! .expect("a valid configuration");
//! let id = serde_json::json!(42);
//! let pk = primary_key_string(&id).expect("a valid document id");
//! let shard = shard_for_pk(&pk, config.default_shards);
//! let owners = config.topology.owners(shard, "a").expect("group a exists");
//! assert_eq!(owners.len(), config.replication_factor());
//!
//! let errors = miroir_conf::load_str("shards: 0\n").expect_err("no nodes, bad shards");
//! assert_eq!(errors.errors().len(), 2);
//! ```

pub mod duration;
pub mod error;
pub mod file;
pub mod node_url;
pub mod routing;
pub mod runtime;
pub mod topology;
pub mod validate;

use std::path::Path;

pub use error::{ConfigError, ConfigErrors};
pub use node_url::NodeUrl;
pub use runtime::{HealthCheck, Keys, Limits, Node, RuntimeConfig, Secret, TaskStore, Timeouts};
pub use topology::{CoveringSet, GroupOwners, NodeId, Owners, ReplicaGroup, Topology};
pub use validate::EnvLookup;

/// Load and validate a configuration file, reading referenced environment variables
/// from the process environment.
///
/// # Errors
/// The file cannot be read, does not parse, or breaks any rule: every problem found,
/// one per line in its `Display`.
pub fn load_file(path: impl AsRef<Path>) -> Result<RuntimeConfig, ConfigErrors> {
    load_file_with_env(path, &|name| std::env::var(name))
}

/// [`load_file`] with a chosen environment (tests, or a CLI checking for another host).
///
/// # Errors
/// As [`load_file`].
pub fn load_file_with_env(
    path: impl AsRef<Path>,
    env: EnvLookup<'_>,
) -> Result<RuntimeConfig, ConfigErrors> {
    let path = path.as_ref();
    let yaml = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        file: path.display().to_string(),
        reason: error.to_string(),
    })?;
    load_str_with_env(&yaml, env)
}

/// Parse and validate YAML text, reading referenced environment variables from the
/// process environment.
///
/// # Errors
/// As [`load_file`], without the read step.
pub fn load_str(yaml: &str) -> Result<RuntimeConfig, ConfigErrors> {
    load_str_with_env(yaml, &|name| std::env::var(name))
}

/// [`load_str`] with a chosen environment.
///
/// # Errors
/// As [`load_str`].
pub fn load_str_with_env(yaml: &str, env: EnvLookup<'_>) -> Result<RuntimeConfig, ConfigErrors> {
    let file = parse_file(yaml)?;
    validate::compile(file, env)
}

/// Parse YAML into the file schema without validating values.
///
/// An empty document (or one holding only comments) is an empty configuration, so it is
/// reported as "no nodes" rather than as a YAML error.
///
/// # Errors
/// [`ConfigError::Parse`] with serde's message, field path and line/column.
pub fn parse_file(yaml: &str) -> Result<file::FileConfig, ConfigErrors> {
    let value: serde_yaml::Value =
        serde_yaml::from_str(yaml).map_err(|error| ConfigError::Parse(error.to_string()))?;
    if value.is_null() {
        return Ok(file::FileConfig::default());
    }
    serde_yaml::from_str(yaml).map_err(|error| ConfigError::Parse(error.to_string()).into())
}
