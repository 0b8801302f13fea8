//! Topology: the replica groups, their nodes and the replication factor, and the
//! questions routing asks of them — who owns a shard in a group, which nodes a write
//! goes to, and which nodes a search over one group must touch.
//!
//! The answers come from [`crate::routing`]; this module only applies them to a
//! validated set of groups. A [`Topology`] is immutable: a change (a node added or
//! drained) builds a new one.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::routing::rendezvous_owners;

/// A node's id: its stable identity in routing. Renaming a node moves its shards.
///
/// Cheap to clone (a shared string). Ordered byte-wise, like the rendezvous tie rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(Arc<str>);

impl NodeId {
    /// Wrap an id. Validation of the characters is the configuration's job.
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        NodeId(id.into())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared string, for callers that key maps by `Arc<str>`.
    pub fn as_arc(&self) -> &Arc<str> {
        &self.0
    }
}

impl AsRef<str> for NodeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for NodeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for NodeId {
    fn from(id: &str) -> Self {
        NodeId(id.into())
    }
}

/// The owners of one shard in one group, best rendezvous score first. Inline up to 4,
/// which covers every sensible replication factor without allocating.
pub type Owners = SmallVec<[NodeId; 4]>;

/// A replica group: a set of nodes that together hold every shard `rf` times. A search
/// needs only one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaGroup {
    /// The group's name from the configuration (numbers are written in decimal).
    pub name: Arc<str>,
    /// The group's nodes, in configuration order. Order does not affect routing.
    pub nodes: Vec<NodeId>,
}

impl ReplicaGroup {
    /// The `rf` owners of `shard` in this group, best first (see
    /// [`crate::routing::rendezvous_order`] for the exact order).
    pub fn owners(&self, shard: u32, rf: usize) -> Owners {
        rendezvous_owners(shard, &self.nodes, rf)
            .into_iter()
            .cloned()
            .collect()
    }
}

/// The owners of a shard in one group: one entry of [`Topology::write_targets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOwners {
    /// The group's name.
    pub group: Arc<str>,
    /// The shard's owners in that group, best first.
    pub owners: Owners,
}

/// The nodes a search over one group must ask, and for which shards: every shard of the
/// request appears exactly once, on its first owner in rendezvous order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoveringSet {
    assignments: BTreeMap<NodeId, Vec<u32>>,
}

impl CoveringSet {
    /// Each node with its shards in ascending order; nodes in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &[u32])> {
        self.assignments
            .iter()
            .map(|(node, shards)| (node, shards.as_slice()))
    }

    /// The shards assigned to `node`, if it is in the set.
    pub fn shards_of(&self, node: &str) -> Option<&[u32]> {
        self.assignments.get(node).map(Vec::as_slice)
    }

    /// How many nodes the search touches.
    pub fn len(&self) -> usize {
        self.assignments.len()
    }

    /// Whether no node is needed (no shards were asked for).
    pub fn is_empty(&self) -> bool {
        self.assignments.is_empty()
    }

    /// Consume into the node → shards map.
    pub fn into_map(self) -> BTreeMap<NodeId, Vec<u32>> {
        self.assignments
    }
}

/// Why a set of groups is not a usable topology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    /// There is no group at all.
    #[error("a topology needs at least one replica group")]
    NoGroups,
    /// The replication factor is 0.
    #[error("the replication factor must be at least 1")]
    ZeroReplicationFactor,
    /// Two groups share a name.
    #[error("group {0:?} appears twice")]
    DuplicateGroup(String),
    /// A node id appears twice (in one group or across groups).
    #[error("node {0:?} appears twice")]
    DuplicateNode(String),
    /// A group has fewer nodes than the replication factor.
    #[error("group {group:?} has {nodes} nodes, fewer than the replication factor {rf}")]
    GroupTooSmall {
        /// The group.
        group: String,
        /// Its node count.
        nodes: usize,
        /// The replication factor.
        rf: usize,
    },
}

