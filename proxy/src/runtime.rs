//! The proxy's compiled view of the configuration: what one request needs, ready to
//! use. Built once per configuration load and swapped atomically on reload; a request
//! loads it once when it starts and keeps that snapshot to the end.

use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// The nodes a read asks and the shards each answers for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadPlan {
    /// Node → the shards it answers for.
    pub by_node: BTreeMap<Arc<str>, Vec<u32>>,
    /// Shards no reachable node holds.
    pub uncovered: Vec<u32>,
    /// Whether nodes must be narrowed to their shards with a `_miroir_shard` filter
    /// (some node holds shards another node answers for).
    pub restrict: bool,
}

/// The nodes one read avoids: those suspected when it started (recently failed, or
/// unhealthy by their checks) and those that failed during it. A suspected node is
/// still asked when only suspected nodes hold some shard: a doubtful answer beats a
/// certain `miroir_shard_unavailable`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Avoid {
    suspected: BTreeSet<Arc<str>>,
    failed: BTreeSet<Arc<str>>,
    costs: HashMap<Arc<str>, f64>,
}

/// A shard's first live owner is passed over for a faster one only when it costs more
/// than this many times the faster one's cost ...
const SLOWER_FACTOR: f64 = 2.0;
/// ... plus this many seconds: small absolute differences are noise.
const SLOWER_MARGIN: f64 = 0.005;

impl Avoid {
    /// Start a read that avoids `suspected` nodes.
    pub fn new(suspected: BTreeSet<Arc<str>>) -> Self {
        Avoid {
            suspected,
            failed: BTreeSet::new(),
            costs: HashMap::new(),
        }
    }

    /// Prefer fast nodes: `costs` (see `NodeHealth::costs`) moves a shard from its
    /// first live owner to a clearly cheaper live owner.
    pub fn with_costs(mut self, costs: HashMap<Arc<str>, f64>) -> Self {
        self.costs = costs;
        self
    }

    /// `node` failed during this read: it is not asked again.
    pub fn fail(&mut self, node: Arc<str>) {
        self.failed.insert(node);
    }

    /// Every node avoided when it can be.
    pub fn all(&self) -> BTreeSet<Arc<str>> {
        self.suspected.union(&self.failed).cloned().collect()
    }

    /// The nodes that failed during this read.
    pub fn failed(&self) -> &BTreeSet<Arc<str>> {
        &self.failed
    }
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
    /// How often and how strictly the nodes' `GET /health` is checked.
    pub health_check: miroir_conf::HealthCheck,
    /// The admin API's key (required by validation when `admin_listen` is set).
    pub admin_key: Option<String>,
    /// Tasks kept in the registry before the oldest finished ones are deleted.
    pub max_tasks: u64,
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
            health_check: config.health_check,
            max_tasks: config.limits.max_tasks,
            admin_key: config
                .keys
                .admin_key
                .as_ref()
                .map(|k| k.expose().to_owned()),
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

    /// The nodes of the group named `group` that cover every shard of an index once.
    pub fn covering_set(&self, group: &str, shards: u32) -> Option<CoveringSet> {
        self.topology.covering_set(group, shards)
    }

    /// The node that answers for `shard` in a read: its first owner in rendezvous order
    /// that is not `excluded`, in the first group, then in the next ones.
    pub fn read_owner(&self, shard: u32, excluded: &BTreeSet<Arc<str>>) -> Option<Arc<str>> {
        self.groups.iter().find_map(|(group, _)| {
            self.owners(shard, group)
                .into_iter()
                .find(|n| !excluded.contains(n))
        })
    }

    /// [`Runtime::read_owner`] avoiding the nodes of `avoid`, its suspected nodes only
    /// when another owner is left.
    pub fn read_owner_avoiding(&self, shard: u32, avoid: &Avoid) -> Option<Arc<str>> {
        self.cheap_owner(shard, &avoid.all(), &avoid.costs)
            .or_else(|| self.cheap_owner(shard, avoid.failed(), &avoid.costs))
    }

