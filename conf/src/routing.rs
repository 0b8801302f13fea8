//! The routing functions of DESIGN.md §1: which shard a document lives in, and which
//! nodes of a replica group hold a shard.
//!
//! Everything here is frozen once data exists. A document written under one version of
//! these functions must be found by every later version, so the tests pin golden
//! vectors; a change that alters any of them is a data-loss bug.
//!
//! - [`primary_key_string`]: a document id (`serde_json::Value`) to its canonical string,
//!   checked against Meilisearch's document id rules.
//! - [`shard_for_pk`]: `jump_consistent_hash(xxh3_64(pk bytes, seed 0), S)`.
//! - [`rendezvous_owners`]: the RF nodes of a group with the highest
//!   `xxh3_64_with_seed(node id bytes, seed = shard)`.
//!
//! Only stable hashes are used here (xxh3 has a published specification and test
//! vectors); never `ahash` or `std`'s `RandomState`, whose output changes between
//! builds or processes.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;
use smallvec::SmallVec;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The longest valid document id, in bytes (Meilisearch refuses 512 and more).
pub const MAX_DOCUMENT_ID_BYTES: usize = 511;

/// Meilisearch's error code for a document id that breaks the rules.
pub const INVALID_DOCUMENT_ID_CODE: &str = "invalid_document_id";

/// A document id that Meilisearch would refuse, with the value as the client sent it.
///
/// Its `Display` is the message Meilisearch answers with (code
/// [`INVALID_DOCUMENT_ID_CODE`], type `invalid_request`, HTTP 400), so that a client sees
/// the same error from Miroir as from a single node. The value is shown as compact JSON:
/// strings keep their quotes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "Document identifier `{document_id}` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes."
)]
pub struct InvalidDocumentId {
    /// The offending value, exactly as it appeared in the document or request.
    pub document_id: Value,
}

/// Whether `id` is a valid document id string: 1 to 511 bytes of ASCII letters, digits,
/// `-` and `_`.
pub fn is_valid_document_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_DOCUMENT_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Check a document id given as a string (a path segment, a `delete-batch` entry).
///
/// # Errors
/// [`InvalidDocumentId`] with the id as a JSON string when it breaks the rules of
/// [`is_valid_document_id`].
pub fn validate_document_id(id: &str) -> Result<(), InvalidDocumentId> {
    if is_valid_document_id(id) {
        Ok(())
    } else {
        Err(InvalidDocumentId {
            document_id: Value::String(id.to_owned()),
        })
    }
}

/// The canonical primary key string of a document id value, as Meilisearch sees it:
/// integers (anything that fits `i64` or `u64`) in decimal, strings as given. `1` and
/// `"1"` are therefore the same document and land in the same shard.
///
/// Borrowed for strings, allocated only for integers.
///
/// # Errors
/// [`InvalidDocumentId`] for floats (`1.0` included), booleans, null, arrays and
/// objects, and for strings that break the rules of [`is_valid_document_id`].
pub fn primary_key_string(value: &Value) -> Result<Cow<'_, str>, InvalidDocumentId> {
    match value {
        Value::String(id) if is_valid_document_id(id) => Ok(Cow::Borrowed(id.as_str())),
        Value::Number(number) => {
            if let Some(int) = number.as_u64() {
                Ok(Cow::Owned(int.to_string()))
            } else if let Some(int) = number.as_i64() {
                Ok(Cow::Owned(int.to_string()))
            } else {
                Err(InvalidDocumentId {
                    document_id: value.clone(),
                })
            }
        }
        _ => Err(InvalidDocumentId {
            document_id: value.clone(),
        }),
    }
}

