//! Golden tests against real Meilisearch 1.50 responses (captured by
//! `tests/golden/capture.py` from one node: the corpus whole in one index and split in
//! three shard indexes). Merging the three shard responses must give the single index's
//! response, ignoring `processingTimeMs`, `requestUid` and the order of tied hits.

use std::path::PathBuf;

use miroir_merger::{
    assemble_two_phase, merge_documents, merge_facet_search, merge_federated, merge_global_stats,
    merge_index_stats, merge_search, select_winners, FacetOrder, FacetSearchRequest, FacetSettings,
    FederatedQuery, FederatedRequest, Pagination, SearchRequest,
};
use serde_json::Value;

fn dir(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(case)
}

fn read(case: &str, file: &str) -> Vec<u8> {
    std::fs::read(dir(case).join(file)).expect("golden file exists")
}

fn shards(case: &str) -> Vec<Vec<u8>> {
    (0..3)
        .map(|s| read(case, &format!("shard{s}.json")))
        .collect()
}

fn request(case: &str) -> SearchRequest {
    let r: Value = serde_json::from_slice(&read(case, "request.json")).expect("json");
    let n = |k: &str, d: u64| r.get(k).and_then(Value::as_u64).unwrap_or(d) as usize;
    let pagination = if r.get("page").is_some() || r.get("hitsPerPage").is_some() {
        Pagination::Page {
            page: n("page", 1),
            hits_per_page: n("hitsPerPage", 20),
        }
    } else {
        Pagination::OffsetLimit {
            offset: n("offset", 0),
            limit: n("limit", 20),
        }
    };
    let flag = |k: &str| r.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mut req = SearchRequest::offset_limit(0, 0);
    req.pagination = pagination;
    req.show_ranking_score = flag("showRankingScore");
    req.show_ranking_score_details = flag("showRankingScoreDetails");
    req.facets = facet_settings();
    req.distinct = r
        .get("distinct")
        .and_then(Value::as_str)
        .map(str::to_string);
    req
}

