//! Periodic health checks of the nodes.
//!
//! Every `health_check.interval`, each configured node is asked `GET /health` with a
//! deadline of `health_check.timeout`; a check passes when the node answers `200`.
//! [`crate::health::NodeHealth::record_check`] turns the outcomes into the node's
//! health: reads avoid an unhealthy node (its shards are read from their other
//! copies) until it passes its checks again, so a dead node costs no client request a
//! timeout. Writes still go to every owner: their quorum judges them.
//!
//! The nodes and the settings are read from the runtime at every round, so a
//! configuration reload (`SIGHUP`) takes effect at the next round.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use http::Method;
use pingora_core::server::ShutdownWatch;
use pingora_core::services::background::BackgroundService;

use crate::app::App;
use crate::fanout::{FanOut, NodeRequest};
use crate::health::Flip;
use crate::runtime::Runtime;

/// Check every node of `runtime` once and record the outcomes in `app`'s health.
pub async fn check_round(app: &App, runtime: &Runtime, fanout: &FanOut) {
    let settings = runtime.health_check;
    let mut limits = runtime.limits;
    limits.per_node = settings.timeout;
    limits.connect = limits.connect.min(settings.timeout);
    let request = NodeRequest::new(Method::GET, "/health");
    let outcomes = join_all(runtime.nodes.values().map(|node| {
        let request = &request;
        async move {
            let ok = match fanout.send(&node.address, request, limits).await {
                Ok(response) => response.status == 200,
                Err(_) => false,
            };
            (node.address.id.clone(), ok)
        }
    }))
    .await;
    let health = app.health();
    health.retain_checks(|id| runtime.nodes.contains_key(id));
    for (node, ok) in outcomes {
        match health.record_check(&node, ok, &settings) {
            Some(Flip::Unhealthy) => tracing::warn!(
                node = %node,
                failures = settings.unhealthy_threshold,
                "node failed its health checks: reads avoid it"
            ),
            Some(Flip::Healthy) => tracing::info!(
                node = %node,
                successes = settings.healthy_threshold,
                "node passed its health checks again"
            ),
            None => {}
        }
    }
}

/// The background service that runs [`check_round`] every `health_check.interval`.
pub struct HealthCheckService {
    app: Arc<App>,
}

impl HealthCheckService {
    /// Check the nodes of `app`'s runtime, whatever it is at each round.
    pub fn new(app: Arc<App>) -> Self {
        HealthCheckService { app }
    }
}

#[async_trait]
impl BackgroundService for HealthCheckService {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let fanout = FanOut::new();
        loop {
            let runtime = self.app.runtime();
            // A round starts every interval, however long the checks took (each is
            // bounded by the timeout, which is at most the interval).
            let round = async {
                tokio::join!(
                    check_round(&self.app, &runtime, &fanout),
                    tokio::time::sleep(runtime.health_check.interval)
                )
            };
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = round => {}
            }
        }
    }
}
