//! The proxy's compiled view of the configuration: what one request needs, ready to
//! use. Built once per configuration load and swapped atomically on reload; a request
//! loads it once when it starts and keeps that snapshot to the end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::fanout::{FanOutLimits, NodeAddress};

/// One node as the proxy uses it.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where it listens.
    pub address: NodeAddress,
    /// The replica group it belongs to.
    pub group: Arc<str>,
}

/// Everything a request needs from the configuration.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Nodes by id, in id order.
    pub nodes: BTreeMap<Arc<str>, Node>,
    /// Replica groups in configuration order, each with its node ids.
    pub groups: Vec<(Arc<str>, Vec<Arc<str>>)>,
    /// Shards given to a new index.
    pub default_shards: u32,
    /// Nodes per group that hold each shard.
    pub replication_factor: usize,
    /// The client-facing master key, if any.
    pub master_key: Option<String>,
    /// The key Miroir uses on its own calls to the nodes.
    pub node_master_key: Option<String>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Deadlines and concurrency of fan-outs.
    pub limits: FanOutLimits,
}

impl Runtime {
    /// The node ids of one group.
    pub fn group_nodes(&self, group: &str) -> &[Arc<str>] {
        self.groups
            .iter()
            .find(|(name, _)| &**name == group)
            .map(|(_, nodes)| nodes.as_slice())
            .unwrap_or(&[])
    }

    /// Every node address, in id order.
    pub fn all_nodes(&self) -> impl Iterator<Item = &NodeAddress> {
        self.nodes.values().map(|node| &node.address)
    }

    /// The `Authorization` header value for Miroir's own calls to nodes.
    pub fn node_authorization(&self) -> Option<String> {
        self.node_master_key
            .as_ref()
            .map(|key| format!("Bearer {key}"))
    }

    /// How long one node may take on one subrequest.
    pub fn node_timeout(&self) -> Duration {
        self.limits.per_node
    }
}
