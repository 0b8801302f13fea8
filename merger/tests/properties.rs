//! Property tests: merging every node's top window equals taking the window of the
//! sorted union (random scores, ties, sort values of mixed kinds, both pagination
//! modes), and no input bytes make a merge function panic.

use std::cmp::Ordering;

use miroir_merger::{
    compare, merge_documents, merge_facet_search, merge_index_stats, merge_search, rank_key,
    FacetOrder, FacetSearchRequest, Pagination, SearchRequest,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A generated hit: an id, a score from a small set (so ties happen), and an optional
/// sort value that is a number, a string or missing.
#[derive(Debug, Clone)]
struct Hit {
    id: u64,
    words: u32,
    proximity: u32,
    sort: Option<Value>,
}

fn details(h: &Hit, sorted: bool) -> Value {
    let words = json!({"order": 0, "matchingWords": h.words, "maxMatchingWords": 3, "score": h.words as f64 / 3.0});
    if sorted {
        json!({
            "words": words,
            "year:asc": {"order": 1, "value": h.sort.clone().unwrap_or(Value::Null)},
            "proximity": {"order": 2, "score": h.proximity as f64 / 4.0},
        })
    } else {
        json!({"words": words, "proximity": {"order": 1, "score": h.proximity as f64 / 4.0}})
    }
}

fn global(h: &Hit) -> f64 {
    // Any monotone folding works: within one run the rule-by-rule order decides.
    (h.words as f64 * 5.0 + h.proximity as f64) / 20.0
}

fn hit_json(h: &Hit, node: usize, sorted: bool) -> Value {
    json!({"id": h.id, "_miroir_shard": node, "_rankingScore": global(h), "_rankingScoreDetails": details(h, sorted)})
}

fn key_of(h: &Hit, sorted: bool) -> miroir_merger::RankKey {
    rank_key(details(h, sorted).to_string().as_bytes(), global(h), 1.0).expect("valid details")
}

fn sort_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        (0i64..5).prop_map(|n| Some(json!(n))),
        (0i64..5).prop_map(|n| Some(json!(n as f64 + 0.5))),
        "[ab]{1,2}".prop_map(|s| Some(json!(s))),
    ]
}

fn hits() -> impl Strategy<Value = Vec<Vec<(u32, u32, Option<Value>)>>> {
    prop::collection::vec(
        prop::collection::vec((1u32..4, 0u32..5, sort_value()), 0..12),
        1..5,
    )
}

/// Builds node responses (each sorted as a node would) and the expected global order.
fn scenario(
    raw: Vec<Vec<(u32, u32, Option<Value>)>>,
    sorted: bool,
) -> (Vec<Vec<u8>>, Vec<(usize, u64)>) {
    let mut nodes: Vec<Vec<Hit>> = Vec::new();
    let mut id = 0;
    for list in raw {
        let mut hs: Vec<Hit> = list
            .into_iter()
            .map(|(words, proximity, sort)| {
                id += 1;
                Hit {
                    id,
                    words,
                    proximity,
                    sort,
                }
            })
            .collect();
        // A node orders its own hits best first (ties keep their generated order).
        hs.sort_by(|a, b| compare(&key_of(b, sorted), &key_of(a, sorted)));
        nodes.push(hs);
    }
    let mut union: Vec<(usize, usize, &Hit)> = Vec::new();
    for (n, hs) in nodes.iter().enumerate() {
        for (p, h) in hs.iter().enumerate() {
            union.push((n, p, h));
        }
    }
    // The specification: best first; ties by node, then position.
    union.sort_by(
        |a, b| match compare(&key_of(b.2, sorted), &key_of(a.2, sorted)) {
            Ordering::Equal => (a.0, a.1).cmp(&(b.0, b.1)),
            o => o,
        },
    );
    let expected = union.iter().map(|(n, _, h)| (*n, h.id)).collect();
    let bodies = nodes
        .iter()
        .enumerate()
        .map(|(n, hs)| {
            let hits: Vec<Value> = hs.iter().map(|h| hit_json(h, n, sorted)).collect();
            let total = hs.len();
            serde_json::to_vec(&json!({"hits": hits, "query": "q", "processingTimeMs": n, "limit": total, "offset": 0, "estimatedTotalHits": total}))
                .expect("serializable")
        })
        .collect();
    (bodies, expected)
}