/// The replica groups and the replication factor, validated: at least one group, no
/// duplicate group names or node ids, and every group has at least `rf >= 1` nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    groups: Vec<ReplicaGroup>,
    rf: usize,
}

impl Topology {
    /// Build a topology from its groups (in the order searches should prefer them) and
    /// the replication factor.
    ///
    /// # Errors
    /// The first [`TopologyError`] found. The configuration loader reports these
    /// problems itself with field paths; this check guards other builders (the control
    /// plane's topology changes).
    pub fn new(groups: Vec<ReplicaGroup>, rf: usize) -> Result<Self, TopologyError> {
        if groups.is_empty() {
            return Err(TopologyError::NoGroups);
        }
        if rf == 0 {
            return Err(TopologyError::ZeroReplicationFactor);
        }
        let mut names = std::collections::BTreeSet::new();
        let mut ids = std::collections::BTreeSet::new();
        for group in &groups {
            if !names.insert(group.name.clone()) {
                return Err(TopologyError::DuplicateGroup(group.name.to_string()));
            }
            for node in &group.nodes {
                if !ids.insert(node.clone()) {
                    return Err(TopologyError::DuplicateNode(node.to_string()));
                }
            }
            if group.nodes.len() < rf {
                return Err(TopologyError::GroupTooSmall {
                    group: group.name.to_string(),
                    nodes: group.nodes.len(),
                    rf,
                });
            }
        }
        Ok(Topology { groups, rf })
    }

    /// The groups, in configuration order.
    pub fn groups(&self) -> &[ReplicaGroup] {
        &self.groups
    }

    /// The replication factor: owners of each shard inside each group.
    pub fn rf(&self) -> usize {
        self.rf
    }

    /// The group named `name`.
    pub fn group(&self, name: &str) -> Option<&ReplicaGroup> {
        self.groups.iter().find(|group| &*group.name == name)
    }

    /// The group that holds `node`.
    pub fn group_of(&self, node: &str) -> Option<&ReplicaGroup> {
        self.groups
            .iter()
            .find(|group| group.nodes.iter().any(|id| id.as_str() == node))
    }

    /// The `rf` owners of `shard` in the group named `group`, best first; `None` when
    /// there is no such group.
    pub fn owners(&self, shard: u32, group: &str) -> Option<Owners> {
        self.group(group).map(|group| group.owners(shard, self.rf))
    }

    /// Where a write to `shard` goes: its owners in every group, groups in
    /// configuration order.
    pub fn write_targets(&self, shard: u32) -> SmallVec<[GroupOwners; 2]> {
        self.groups
            .iter()
            .map(|group| GroupOwners {
                group: group.name.clone(),
                owners: group.owners(shard, self.rf),
            })
            .collect()
    }

    /// The covering set of a search over every shard `0..shard_count` of an index in
    /// the group named `group`; `None` when there is no such group.
    pub fn covering_set(&self, group: &str, shard_count: u32) -> Option<CoveringSet> {
        self.covering_set_for(group, 0..shard_count)
    }

    /// The covering set of a search over the given shards only (a primary-key filter
    /// narrowed the fan-out); `None` when there is no such group. Repeated shards are
    /// assigned once.
    pub fn covering_set_for(
        &self,
        group: &str,
        shards: impl IntoIterator<Item = u32>,
    ) -> Option<CoveringSet> {
        let group = self.group(group)?;
        let mut assignments: BTreeMap<NodeId, Vec<u32>> = BTreeMap::new();
        let mut wanted: Vec<u32> = shards.into_iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        for shard in wanted {
            let first = rendezvous_owners(shard, &group.nodes, 1)
                .into_iter()
                .next()
                .expect("Topology::new guarantees every group has at least rf >= 1 nodes");
            assignments.entry(first.clone()).or_default().push(shard);
        }
        Some(CoveringSet { assignments })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, nodes: &[&str]) -> ReplicaGroup {
        ReplicaGroup {
            name: name.into(),
            nodes: nodes.iter().map(|id| NodeId::from(*id)).collect(),
        }
    }

