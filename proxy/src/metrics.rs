//! Miroir's own Prometheus metrics, served by the admin listener
//! (`GET /_miroir/metrics`, see [`crate::admin`]).
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `miroir_requests_total` | counter | `route`, `status` | client requests answered, by route and HTTP status |
//! | `miroir_request_duration_seconds` | histogram | `route` | time from the request's arrival to its last byte |
//! | `miroir_node_up` | gauge | `node`, `group` | 1 while reads use the node, 0 while they avoid it (failed a request recently, or unhealthy by its checks) |
//! | `miroir_node_latency_seconds` | gauge | `node` | the node's moving mean read latency (absent before its first answer) |
//! | `miroir_node_failures_total` | counter | `node` | requests to the node that failed (unreachable, timed out or 5xx) |
//! | `miroir_health_checks_total` | counter | `node`, `result` | periodic `GET /health` checks, `result` `ok` or `failed` |
//! | `miroir_hedges_total` | counter | `node` | reads of the node that were late enough to be asked of other copies too |

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::health::NodeHealth;
use crate::runtime::Runtime;

/// Counters the node-health bookkeeping increments (see [`NodeHealth`]).
#[derive(Debug, Clone)]
pub struct NodeCounters {
    /// `miroir_node_failures_total`.
    pub failures: IntCounterVec,
    /// `miroir_health_checks_total`.
    pub checks: IntCounterVec,
    /// `miroir_hedges_total`.
    pub hedges: IntCounterVec,
}

impl Default for NodeCounters {
    fn default() -> Self {
        NodeCounters {
            failures: IntCounterVec::new(
                Opts::new(
                    "miroir_node_failures_total",
                    "Requests to a node that failed (unreachable, timed out or 5xx).",
                ),
                &["node"],
            )
            .expect("valid metric"),
            checks: IntCounterVec::new(
                Opts::new(
                    "miroir_health_checks_total",
                    "Periodic GET /health checks of a node, by result (ok or failed).",
                ),
                &["node", "result"],
            )
            .expect("valid metric"),
            hedges: IntCounterVec::new(
                Opts::new(
                    "miroir_hedges_total",
                    "Reads of a node late enough to be asked of other copies too.",
                ),
                &["node"],
            )
            .expect("valid metric"),
        }
    }
}

/// The registry and the metrics Miroir updates on its request path.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    node_up: IntGaugeVec,
    node_latency: GaugeVec,
}

impl Metrics {
    /// A registry holding Miroir's metrics and the node counters of `health`.
    pub fn new(health: &NodeHealth) -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "miroir_requests_total",
                "Client requests answered, by route and HTTP status.",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "miroir_request_duration_seconds",
                "Time from a client request's arrival to its answer, by route.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let node_up = IntGaugeVec::new(
            Opts::new(
                "miroir_node_up",
                "1 while reads use the node, 0 while they avoid it.",
            ),
            &["node", "group"],
        )
        .expect("valid metric");
        let node_latency = GaugeVec::new(
            Opts::new(
                "miroir_node_latency_seconds",
                "Moving mean latency of the node's reads.",
            ),
            &["node"],
        )
        .expect("valid metric");
        let registry = Registry::new();
        let counters = health.counters();
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(node_up.clone()),
            Box::new(node_latency.clone()),
            Box::new(counters.failures.clone()),
            Box::new(counters.checks.clone()),
            Box::new(counters.hedges.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            duration,
            node_up,
            node_latency,
        }
    }

    /// A client request on `route` was answered with `status` after `seconds`.
    pub fn observe_request(&self, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, &status.to_string()])
            .inc();
        self.duration.with_label_values(&[route]).observe(seconds);
    }

    /// The metrics in Prometheus' text format, node gauges read from `health` for the
    /// nodes of `runtime`.
    pub fn render(&self, runtime: &Runtime, health: &NodeHealth) -> String {
        let down = health.down_nodes();
        self.node_up.reset();
        self.node_latency.reset();
        for (id, node) in &runtime.nodes {
            self.node_up
                .with_label_values(&[&**id, &*node.group])
                .set(i64::from(!down.contains(id)));
            if let Some(mean) = health.mean_latency(id) {
                self.node_latency.with_label_values(&[&**id]).set(mean);
            }
        }
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for these metric types.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
