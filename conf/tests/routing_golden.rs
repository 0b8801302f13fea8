//! Golden vectors of the routing functions.
//!
//! CHANGING ANY VECTOR IN THIS FILE IS A DATA-LOSS BUG. Every document already stored
//! was placed by these exact functions; if a vector changes, existing documents are
//! looked for on the wrong shard or the wrong node. A failing test here means the code
//! is wrong, never the vector.
//!
//! The vectors were computed once with this implementation after checking its two
//! building blocks against independent published values: xxh3 against the xxHash
//! project's own sanity vectors, jump hash against the vectors published with a widely
//! used implementation of Lamping & Veach's algorithm and against a literal
//! transcription of the paper's reference code.

use miroir_conf::routing::{
    jump_consistent_hash, primary_key_string, rendezvous_owners, rendezvous_score, shard_for_pk,
};
use miroir_conf::{NodeId, ReplicaGroup, Topology};
use serde_json::json;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// xxHash's PRIME64_1, the seed of its seeded sanity vectors.
const XXH_PRIME64: u64 = 11_400_714_785_074_694_797;

#[test]
fn xxh3_matches_the_published_sanity_vectors() {
    // From the xxHash repository's sanity checks (empty input; one byte 0x00, which is
    // the first byte of its generated sanity buffer) and the common "abc" vector.
    assert_eq!(xxh3_64(b""), 0x2D06_8005_38D3_94C2);
    assert_eq!(xxh3_64_with_seed(b"", XXH_PRIME64), 0xA8A6_B918_B2F0_364A);
    assert_eq!(xxh3_64(&[0x00]), 0xC44B_DFF4_074E_ECDB);
    assert_eq!(xxh3_64(b"abc"), 0x78AF_5F94_892F_3950);
}

#[test]
fn jump_hash_matches_the_published_vectors() {
    // (key, buckets, bucket) as published with the go-jump implementation.
    for (key, buckets, bucket) in [
        (1u64, 1u32, 0u32),
        (42, 57, 43),
        (0xDEAD_10CC, 1, 0),
        (0xDEAD_10CC, 666, 361),
        (256, 1024, 520),
    ] {
        assert_eq!(
            jump_consistent_hash(key, buckets),
            bucket,
            "key {key} buckets {buckets}"
        );
    }
}

/// Lamping & Veach's reference code, transcribed literally (signed 64-bit state as in
/// the paper's C++), to cross-check ours on many keys.
fn paper_reference(mut key: u64, num_buckets: i32) -> i32 {
    let (mut b, mut j): (i64, i64) = (-1, 0);
    while j < i64::from(num_buckets) {
        b = j;
        key = key.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1i64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as i32
}

#[test]
fn jump_hash_agrees_with_the_papers_reference_code() {
    let mut key: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..20_000u32 {
        key = key
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let buckets = 1 + (round % 70_000);
        assert_eq!(
            i64::from(jump_consistent_hash(key, buckets)),
            i64::from(paper_reference(key, buckets as i32)),
            "key {key} buckets {buckets}"
        );
    }
}

/// (primary key, shard with S = 64, shard with S = 1000).
const PK_TO_SHARD: [(&str, u32, u32); 20] = [
    ("0", 55, 278),
    ("1", 36, 712),
    ("2", 49, 677),
    ("42", 28, 28),
    ("-1", 36, 817),
    ("18446744073709551615", 0, 287),
    ("doc-1", 25, 686),
    ("doc-2", 37, 879),
    ("user_123", 48, 161),
    ("ABC", 61, 175),
    ("abc", 2, 780),
    ("a", 14, 350),
    ("Z9", 24, 968),
    ("movie-287947", 32, 889),
    ("9780262033848", 48, 496),
    ("b5c4d3e2-f1a0-4b9c-8d7e-6f5a4b3c2d1e", 44, 449),
    ("x_y_z", 12, 12),
    ("1000000", 7, 563),
    ("-9223372036854775808", 29, 827),
    ("zz", 53, 949),
];

#[test]
fn primary_keys_map_to_pinned_shards_with_64_shards() {
    for (pk, shard_64, _) in PK_TO_SHARD {
        assert_eq!(shard_for_pk(pk, 64), shard_64, "pk {pk:?}");
    }
}

#[test]
fn primary_keys_map_to_pinned_shards_with_1000_shards() {
    for (pk, _, shard_1000) in PK_TO_SHARD {
        assert_eq!(shard_for_pk(pk, 1000), shard_1000, "pk {pk:?}");
    }
}

#[test]
fn integer_ids_route_like_their_decimal_strings() {
    for (value, pk) in [
        (json!(0), "0"),
        (json!(42), "42"),
        (json!(-1), "-1"),
        (json!(u64::MAX), "18446744073709551615"),
    ] {
        let canonical = primary_key_string(&value).expect("integers are valid ids");
        assert_eq!(canonical, pk);
        assert_eq!(shard_for_pk(&canonical, 64), shard_for_pk(pk, 64));
    }
}

#[test]
fn rendezvous_scores_are_pinned() {
    assert_eq!(rendezvous_score("n1", 0), 0xd733_a26d_d4b4_9b94);
    assert_eq!(rendezvous_score("n1", 7), 0xf6ee_c6b3_d95b_e154);
}

/// (shard, its two owners best first) in the group n1..n5 with RF = 2.
const SHARD_TO_OWNERS: [(u32, [&str; 2]); 10] = [
    (0, ["n3", "n4"]),
    (1, ["n1", "n2"]),
    (2, ["n1", "n2"]),
    (3, ["n1", "n5"]),
    (7, ["n1", "n2"]),
    (31, ["n5", "n3"]),
    (63, ["n2", "n4"]),
    (64, ["n3", "n4"]),
    (999, ["n2", "n1"]),
    (65535, ["n3", "n1"]),
];

#[test]
fn shards_map_to_pinned_owners_in_a_five_node_group_with_rf_2() {
    let nodes = ["n1", "n2", "n3", "n4", "n5"];
    for (shard, owners) in SHARD_TO_OWNERS {
        let got: Vec<&str> = rendezvous_owners(shard, &nodes, 2)
            .into_iter()
            .copied()
            .collect();
        assert_eq!(got, owners, "shard {shard}");
    }
}

#[test]
fn topology_owners_agree_with_the_pinned_vectors() {
    let group = ReplicaGroup {
        name: "a".into(),
        // Configuration order must not matter.
        nodes: ["n4", "n2", "n5", "n1", "n3"]
            .into_iter()
            .map(NodeId::from)
            .collect(),
    };
    let topology = Topology::new(vec![group], 2).expect("valid topology");
    for (shard, owners) in SHARD_TO_OWNERS {
        let got = topology.owners(shard, "a").expect("group a exists");
        let got: Vec<&str> = got.iter().map(NodeId::as_str).collect();
        assert_eq!(got, owners, "shard {shard}");
    }
}