    fn ids(owners: &[NodeId]) -> Vec<&str> {
        owners.iter().map(NodeId::as_str).collect()
    }

    #[test]
    fn refuses_a_group_smaller_than_rf() {
        assert_eq!(
            Topology::new(
                vec![group("a", &["n1", "n2", "n3"]), group("b", &["m1", "m2"])],
                3
            ),
            Err(TopologyError::GroupTooSmall {
                group: "b".into(),
                nodes: 2,
                rf: 3
            })
        );
    }

    #[test]
    fn refuses_a_node_in_two_groups() {
        assert_eq!(
            Topology::new(vec![group("a", &["n1"]), group("b", &["n1"])], 1),
            Err(TopologyError::DuplicateNode("n1".into()))
        );
    }

    #[test]
    fn refuses_duplicate_groups_zero_rf_and_no_groups() {
        assert_eq!(
            Topology::new(vec![group("a", &["n1"]), group("a", &["n2"])], 1),
            Err(TopologyError::DuplicateGroup("a".into()))
        );
        assert_eq!(
            Topology::new(vec![group("a", &["n1"])], 0),
            Err(TopologyError::ZeroReplicationFactor)
        );
        assert_eq!(Topology::new(vec![], 1), Err(TopologyError::NoGroups));
    }

    #[test]
    fn owners_of_an_unknown_group_is_none() {
        let topology = Topology::new(vec![group("a", &["n1"])], 1).expect("valid");
        assert_eq!(topology.owners(0, "b"), None);
        assert_eq!(topology.covering_set("b", 4), None);
    }

    #[test]
    fn write_targets_name_the_owners_in_every_group() {
        let topology = Topology::new(
            vec![
                group("a", &["n1", "n2", "n3"]),
                group("b", &["m1", "m2", "m3"]),
            ],
            2,
        )
        .expect("valid");
        let targets = topology.write_targets(5);
        assert_eq!(targets.len(), 2);
        assert_eq!(&*targets[0].group, "a");
        assert_eq!(Some(targets[0].owners.clone()), topology.owners(5, "a"));
        assert_eq!(&*targets[1].group, "b");
        assert_eq!(Some(targets[1].owners.clone()), topology.owners(5, "b"));
        assert_eq!(targets[1].owners.len(), 2);
    }

    #[test]
    fn covering_set_touches_each_shard_once_on_its_first_owner() {
        let topology =
            Topology::new(vec![group("a", &["n1", "n2", "n3", "n4", "n5"])], 2).expect("valid");
        let covering = topology.covering_set("a", 64).expect("group exists");
        let mut seen: Vec<u32> = covering
            .iter()
            .flat_map(|(_, shards)| shards.to_vec())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..64).collect::<Vec<u32>>());
        for (node, shards) in covering.iter() {
            for &shard in shards {
                let owners = topology.owners(shard, "a").expect("group exists");
                assert_eq!(&owners[0], node, "shard {shard}");
            }
        }
    }

    #[test]
    fn covering_set_for_some_shards_dedups_and_sorts() {
        let topology = Topology::new(vec![group("a", &["n1"])], 1).expect("valid");
        let covering = topology
            .covering_set_for("a", [9, 2, 9])
            .expect("group exists");
        assert_eq!(covering.len(), 1);
        assert_eq!(covering.shards_of("n1"), Some(&[2, 9][..]));
    }

    #[test]
    fn covering_set_of_no_shards_is_empty() {
        let topology = Topology::new(vec![group("a", &["n1"])], 1).expect("valid");
        assert!(topology
            .covering_set("a", 0)
            .expect("group exists")
            .is_empty());
    }

    #[test]
    fn group_of_finds_the_nodes_group() {
        let topology =
            Topology::new(vec![group("a", &["n1"]), group("b", &["m1"])], 1).expect("valid");
        assert_eq!(topology.group_of("m1").map(|g| &*g.name), Some("b"));
        assert_eq!(topology.group_of("zz"), None);
        assert_eq!(
            ids(&topology.owners(0, "b").expect("group exists")),
            vec!["m1"]
        );
    }
}