/// Jump consistent hash (Lamping & Veach, 2014): map `key` to a bucket in
/// `0..buckets` so that growing the bucket count from `n` to `m` moves only the keys
/// that land in the new buckets `n..m`.
///
/// # Panics
/// If `buckets` is 0; shard counts are validated to `1..=65536` before they get here.
pub fn jump_consistent_hash(mut key: u64, buckets: u32) -> u32 {
    assert!(
        buckets > 0,
        "jump_consistent_hash needs at least one bucket"
    );
    let buckets = i64::from(buckets);
    let mut bucket: i64 = -1;
    let mut next: i64 = 0;
    while next < buckets {
        bucket = next;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // The paper's arithmetic, in f64 exactly as published, so that every
        // implementation of the reference algorithm agrees with ours.
        let step = (1u64 << 31) as f64 / ((key >> 33) + 1) as f64;
        next = ((bucket + 1) as f64 * step) as i64;
    }
    u32::try_from(bucket).expect("the loop runs at least once and bucket < buckets <= u32::MAX")
}

/// The shard of a document: `jump_consistent_hash(xxh3_64(pk bytes, seed 0), shards)`.
///
/// `pk` is the canonical string of [`primary_key_string`].
///
/// # Panics
/// If `shards` is 0.
pub fn shard_for_pk(pk: &str, shards: u32) -> u32 {
    jump_consistent_hash(xxh3_64(pk.as_bytes()), shards)
}

/// The rendezvous score of a node for a shard: `xxh3_64_with_seed(node id bytes,
/// seed = shard)`. Higher wins.
pub fn rendezvous_score(node_id: &str, shard: u32) -> u64 {
    xxh3_64_with_seed(node_id.as_bytes(), u64::from(shard))
}

/// Every node of a group in rendezvous order for `shard`, best first.
///
/// Order: higher [`rendezvous_score`] first; on equal scores, the node id that is
/// smaller in byte-wise lexicographic order (`str`'s `Ord`) first. The order is total
/// for distinct ids, so it does not depend on the order of `nodes`.
pub fn rendezvous_order<N: AsRef<str>>(shard: u32, nodes: &[N]) -> SmallVec<[&N; 8]> {
    let mut scored: SmallVec<[(u64, &N); 8]> = nodes
        .iter()
        .map(|node| (rendezvous_score(node.as_ref(), shard), node))
        .collect();
    scored.sort_unstable_by(|(score_a, a), (score_b, b)| {
        rendezvous_rank((*score_a, a.as_ref()), (*score_b, b.as_ref()))
    });
    scored.into_iter().map(|(_, node)| node).collect()
}

/// The rendezvous ranking of two scored nodes: `Less` means `a` comes first.
fn rendezvous_rank(a: (u64, &str), b: (u64, &str)) -> Ordering {
    b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1))
}

