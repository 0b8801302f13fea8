//! The Miroir control plane library. Today it holds the placement reports behind
//! `miroir-ctl locate` and `miroir-ctl topology`: where a document lives and how the
//! shards of an index spread over the nodes. Rebalancing, resharding and the daemon
//! are not built yet (see `docs/status.md`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use miroir_conf::routing::shard_for_pk;
use miroir_conf::RuntimeConfig;

/// Where one document lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Its shard.
    pub shard: u32,
    /// Its owners in every group, in group order then rendezvous order.
    pub owners: Vec<(String, Vec<String>)>,
}

/// Locate a document by its primary key string in an index of `shards` shards.
pub fn locate(config: &RuntimeConfig, primary_key: &str, shards: u32) -> Location {
    let shard = shard_for_pk(primary_key, shards);
    let owners = config
        .topology
        .groups()
        .iter()
        .map(|group| {
            let names = config
                .topology
                .owners(shard, &group.name)
                .map(|owners| owners.iter().map(|n| n.as_str().to_owned()).collect())
                .unwrap_or_default();
            (group.name.to_string(), names)
        })
        .collect();
    Location { shard, owners }
}

/// How many shards each node owns, per group, for an index of `shards` shards.
pub fn shard_counts(
    config: &RuntimeConfig,
    shards: u32,
) -> BTreeMap<String, BTreeMap<String, u32>> {
    let mut counts: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for group in config.topology.groups() {
        let per_node = counts.entry(group.name.to_string()).or_default();
        for node in &group.nodes {
            per_node.insert(node.as_str().to_owned(), 0);
        }
        for shard in 0..shards {
            for owner in config
                .topology
                .owners(shard, &group.name)
                .unwrap_or_default()
            {
                *per_node.entry(owner.as_str().to_owned()).or_default() += 1;
            }
        }
    }
    counts
}

/// The `topology` report: one line per node with its shard count.
pub fn topology_report(config: &RuntimeConfig, shards: u32) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{shards} shards, replication factor {}",
        config.replication_factor()
    );
    for (group, nodes) in shard_counts(config, shards) {
        let _ = writeln!(out, "group {group}:");
        for (node, count) in nodes {
            let _ = writeln!(out, "  {node}: {count} shards");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RuntimeConfig {
        miroir_conf::load_str(
            "nodes:\n  - { id: n1, url: \"http://127.0.0.1:7701\" }\n  - { id: n2, url: \"http://127.0.0.1:7702\" }\n  - { id: n3, url: \"http://127.0.0.1:7703\" }\nreplication_factor: 2\n",
        )
        .expect("valid")
    }

    #[test]
    fn a_document_lives_on_rf_owners_of_its_shard() {
        let location = locate(&config(), "1", 64);
        assert_eq!(location.shard, shard_for_pk("1", 64));
        assert_eq!(location.owners.len(), 1);
        assert_eq!(location.owners[0].1.len(), 2);
    }

    #[test]
    fn every_shard_is_counted_rf_times() {
        let counts = shard_counts(&config(), 64);
        let total: u32 = counts["default"].values().sum();
        assert_eq!(total, 128);
        assert_eq!(counts["default"].len(), 3);
    }
}
