//! Configuration reload on `SIGHUP`.
//!
//! Load → validate → health-check the nodes the new file adds → swap. A file that does
//! not validate, or that adds a node which does not answer `GET /health`, is logged
//! and the running configuration stays in place. Requests that started before the swap
//! finish on the snapshot they started with.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use http::Method;
use pingora_core::server::ShutdownWatch;
use pingora_core::services::background::BackgroundService;
use tokio::signal::unix::{signal, SignalKind};

use crate::app::App;
use crate::fanout::{FanOut, NodeRequest};
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
    for (id, node) in &next.nodes {
        if current.nodes.contains_key(id) {
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
