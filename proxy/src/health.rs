//! What the proxy knows about node health from its own traffic: a node that failed to
//! answer is avoided for a short while, then tried again. Reads go to another owner of
//! the same shard meanwhile; writes are judged by quorum and are never rerouted.
//!
//! Reads also teach the proxy how fast each node usually answers (an exponentially
//! weighted mean and mean deviation of its latency): a read that takes longer than the
//! node's usual high end is hedged (see [`NodeHealth::hedge_delay`]).

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

/// A node's latency: moving mean and mean absolute deviation, in seconds.
#[derive(Debug, Clone, Copy)]
struct Latency {
    mean: f64,
    deviation: f64,
}

/// Nodes recently seen failing, and how fast each node answers reads.
#[derive(Debug)]
pub struct NodeHealth {
    down_until: Mutex<HashMap<Arc<str>, Instant>>,
    hold: Duration,
    latency: Mutex<HashMap<Arc<str>, Latency>>,
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
        }
    }

    /// A node answered a read in `elapsed`.
    pub fn record_latency(&self, node: &Arc<str>, elapsed: Duration) {
        let sample = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        latency
            .entry(node.clone())
            .and_modify(|l| {
                let error = sample - l.mean;
                l.mean += LATENCY_WEIGHT * error;
                l.deviation += LATENCY_WEIGHT * (error.abs() - l.deviation);
            })
            .or_insert(Latency {
                mean: sample,
                deviation: sample / 2.0,
            });
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
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        down.insert(node.clone(), Instant::now() + self.hold);
    }

    /// A node answered.
    pub fn mark_up(&self, node: &str) {
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        down.remove(node);
    }

    /// The nodes to avoid now.
    pub fn down_nodes(&self) -> BTreeSet<Arc<str>> {
        let now = Instant::now();
        let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
        down.retain(|_, until| *until > now);
        down.keys().cloned().collect()
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
}
