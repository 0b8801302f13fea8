//! End-to-end: similar documents (`GET`/`POST /indexes/{uid}/similar`) and the index
//! field listing (`POST /indexes/{uid}/fields`) through the `miroir` binary in front of
//! three nodes (fake nodes, or real Meilisearch with `MEILI_BIN`).
//!
//! Every test is differential: the same corpus goes into one standalone node and into
//! Miroir (16 shards over three nodes, one and two copies), and the answers must be the
//! same, `processingTimeMs` aside.
//!
//! Meilisearch's vector store is approximate: a filtered nearest-neighbour query walks an
//! HNSW graph built with random levels, so two builds of the same corpus can miss
//! different neighbours (seen on 1.50: a filtered `/similar` lost its third hit on one
//! run in three). The real nodes of these tests scan linearly instead (the experimental
//! `MEILI_EXPERIMENTAL_HNSW_LINEAR_BELOW_RATIO` set to 1), so both sides return the true
//! neighbours and the comparison tests Miroir, not the graph's luck.

mod common;

use common::*;
use miroir_tests::{start_node, FleetOptions, TestNode};
use serde_json::{json, Value};

/// The embedder of the vector corpus: user-provided, three dimensions.
const EMBEDDER: &str = "small";

/// A document of the vector corpus: an id, a title, a genre, a year and (for all but
/// every eleventh document, which opts out) an embedding whose components come from a small
/// deterministic generator, so no two documents point the same way.
fn vector_corpus() -> Vec<Value> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Three decimals in [-1, 1): exact enough to print, varied enough to never tie.
        ((state >> 33) % 2000) as f64 / 1000.0 - 1.0
    };
    (1..=45u32)
        .map(|id| {
            let vector = [next(), next(), next()];
            let mut doc = json!({
                "id": id,
                "title": format!("{} {}", WORDS[id as usize % WORDS.len()], id),
                "genre": GENRES[id as usize % GENRES.len()],
                "year": 1960 + id,
            });
            // A user-provided embedder needs every document to say: `null` opts out.
            doc["_vectors"] = if id % 11 == 0 {
                json!({ EMBEDDER: null })
            } else {
                json!({ EMBEDDER: vector })
            };
            doc
        })
        .collect()
}

async fn expect_task(base: &str, response: (u16, Value)) {
    let (status, task) = response;
    assert_eq!(status, 202, "{task}");
    let done = wait_task(base, &task["taskUid"]).await;
    assert_eq!(done["status"], json!("succeeded"), "{done}");
}

/// Create `items` with the embedder and filterable attributes, then add the corpus.
async fn load_vectors(base: &str) {
    load_vectors_with(base, json!({})).await;
}

/// [`load_vectors`] with more settings.
async fn load_vectors_with(base: &str, settings: Value) {
    let mut all = json!({
        "filterableAttributes": ["genre", "year"],
        "embedders": {EMBEDDER: {"source": "userProvided", "dimensions": 3}},
    });
    for (key, value) in settings.as_object().expect("settings object") {
        all[key] = value.clone();
    }
    expect_task(
        base,
        http(
            reqwest::Method::POST,
            format!("{base}/indexes"),
            Some(json!({"uid": "items", "primaryKey": "id"})),
        )
        .await,
    )
    .await;
    expect_task(
        base,
        http(
            reqwest::Method::PATCH,
            format!("{base}/indexes/items/settings"),
            Some(all),
        )
        .await,
    )
    .await;
    expect_task(
        base,
        http(
            reqwest::Method::POST,
            format!("{base}/indexes/items/documents"),
            Some(Value::Array(vector_corpus())),
        )
        .await,
    )
    .await;
}

/// Make real Meilisearch nodes started from now on answer nearest-neighbour queries by
/// a linear scan (exact). Every test calls it before it starts a node; the variable is
/// set once, before any test of this binary spawns a process.
fn exact_vector_search() {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| std::env::set_var("MEILI_EXPERIMENTAL_HNSW_LINEAR_BELOW_RATIO", "1.0"));
}

async fn standalone() -> TestNode {
    exact_vector_search();
    start_node(&FleetOptions {
        master_key: Some(KEY.into()),
        ..FleetOptions::default()
    })
    .await
    .expect("node")
}

/// The answer without its timing.
fn timeless(mut answer: Value) -> Value {
    if let Some(object) = answer.as_object_mut() {
        object.remove("processingTimeMs");
    }
    answer
}

