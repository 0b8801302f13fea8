//! What the proxy knows about node health from its own traffic: a node that failed to
//! answer is avoided for a short while, then tried again. Reads go to another owner of
//! the same shard meanwhile; writes are judged by quorum and are never rerouted.
//!
//! Reads also teach the proxy how fast each node usually answers (an exponentially
//! weighted mean and mean deviation of its latency): a read that takes longer than the
//! node's usual high end is hedged (see [`NodeHealth::hedge_delay`]).
//!
//! Besides its own traffic, the proxy checks every node's `GET /health` on a timer
//! (`health_check` in the configuration, see [`crate::checks`]): a node that failed
//! `unhealthy_threshold` checks in a row is unhealthy until it passed
//! `healthy_threshold` checks in a row, and reads avoid it meanwhile.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node that failed is avoided before it is tried again.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(5);

/// Weight of a new latency sample in the moving averages.
const LATENCY_WEIGHT: f64 = 0.1;

/// Shortest hedge delay: below this a hedge would mostly duplicate work.
pub const MIN_HEDGE_DELAY: Duration = Duration::from_millis(5);

/// Hedge delay of a node that has not answered a read yet.
pub const FIRST_HEDGE_DELAY: Duration = Duration::from_millis(100);

/// Answers a node must have given before its latency steers replica choice.
pub const MIN_SAMPLES: u32 = 8;

/// A latency this old no longer describes the node: it is forgotten, and the node is
/// read from as if new (which is how a node that was avoided for being slow is tried
/// again).
pub const STALE_LATENCY: Duration = Duration::from_secs(10);

/// A node's latency: moving mean and mean absolute deviation, in seconds.
#[derive(Debug, Clone, Copy)]
struct Latency {
    mean: f64,
    deviation: f64,
    samples: u32,
    at: Instant,
}

/// Nodes recently seen failing, and how fast each node answers reads.
#[derive(Debug)]
pub struct NodeHealth {
    down_until: Mutex<HashMap<Arc<str>, Instant>>,
    hold: Duration,
    latency: Mutex<HashMap<Arc<str>, Latency>>,
    checks: Mutex<HashMap<Arc<str>, CheckRun>>,
    /// [`STALE_LATENCY`], shorter in tests.
    stale: Duration,
    counters: crate::metrics::NodeCounters,
}

/// The recent health checks of one node.
#[derive(Debug, Clone, Copy, Default)]
struct CheckRun {
    unhealthy: bool,
    /// Consecutive checks with the same outcome, the last one included.
    streak: u32,
    /// Outcome of the last check.
    last_ok: bool,
}

/// A node's health as its periodic checks judge it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flip {
    /// The node failed `unhealthy_threshold` checks in a row.
    Unhealthy,
    /// The unhealthy node passed `healthy_threshold` checks in a row.
    Healthy,
}

impl Default for NodeHealth {
    fn default() -> Self {
        NodeHealth::new(DEFAULT_HOLD)
    }
}

impl NodeHealth {
    /// Avoid failed nodes for `hold`.
    pub fn new(hold: Duration) -> Self {
        NodeHealth {
            down_until: Mutex::new(HashMap::new()),
            hold,
            latency: Mutex::new(HashMap::new()),
            checks: Mutex::new(HashMap::new()),
            stale: STALE_LATENCY,
            counters: crate::metrics::NodeCounters::default(),
        }
    }

    /// What a read costs on each node whose latency is known well enough (at least
    /// [`MIN_SAMPLES`] answers, the last one less than [`STALE_LATENCY`] ago): its
    /// moving mean latency in seconds. The mean moves slowly, so replica choice only
    /// changes when a node stays slower, not at every busy moment (reads in flight are
    /// not counted for that reason: they would move shards between copies from one
    /// request to the next, and with them the order of tied documents).
    pub fn costs(&self) -> HashMap<Arc<str>, f64> {
        let now = Instant::now();
        let latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        latency
            .iter()
            .filter(|(_, l)| l.samples >= MIN_SAMPLES && now.duration_since(l.at) < self.stale)
            .map(|(node, l)| (node.clone(), l.mean))
            .collect()
    }

    /// The counters of node events, for the metrics registry.
    pub fn counters(&self) -> &crate::metrics::NodeCounters {
        &self.counters
    }

