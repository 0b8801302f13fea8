//! Configuration reload on `SIGHUP`.
//!
//! Load → validate → refuse a change of shard placement → health-check the nodes whose
//! address changed → swap. A file that does not validate, that would move shards
//! (another replication factor, a node added to or removed from a group, a node moved
//! to another group), or that points a node at an address which does not answer
//! `GET /health`, is logged and the running configuration stays in place. Requests that
//! started before the swap finish on the snapshot they started with.
//!
//! Placement is refused because nothing would move the data: the nodes a new placement
//! names hold no copy of the shards it gives them, so reads would silently miss
//! documents and writes would split them. Moving shards belongs to the control plane.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use http::Method;
use pingora_core::server::ShutdownWatch;
use pingora_core::services::background::BackgroundService;
use tokio::signal::unix::{signal, SignalKind};

use crate::app::App;
use crate::fanout::{FanOut, NodeRequest};
use crate::placement::Placement;
use crate::runtime::Runtime;

/// Why a reload was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file does not validate.
    #[error("configuration is invalid, keeping the running one:\n{0}")]
    Invalid(String),
    /// A node the new file adds does not answer its health check.
    #[error(
        "new node {node} failed its health check ({reason}), keeping the running configuration"
    )]
    UnhealthyNode { node: String, reason: String },
    /// The new file moves shards: another replication factor, or other nodes in some
    /// replica group.
    #[error(
        "the new file changes where shards live ({0}); the nodes hold no copy of the shards it would give them, so reads would miss documents. Moving shards is the control plane's work, which is not built yet: keeping the running configuration"
    )]
    PlacementChanged(String),
}

/// Load, validate and health-check a configuration file, and swap it in.
pub async fn reload(
    path: &std::path::Path,
    app: &App,
    fanout: &FanOut,
) -> Result<usize, ReloadError> {
    let config =
        miroir_conf::load_file(path).map_err(|errors| ReloadError::Invalid(errors.to_string()))?;
    let next = Runtime::from_config(&config);
    let current = app.runtime();
    if let Some(change) = Placement::of(&current).change_to(&Placement::of(&next)) {
        return Err(ReloadError::PlacementChanged(change));
    }
    for (id, node) in &next.nodes {
        if current
            .nodes
            .get(id)
            .is_some_and(|now| now.address == node.address)
        {
            continue;
        }
        let answer = fanout
            .send(
                &node.address,
                &NodeRequest::new(Method::GET, "/health"),
                next.limits,
            )
            .await;
        match answer {
            Ok(response) if response.is_success() => {}
            Ok(response) => {
                return Err(ReloadError::UnhealthyNode {
                    node: id.to_string(),
                    reason: format!("status {}", response.status),
                })
            }
            Err(error) => {
                return Err(ReloadError::UnhealthyNode {
                    node: id.to_string(),
                    reason: error.to_string(),
                })
            }
        }
    }
    let nodes = next.nodes.len();
    app.swap_runtime(next);
    Ok(nodes)
}

/// The background service that waits for `SIGHUP`.
pub struct ReloadService {
    path: PathBuf,
    app: Arc<App>,
}

impl ReloadService {
    /// Reload `path` into `app` on every `SIGHUP`.
    pub fn new(path: PathBuf, app: Arc<App>) -> Self {
        ReloadService { path, app }
    }
}

#[async_trait]
impl BackgroundService for ReloadService {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(stream) => stream,
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGHUP; configuration reload is disabled");
                return;
            }
        };
        let fanout = FanOut::new();
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                received = hangups.recv() => {
                    if received.is_none() {
                        return;
                    }
                    match reload(&self.path, &self.app, &fanout).await {
                        Ok(nodes) => tracing::info!(path = %self.path.display(), nodes, "configuration reloaded"),
                        Err(error) => tracing::error!(path = %self.path.display(), %error, "configuration reload refused"),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(yaml: &str) -> Runtime {
        Runtime::from_config(&miroir_conf::load_str(yaml).expect("valid config"))
    }

    const TWO_GROUPS: &str = "nodes:\n  - { id: a1, url: \"http://127.0.0.1:7701\", group: a }\n  - { id: a2, url: \"http://127.0.0.1:7702\", group: a }\n  - { id: b1, url: \"http://127.0.0.1:7703\", group: b }\n";

    #[test]
    fn only_a_change_of_shard_placement_is_named() {
        let current = runtime(TWO_GROUPS);
        // Another address for a node, group order, timeouts: placement unchanged.
        let moved = "nodes:\n  - { id: b1, url: \"http://10.0.0.3:7700\", group: b }\n  - { id: a2, url: \"http://127.0.0.1:7702\", group: a }\n  - { id: a1, url: \"http://127.0.0.1:7701\", group: a }\ntimeouts:\n  request: 50s\n";
        assert_eq!(
            Placement::of(&current).change_to(&Placement::of(&runtime(moved))),
            None
        );
        let added =
            format!("{TWO_GROUPS}  - {{ id: b2, url: \"http://127.0.0.1:7704\", group: b }}\n");
        assert_eq!(
            Placement::of(&current)
                .change_to(&Placement::of(&runtime(&added)))
                .as_deref(),
            Some("group `b`: [b1] -> [b1, b2]")
        );
        let regrouped = TWO_GROUPS.replace(
            "id: a2, url: \"http://127.0.0.1:7702\", group: a",
            "id: a2, url: \"http://127.0.0.1:7702\", group: b",
        );
        assert_eq!(
            Placement::of(&current)
                .change_to(&Placement::of(&runtime(&regrouped)))
                .as_deref(),
            Some("group `a`: [a1, a2] -> [a1]; group `b`: [b1] -> [a2, b1]")
        );
        let three = "nodes:\n  - { id: n1, url: \"http://127.0.0.1:7701\" }\n  - { id: n2, url: \"http://127.0.0.1:7702\" }\n";
        let rf2 = format!("{three}replication_factor: 2\n");
        assert_eq!(
            Placement::of(&runtime(three))
                .change_to(&Placement::of(&runtime(&rf2)))
                .as_deref(),
            Some("replication_factor 1 -> 2")
        );
    }
}