/// A `/similar` request: `POST` with a body, or `GET` with a query string.
#[derive(Debug, Clone)]
enum Similar {
    Post(Value),
    Get(&'static str),
}

async fn ask_similar(base: &str, query: &Similar) -> (u16, Value) {
    match query {
        Similar::Post(body) => {
            http(
                reqwest::Method::POST,
                format!("{base}/indexes/items/similar"),
                Some(body.clone()),
            )
            .await
        }
        Similar::Get(params) => get(format!("{base}/indexes/items/similar?{params}")).await,
    }
}

/// The queries of the differential test: windows, filters (the reference in and out of
/// them), thresholds cutting inside and after the skipped hits, projections, vectors,
/// a reference without an embedding, and the `GET` form.
fn similar_queries() -> Vec<Similar> {
    use Similar::*;
    vec![
        Post(json!({"id": 5, "embedder": EMBEDDER})),
        Post(
            json!({"id": "12", "embedder": EMBEDDER, "offset": 3, "limit": 5, "showRankingScore": true}),
        ),
        Post(
            json!({"id": 7, "embedder": EMBEDDER, "filter": "genre = drama", "showRankingScoreDetails": true}),
        ),
        Post(
            json!({"id": 7, "embedder": EMBEDDER, "filter": ["genre = comedy", "year > 1970"], "showRankingScore": true}),
        ),
        Post(
            json!({"id": 3, "embedder": EMBEDDER, "rankingScoreThreshold": 0.8, "limit": 50, "showRankingScore": true}),
        ),
        Post(
            json!({"id": 3, "embedder": EMBEDDER, "rankingScoreThreshold": 0.8, "offset": 4, "limit": 3}),
        ),
        Post(
            json!({"id": 3, "embedder": EMBEDDER, "rankingScoreThreshold": 0.1, "offset": 2, "limit": 3}),
        ),
        Post(
            json!({"id": 9, "embedder": EMBEDDER, "attributesToRetrieve": ["title"], "retrieveVectors": true, "limit": 4}),
        ),
        Post(json!({"id": 22, "embedder": EMBEDDER})),
        Post(json!({"id": 14, "embedder": EMBEDDER, "limit": 0})),
        Post(json!({"id": 30, "embedder": EMBEDDER, "offset": 40})),
        Get("id=5&embedder=small&limit=4&filter=year%20%3E%201990&showRankingScore=true"),
        Get("id=18&embedder=small&attributesToRetrieve=id,genre&offset=1&limit=6"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_through_miroir_answers_like_one_node() {
    let one = standalone().await;
    load_vectors(&one.url()).await;
    for rf in [1u32, 2] {
        exact_vector_search();
        let (_fleet, miroir) = fleet_and_miroir(rf).await;
        load_vectors(&miroir.url()).await;
        for query in similar_queries() {
            let (s1, expected) = ask_similar(&one.url(), &query).await;
            let (s2, got) = ask_similar(&miroir.url(), &query).await;
            assert_eq!(s1, 200, "standalone, {query:?}: {expected}");
            assert_eq!(
                (s2, timeless(got)),
                (200, timeless(expected)),
                "rf={rf} {query:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_hits_are_the_nearest_documents_except_the_reference() {
    exact_vector_search();
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    let base = miroir.url();
    load_vectors(&base).await;
    let (status, answer) = ask_similar(
        &base,
        &Similar::Post(
            json!({"id": 5, "embedder": EMBEDDER, "limit": 100, "showRankingScore": true}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // 45 documents, 4 of them without an embedding, minus the reference.
    assert_eq!(answer["estimatedTotalHits"], json!(44));
    assert_eq!(answer["id"], json!("5"));
    let hits = answer["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 40, "only documents with an embedding are hits");
    assert!(hits.iter().all(|h| h["id"] != json!(5)));
    assert!(hits.iter().all(|h| h.get("_miroir_shard").is_none()));
    assert!(hits.iter().all(|h| h.get("_vectors").is_none()));
    let scores: Vec<f64> = hits
        .iter()
        .map(|h| h["_rankingScore"].as_f64().expect("score"))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "hits in similarity order: {scores:?}"
    );
    // The nearest neighbour, computed here from the corpus itself.
    let corpus = vector_corpus();
    let vector = |doc: &Value| -> Option<[f64; 3]> {
        let v = doc["_vectors"][EMBEDDER].as_array()?;
        Some([v[0].as_f64()?, v[1].as_f64()?, v[2].as_f64()?])
    };
    let reference = vector(&corpus[4]).expect("document 5 has an embedding");
    let cosine = |a: [f64; 3], b: [f64; 3]| {
        let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let norm = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        dot / (norm(a) * norm(b))
    };
    let nearest = corpus
        .iter()
        .filter(|d| d["id"] != json!(5))
        .filter_map(|d| Some((cosine(reference, vector(d)?), d["id"].clone())))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .expect("neighbours");
    assert_eq!(hits[0]["id"], nearest.1);
}

/// Requests `/similar` refuses, in `POST` and `GET` form.
fn refused_queries() -> Vec<Similar> {
    use Similar::*;
    vec![
        Post(json!({"id": 5})),
        Post(json!({"embedder": EMBEDDER})),
        Post(json!({"id": 5, "embedder": "nope"})),
        Post(json!({"id": "a b", "embedder": EMBEDDER})),
        Post(json!({"id": 999, "embedder": EMBEDDER})),
        Post(json!({"id": 5, "embedder": EMBEDDER, "limit": "ten"})),
        Post(json!({"id": 5, "embedder": EMBEDDER, "page": 2})),
        Post(json!({"id": 5, "embedder": EMBEDDER, "filter": "genre ="})),
        Post(json!({"id": 5, "embedder": EMBEDDER, "filter": "title = x"})),
        Post(json!({"id": 5, "embedder": EMBEDDER, "rankingScoreThreshold": 2})),
        Get("embedder=small"),
        Get("id=5"),
        Get("id=5&embedder=small&limit=-1"),
        Get("id=999&embedder=small"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_errors_are_meilisearch_errors() {
    let one = standalone().await;
    load_vectors(&one.url()).await;
    exact_vector_search();
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    load_vectors(&miroir.url()).await;
    for query in refused_queries() {
        let expected = ask_similar(&one.url(), &query).await;
        let got = ask_similar(&miroir.url(), &query).await;
        assert!(
            expected.0 >= 400,
            "standalone accepted {query:?}: {expected:?}"
        );
        assert_eq!(got, expected, "{query:?}");
    }
    // The reference is missing: Meilisearch's own error for similar.
    let (status, error) = ask_similar(
        &miroir.url(),
        &Similar::Post(json!({"id": 999, "embedder": EMBEDDER})),
    )
    .await;
    assert_eq!(
        (status, error),
        (
            400,
            json!({
                "message": "Document `999` not found.",
                "code": "not_found_similar_id",
                "type": "invalid_request",
                "link": "https://docs.meilisearch.com/errors#not_found_similar_id"
            })
        )
    );
    let (status, error) = http(
        reqwest::Method::POST,
        format!("{}/indexes/nothing/similar", miroir.url()),
        Some(json!({"id": 1, "embedder": EMBEDDER})),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(error["code"], json!("index_not_found"));
}

async fn list_fields(base: &str, body: Value) -> (u16, Value) {
    http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/fields"),
        Some(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_are_listed_like_one_node_without_the_shard_field() {
    let one = standalone().await;
    load_corpus(&one.url()).await;
    for rf in [1u32, 2] {
        exact_vector_search();
        let (_fleet, miroir) = fleet_and_miroir(rf).await;
        load_corpus(&miroir.url()).await;
        let (status, all) = list_fields(&miroir.url(), json!({})).await;
        assert_eq!(status, 200, "{all}");
        let names: Vec<&str> = all["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|f| f["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, vec!["genre", "id", "rating", "title", "year"]);
        assert_eq!(
            (
                all["offset"].clone(),
                all["limit"].clone(),
                all["total"].clone()
            ),
            (json!(0), json!(20), json!(5))
        );
        for body in [
            json!({}),
            json!({"offset": 1, "limit": 2}),
            json!({"offset": 10}),
            json!({"limit": 0}),
            json!({"filter": {"filterable": true}}),
            json!({"filter": {"filterable": false, "sortable": true}}),
            json!({"filter": {"attributePatterns": ["*e*"]}, "limit": 1}),
            json!({"limit": "ten"}),
            json!({"filter": {"nope": true}}),
            json!({"filter": {"displayed": 1}}),
            json!({"offset": -1}),
        ] {
            let expected = list_fields(&one.url(), body.clone()).await;
            let got = list_fields(&miroir.url(), body.clone()).await;
            assert_eq!(got, expected, "rf={rf} {body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_totals_stop_at_max_total_hits_like_one_node() {
    let settings = json!({"pagination": {"maxTotalHits": 10}});
    let one = standalone().await;
    load_vectors_with(&one.url(), settings.clone()).await;
    exact_vector_search();
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    load_vectors_with(&miroir.url(), settings).await;
    for query in [
        Similar::Post(json!({"id": 5, "embedder": EMBEDDER, "limit": 5})),
        Similar::Post(
            json!({"id": 5, "embedder": EMBEDDER, "offset": 3, "limit": 4, "showRankingScore": true}),
        ),
        Similar::Post(
            json!({"id": 8, "embedder": EMBEDDER, "filter": "genre = drama", "limit": 3}),
        ),
        // Past maxTotalHits one node still returns hits; through Miroir each node returns
        // up to maxTotalHits, enough here (see docs/status.md).
        Similar::Post(json!({"id": 5, "embedder": EMBEDDER, "offset": 8, "limit": 5})),
    ] {
        let (s1, expected) = ask_similar(&one.url(), &query).await;
        let (s2, got) = ask_similar(&miroir.url(), &query).await;
        assert_eq!(s1, 200, "{expected}");
        assert_eq!((s2, timeless(got)), (200, timeless(expected)), "{query:?}");
    }
    let (_, capped) = ask_similar(
        &miroir.url(),
        &Similar::Post(json!({"id": 5, "embedder": EMBEDDER, "limit": 5})),
    )
    .await;
    assert_eq!(capped["estimatedTotalHits"], json!(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_of_a_vector_index_are_listed_like_one_node() {
    let one = standalone().await;
    load_vectors(&one.url()).await;
    exact_vector_search();
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    load_vectors(&miroir.url()).await;
    for body in [
        json!({}),
        json!({"filter": {"searchable": false}}),
        json!({"filter": {"attributePatterns": ["_*"]}}),
    ] {
        let expected = http(
            reqwest::Method::POST,
            format!("{}/indexes/items/fields", one.url()),
            Some(body.clone()),
        )
        .await;
        let got = http(
            reqwest::Method::POST,
            format!("{}/indexes/items/fields", miroir.url()),
            Some(body.clone()),
        )
        .await;
        assert_eq!(got, expected, "{body}");
    }
    let (_, all) = http(
        reqwest::Method::POST,
        format!("{}/indexes/items/fields", miroir.url()),
        Some(json!({})),
    )
    .await;
    assert_eq!(all["total"], json!(5), "{all}");
    assert_eq!(all["results"][0]["name"], json!("_vectors"));
    assert_eq!(all["results"][0]["searchable"], json!({"enabled": false}));
}

/// A search-only key on `items` and a tenant token of it that sees dramas only,
/// created on `base` (each side has its own keys).
async fn drama_token(base: &str) -> String {
    let (status, key) = http(
        reqwest::Method::POST,
        format!("{base}/keys"),
        Some(json!({"actions": ["search"], "indexes": ["items"], "expiresAt": null})),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    meilisearch_sdk::client::Client::new(base, Some(KEY))
        .expect("client")
        .generate_tenant_token(
            key["uid"].as_str().expect("uid").to_owned(),
            json!({"items": {"filter": "genre = drama"}}),
            key["key"].as_str(),
            None,
        )
        .expect("token")
}

async fn similar_with_token(base: &str, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/indexes/items/similar"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_tokens_restrict_similar_like_one_node() {
    let one = standalone().await;
    load_vectors(&one.url()).await;
    exact_vector_search();
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    load_vectors(&miroir.url()).await;
    let (one_token, miroir_token) = (
        drama_token(&one.url()).await,
        drama_token(&miroir.url()).await,
    );
    for body in [
        json!({"id": 8, "embedder": EMBEDDER, "showRankingScore": true}),
        json!({"id": 8, "embedder": EMBEDDER, "filter": "year > 1990"}),
        // 7 is a horror film: outside the token, so not found.
        json!({"id": 7, "embedder": EMBEDDER}),
    ] {
        let (s1, expected) = similar_with_token(&one.url(), &one_token, body.clone()).await;
        let (s2, got) = similar_with_token(&miroir.url(), &miroir_token, body.clone()).await;
        assert_eq!((s2, timeless(got)), (s1, timeless(expected)), "{body}");
    }
    let (status, dramas) = similar_with_token(
        &miroir.url(),
        &miroir_token,
        json!({"id": 8, "embedder": EMBEDDER, "limit": 50}),
    )
    .await;
    assert_eq!(status, 200, "{dramas}");
    let hits = dramas["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 9, "the other dramas with an embedding");
    assert!(hits.iter().all(|h| h["genre"] == json!("drama")));
    assert_eq!(dramas["estimatedTotalHits"], json!(10));
    let (status, hidden) = similar_with_token(
        &miroir.url(),
        &miroir_token,
        json!({"id": 7, "embedder": EMBEDDER}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(hidden["code"], json!("not_found_similar_id"));
}
