//! Two replica groups (RG=2) of two nodes each, RF=1 inside a group: every document is
//! stored once in each group, a search asks one group only, and a group that lost a node
//! is completed by the other group. Also: hedged reads, and reads that leave out a node
//! failing its periodic health checks.

mod common;

use common::*;
use miroir_tests::{Fleet, Miroir, MiroirOptions};
use serde_json::{json, Value};

async fn two_groups() -> (Fleet, Miroir) {
    // Nodes 0 and 2 form the first group, nodes 1 and 3 the second.
    fleet_with(
        4,
        MiroirOptions {
            groups: 2,
            master_key: Some(KEY.into()),
            ..MiroirOptions::default()
        },
    )
    .await
}

async fn node_count(url: &str) -> u64 {
    let (status, stats) = get(format!("{url}/indexes/movies/stats")).await;
    assert_eq!(status, 200, "{url}: {stats}");
    stats["numberOfDocuments"].as_u64().expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_group_holds_every_document_once() {
    let (fleet, miroir) = two_groups().await;
    load_corpus(&miroir.url()).await;
    let urls = fleet.urls();
    let first_group = node_count(&urls[0]).await + node_count(&urls[2]).await;
    let second_group = node_count(&urls[1]).await + node_count(&urls[3]).await;
    assert_eq!((first_group, second_group), (60, 60));
    assert_eq!(all_ids(&miroir.url()).await, (1..=60).collect::<Vec<u64>>());
    let (_, stats) = get(format!("{}/indexes/movies/stats", miroir.url())).await;
    assert_eq!(stats["numberOfDocuments"], json!(60));
    let (status, sorted) = http(
        reqwest::Method::POST,
        format!("{}/indexes/movies/search", miroir.url()),
        Some(json!({"q": "", "sort": ["year:desc"], "filter": "genre = comedy", "limit": 3})),
    )
    .await;
    assert_eq!(status, 200, "{sorted}");
    assert_eq!(ids(&sorted["hits"]), vec![57, 53, 49]);
    assert_eq!(sorted["estimatedTotalHits"], json!(15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_missing_a_node_is_completed_by_the_other_group() {
    let (fleet, miroir) = two_groups().await;
    load_corpus(&miroir.url()).await;
    // A node of the first group down: its shards are read from the second group.
    fleet.node(0).stop().await;
    assert_eq!(all_ids(&miroir.url()).await, (1..=60).collect::<Vec<u64>>());
    // The search found node 0 down: stats come from the second group.
    let (status, stats) = get(format!("{}/indexes/movies/stats", miroir.url())).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["numberOfDocuments"], json!(60));
    assert_eq!(
        stats["fieldDistribution"],
        json!({"genre": 60, "id": 60, "rating": 60, "title": 60, "year": 60})
    );
    // The whole first group down: the second group answers alone.
    fleet.node(2).stop().await;
    assert_eq!(all_ids(&miroir.url()).await, (1..=60).collect::<Vec<u64>>());
    for id in [1u32, 17, 42, 60] {
        let (status, document) =
            get(format!("{}/indexes/movies/documents/{id}", miroir.url())).await;
        assert_eq!(status, 200, "{id}: {document}");
        assert_eq!(
            document,
            serde_json::to_value(&corpus()[id as usize - 1]).expect("json")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_one_whole_group_made_is_accepted_and_marked_degraded() {
    let (fleet, miroir) = two_groups().await;
    load_corpus(&miroir.url()).await;
    // The second group is entirely down: the first group still takes every shard.
    fleet.node(1).stop().await;
    fleet.node(3).stop().await;
    let response = reqwest::Client::new()
        .post(format!("{}/indexes/movies/documents", miroir.url()))
        .bearer_auth(KEY)
        .json(&json!([{"id": 61, "title": "storm river 61", "genre": "drama", "year": 2011, "rating": 4.2}]))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 202);
    let degraded = response
        .headers()
        .get("X-Miroir-Degraded")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(
        degraded.is_some(),
        "a write missing a group is marked degraded"
    );
    let summary: Value = response.json().await.expect("summary");
    let task = wait_task(&miroir.url(), &summary["taskUid"]).await;
    assert_eq!(task["status"], json!("succeeded"), "{task}");
    let (status, document) = get(format!("{}/indexes/movies/documents/61", miroir.url())).await;
    assert_eq!(
        (status, &document["title"]),
        (200, &json!("storm river 61"))
    );
    // With both groups down to one node that misses a share, a write cannot reach quorum.
    fleet.node(0).stop().await;
    assert_write_misses_quorum(&miroir.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_node_is_hedged_by_another_copy_of_its_shards() {
    let (fleet, miroir) = fleet_and_miroir(2).await;
    load_corpus(&miroir.url()).await;
    // Teach Miroir how fast the nodes usually answer.
    for _ in 0..5 {
        assert_eq!(all_ids(&miroir.url()).await.len(), 60);
    }
    // The first node now answers after 5 s (its node deadline is 10 s, so it is not
    // failed over): its share must come from the other copies of its shards.
    fleet.node(0).set_delay(std::time::Duration::from_secs(5));
    let response = reqwest::Client::new()
        .post(format!("{}/indexes/movies/search", miroir.url()))
        .bearer_auth(KEY)
        .json(&json!({"q": "", "limit": 100, "facets": ["genre"]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    let hedged = response
        .headers()
        .get("X-Miroir-Hedged")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = response.json().await.expect("body");
    fleet.node(0).set_delay(std::time::Duration::ZERO);
    assert_eq!(
        hedged.as_deref(),
        Some("n0"),
        "the late node's share was hedged"
    );
    let mut got = ids(&body["hits"]);
    got.sort_unstable();
    assert_eq!(
        got,
        (1..=60).collect::<Vec<u64>>(),
        "every document exactly once"
    );
    assert_eq!(body["estimatedTotalHits"], json!(60));
    assert_eq!(
        body["facetDistribution"],
        json!({"genre": {"comedy": 15, "drama": 15, "horror": 15, "scifi": 15}})
    );
}

/// Miroir over three nodes with fast health checks: every 200 ms, 200 ms deadline, two
/// failures mark a node unhealthy, two successes heal it.
async fn checked_fleet(rf: u32) -> (Fleet, Miroir) {
    fleet_with(
        3,
        MiroirOptions {
            replication_factor: rf,
            master_key: Some(KEY.into()),
            health_check: Some(("200ms", "200ms", 2, 2)),
            ..MiroirOptions::default()
        },
    )
    .await
}

/// Long enough for many check rounds, whatever the machine's load.
const CHECK_ROUNDS: std::time::Duration = std::time::Duration::from_millis(2500);

/// A search of every document, answered without a hedge; returns the sorted ids.
async fn unhedged_ids(base: &str) -> Vec<u64> {
    let response = reqwest::Client::new()
        .post(format!("{base}/indexes/movies/search"))
        .bearer_auth(KEY)
        .json(&json!({"q": "", "limit": 100}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers().get("X-Miroir-Hedged"), None);
    let body: Value = response.json().await.expect("body");
    let mut got = ids(&body["hits"]);
    got.sort_unstable();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_failing_its_health_checks_is_left_out_of_reads_until_it_passes_them() {
    let (fleet, miroir) = checked_fleet(2).await;
    load_corpus(&miroir.url()).await;
    let every: Vec<u64> = (1..=60).collect();
    // Node 0 answers after 1 s: every check (200 ms deadline) fails, reads would not.
    fleet
        .node(0)
        .set_delay(std::time::Duration::from_millis(1000));
    tokio::time::sleep(CHECK_ROUNDS).await;
    let before = fleet.node(0).requests();
    for _ in 0..3 {
        assert_eq!(unhedged_ids(&miroir.url()).await, every);
    }
    assert_eq!(
        fleet.node(0).requests(),
        before,
        "reads went to the other copies of the unhealthy node's shards"
    );
    // Healthy again: node 0 answers for its shards once more.
    fleet.node(0).set_delay(std::time::Duration::ZERO);
    tokio::time::sleep(CHECK_ROUNDS).await;
    let before = fleet.node(0).requests();
    assert_eq!(unhedged_ids(&miroir.url()).await, every);
    assert!(
        fleet.node(0).requests() > before,
        "the healed node is read again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealthy_node_holding_the_only_copy_is_still_asked() {
    let (fleet, miroir) = checked_fleet(1).await;
    load_corpus(&miroir.url()).await;
    fleet
        .node(0)
        .set_delay(std::time::Duration::from_millis(1000));
    tokio::time::sleep(CHECK_ROUNDS).await;
    let before = fleet.node(0).requests();
    let got = all_ids(&miroir.url()).await;
    fleet.node(0).set_delay(std::time::Duration::ZERO);
    assert_eq!(
        got,
        (1..=60).collect::<Vec<u64>>(),
        "a doubtful node beats miroir_shard_unavailable"
    );
    assert!(fleet.node(0).requests() > before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steadily_slower_node_gives_its_shards_to_faster_copies() {
    let (fleet, miroir) = fleet_and_miroir(2).await;
    load_corpus(&miroir.url()).await;
    let every: Vec<u64> = (1..=60).collect();
    // Node 0 answers every request 150 ms late (its health checks still pass).
    fleet
        .node(0)
        .set_delay(std::time::Duration::from_millis(150));
    // Enough searches for Miroir to know every node's latency.
    for _ in 0..12 {
        assert_eq!(all_ids(&miroir.url()).await, every);
    }
    let before = fleet.node(0).requests();
    for _ in 0..5 {
        assert_eq!(unhedged_ids(&miroir.url()).await, every);
    }
    fleet.node(0).set_delay(std::time::Duration::ZERO);
    assert_eq!(
        fleet.node(0).requests(),
        before,
        "searches went to the faster copies of node 0's shards"
    );
}
