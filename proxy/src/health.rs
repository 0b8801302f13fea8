//! What the proxy knows about node health from its own traffic: a node that failed to
//! answer is avoided for a short while, then tried again. Reads go to another owner of
//! the same shard meanwhile; writes are judged by quorum and are never rerouted.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a node that failed is avoided before it is tried again.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(5);

/// Nodes recently seen failing.
#[derive(Debug)]
pub struct NodeHealth {
    down_until: Mutex<HashMap<Arc<str>, Instant>>,
    hold: Duration,
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
        }
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