/// The `rf` owners of `shard` among the nodes of one group: the first `rf` of
/// [`rendezvous_order`] (all nodes when the group has fewer than `rf`).
pub fn rendezvous_owners<N: AsRef<str>>(shard: u32, nodes: &[N], rf: usize) -> SmallVec<[&N; 4]> {
    rendezvous_order(shard, nodes)
        .into_iter()
        .take(rf)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_ids_are_written_in_decimal() {
        assert_eq!(primary_key_string(&json!(42)).as_deref(), Ok("42"));
        assert_eq!(primary_key_string(&json!(-7)).as_deref(), Ok("-7"));
        assert_eq!(
            primary_key_string(&json!(u64::MAX)).as_deref(),
            Ok("18446744073709551615")
        );
        assert_eq!(
            primary_key_string(&json!(i64::MIN)).as_deref(),
            Ok("-9223372036854775808")
        );
    }

    #[test]
    fn integer_and_string_ids_are_the_same_document() {
        let (one, one_text) = (json!(1), json!("1"));
        let number = primary_key_string(&one).expect("valid");
        let string = primary_key_string(&one_text).expect("valid");
        assert_eq!(number, string);
        assert_eq!(shard_for_pk(&number, 64), shard_for_pk(&string, 64));
    }

    #[test]
    fn string_ids_are_borrowed_as_given() {
        let value = json!("Doc_1-a");
        assert!(matches!(
            primary_key_string(&value),
            Ok(Cow::Borrowed("Doc_1-a"))
        ));
    }

    #[test]
    fn floats_booleans_null_arrays_and_objects_are_invalid() {
        for value in [
            json!(1.0),
            json!(1.5),
            json!(true),
            json!(null),
            json!([1]),
            json!({"a": 1}),
        ] {
            assert_eq!(
                primary_key_string(&value),
                Err(InvalidDocumentId {
                    document_id: value.clone()
                }),
                "{value}"
            );
        }
    }

    #[test]
    fn string_ids_allow_only_ascii_alphanumerics_hyphen_and_underscore() {
        for id in ["a b", "a.b", "é", "a/b", "a+b", ""] {
            assert!(!is_valid_document_id(id), "{id:?}");
            assert_eq!(
                primary_key_string(&json!(id)),
                Err(InvalidDocumentId {
                    document_id: json!(id)
                })
            );
        }
        assert!(is_valid_document_id("AZaz09-_"));
    }

    #[test]
    fn string_ids_may_be_511_bytes_but_not_512() {
        assert!(is_valid_document_id(&"a".repeat(511)));
        assert!(!is_valid_document_id(&"a".repeat(512)));
        assert_eq!(
            validate_document_id(&"a".repeat(512)),
            Err(InvalidDocumentId {
                document_id: json!("a".repeat(512))
            })
        );
    }

    #[test]
    fn invalid_id_message_is_meilisearchs() {
        let error = primary_key_string(&json!("a b")).expect_err("invalid");
        assert_eq!(
            error.to_string(),
            "Document identifier `\"a b\"` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes."
        );
        let error = primary_key_string(&json!(1.5)).expect_err("invalid");
        assert!(error
            .to_string()
            .starts_with("Document identifier `1.5` is invalid."));
    }

    #[test]
    #[should_panic(expected = "jump_consistent_hash needs at least one bucket")]
    fn jump_hash_refuses_zero_buckets() {
        jump_consistent_hash(1, 0);
    }

    #[test]
    fn jump_hash_with_one_bucket_is_always_zero() {
        for key in [0, 1, 42, u64::MAX] {
            assert_eq!(jump_consistent_hash(key, 1), 0);
        }
    }

    #[test]
    fn rendezvous_order_does_not_depend_on_input_order() {
        let forward = ["n1", "n2", "n3", "n4", "n5"];
        let backward = ["n5", "n4", "n3", "n2", "n1"];
        for shard in 0..64 {
            assert_eq!(
                rendezvous_order(shard, &forward),
                rendezvous_order(shard, &backward)
            );
        }
    }

    #[test]
    fn rendezvous_owners_are_the_highest_scores() {
        let nodes = ["n1", "n2", "n3", "n4", "n5"];
        for shard in 0..64 {
            let owners = rendezvous_owners(shard, &nodes, 2);
            let lowest_owner = owners.iter().map(|n| rendezvous_score(n, shard)).min();
            let best_other = nodes
                .iter()
                .filter(|n| !owners.contains(n))
                .map(|n| rendezvous_score(n, shard))
                .max();
            assert!(lowest_owner > best_other, "shard {shard}");
        }
    }

    #[test]
    fn rendezvous_ranks_higher_scores_first() {
        assert_eq!(rendezvous_rank((9, "z"), (1, "a")), Ordering::Less);
        assert_eq!(rendezvous_rank((1, "a"), (9, "z")), Ordering::Greater);
    }

    #[test]
    fn rendezvous_ties_go_to_the_byte_wise_smaller_node_id() {
        // Distinct ids practically never share a score, so the tie rule is pinned on
        // the comparison itself.
        assert_eq!(rendezvous_rank((5, "n1"), (5, "n2")), Ordering::Less);
        assert_eq!(rendezvous_rank((5, "n2"), (5, "n1")), Ordering::Greater);
        assert_eq!(rendezvous_rank((5, "B"), (5, "a")), Ordering::Less);
        assert_eq!(rendezvous_rank((5, "n10"), (5, "n2")), Ordering::Less);
    }

    #[test]
    fn rendezvous_owners_of_a_small_group_are_all_its_nodes() {
        let nodes = ["only"];
        assert_eq!(rendezvous_owners(7, &nodes, 3).len(), 1);
    }
}