fn merged_ids(bodies: &[Vec<u8>], req: &SearchRequest) -> (Vec<u64>, Value) {
    let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    let out = merge_search(&refs, req).expect("merge");
    let v: Value = serde_json::from_slice(&out).expect("valid JSON");
    let ids = v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_u64().expect("id"))
        .collect();
    (ids, v)
}

proptest! {
    #[test]
    fn merging_node_windows_equals_the_window_of_the_sorted_union(
        raw in hits(), sorted in any::<bool>(), offset in 0usize..10, limit in 0usize..15,
    ) {
        let (bodies, expected) = scenario(raw, sorted);
        let req = SearchRequest::offset_limit(offset, limit);
        let (ids, v) = merged_ids(&bodies, &req);
        let want: Vec<u64> = expected.iter().skip(offset).take(limit).map(|(_, id)| *id).collect();
        prop_assert_eq!(ids, want);
        prop_assert_eq!(v["estimatedTotalHits"].as_u64(), Some(expected.len() as u64));
        prop_assert_eq!(&v["offset"], &json!(offset));
        prop_assert_eq!(&v["limit"], &json!(limit));
    }

    #[test]
    fn page_mode_returns_the_page_of_the_sorted_union_with_exact_totals(
        raw in hits(), page in 0usize..5, per_page in 0usize..6,
    ) {
        let (bodies, expected) = scenario(raw, true);
        let mut req = SearchRequest::offset_limit(0, 0);
        req.pagination = Pagination::Page { page, hits_per_page: per_page };
        let (ids, v) = merged_ids(&bodies, &req);
        let skip = page.saturating_sub(1) * per_page;
        let take = if page == 0 { 0 } else { per_page };
        let want: Vec<u64> = expected.iter().skip(skip).take(take).map(|(_, id)| *id).collect();
        prop_assert_eq!(ids, want);
        let total = expected.len();
        prop_assert_eq!(v["totalHits"].as_u64(), Some(total as u64));
        let pages = if per_page == 0 { 0 } else { total.div_ceil(per_page) };
        prop_assert_eq!(v["totalPages"].as_u64(), Some(pages as u64));
    }

    #[test]
    fn max_total_hits_caps_the_hits_but_not_the_totals(raw in hits(), offset in 0usize..10, limit in 0usize..15, cap in 0usize..12) {
        let (bodies, expected) = scenario(raw, false);
        let mut req = SearchRequest::offset_limit(offset, limit);
        req.max_total_hits = cap;
        let (ids, v) = merged_ids(&bodies, &req);
        let off = offset.min(cap);
        let lim = limit.min(cap - off);
        let want: Vec<u64> = expected.iter().skip(off).take(lim).map(|(_, id)| *id).collect();
        prop_assert_eq!(ids, want);
        // Totals and the echoed window are not cut by maxTotalHits (checked on 1.50).
        prop_assert_eq!(v["estimatedTotalHits"].as_u64(), Some(expected.len() as u64));
        prop_assert_eq!(v["offset"].as_u64(), Some(offset as u64));
        prop_assert_eq!(v["limit"].as_u64(), Some(limit as u64));
    }

    #[test]
    fn merged_hits_never_carry_miroir_or_unrequested_score_members(raw in hits()) {
        let (bodies, _) = scenario(raw, true);
        let (_, v) = merged_ids(&bodies, &SearchRequest::offset_limit(0, 100));
        for h in v["hits"].as_array().expect("hits") {
            let keys: Vec<&String> = h.as_object().expect("object").keys().collect();
            prop_assert_eq!(keys, vec!["id"]);
        }
    }

    #[test]
    fn no_merge_function_panics_on_arbitrary_bytes(
        bodies in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..4),
    ) {
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let _ = merge_search(&refs, &SearchRequest::offset_limit(0, 10));
        let _ = merge_documents(&refs, 0, 10);
        let _ = merge_index_stats(&refs);
        let _ = merge_facet_search(&refs, &FacetSearchRequest { order: FacetOrder::Count, max_values_per_facet: 5 });
    }

    #[test]
    fn no_merge_function_panics_on_mutated_valid_responses(
        raw in hits(), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), byte in any::<u8>(),
    ) {
        let (mut bodies, _) = scenario(raw, true);
        let b = &mut bodies[0];
        if !b.is_empty() {
            let i = flip.index(b.len());
            b[i] = byte;
            let c = cut.index(b.len());
            b.truncate(c);
        }
        let refs: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
        let _ = merge_search(&refs, &SearchRequest::offset_limit(0, 10));
    }
}