    /// A read of `node` was late enough to be hedged.
    pub fn count_hedge(&self, node: &str) {
        self.counters.hedges.with_label_values(&[node]).inc();
    }

    /// The node's moving mean read latency in seconds, once it answered a read.
    pub fn mean_latency(&self, node: &str) -> Option<f64> {
        let latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        latency.get(node).map(|l| l.mean)
    }

    /// Record the outcome of one periodic health check of `node`; returns the change
    /// of its health it caused, if any.
    pub fn record_check(
        &self,
        node: &Arc<str>,
        ok: bool,
        thresholds: &miroir_conf::HealthCheck,
    ) -> Option<Flip> {
        self.counters
            .checks
            .with_label_values(&[&**node, if ok { "ok" } else { "failed" }])
            .inc();
        let mut checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        let run = checks.entry(node.clone()).or_default();
        if run.streak > 0 && run.last_ok == ok {
            run.streak = run.streak.saturating_add(1);
        } else {
            run.streak = 1;
            run.last_ok = ok;
        }
        if ok && run.unhealthy && run.streak >= thresholds.healthy_threshold {
            run.unhealthy = false;
            return Some(Flip::Healthy);
        }
        if !ok && !run.unhealthy && run.streak >= thresholds.unhealthy_threshold {
            run.unhealthy = true;
            return Some(Flip::Unhealthy);
        }
        None
    }

    /// Forget the checks of nodes no longer configured.
    pub fn retain_checks(&self, keep: impl Fn(&str) -> bool) {
        let mut checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        checks.retain(|node, _| keep(node));
    }

    /// The nodes their periodic checks judge unhealthy.
    pub fn unhealthy_nodes(&self) -> BTreeSet<Arc<str>> {
        let checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        checks
            .iter()
            .filter(|(_, run)| run.unhealthy)
            .map(|(node, _)| node.clone())
            .collect()
    }

    /// A node answered a read in `elapsed`.
    pub fn record_latency(&self, node: &Arc<str>, elapsed: Duration) {
        let sample = elapsed.as_secs_f64();
        let now = Instant::now();
        let fresh = Latency {
            mean: sample,
            deviation: sample / 2.0,
            samples: 1,
            at: now,
        };
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        latency
            .entry(node.clone())
            .and_modify(|l| {
                if now.duration_since(l.at) >= self.stale {
                    *l = fresh;
                    return;
                }
                let error = sample - l.mean;
                l.mean += LATENCY_WEIGHT * error;
                l.deviation += LATENCY_WEIGHT * (error.abs() - l.deviation);
                l.samples = l.samples.saturating_add(1);
                l.at = now;
            })
            .or_insert(fresh);
    }

    /// How long to wait for a node's answer to a read before asking another copy of
    /// the same shards too: the node's usual high end (mean plus four mean
    /// deviations, about its 99th percentile for a normal spread), at least
    /// [`MIN_HEDGE_DELAY`], at most `ceiling`; [`FIRST_HEDGE_DELAY`] before the node
    /// has answered anything.
    pub fn hedge_delay(&self, node: &str, ceiling: Duration) -> Duration {
        let latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let delay = match latency.get(node) {
            Some(l) => Duration::from_secs_f64((l.mean + 4.0 * l.deviation).max(0.0)),
            None => FIRST_HEDGE_DELAY,
        };
        delay.max(MIN_HEDGE_DELAY).min(ceiling)
    }

    /// A node failed to answer.
    pub fn mark_down(&self, node: &Arc<str>) {
        self.counters.failures.with_label_values(&[&**node]).inc();
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        down.insert(node.clone(), Instant::now() + self.hold);
    }

    /// A node answered.
    pub fn mark_up(&self, node: &str) {
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        down.remove(node);
    }