    /// The node that answers for `shard`: its first owner not `excluded` (first group
    /// first), unless another live owner is clearly cheaper by `costs`.
    fn cheap_owner(
        &self,
        shard: u32,
        excluded: &BTreeSet<Arc<str>>,
        costs: &HashMap<Arc<str>, f64>,
    ) -> Option<Arc<str>> {
        let candidates: Vec<Arc<str>> = self
            .groups
            .iter()
            .flat_map(|(group, _)| self.owners(shard, group))
            .filter(|n| !excluded.contains(n))
            .collect();
        let first = candidates.first()?.clone();
        let Some(first_cost) = costs.get(&first) else {
            return Some(first);
        };
        let cheapest = candidates
            .iter()
            .filter_map(|n| costs.get(n).map(|cost| (n, *cost)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match cheapest {
            Some((node, cost)) if cost * SLOWER_FACTOR + SLOWER_MARGIN < *first_cost => {
                Some(node.clone())
            }
            _ => Some(first),
        }
    }

    /// [`Runtime::plan_reads`] avoiding the nodes of `avoid`; its suspected nodes are
    /// asked when the other nodes leave some shards uncovered.
    pub fn plan_reads_avoiding(&self, shards: u32, avoid: &Avoid) -> ReadPlan {
        let plan = self.plan_costed(0..shards, &avoid.all(), &avoid.costs);
        if plan.uncovered.is_empty() || avoid.suspected.is_subset(&avoid.failed) {
            return plan;
        }
        self.plan_costed(0..shards, avoid.failed(), &avoid.costs)
    }

    /// Which node answers for which shard in a read, avoiding `excluded` nodes: each
    /// shard goes to its first owner in rendezvous order in the first group, then in
    /// the next groups.
    pub fn plan_reads(&self, shards: u32, excluded: &BTreeSet<Arc<str>>) -> ReadPlan {
        self.plan_shards(0..shards, excluded)
    }

    /// [`Runtime::plan_reads`] for some shards only (a hedge for one node's share).
    pub fn plan_shards(
        &self,
        shards: impl IntoIterator<Item = u32>,
        excluded: &BTreeSet<Arc<str>>,
    ) -> ReadPlan {
        self.plan_costed(shards, excluded, &HashMap::new())
    }

    fn plan_costed(
        &self,
        shards: impl IntoIterator<Item = u32>,
        excluded: &BTreeSet<Arc<str>>,
        costs: &HashMap<Arc<str>, f64>,
    ) -> ReadPlan {
        let mut plan = ReadPlan {
            restrict: self.replication_factor > 1,
            ..ReadPlan::default()
        };
        for shard in shards {
            match self.cheap_owner(shard, excluded, costs) {
                Some(node) => plan.by_node.entry(node).or_default().push(shard),
                None => plan.uncovered.push(shard),
            }
        }
        // A node answering for a shard of another group's share holds more shards than
        // it answers for: narrow every node then.
        let first_group = self.groups.first().map(|(name, _)| name);
        if plan
            .by_node
            .keys()
            .any(|n| self.nodes.get(n).map(|node| &node.group) != first_group)
        {
            plan.restrict = true;
        }
        plan
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

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime(rf: u32) -> Runtime {
        let yaml = format!(
            "nodes:\n  - {{ id: n0, url: \"http://127.0.0.1:7701\" }}\n  - {{ id: n1, url: \"http://127.0.0.1:7702\" }}\n  - {{ id: n2, url: \"http://127.0.0.1:7703\" }}\nshards: 16\nreplication_factor: {rf}\n"
        );
        Runtime::from_config(&miroir_conf::load_str(&yaml).expect("valid config"))
    }

    fn covered(plan: &ReadPlan) -> Vec<u32> {
        let mut shards: Vec<u32> = plan.by_node.values().flatten().copied().collect();
        shards.sort_unstable();
        shards
    }

    #[test]
    fn a_clearly_slower_first_owner_gives_its_shards_to_a_faster_copy() {
        let rt = runtime(2);
        let costs = |n0: f64, n1: f64, n2: f64| {
            HashMap::from([
                (Arc::from("n0"), n0),
                (Arc::from("n1"), n1),
                (Arc::from("n2"), n2),
            ])
        };
        let plain = rt.plan_reads(16, &BTreeSet::new());
        let plan_with = |costs| rt.plan_reads_avoiding(16, &Avoid::default().with_costs(costs));
        // Unknown or close latencies keep the first owner of every shard.
        assert_eq!(plan_with(HashMap::new()), plain);
        assert_eq!(plan_with(costs(0.010, 0.004, 0.004)), plain);
        // n0 more than twice as slow (plus 5 ms): none of its shards is read from it.
        let plan = plan_with(costs(0.030, 0.004, 0.004));
        assert!(plain.by_node.contains_key("n0"));
        assert!(!plan.by_node.contains_key("n0"));
        assert_eq!(covered(&plan), (0..16).collect::<Vec<_>>());
        assert!(plan.restrict);
        // A node whose latency is unknown is not preferred: with n1 unknown, n0 keeps
        // the shards it shares with n1 only.
        let mut partial = costs(0.030, 0.004, 0.004);
        partial.remove("n1");
        let plan = plan_with(partial);
        assert_eq!(covered(&plan), (0..16).collect::<Vec<_>>());
        let kept: Vec<u32> = plain.by_node["n0"]
            .iter()
            .copied()
            .filter(|s| !rt.owners(*s, "default").iter().any(|n| &**n == "n2"))
            .collect();
        assert_eq!(plan.by_node.get("n0").cloned().unwrap_or_default(), kept);
    }

    #[test]
    fn suspected_nodes_are_asked_only_for_shards_nobody_else_holds() {
        let n0: Arc<str> = Arc::from("n0");
        // Two copies: the other owners cover n0's shards.
        let avoid = Avoid::new(BTreeSet::from([n0.clone()]));
        let plan = runtime(2).plan_reads_avoiding(16, &avoid);
        assert_eq!(covered(&plan), (0..16).collect::<Vec<_>>());
        assert!(!plan.by_node.contains_key(&n0));
        // One copy: n0 alone holds some shards, so it is asked after all ...
        let rf1 = runtime(1);
        let plan = rf1.plan_reads_avoiding(16, &avoid);
        assert_eq!(covered(&plan), (0..16).collect::<Vec<_>>());
        assert!(plan.by_node.contains_key(&n0));
        let shard = plan.by_node[&n0][0];
        assert_eq!(rf1.read_owner_avoiding(shard, &avoid), Some(n0.clone()));
        // ... unless it failed during this read.
        let mut avoid = avoid;
        avoid.fail(n0.clone());
        let plan = rf1.plan_reads_avoiding(16, &avoid);
        assert!(!plan.uncovered.is_empty());
        assert!(!plan.by_node.contains_key(&n0));
        assert_eq!(rf1.read_owner_avoiding(shard, &avoid), None);
    }

    #[test]
    fn one_copy_per_group_needs_no_shard_filter() {
        let plan = runtime(1).plan_reads(16, &BTreeSet::new());
        assert_eq!(covered(&plan), (0..16).collect::<Vec<_>>());
        assert!(!plan.restrict);
        assert!(plan.uncovered.is_empty());
    }

    #[test]
    fn reads_fall_back_to_another_owner_of_the_same_shard() {
        let rt = runtime(2);
        let all = rt.plan_reads(16, &BTreeSet::new());
        assert!(
            all.restrict,
            "with two copies in the group, nodes hold shards they do not answer for"
        );
        let without_n0 = rt.plan_reads(16, &BTreeSet::from([Arc::from("n0")]));
        assert_eq!(covered(&without_n0), (0..16).collect::<Vec<_>>());
        assert!(!without_n0.by_node.contains_key("n0"));
        let without_two = rt.plan_reads(16, &BTreeSet::from([Arc::from("n0"), Arc::from("n1")]));
        let lost: Vec<u32> = (0..16)
            .filter(|s| rt.owners(*s, "default").iter().all(|n| &**n != "n2"))
            .collect();
        assert_eq!(
            without_two.uncovered, lost,
            "shards held only by the two excluded nodes"
        );
    }

    #[test]
    fn one_copy_lost_is_one_shard_set_unavailable() {
        let rt = runtime(1);
        let plan = rt.plan_reads(16, &BTreeSet::from([Arc::from("n1")]));
        let lost: Vec<u32> = (0..16)
            .filter(|s| rt.owners(*s, "default") == vec![Arc::<str>::from("n1")])
            .collect();
        assert!(!lost.is_empty());
        assert_eq!(plan.uncovered, lost);
    }
}
