//! Helpers shared by the end-to-end suites: the corpus, raw HTTP, loading an index
//! through Miroir, starting a fleet with Miroir in front, waiting for tasks.
#![allow(dead_code)] // each test binary uses a different subset

use meilisearch_sdk::client::Client;
use miroir_tests::{start_node, Fleet, FleetOptions, Miroir, MiroirOptions, TestNode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const KEY: &str = "e2e-master-key-0123456789abcdef";

/// How long the SDK waits for a task: longer than its 5 s default, because real nodes
/// on a loaded 2-core machine can take that long to index the corpus.
pub const SDK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movie {
    pub id: u32,
    pub title: String,
    pub genre: String,
    pub year: u32,
    pub rating: f64,
}

pub const WORDS: &[&str] = &[
    "star", "night", "river", "king", "dark", "love", "war", "city", "ghost", "summer", "storm",
    "heart",
];
pub const GENRES: &[&str] = &["drama", "comedy", "scifi", "horror"];

/// A deterministic corpus: 60 movies whose titles mix a small vocabulary, so keyword
/// queries match several documents with different scores.
pub fn corpus() -> Vec<Movie> {
    (1..=60u32)
        .map(|id| {
            let a = WORDS[(id as usize * 7) % WORDS.len()];
            let b = WORDS[(id as usize * 3 + 1) % WORDS.len()];
            let c = WORDS[(id as usize * 5 + 2) % WORDS.len()];
            Movie {
                id,
                title: format!("{a} {b} {c} {id}"),
                genre: GENRES[id as usize % GENRES.len()].to_owned(),
                year: 1950 + id,
                rating: f64::from((id * 37) % 100) / 10.0,
            }
        })
        .collect()
}

/// `GET url` with the master key: status and JSON body.
pub async fn get(url: String) -> (u16, Value) {
    http(reqwest::Method::GET, url, None).await
}

pub async fn http(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, url).bearer_auth(KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body read");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (status, value)
}

/// The same request with the master key on two targets (a standalone node first,
/// Miroir second): both statuses and bodies.
pub async fn on_both(
    first: &str,
    second: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> ((u16, Value), (u16, Value)) {
    let one = http(method.clone(), format!("{first}{path}"), body.clone()).await;
    let many = http(method, format!("{second}{path}"), body).await;
    (one, many)
}

/// Create the empty index `movies` (primary key `id`) through `url` with the SDK and
/// wait until it exists.
pub async fn create_movies(url: &str) {
    let client = Client::new(url, Some(KEY)).expect("client");
    succeeded(&client, client.create_index("movies", Some("id")).await).await;
}

/// Create the index with its settings and add the corpus through `url`, waiting for
/// every task with the SDK.
pub async fn load_corpus(url: &str) {
    create_movies(url).await;
    let client = Client::new(url, Some(KEY)).expect("client");
    let index = client.index("movies");
    let settings = meilisearch_sdk::settings::Settings::new()
        .with_filterable_attributes(["genre", "year", "rating"])
        .with_sortable_attributes(["year", "rating"]);
    succeeded(&client, index.set_settings(&settings).await).await;
    succeeded(&client, index.add_documents(&corpus(), Some("id")).await).await;
}

/// Three nodes and Miroir over them with replication factor `rf`.
pub async fn fleet_and_miroir(rf: u32) -> (Fleet, Miroir) {
    fleet_with(
        3,
        MiroirOptions {
            replication_factor: rf,
            master_key: Some(KEY.into()),
            ..MiroirOptions::default()
        },
    )
    .await
}

/// `nodes` nodes with the master key [`KEY`], and Miroir over them configured by
/// `options` (16 shards by default).
pub async fn fleet_with(nodes: usize, options: MiroirOptions) -> (Fleet, Miroir) {
    let fleet = Fleet::start(
        nodes,
        FleetOptions {
            master_key: Some(KEY.into()),
            ..FleetOptions::default()
        },
    )
    .await
    .expect("fleet starts");
    let miroir = Miroir::start(&fleet, options).await.expect("miroir starts");
    (fleet, miroir)
}

/// The two sides of a differential test: a standalone node and Miroir over three nodes
/// (replication factor `rf`), both holding the corpus.
pub async fn loaded_pair(rf: u32) -> (TestNode, Fleet, Miroir) {
    let standalone = start_node(&FleetOptions {
        master_key: Some(KEY.into()),
        ..FleetOptions::default()
    })
    .await
    .expect("node");
    load_corpus(&standalone.url()).await;
    let (fleet, miroir) = fleet_and_miroir(rf).await;
    load_corpus(&miroir.url()).await;
    (standalone, fleet, miroir)
}

pub fn ids(hits: &Value) -> Vec<u64> {
    hits.as_array()
        .expect("hits array")
        .iter()
        .map(|h| h["id"].as_u64().expect("numeric id"))
        .collect()
}

pub async fn raw_post(url: String, content_type: &str, body: &'static str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(KEY)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Poll a task like the SDKs do (every 50 ms, [`SDK_WAIT`] at most) until it finishes.
pub async fn wait_task(base: &str, uid: &Value) -> Value {
    let uid = uid.as_u64().expect("task uid");
    let deadline = std::time::Instant::now() + SDK_WAIT;
    while std::time::Instant::now() < deadline {
        let (_, task) = http(reqwest::Method::GET, format!("{base}/tasks/{uid}"), None).await;
        if matches!(
            task["status"].as_str(),
            Some("succeeded" | "failed" | "canceled")
        ) {
            return task;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("task {uid} did not finish within {SDK_WAIT:?}");
}

/// Slow down task processing on every node of `fleet` by `delay` so that tasks stay
/// enqueued or processing. Only the fake node can: on real Meilisearch this prints a
/// loud skip notice for `test` (saying it `needs` ...) and returns false.
#[allow(dead_code)]
pub fn hold_tasks(fleet: &Fleet, delay: std::time::Duration, test: &str, needs: &str) -> bool {
    for node in fleet.nodes() {
        if node.set_task_delay(delay).is_err() {
            miroir_tests::fleet::skip_notice(test, needs);
            return false;
        }
    }
    true
}

/// A write of 30 new documents through Miroir at `url` is refused with
/// `503 miroir_no_quorum` (30 ids spread over every shard of a 16-shard index).
#[allow(dead_code)]
pub async fn assert_write_misses_quorum(url: &str) {
    let batch: Vec<Value> = (100..130)
        .map(|id| serde_json::json!({"id": id, "title": "new"}))
        .collect();
    let (status, error) = http(
        reqwest::Method::POST,
        format!("{url}/indexes/movies/documents"),
        Some(Value::Array(batch)),
    )
    .await;
    assert_eq!(status, 503, "{error}");
    assert_eq!(error["code"], serde_json::json!("miroir_no_quorum"));
}

/// The ids of every document of `movies` found by a placeholder search through `base`
/// (at most 100), sorted.
#[allow(dead_code)]
pub async fn all_ids(base: &str) -> Vec<u64> {
    let (status, all) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/search"),
        Some(serde_json::json!({"q": "", "limit": 100})),
    )
    .await;
    assert_eq!(status, 200, "{all}");
    let mut got = ids(&all["hits"]);
    got.sort_unstable();
    got
}

/// Wait with the SDK for a task the client's request enqueued, and assert it succeeded.
pub async fn succeeded(
    client: &Client,
    accepted: Result<meilisearch_sdk::task_info::TaskInfo, meilisearch_sdk::errors::Error>,
) -> meilisearch_sdk::tasks::Task {
    let task = accepted
        .expect("task accepted")
        .wait_for_completion(client, None, Some(SDK_WAIT))
        .await
        .expect("task finishes");
    assert!(task.is_success(), "{task:?}");
    task
}
