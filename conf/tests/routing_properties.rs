//! Properties the routing functions promise (DESIGN.md §1): even load, minimal movement
//! when a group grows, and minimal movement when an index is resharded.

use miroir_conf::routing::{jump_consistent_hash, shard_for_pk};
use miroir_conf::{NodeId, ReplicaGroup, Topology};
use proptest::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

/// A deterministic stream of distinct-looking primary keys (splitmix64 of a counter).
fn keys(seed: u64, count: usize) -> impl Iterator<Item = String> {
    (0..count as u64).map(move |i| {
        let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        format!("doc-{z:016x}")
    })
}

#[test]
fn a_million_keys_spread_within_ten_percent_of_even_over_64_shards() {
    const SHARDS: u32 = 64;
    const KEYS: usize = 1_000_000;
    let mut counts = [0usize; SHARDS as usize];
    for pk in keys(7, KEYS) {
        counts[shard_for_pk(&pk, SHARDS) as usize] += 1;
    }
    let even = KEYS / SHARDS as usize;
    let (low, high) = (even * 9 / 10, even * 11 / 10);
    for (shard, &count) in counts.iter().enumerate() {
        assert!(
            (low..=high).contains(&count),
            "shard {shard} holds {count}, expected {low}..={high}"
        );
    }
}

fn group(name: &str, ids: &[String]) -> ReplicaGroup {
    ReplicaGroup {
        name: name.into(),
        nodes: ids.iter().map(|id| NodeId::from(id.as_str())).collect(),
    }
}

/// Shards used by the movement properties: large enough that the 20% allowance above
/// the expected S/(N+1) is many standard deviations wide.
const MOVE_SHARDS: u32 = 8192;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn adding_a_node_moves_about_one_share_of_its_groups_shards_and_nothing_elsewhere(
        ids in proptest::collection::hash_set("[a-z][a-z0-9-]{0,11}", 3..=9),
        rf in 1usize..=2,
    ) {
        let mut ids: Vec<String> = ids.into_iter().collect();
        let new_node = ids.pop().expect("at least 3 ids");
        // Upper case: the generated ids are lower case, so the groups never share an id.
        let other = vec!["OTHER-1".to_owned(), "OTHER-2".to_owned(), "OTHER-3".to_owned()];
        let before = Topology::new(vec![group("a", &ids), group("b", &other)], rf).expect("valid");
        let mut grown_ids = ids.clone();
        grown_ids.push(new_node.clone());
        let after = Topology::new(vec![group("a", &grown_ids), group("b", &other)], rf).expect("valid");

        let n = ids.len();
        let mut moved_replicas = 0usize;
        for shard in 0..MOVE_SHARDS {
            let old = before.owners(shard, "a").expect("group a");
            let new = after.owners(shard, "a").expect("group a");
            let lost: Vec<&NodeId> = old.iter().filter(|node| !new.contains(node)).collect();
            // Only the new node gains shards: whatever moved, moved to it.
            for node in new.iter().filter(|node| !old.contains(node)) {
                prop_assert_eq!(node.as_str(), new_node.as_str());
            }
            moved_replicas += lost.len();
            prop_assert_eq!(before.owners(shard, "b"), after.owners(shard, "b"));
        }
        // Each replica slot moves to the new node with probability 1/(N+1).
        let bound = 1.2 * rf as f64 * f64::from(MOVE_SHARDS) / (n + 1) as f64;
        prop_assert!(moved_replicas as f64 <= bound, "moved {} > {}", moved_replicas, bound);
    }

    #[test]
    fn growing_the_shard_count_moves_only_keys_that_land_in_new_shards(
        shards in 1u32..=2000,
        extra in 1u32..=2000,
        seed in any::<u64>(),
    ) {
        const KEYS: usize = 20_000;
        let grown = shards + extra;
        let mut moved = 0usize;
        for pk in keys(seed, KEYS) {
            let hash = xxh3_64(pk.as_bytes());
            let (old, new) = (jump_consistent_hash(hash, shards), jump_consistent_hash(hash, grown));
            if old != new {
                moved += 1;
                prop_assert!(new >= shards, "key {} moved from {} to old shard {}", pk, old, new);
            }
        }
        let expected = f64::from(extra) / f64::from(grown);
        let fraction = moved as f64 / KEYS as f64;
        prop_assert!((fraction - expected).abs() <= 0.02, "moved {} of keys, expected {}", fraction, expected);
    }
}