    /// The nodes to avoid now: those that recently failed a request, and those their
    /// periodic checks judge unhealthy.
    pub fn down_nodes(&self) -> BTreeSet<Arc<str>> {
        let now = Instant::now();
        let mut nodes = self.unhealthy_nodes();
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        down.retain(|_, until| *until > now);
        nodes.extend(down.keys().cloned());
        nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hedge_delay_follows_the_nodes_latency() {
        let health = NodeHealth::default();
        let node: Arc<str> = Arc::from("n1");
        let ceiling = Duration::from_secs(5);
        assert_eq!(health.hedge_delay("n1", ceiling), FIRST_HEDGE_DELAY);
        for _ in 0..200 {
            health.record_latency(&node, Duration::from_millis(20));
        }
        let steady = health.hedge_delay("n1", ceiling);
        assert!(
            steady >= Duration::from_millis(20) && steady < Duration::from_millis(25),
            "a steady node is hedged just above its latency: {steady:?}"
        );
        health.record_latency(&node, Duration::from_millis(400));
        assert!(
            health.hedge_delay("n1", ceiling) > steady,
            "a spike widens the delay"
        );
        assert_eq!(
            health.hedge_delay("n1", Duration::from_millis(1)),
            Duration::from_millis(1),
            "never past the ceiling"
        );
        for _ in 0..200 {
            health.record_latency(&node, Duration::ZERO);
        }
        assert_eq!(health.hedge_delay("n1", ceiling), MIN_HEDGE_DELAY);
    }

    #[test]
    fn costs_need_enough_fresh_answers() {
        let mut health = NodeHealth::default();
        let (fast, slow): (Arc<str>, Arc<str>) = (Arc::from("fast"), Arc::from("slow"));
        for _ in 1..MIN_SAMPLES {
            health.record_latency(&fast, Duration::from_millis(4));
            health.record_latency(&slow, Duration::from_millis(40));
        }
        assert!(health.costs().is_empty(), "too few answers to judge");
        health.record_latency(&fast, Duration::from_millis(4));
        health.record_latency(&slow, Duration::from_millis(40));
        let costs = health.costs();
        assert!((costs[&fast] - 0.004).abs() < 1e-9, "{costs:?}");
        assert!((costs[&slow] - 0.040).abs() < 1e-9, "{costs:?}");
        // A latency older than the staleness limit is forgotten: the next answer
        // starts a new mean, which needs enough answers again.
        health.stale = Duration::ZERO;
        assert!(health.costs().is_empty());
        health.record_latency(&slow, Duration::from_millis(4));
        health.stale = STALE_LATENCY;
        assert_eq!(health.costs().get(&slow), None);
        assert_eq!(
            health.hedge_delay("slow", Duration::from_secs(1)),
            Duration::from_millis(12)
        );
    }

    #[test]
    fn a_failed_node_is_avoided_until_its_hold_expires() {
        let health = NodeHealth::new(Duration::ZERO);
        let node: Arc<str> = Arc::from("n1");
        health.mark_down(&node);
        assert!(
            health.down_nodes().is_empty(),
            "a zero hold expires at once"
        );
        let health = NodeHealth::new(Duration::from_secs(3600));
        health.mark_down(&node);
        assert_eq!(health.down_nodes(), BTreeSet::from([node.clone()]));
        health.mark_up("n1");
        assert!(health.down_nodes().is_empty());
    }

    #[test]
    fn checks_flip_a_node_only_after_consecutive_outcomes() {
        let thresholds = miroir_conf::HealthCheck {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            unhealthy_threshold: 3,
            healthy_threshold: 2,
        };
        let health = NodeHealth::new(Duration::ZERO);
        let node: Arc<str> = Arc::from("n1");
        let mut outcomes = Vec::new();
        for ok in [
            false, false, true, false, false, false, false, true, false, true, true, true,
        ] {
            outcomes.push((
                health.record_check(&node, ok, &thresholds),
                health.down_nodes().len(),
            ));
        }
        assert_eq!(
            outcomes,
            vec![
                (None, 0),
                (None, 0),
                (None, 0),
                (None, 0),
                (None, 0),
                (Some(Flip::Unhealthy), 1),
                (None, 1),
                (None, 1),
                (None, 1),
                (None, 1),
                (Some(Flip::Healthy), 0),
                (None, 0),
            ]
        );
        health.record_check(&node, false, &thresholds);
        health.record_check(&node, false, &thresholds);
        health.record_check(&node, false, &thresholds);
        assert_eq!(health.unhealthy_nodes(), BTreeSet::from([node.clone()]));
        health.mark_up("n1");
        assert_eq!(
            health.down_nodes(),
            BTreeSet::from([node.clone()]),
            "an answered request does not overrule the checks"
        );
        health.retain_checks(|id| id != "n1");
        assert!(
            health.down_nodes().is_empty(),
            "a removed node is forgotten"
        );
    }
}
