//! End-to-end: the `miroir` binary in front of a 3-node fleet (fake nodes, or real
//! Meilisearch with `MEILI_BIN`), driven with the official Rust SDK and raw HTTP.
//!
//! The differential tests index the same corpus in one standalone node and in Miroir
//! over three nodes and require the same answers: same hits (ties in score may come in
//! another order), same totals, same facets.

mod common;

use std::collections::BTreeMap;

use common::*;
use meilisearch_sdk::client::Client;
use miroir_tests::{Fleet, FleetOptions, Miroir, MiroirOptions};
use serde_json::{json, Value};

/// Hits grouped by ranking score, so that ties may come in any order.
fn score_groups(response: &Value) -> Vec<(String, Vec<u64>)> {
    let mut groups: Vec<(String, Vec<u64>)> = Vec::new();
    for hit in response["hits"].as_array().expect("hits") {
        let score = format!("{:.12}", hit["_rankingScore"].as_f64().unwrap_or(-1.0));
        let id = hit["id"].as_u64().expect("id");
        match groups.last_mut() {
            Some((last, members)) if *last == score => members.push(id),
            _ => groups.push((score, vec![id])),
        }
    }
    for (_, members) in &mut groups {
        members.sort_unstable();
    }
    groups
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_indexes_and_searches_through_miroir_over_three_nodes() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    load_corpus(&miroir.url()).await;
    let client = Client::new(miroir.url(), Some(KEY)).expect("client");
    let index = client.index("movies");

    let movie: Movie = index.get_document("7").await.expect("document 7");
    assert_eq!(movie, corpus()[6]);

    let results = index
        .search()
        .with_filter("genre = drama")
        .with_sort(&["year:desc"])
        .with_limit(3)
        .execute::<Movie>()
        .await
        .expect("search");
    let got: Vec<u32> = results.hits.iter().map(|h| h.result.id).collect();
    assert_eq!(got, vec![60, 56, 52]);
    assert_eq!(results.estimated_total_hits, Some(15));

    let (status, stats) = get(format!("{}/indexes/movies/stats", miroir.url())).await;
    assert_eq!(status, 200);
    assert_eq!(stats["numberOfDocuments"], json!(60));
    assert_eq!(
        stats["fieldDistribution"],
        json!({"genre": 60, "id": 60, "rating": 60, "title": 60, "year": 60})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_documents_never_show_the_shard_field() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    load_corpus(&miroir.url()).await;
    let (status, document) = get(format!("{}/indexes/movies/documents/3", miroir.url())).await;
    assert_eq!(status, 200);
    assert_eq!(document, serde_json::to_value(&corpus()[2]).expect("json"));
    let (_, listing) = get(format!(
        "{}/indexes/movies/documents?limit=100",
        miroir.url()
    ))
    .await;
    assert_eq!(listing["total"], json!(60));
    let results = listing["results"].as_array().expect("results");
    assert_eq!(results.len(), 60);
    assert!(results.iter().all(|d| d.get("_miroir_shard").is_none()));
    let (_, filterable) = get(format!(
        "{}/indexes/movies/settings/filterable-attributes",
        miroir.url()
    ))
    .await;
    assert_eq!(filterable, json!(["genre", "year", "rating"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_fields_are_refused_before_any_node_is_touched() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let (status, error) = http(
        reqwest::Method::POST,
        format!("{}/indexes/movies/documents", miroir.url()),
        Some(json!([{"id": 1, "_miroir_shard": 4}])),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], json!("miroir_reserved_field"));
    let (status, _) = get(format!("{}/indexes/movies", miroir.url())).await;
    assert_eq!(status, 404, "a refused write must not create the index");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_factor_two_stores_each_document_twice_and_answers_once() {
    let (fleet, miroir) = fleet_and_miroir(2).await;
    load_corpus(&miroir.url()).await;
    let mut copies = 0u64;
    for node in fleet.nodes() {
        let (_, stats) = get(format!("{}/indexes/movies/stats", node.url())).await;
        copies += stats["numberOfDocuments"].as_u64().expect("count");
    }
    assert_eq!(
        copies, 120,
        "every document lives on exactly two of the three nodes"
    );
    let (_, stats) = get(format!("{}/indexes/movies/stats", miroir.url())).await;
    assert_eq!(stats["numberOfDocuments"], json!(60));
    let (_, all) = http(
        reqwest::Method::POST,
        format!("{}/indexes/movies/search", miroir.url()),
        Some(json!({"q": "", "limit": 100})),
    )
    .await;
    let mut got = ids(&all["hits"]);
    got.sort_unstable();
    assert_eq!(got, (1..=60).collect::<Vec<u64>>());
    assert_eq!(all["estimatedTotalHits"], json!(60));
}

/// The queries of the differential test: keyword, filter, sort, facets, both
/// pagination modes and a deep offset.
fn differential_queries() -> Vec<Value> {
    vec![
        json!({"q": "star"}),
        json!({"q": "night king", "limit": 5}),
        json!({"q": "storm", "filter": "genre = drama OR genre = horror"}),
        json!({"q": "", "sort": ["year:asc"], "limit": 7, "offset": 10}),
        json!({"q": "love", "sort": ["rating:desc", "year:asc"]}),
        json!({"q": "", "facets": ["genre", "rating"], "limit": 0}),
        json!({"q": "river", "facets": ["genre"], "filter": "year > 1980"}),
        json!({"q": "", "sort": ["year:desc"], "hitsPerPage": 6, "page": 3}),
        json!({"q": "", "sort": ["rating:asc", "year:asc"], "offset": 45, "limit": 10}),
        json!({"q": "heart", "filter": ["genre != comedy", "rating >= 2"], "hitsPerPage": 4}),
        json!({"q": "storm night", "attributesToHighlight": ["title"], "attributesToCrop": ["title"], "cropLength": 2, "showMatchesPosition": true, "sort": ["year:asc"]}),
        json!({"q": "star war", "matchingStrategy": "all", "attributesToRetrieve": ["id", "title"], "sort": ["year:desc"]}),
        json!({"q": "", "distinct": "genre", "sort": ["year:asc"]}),
        json!({"q": "king", "showRankingScoreDetails": true, "sort": ["rating:desc", "year:asc"], "limit": 4}),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miroir_over_three_nodes_answers_like_one_node() {
    for rf in [1u32, 2] {
        let (standalone, _fleet, miroir) = loaded_pair(rf).await;
        for query in differential_queries() {
            let mut scored = query.clone();
            scored["showRankingScore"] = json!(true);
            let ((s1, one), (s2, many)) = on_both(
                &standalone.url(),
                &miroir.url(),
                reqwest::Method::POST,
                "/indexes/movies/search",
                Some(scored),
            )
            .await;
            assert_eq!((s1, s2), (200, 200), "rf={rf} {query}");
            let keys: BTreeMap<&str, ()> = one
                .as_object()
                .expect("object")
                .keys()
                .map(|k| (k.as_str(), ()))
                .collect();
            let keys_many: BTreeMap<&str, ()> = many
                .as_object()
                .expect("object")
                .keys()
                .map(|k| (k.as_str(), ()))
                .collect();
            assert_eq!(keys, keys_many, "rf={rf} same response members for {query}");
            for member in [
                "estimatedTotalHits",
                "totalHits",
                "totalPages",
                "page",
                "hitsPerPage",
                "limit",
                "offset",
                "query",
            ] {
                assert_eq!(
                    one.get(member),
                    many.get(member),
                    "rf={rf} {member} for {query}"
                );
            }
            assert_eq!(
                one.get("facetDistribution"),
                many.get("facetDistribution"),
                "rf={rf} facets for {query}"
            );
            assert_eq!(
                one.get("facetStats"),
                many.get("facetStats"),
                "rf={rf} facet stats for {query}"
            );
            if query.get("sort").is_some() {
                // Sort values are unique in the corpus: the order is fully determined,
                // and every hit must be the same, `_formatted`, `_matchesPosition` and
                // score details included.
                assert_eq!(one["hits"], many["hits"], "rf={rf} sorted hits for {query}");
            } else {
                assert_eq!(
                    score_groups(&one),
                    score_groups(&many),
                    "rf={rf} hits for {query}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_created_through_miroir_are_the_same_on_every_node() {
    let (fleet, miroir) = fleet_and_miroir(1).await;
    load_corpus(&miroir.url()).await;
    let (status, key) = http(
        reqwest::Method::POST,
        format!("{}/keys", miroir.url()),
        Some(json!({"description": "search only", "actions": ["search"], "indexes": ["movies"], "expiresAt": null})),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let uid = key["uid"].as_str().expect("uid").to_owned();
    let secret = key["key"].as_str().expect("key").to_owned();
    for node in fleet.nodes() {
        let (status, on_node) = get(format!("{}/keys/{uid}", node.url())).await;
        assert_eq!(status, 200);
        assert_eq!(
            on_node["key"],
            json!(secret),
            "every node derives the same key from the uid"
        );
    }
    let client = reqwest::Client::new();
    let search = client
        .post(format!("{}/indexes/movies/search", miroir.url()))
        .bearer_auth(&secret)
        .json(&json!({"q": "", "filter": "year = 1959", "limit": 1}))
        .send()
        .await
        .expect("search");
    assert_eq!(search.status().as_u16(), 200);
    let found: Value = search.json().await.expect("json");
    assert_eq!(ids(&found["hits"]), vec![9]);
    let write = client
        .post(format!("{}/indexes/movies/documents", miroir.url()))
        .bearer_auth(&secret)
        .json(&json!([{"id": 99, "title": "x"}]))
        .send()
        .await
        .expect("write");
    assert_eq!(write.status().as_u16(), 403, "a search key cannot write");
    let error: Value = write.json().await.expect("json");
    assert_eq!(error["code"], json!("invalid_api_key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_search_answers_each_query_with_its_index() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    load_corpus(&miroir.url()).await;
    let (status, answer) = http(
        reqwest::Method::POST,
        format!("{}/multi-search", miroir.url()),
        Some(json!({"queries": [
            {"indexUid": "movies", "q": "", "sort": ["year:asc"], "limit": 2},
            {"indexUid": "movies", "q": "", "filter": "genre = comedy", "sort": ["year:desc"], "limit": 1},
        ]})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["indexUid"], json!("movies"));
    assert_eq!(ids(&results[0]["hits"]), vec![1, 2]);
    assert_eq!(ids(&results[1]["hits"]), vec![57]);
    assert_eq!(results[1]["estimatedTotalHits"], json!(15));
    let (status, error) = http(
        reqwest::Method::POST,
        format!("{}/multi-search", miroir.url()),
        Some(json!({"queries": [{"indexUid": "movies", "q": ""}, {"indexUid": "movies", "filter": "nope = 1"}]})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], json!("invalid_search_filter"));
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .starts_with("Inside `.queries[1]`: "),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_documents_by_id_removes_them_from_their_shards() {
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    load_corpus(&miroir.url()).await;
    let client = Client::new(miroir.url(), Some(KEY)).expect("client");
    let index = client.index("movies");
    succeeded(&client, index.delete_documents(&[3, 4, 5]).await).await;
    let task = succeeded(&client, index.delete_document(6).await).await;
    let (_, task_view) = get(format!("{}/tasks/{}", miroir.url(), task.get_uid())).await;
    assert_eq!(task_view["type"], json!("documentDeletion"));
    assert_eq!(
        task_view["details"],
        json!({"providedIds": 1, "deletedDocuments": 1})
    );
    let (_, stats) = get(format!("{}/indexes/movies/stats", miroir.url())).await;
    assert_eq!(stats["numberOfDocuments"], json!(56));
    let (status, _) = get(format!("{}/indexes/movies/documents/4", miroir.url())).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_node_does_not_take_search_down_with_two_copies() {
    let (fleet, miroir) = fleet_and_miroir(2).await;
    load_corpus(&miroir.url()).await;
    fleet.node(1).stop().await;
    let (status, all) = http(
        reqwest::Method::POST,
        format!("{}/indexes/movies/search", miroir.url()),
        Some(json!({"q": "", "limit": 100})),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    let mut got = ids(&all["hits"]);
    got.sort_unstable();
    assert_eq!(
        got,
        (1..=60).collect::<Vec<u64>>(),
        "every document is still found once"
    );
    let (status, document) = get(format!("{}/indexes/movies/documents/17", miroir.url())).await;
    assert_eq!(status, 200);
    assert_eq!(document["id"], json!(17));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_copy_left_reads_and_writes_fail_loudly() {
    let (fleet, miroir) = fleet_and_miroir(1).await;
    load_corpus(&miroir.url()).await;
    fleet.node(2).stop().await;
    let (status, error) = http(
        reqwest::Method::POST,
        format!("{}/indexes/movies/search", miroir.url()),
        Some(json!({"q": "star"})),
    )
    .await;
    assert_eq!(status, 503, "{error}");
    assert_eq!(error["code"], json!("miroir_shard_unavailable"));
    assert_eq!(error["type"], json!("system"));
    // Documents 1..=60 spread over all 16 shards: some land on the stopped node.
    assert_write_misses_quorum(&miroir.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_and_csv_payloads_are_routed_with_an_inferred_primary_key() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    let (status, task) = raw_post(
        format!("{base}/indexes/books/documents"),
        "application/x-ndjson",
        "{\"book_id\": 1, \"title\": \"Dune\"}\n{\"book_id\": 2, \"title\": \"Emma\"}\n",
    )
    .await;
    assert_eq!(status, 202, "{task}");
    assert_eq!(task["type"], json!("documentAdditionOrUpdate"));
    let done = wait_task(&base, &task["taskUid"]).await;
    assert_eq!(done["status"], json!("succeeded"), "{done}");
    assert_eq!(
        done["details"],
        json!({"receivedDocuments": 2, "indexedDocuments": 2})
    );
    let (status, task) = raw_post(
        format!("{base}/indexes/books/documents"),
        "text/csv",
        "book_id:number,title,pages:number\n3,Ulysses,730\n4,Beloved,\n",
    )
    .await;
    assert_eq!(status, 202, "{task}");
    let done = wait_task(&base, &task["taskUid"]).await;
    assert_eq!(done["status"], json!("succeeded"), "{done}");
    let (_, index) = get(format!("{base}/indexes/books")).await;
    assert_eq!(index["primaryKey"], json!("book_id"));
    let (_, book) = get(format!("{base}/indexes/books/documents/4")).await;
    assert_eq!(
        book,
        json!({"book_id": 4, "title": "Beloved", "pages": null})
    );
    let (_, listing) = get(format!("{base}/indexes/books/documents")).await;
    assert_eq!(listing["total"], json!(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_without_a_primary_key_candidate_fails_its_task_like_meilisearch() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    let (status, task) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/notes/documents"),
        Some(json!([{"title": "x"}])),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(task["status"], json!("enqueued"));
    let done = wait_task(&base, &task["taskUid"]).await;
    assert_eq!(done["status"], json!("failed"));
    assert_eq!(
        done["error"]["code"],
        json!("index_primary_key_no_candidate_found")
    );
    assert_eq!(
        done["error"]["message"],
        json!("The primary key inference failed as the engine did not find any field ending with `id` in its name. Please specify the primary key manually using the `primaryKey` query parameter.")
    );
    assert_eq!(
        done["details"],
        json!({"receivedDocuments": 1, "indexedDocuments": 0})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_payload_too_large() {
    let fleet = Fleet::start(
        1,
        FleetOptions {
            master_key: Some(KEY.into()),
            ..FleetOptions::default()
        },
    )
    .await
    .expect("fleet starts");
    let miroir = Miroir::start(
        &fleet,
        MiroirOptions {
            master_key: Some(KEY.into()),
            max_body_bytes: Some(1024),
            ..MiroirOptions::default()
        },
    )
    .await
    .expect("miroir starts");
    let big: Vec<Value> = (0..100)
        .map(|id| json!({"id": id, "title": "a title long enough"}))
        .collect();
    let (status, error) = http(
        reqwest::Method::POST,
        format!("{}/indexes/big/documents", miroir.url()),
        Some(Value::Array(big)),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(
        error,
        json!({
            "message": "The provided payload reached the size limit. The maximum accepted payload size is 1 KiB.",
            "code": "payload_too_large",
            "type": "invalid_request",
            "link": "https://docs.meilisearch.com/errors#payload_too_large"
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_tokens_restrict_searches_through_miroir() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    load_corpus(&miroir.url()).await;
    let (status, key) = http(
        reqwest::Method::POST,
        format!("{}/keys", miroir.url()),
        Some(json!({"actions": ["search"], "indexes": ["movies"], "expiresAt": null})),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let client = Client::new(miroir.url(), Some(KEY)).expect("client");
    let token = client
        .generate_tenant_token(
            key["uid"].as_str().expect("uid").to_owned(),
            json!({"movies": {"filter": "genre = horror"}}),
            key["key"].as_str(),
            None,
        )
        .expect("token");
    let http_client = reqwest::Client::new();
    let response = http_client
        .post(format!("{}/indexes/movies/search", miroir.url()))
        .bearer_auth(&token)
        .json(&json!({"q": "", "limit": 100, "attributesToRetrieve": ["id", "genre"]}))
        .send()
        .await
        .expect("search");
    assert_eq!(response.status().as_u16(), 200);
    let found: Value = response.json().await.expect("json");
    let hits = found["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 15, "only the token's genre is visible");
    assert!(hits.iter().all(|h| h["genre"] == json!("horror")));
    let refused = http_client
        .get(format!("{}/indexes/movies/documents/1", miroir.url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(
        refused.status().as_u16(),
        403,
        "tenant tokens only open search routes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_tasks_can_be_deleted_by_filter() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    load_corpus(&miroir.url()).await;
    let base = miroir.url();
    let (status, error) = http(reqwest::Method::DELETE, format!("{base}/tasks"), None).await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], json!("missing_task_filters"));
    let (status, task) = http(
        reqwest::Method::DELETE,
        format!("{base}/tasks?uids=0,1"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["type"], json!("taskDeletion"));
    let done = wait_task(&base, &task["taskUid"]).await;
    assert_eq!(done["status"], json!("succeeded"));
    assert_eq!(
        done["details"],
        json!({"matchedTasks": 2, "deletedTasks": 2, "originalFilter": "?uids=0,1"})
    );
    let (status, gone) = get(format!("{base}/tasks/0")).await;
    assert_eq!(status, 404);
    assert_eq!(gone["code"], json!("task_not_found"));
    let (_, list) = get(format!("{base}/tasks?types=documentAdditionOrUpdate")).await;
    assert_eq!(list["total"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_an_enqueued_write_cancels_it_on_every_node() {
    let (fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    create_movies(&base).await;
    if !hold_tasks(
        &fleet,
        std::time::Duration::from_secs(3),
        "canceling_an_enqueued_write_cancels_it_on_every_node",
        "needs the fake node's task delay to keep a write enqueued",
    ) {
        return;
    }
    let (status, write) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/documents"),
        Some(serde_json::to_value(corpus()).expect("json")),
    )
    .await;
    assert_eq!(status, 202);
    let write_uid = write["taskUid"].as_u64().expect("uid");
    let (status, cancel) = http(
        reqwest::Method::POST,
        format!("{base}/tasks/cancel?uids={write_uid}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{cancel}");
    assert_eq!(cancel["type"], json!("taskCancelation"));
    for node in fleet.nodes() {
        node.set_task_delay(std::time::Duration::ZERO)
            .expect("fake node");
    }
    let done = wait_task(&base, &cancel["taskUid"]).await;
    assert_eq!(done["status"], json!("succeeded"), "{done}");
    assert_eq!(
        done["details"],
        json!({"matchedTasks": 1, "canceledTasks": 1, "originalFilter": format!("?uids={write_uid}")})
    );
    let canceled = wait_task(&base, &json!(write_uid)).await;
    assert_eq!(canceled["status"], json!("canceled"), "{canceled}");
    assert_eq!(canceled["canceledBy"], cancel["taskUid"]);
    let (_, stats) = get(format!("{base}/indexes/movies/stats")).await;
    assert_eq!(stats["numberOfDocuments"], json!(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_total_hits_bounds_the_hits_but_not_the_totals() {
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    let base = miroir.url();
    load_corpus(&base).await;
    let (status, task) = http(
        reqwest::Method::PATCH,
        format!("{base}/indexes/movies/settings"),
        Some(json!({"pagination": {"maxTotalHits": 10}})),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        wait_task(&base, &task["taskUid"]).await["status"],
        json!("succeeded")
    );
    // The merge settings are cached for a few seconds: wait them out.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let (_, page) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/search"),
        Some(json!({"q": "", "sort": ["year:asc"], "offset": 8, "limit": 5})),
    )
    .await;
    assert_eq!(ids(&page["hits"]), vec![9, 10]);
    assert_eq!(
        (page["offset"].clone(), page["limit"].clone()),
        (json!(8), json!(5))
    );
    assert_eq!(page["estimatedTotalHits"], json!(60));
    let (_, pages) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/search"),
        Some(json!({"q": "", "sort": ["year:asc"], "page": 2, "hitsPerPage": 7})),
    )
    .await;
    assert_eq!(ids(&pages["hits"]), vec![8, 9, 10]);
    assert_eq!(
        (pages["totalHits"].clone(), pages["totalPages"].clone()),
        (json!(60), json!(9))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorted_document_listings_match_one_node() {
    let (standalone, _fleet, miroir) = loaded_pair(2).await;
    for (method, path, body) in [
        (
            reqwest::Method::GET,
            "/indexes/movies/documents?sort=year:desc&limit=7&offset=3",
            None,
        ),
        (
            reqwest::Method::GET,
            "/indexes/movies/documents?sort=rating:asc,year:desc&fields=id,title&limit=10",
            None,
        ),
        (
            reqwest::Method::POST,
            "/indexes/movies/documents/fetch",
            Some(
                json!({"sort": ["rating:desc", "year:asc"], "filter": "genre = drama", "offset": 2, "limit": 5, "fields": ["title"]}),
            ),
        ),
        (
            reqwest::Method::POST,
            "/indexes/movies/documents/fetch",
            Some(json!({"sort": ["year:asc"], "offset": 55, "limit": 10})),
        ),
    ] {
        let (s1, one) = http(
            method.clone(),
            format!("{}{path}", standalone.url()),
            body.clone(),
        )
        .await;
        let (s2, many) = http(method.clone(), format!("{}{path}", miroir.url()), body).await;
        assert_eq!(s1, 200, "{path}: {one}");
        assert_eq!((s2, &many), (s1, &one), "{method} {path}");
    }
}

/// The members of a stats object and, for sizes, whether each is a human-readable
/// string (`4 KiB`, `1.99 MiB`) or a number.
fn stats_shape(stats: &Value) -> Value {
    let kind = |v: &Value| match v {
        Value::String(s) => {
            let (number, unit) = s.split_once(' ').expect("a size with a unit");
            assert!(number.parse::<f64>().is_ok(), "{s}");
            assert!(["B", "KiB", "MiB", "GiB"].contains(&unit), "{s}");
            json!("human")
        }
        Value::Number(_) => json!("bytes"),
        other => other.clone(),
    };
    let mut shape = serde_json::Map::new();
    for (key, value) in stats.as_object().expect("stats") {
        let described = match key.as_str() {
            "rawDocumentDbSize" | "avgDocumentSize" | "databaseSize" | "usedDatabaseSize" => {
                kind(value)
            }
            "internalDatabaseSizes" => Value::Object(
                value
                    .as_object()
                    .expect("sizes")
                    .iter()
                    .map(|(db, size)| (db.clone(), kind(size)))
                    .collect(),
            ),
            "indexes" => Value::Object(
                value
                    .as_object()
                    .expect("indexes")
                    .iter()
                    .map(|(uid, s)| (uid.clone(), stats_shape(s)))
                    .collect(),
            ),
            "lastUpdate" => json!("date"),
            _ => value.clone(),
        };
        shape.insert(key.clone(), described);
    }
    Value::Object(shape)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_sizes_follow_size_format_like_one_node() {
    let (standalone, _fleet, miroir) = loaded_pair(2).await;
    for path in [
        "/stats?sizeFormat=human",
        "/indexes/movies/stats?sizeFormat=human&showInternalDatabaseSizes=true",
        "/indexes/movies/stats?showInternalDatabaseSizes=true",
        "/indexes/movies/stats?sizeFormat=raw",
    ] {
        let (s1, one) = get(format!("{}{path}", standalone.url())).await;
        let (s2, many) = get(format!("{}{path}", miroir.url())).await;
        assert_eq!((s1, s2), (200, 200), "{path}: {one} / {many}");
        assert_eq!(stats_shape(&many), stats_shape(&one), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facet_search_and_version_match_one_node() {
    let (standalone, _fleet, miroir) = loaded_pair(2).await;
    let strip_time = |mut v: Value| {
        if let Some(map) = v.as_object_mut() {
            map.remove("processingTimeMs");
        }
        v
    };
    for body in [
        json!({"facetName": "genre"}),
        json!({"facetName": "genre", "facetQuery": "d"}),
        json!({"facetName": "year", "filter": "rating > 5", "q": "star"}),
        json!({"facetName": "genre", "exhaustiveFacetCount": true, "filter": "year < 1990"}),
        json!({"facetName": "title"}),
    ] {
        let path = "/indexes/movies/facet-search";
        let ((s1, one), (s2, many)) = on_both(
            &standalone.url(),
            &miroir.url(),
            reqwest::Method::POST,
            path,
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (s2, strip_time(many)),
            (s1, strip_time(one)),
            "facet search {body}"
        );
    }
    let (s1, one) = get(format!("{}/version", standalone.url())).await;
    let (s2, many) = get(format!("{}/version", miroir.url())).await;
    assert_eq!((s1, &one), (s2, &many));
    assert_eq!(s1, 200);
    assert!(one["pkgVersion"].is_string());
}
