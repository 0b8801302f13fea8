//! Write quorum (DESIGN.md §3): a routed write succeeds only if, for every shard it
//! touched, at least one replica group had `floor(RF/2)+1` of that shard's owners
//! accept it. Anything less is `miroir_no_quorum`, never a success. A write that made
//! quorum while some owner did not accept it is answered with `X-Miroir-Degraded`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The owners of one shard in each replica group, as the write was planned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShardPlan {
    /// Group name → node ids that own the shard there.
    pub groups: BTreeMap<Arc<str>, Vec<Arc<str>>>,
}

/// The verdict on a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumVerdict {
    /// Every shard reached quorum in some group and every owner accepted.
    Complete,
    /// Every shard reached quorum in some group, but these owners did not accept.
    Degraded { missing: BTreeSet<Arc<str>> },
    /// These shards reached quorum in no group.
    NoQuorum { shards: Vec<u32> },
}

/// Nodes needed in one group for a shard written to `rf` owners there.
pub fn quorum_size(rf: usize) -> usize {
    rf / 2 + 1
}

/// Judge a write from its plan and the nodes that accepted their part.
pub fn judge(
    plan: &BTreeMap<u32, ShardPlan>,
    accepted: &BTreeSet<Arc<str>>,
    rf: usize,
) -> QuorumVerdict {
    let needed = quorum_size(rf);
    let mut failed = Vec::new();
    let mut missing = BTreeSet::new();
    for (shard, shard_plan) in plan {
        let mut reached = false;
        for owners in shard_plan.groups.values() {
            let acks = owners
                .iter()
                .filter(|node| accepted.contains(*node))
                .count();
            // A group smaller than RF (a degraded topology) still needs a majority of
            // the owners it has.
            let group_needed = needed.min(quorum_size(owners.len()));
            if acks >= group_needed && !owners.is_empty() {
                reached = true;
            }
            missing.extend(
                owners
                    .iter()
                    .filter(|node| !accepted.contains(*node))
                    .cloned(),
            );
        }
        if !reached {
            failed.push(*shard);
        }
    }
    if !failed.is_empty() {
        QuorumVerdict::NoQuorum { shards: failed }
    } else if missing.is_empty() {
        QuorumVerdict::Complete
    } else {
        QuorumVerdict::Degraded { missing }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<Arc<str>> {
        names.iter().map(|n| Arc::from(*n)).collect()
    }

    type Groups<'a> = &'a [(&'a str, &'a [&'a str])];

    fn plan(entries: &[(u32, Groups<'_>)]) -> BTreeMap<u32, ShardPlan> {
        entries
            .iter()
            .map(|(shard, groups)| {
                let groups = groups
                    .iter()
                    .map(|(g, owners)| (Arc::from(*g), ids(owners)))
                    .collect();
                (*shard, ShardPlan { groups })
            })
            .collect()
    }

    fn accepted(names: &[&str]) -> BTreeSet<Arc<str>> {
        ids(names).into_iter().collect()
    }

    #[test]
    fn quorum_is_a_majority_of_rf() {
        assert_eq!(quorum_size(1), 1);
        assert_eq!(quorum_size(2), 2);
        assert_eq!(quorum_size(3), 2);
    }

    #[test]
    fn every_owner_accepting_is_complete() {
        let p = plan(&[(0, &[("a", &["n1", "n2"])]), (1, &[("a", &["n2", "n3"])])]);
        assert_eq!(
            judge(&p, &accepted(&["n1", "n2", "n3"]), 2),
            QuorumVerdict::Complete
        );
    }

    #[test]
    fn a_shard_below_quorum_in_every_group_fails_the_write() {
        let p = plan(&[(0, &[("a", &["n1", "n2"])]), (1, &[("a", &["n2", "n3"])])]);
        assert_eq!(
            judge(&p, &accepted(&["n1", "n2"]), 2),
            QuorumVerdict::NoQuorum { shards: vec![1] }
        );
    }

    #[test]
    fn one_group_reaching_quorum_is_enough_but_degraded() {
        let p = plan(&[(0, &[("a", &["n1"]), ("b", &["m1"])])]);
        assert_eq!(
            judge(&p, &accepted(&["m1"]), 1),
            QuorumVerdict::Degraded {
                missing: ids(&["n1"]).into_iter().collect()
            }
        );
    }

    #[test]
    fn rf3_tolerates_one_missing_owner() {
        let p = plan(&[(0, &[("a", &["n1", "n2", "n3"])])]);
        assert!(matches!(
            judge(&p, &accepted(&["n1", "n3"]), 3),
            QuorumVerdict::Degraded { .. }
        ));
        assert_eq!(
            judge(&p, &accepted(&["n3"]), 3),
            QuorumVerdict::NoQuorum { shards: vec![0] }
        );
    }
}