/// The capture script sets `faceting.sortFacetValuesBy: {"genre": "count"}`.
fn facet_settings() -> FacetSettings {
    FacetSettings {
        max_values_per_facet: 100,
        sort_facet_values_by: vec![("genre".to_string(), FacetOrder::Count)],
    }
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

/// The ranking identity of a hit: equal keys are ties a node may order either way.
fn tie_key(hit: &Value, shard_hits: &[Value]) -> String {
    let id = &hit["id"];
    let full = shard_hits
        .iter()
        .find(|h| &h["id"] == id)
        .expect("hit comes from a shard");
    format!("{}|{}", full["_rankingScore"], full["_rankingScoreDetails"])
}

fn assert_search_case(case: &str) {
    let single: Value = serde_json::from_slice(&read(case, "single.json")).expect("json");
    let owned = shards(case);
    let bodies: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    let merged_bytes = merge_search(&bodies, &request(case)).expect("merge");
    let merged: Value = serde_json::from_slice(&merged_bytes).expect("merged JSON is valid");
    let shard_hits: Vec<Value> = owned
        .iter()
        .flat_map(|b| {
            let v: Value = serde_json::from_slice(b).expect("json");
            v["hits"].as_array().expect("hits").clone()
        })
        .collect();

    let mut expected_keys = keys(&single);
    expected_keys.retain(|k| k != "requestUid");
    assert_eq!(keys(&merged), expected_keys, "{case}: member order");
    for k in expected_keys
        .iter()
        .filter(|k| *k != "hits" && *k != "processingTimeMs")
    {
        assert_eq!(
            merged[k].to_string(),
            single[k].to_string(),
            "{case}: `{k}`"
        );
    }
    let m = merged["hits"].as_array().expect("hits");
    let s = single["hits"].as_array().expect("hits");
    assert_eq!(m.len(), s.len(), "{case}: hit count");
    for (i, (a, b)) in m.iter().zip(s).enumerate() {
        assert_eq!(
            tie_key(a, &shard_hits),
            tie_key(b, &shard_hits),
            "{case}: rank at {i}"
        );
    }
    for a in m {
        if let Some(b) = s.iter().find(|b| b["id"] == a["id"]) {
            assert_eq!(keys(a), keys(b), "{case}: members of hit {}", a["id"]);
        }
    }
    // Apart from tie order, the same hits with the same bytes.
    let mut ms: Vec<String> = m.iter().map(Value::to_string).collect();
    let mut ss: Vec<String> = s.iter().map(Value::to_string).collect();
    let boundary: Vec<String> = [m.first(), m.last()]
        .into_iter()
        .flatten()
        .map(|h| tie_key(h, &shard_hits))
        .collect();
    // Tie groups cut by the window's edges may legitimately hold other documents.
    let inner = |h: &String| {
        let v: Value = serde_json::from_str(h).expect("json");
        !boundary.contains(&tie_key(&v, &shard_hits))
    };
    ms.retain(inner);
    ss.retain(inner);
    ms.sort();
    ss.sort();
    assert_eq!(ms, ss, "{case}: hits");
}

#[test]
fn relevance_with_facets_merges_like_one_node() {
    assert_search_case("relevance_facets");
}

#[test]
fn ascending_sort_over_mixed_numbers_strings_and_missing_merges_like_one_node() {
    assert_search_case("sort_year_asc_mixed");
}

#[test]
fn descending_sort_then_relevance_merges_like_one_node() {
    assert_search_case("sort_then_relevance_desc");
}

#[test]
fn page_mode_totals_and_window_match_one_node() {
    assert_search_case("page_mode");
}

#[test]
fn ascending_geo_sort_puts_nearer_hits_first_like_one_node() {
    assert_search_case("geo_sort_asc");
}

#[test]
fn two_phase_search_gives_the_one_phase_answer() {
    let case = "two_phase";
    let phase1: Vec<Vec<u8>> = (0..3)
        .map(|s| read(case, &format!("phase1_shard{s}.json")))
        .collect();
    let phase2: Vec<Vec<u8>> = (0..3)
        .map(|s| read(case, &format!("phase2_shard{s}.json")))
        .collect();
    let p1: Vec<&[u8]> = phase1.iter().map(Vec::as_slice).collect();
    let p2: Vec<&[u8]> = phase2.iter().map(Vec::as_slice).collect();
    let req = request("relevance_facets");
    let winners = select_winners(&p1, &req, "id").expect("phase 1");
    let two: Value = serde_json::from_slice(
        &assemble_two_phase(&p1, &winners, &p2, &req, "id").expect("phase 2"),
    )
    .expect("json");
    let one_owned = shards("relevance_facets");
    let one_bodies: Vec<&[u8]> = one_owned.iter().map(Vec::as_slice).collect();
    let one: Value =
        serde_json::from_slice(&merge_search(&one_bodies, &req).expect("merge")).expect("json");
    assert_eq!(keys(&two), keys(&one));
    for k in keys(&one).iter().filter(|k| *k != "processingTimeMs") {
        assert_eq!(two[k].to_string(), one[k].to_string(), "`{k}`");
    }
}

/// Runs `merge_federated` over the three shard searches of a captured case (one query
/// per shard index) and compares with Meilisearch's own federated answer, as text.
fn assert_federated_case(case: &str, weights: [f64; 3], req: FederatedRequest) {
    let single: Value = serde_json::from_slice(&read(case, "single.json")).expect("json");
    let owned = shards(case);
    let queries: Vec<FederatedQuery<'_>> = owned
        .iter()
        .enumerate()
        .map(|(s, body)| FederatedQuery {
            index_uid: format!("s{s}"),
            weight: weights[s],
            show_ranking_score: false,
            show_ranking_score_details: false,
            facets: facet_settings(),
            responses: vec![body.as_slice()],
        })
        .collect();
    let merged: Value =
        serde_json::from_slice(&merge_federated(&queries, &req).expect("merge")).expect("json");
    let mut expected = single.clone();
    let obj = expected.as_object_mut().expect("object");
    obj.remove("requestUid");
    obj["processingTimeMs"] = merged["processingTimeMs"].clone();
    for h in obj["hits"].as_array_mut().expect("hits") {
        h.as_object_mut().expect("hit").remove("_miroir_shard");
    }
    assert_eq!(keys(&merged), keys(&expected));
    // Compared as text: `serde_json::Map` equality ignores member order.
    assert_eq!(merged.to_string(), expected.to_string());
}

#[test]
fn federated_merge_of_shard_searches_equals_meilisearch_federation() {
    let req = FederatedRequest {
        pagination: Pagination::OffsetLimit {
            offset: 1,
            limit: 7,
        },
        merge_facets: None,
        request_uid: None,
        distinct: None,
    };
    assert_federated_case("federated", [1.0, 0.8, 1.3], req);
}

#[test]
fn federated_merge_facets_equals_meilisearch_merged_facets() {
    let req = FederatedRequest {
        pagination: Pagination::OffsetLimit {
            offset: 0,
            limit: 5,
        },
        merge_facets: Some(Some(4)),
        request_uid: None,
        distinct: None,
    };
    assert_federated_case("federated_merge_facets", [1.0, 1.0, 1.0], req);
}

#[test]
fn distinct_across_shards_keeps_the_best_hit_per_value_and_counts_like_one_node() {
    assert_search_case("distinct_rating");
}

#[test]
fn scores_the_client_did_not_ask_for_are_removed() {
    assert_search_case("scores_hidden_from_client");
}

#[test]
fn facet_search_merges_like_one_node() {
    let single: Value = serde_json::from_slice(&read("facet_search", "single.json")).expect("json");
    let owned = shards("facet_search");
    let bodies: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    let req = FacetSearchRequest {
        order: FacetOrder::Alpha,
        max_values_per_facet: 100,
    };
    let mut merged: Value =
        serde_json::from_slice(&merge_facet_search(&bodies, &req).expect("merge")).expect("json");
    merged["processingTimeMs"] = single["processingTimeMs"].clone();
    assert_eq!(merged.to_string(), single.to_string());
}

#[test]
fn index_stats_count_documents_and_fields_like_one_node() {
    let single: Value = serde_json::from_slice(&read("index_stats", "single.json")).expect("json");
    let owned = shards("index_stats");
    let bodies: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    let merged: Value =
        serde_json::from_slice(&merge_index_stats(&bodies).expect("merge")).expect("json");
    assert_eq!(keys(&merged), keys(&single));
    for k in [
        "numberOfDocuments",
        "isIndexing",
        "numberOfEmbeddings",
        "fieldDistribution",
    ] {
        assert_eq!(merged[k].to_string(), single[k].to_string(), "`{k}`");
    }
}

#[test]
fn global_stats_keep_the_node_shape_and_sum_per_index() {
    let one = read("index_stats", "global.json");
    let node: Value = serde_json::from_slice(&one).expect("json");
    let merged: Value = serde_json::from_slice(
        &merge_global_stats(&[one.as_slice(), one.as_slice()]).expect("merge"),
    )
    .expect("json");
    assert_eq!(keys(&merged), keys(&node));
    assert_eq!(merged["lastUpdate"], node["lastUpdate"]);
    assert_eq!(
        merged["databaseSize"].as_u64(),
        node["databaseSize"].as_u64().map(|n| 2 * n)
    );
    for (uid, stats) in node["indexes"].as_object().expect("indexes") {
        assert_eq!(keys(&merged["indexes"][uid]), keys(stats), "{uid}");
        assert_eq!(
            merged["indexes"][uid]["numberOfDocuments"].as_u64(),
            stats["numberOfDocuments"].as_u64().map(|n| 2 * n),
            "{uid}"
        );
        assert_eq!(
            merged["indexes"][uid]["avgDocumentSize"], stats["avgDocumentSize"],
            "{uid}"
        );
    }
    assert!(merged["indexes"]["s0"]["fieldDistribution"]
        .get("_miroir_shard")
        .is_none());
}

#[test]
fn documents_listing_has_the_single_shape_and_total() {
    let single: Value = serde_json::from_slice(&read("documents", "single.json")).expect("json");
    let owned = shards("documents");
    let bodies: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    let merged: Value =
        serde_json::from_slice(&merge_documents(&bodies, 15, 10).expect("merge")).expect("json");
    assert_eq!(keys(&merged), keys(&single));
    for k in ["offset", "limit", "total"] {
        assert_eq!(merged[k].to_string(), single[k].to_string(), "`{k}`");
    }
    // Response-major order: shard 0 holds ids 0, 3, ..., 57 (20 documents), so the
    // window [15, 25) is its last five, then shard 1's first five.
    let ids: Vec<u64> = merged["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|d| d["id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids, vec![45, 48, 51, 54, 57, 1, 4, 7, 10, 13]);
    assert!(merged["results"]
        .as_array()
        .expect("results")
        .iter()
        .all(|d| keys(d) == ["id", "title"]));
}
