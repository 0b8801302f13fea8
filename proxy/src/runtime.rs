//! The proxy's compiled view of the configuration: what one request needs, ready to
//! use. Built once per configuration load and swapped atomically on reload; a request
//! loads it once when it starts and keeps that snapshot to the end.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use miroir_conf::{CoveringSet, RuntimeConfig, Topology};

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
    /// The routing view of the groups.
    pub topology: Topology,
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
    /// Compile the proxy's view of a validated configuration.
    pub fn from_config(config: &RuntimeConfig) -> Self {
        let nodes: BTreeMap<Arc<str>, Node> = config
            .nodes
            .iter()
            .map(|node| {
                let id: Arc<str> = Arc::from(node.id.as_str());
                let address = NodeAddress {
                    id: id.clone(),
                    authority: node.url.authority(),
                    tls: node.url.tls(),
                    host: node.url.host().to_owned(),
                };
                (
                    id,
                    Node {
                        address,
                        group: node.group.clone(),
                    },
                )
            })
            .collect();
        let groups = config
            .topology
            .groups()
            .iter()
            .map(|group| {
                (
                    group.name.clone(),
                    group.nodes.iter().map(|n| n.as_arc().clone()).collect(),
                )
            })
            .collect();
        Runtime {
            nodes,
            groups,
            topology: config.topology.clone(),
            default_shards: config.default_shards,
            replication_factor: config.replication_factor(),
            master_key: config
                .keys
                .master_key
                .as_ref()
                .map(|k| k.expose().to_owned()),
            node_master_key: config
                .keys
                .node_master_key
                .as_ref()
                .or(config.keys.master_key.as_ref())
                .map(|k| k.expose().to_owned()),
            max_body_bytes: usize::try_from(config.limits.max_body_bytes).unwrap_or(usize::MAX),
            limits: FanOutLimits {
                per_node: config.timeouts.node_request,
                overall: config.timeouts.request,
                concurrency: config.limits.fan_out_concurrency,
                connect: config.timeouts.connect,
            },
        }
    }

    /// Every node address, in id order.
    pub fn all_nodes(&self) -> impl Iterator<Item = &NodeAddress> {
        self.nodes.values().map(|node| &node.address)
    }

    /// The owners of a shard in the group named `group`.
    pub fn owners(&self, shard: u32, group: &str) -> Vec<Arc<str>> {
        match self.topology.owners(shard, group) {
            Some(owners) => owners.iter().map(|n| n.as_arc().clone()).collect(),
            None => Vec::new(),
        }
    }

    /// The first owner of a shard in the first group: the replica a single-node read
    /// goes to.
    pub fn first_owner(&self, shard: u32) -> Option<Arc<str>> {
        let (group, _) = self.groups.first()?;
        self.owners(shard, group).into_iter().next()
    }

    /// The nodes of the group named `group` that cover every shard of an index once.
    pub fn covering_set(&self, group: &str, shards: u32) -> Option<CoveringSet> {
        self.topology.covering_set(group, shards)
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
