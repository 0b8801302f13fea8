//! End-to-end: API keys on the task routes Miroir answers itself (`GET /tasks`,
//! `GET /tasks/{uid}`, `DELETE /tasks`, `POST /tasks/cancel`).
//!
//! Every scenario runs the same requests through Miroir (over three nodes) and against
//! one plain node with the same master key, the same keys (same uids, hence the same
//! key strings) and the same writes (hence the same task uids), and requires the same
//! answers: exact error bodies, and for task lists the same uids, indexes, types,
//! statuses, `total`, `limit`, `from` and `next` (timestamps differ).

mod common;

use std::time::Duration;

use common::*;
use meilisearch_sdk::client::Client;
use meilisearch_sdk::errors::{Error as SdkError, ErrorCode};
use meilisearch_sdk::tasks::{TasksCancelQuery, TasksDeleteQuery, TasksSearchQuery};
use miroir_tests::{start_node, Fleet, FleetOptions, Miroir, MiroirOptions, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

/// `tasks.get` on every index.
const READER: &str = "00000000-0000-4000-8000-000000000001";
/// `tasks.get` on `movies*`.
const MOVIES_READER: &str = "00000000-0000-4000-8000-000000000002";
/// `tasks.*` on `movies*`.
const MOVIES_ADMIN: &str = "00000000-0000-4000-8000-000000000003";
/// `search` on every index.
const SEARCHER: &str = "00000000-0000-4000-8000-000000000004";
/// `*` on every index.
const ADMIN: &str = "00000000-0000-4000-8000-000000000005";

/// `*.get` (every read action) on every index.
const ALL_GET: &str = "00000000-0000-4000-8000-000000000006";
/// `*` on no index at all.
const NOWHERE: &str = "00000000-0000-4000-8000-000000000007";

const KEYS: &[(&str, &[&str], &[&str])] = &[
    (READER, &["tasks.get"], &["*"]),
    (MOVIES_READER, &["tasks.get"], &["movies*"]),
    (MOVIES_ADMIN, &["tasks.*"], &["movies*"]),
    (SEARCHER, &["search"], &["*"]),
    (ADMIN, &["*"], &["*"]),
    (ALL_GET, &["*.get"], &["*"]),
    (NOWHERE, &["*"], &[]),
];

/// Miroir over three nodes, and one plain node, holding the same keys and tasks.
struct Pair {
    fleet: Fleet,
    miroir: Miroir,
    node: TestNode,
    /// Key strings by uid (the same on both sides).
    keys: Vec<(&'static str, String)>,
}

impl Pair {
    fn key(&self, uid: &str) -> &str {
        &self
            .keys
            .iter()
            .find(|(u, _)| *u == uid)
            .expect("a key of the scenario")
            .1
    }

    fn bases(&self) -> [String; 2] {
        [self.miroir.url(), self.node.url()]
    }
}

/// A raw request with the given `Authorization` header value (or none).
async fn call(method: Method, url: String, authorization: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body read");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (status, body)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// What must be equal between Miroir and a node in a task, a task list or an error.
fn comparable(body: &Value) -> Value {
    let task = |t: &Value| json!([t["uid"], t["indexUid"], t["type"], t["status"]]);
    if let Some(results) = body.get("results").and_then(Value::as_array) {
        json!({
            "results": results.iter().map(task).collect::<Vec<_>>(),
            "total": body["total"], "limit": body["limit"], "from": body["from"], "next": body["next"],
        })
    } else if body.get("uid").is_some() {
        task(body)
    } else if body.get("taskUid").is_some() {
        json!([
            body["taskUid"],
            body["indexUid"],
            body["type"],
            body["status"]
        ])
    } else {
        body.clone()
    }
}

/// The same request through Miroir and on the plain node: same status, same body
/// (as [`comparable`] sees it). Returns Miroir's answer.
async fn same_on_both(
    pair: &Pair,
    method: Method,
    path: &str,
    authorization: Option<&str>,
) -> (u16, Value) {
    let [miroir, node] = pair.bases();
    let through = call(method.clone(), format!("{miroir}{path}"), authorization).await;
    let direct = call(method.clone(), format!("{node}{path}"), authorization).await;
    assert_eq!(
        (through.0, comparable(&through.1)),
        (direct.0, comparable(&direct.1)),
        "{method} {path} with {authorization:?}: Miroir (left) and a plain node (right) differ"
    );
    through
}

/// Wait for a task with the master key on `base`.
async fn finished(base: &str, uid: &Value) -> Value {
    wait_task(base, uid).await
}

async fn create_keys(base: &str) -> Vec<(&'static str, String)> {
    let mut keys = Vec::new();
    for (uid, actions, indexes) in KEYS {
        let (status, key) = http(
            Method::POST,
            format!("{base}/keys"),
            Some(json!({"uid": uid, "actions": actions, "indexes": indexes, "expiresAt": null})),
        )
        .await;
        assert_eq!(status, 201, "{key}");
        keys.push((*uid, key["key"].as_str().expect("key").to_owned()));
    }
    keys
}

/// The writes of every scenario, in order; their task uids are 0 to 5 on both sides:
/// 0 `movies`, 1 `books` and 2 `movies_2024` created, 3 documents into `movies`,
/// 4 documents into `books`, 5 a task deletion (no index).
async fn write_tasks(base: &str) {
    let writes: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/indexes".into(),
            Some(json!({"uid": "movies", "primaryKey": "id"})),
        ),
        (
            Method::POST,
            "/indexes".into(),
            Some(json!({"uid": "books", "primaryKey": "id"})),
        ),
        (
            Method::POST,
            "/indexes".into(),
            Some(json!({"uid": "movies_2024", "primaryKey": "id"})),
        ),
        (
            Method::POST,
            "/indexes/movies/documents".into(),
            Some(json!([{"id": 1, "title": "Alien"}, {"id": 2, "title": "Heat"}])),
        ),
        (
            Method::POST,
            "/indexes/books/documents".into(),
            Some(json!([{"id": 1, "title": "Dune"}])),
        ),
        (Method::DELETE, "/tasks?uids=999".into(), None),
    ];
    for (expected, (method, path, body)) in writes.into_iter().enumerate() {
        let (status, task) = http(method, format!("{base}{path}"), body).await;
        assert!(status == 200 || status == 202, "{path}: {status} {task}");
        assert_eq!(task["taskUid"], json!(expected), "{path} on {base}");
        let done = finished(base, &task["taskUid"]).await;
        assert_eq!(done["status"], json!("succeeded"), "{done}");
    }
}

async fn pair() -> Pair {
    let options = FleetOptions {
        master_key: Some(KEY.into()),
        ..FleetOptions::default()
    };
    let fleet = Fleet::start(3, options.clone())
        .await
        .expect("fleet starts");
    let miroir = Miroir::start(
        &fleet,
        MiroirOptions {
            master_key: Some(KEY.into()),
            ..MiroirOptions::default()
        },
    )
    .await
    .expect("miroir starts");
    let node = start_node(&options).await.expect("plain node starts");
    let keys = create_keys(&miroir.url()).await;
    assert_eq!(
        create_keys(&node.url()).await,
        keys,
        "the same uid gives the same key under the same master key"
    );
    write_tasks(&miroir.url()).await;
    write_tasks(&node.url()).await;
    Pair {
        fleet,
        miroir,
        node,
        keys,
    }
}

fn invalid_api_key() -> Value {
    json!({
        "message": "The provided API key is invalid.",
        "code": "invalid_api_key",
        "type": "auth",
        "link": "https://docs.meilisearch.com/errors#invalid_api_key"
    })
}

fn missing_authorization_header() -> Value {
    json!({
        "message": "The Authorization header is missing. It must use the bearer authorization method.",
        "code": "missing_authorization_header",
        "type": "auth",
        "link": "https://docs.meilisearch.com/errors#missing_authorization_header"
    })
}

fn task_not_found(uid: u32) -> Value {
    json!({
        "message": format!("Task `{uid}` not found."),
        "code": "task_not_found",
        "type": "invalid_request",
        "link": "https://docs.meilisearch.com/errors#task_not_found"
    })
}

/// The uids of a task list.
fn uids(list: &Value) -> Vec<u64> {
    list["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|t| t["uid"].as_u64().expect("uid"))
        .collect()
}

fn sdk_error_code(error: SdkError) -> ErrorCode {
    match error {
        SdkError::Meilisearch(error) => error.error_code,
        other => panic!("expected a Meilisearch error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_key_sees_every_task() {
    let pair = pair().await;
    let (status, list) = same_on_both(&pair, Method::GET, "/tasks", Some(&bearer(KEY))).await;
    assert_eq!(status, 200);
    assert_eq!(uids(&list), vec![5, 4, 3, 2, 1, 0]);
    assert_eq!(
        (&list["total"], &list["from"], &list["next"]),
        (&json!(6), &json!(5), &Value::Null)
    );
    let (status, task) = same_on_both(&pair, Method::GET, "/tasks/5", Some(&bearer(KEY))).await;
    assert_eq!((status, &task["type"]), (200, &json!("taskDeletion")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_may_only_read_tasks_cannot_delete_or_cancel_them() {
    let pair = pair().await;
    for uid in [READER, ALL_GET] {
        let reader = bearer(pair.key(uid));
        let (status, list) = same_on_both(&pair, Method::GET, "/tasks", Some(&reader)).await;
        assert_eq!(status, 200);
        assert_eq!(uids(&list), vec![5, 4, 3, 2, 1, 0]);
        assert_eq!(list["total"], json!(6));
        let (status, _) = same_on_both(&pair, Method::GET, "/tasks/5", Some(&reader)).await;
        assert_eq!(status, 200);
        for (method, path) in [
            (Method::DELETE, "/tasks?uids=0"),
            (Method::POST, "/tasks/cancel?uids=0"),
        ] {
            let (status, error) = same_on_both(&pair, method, path, Some(&reader)).await;
            assert_eq!((status, error), (403, invalid_api_key()), "{uid}: {path}");
        }
    }

    // The SDK sees the same refusals.
    let client = Client::new(pair.miroir.url(), Some(pair.key(READER))).expect("client");
    let listed = client.get_tasks().await.expect("the reader lists tasks");
    assert_eq!(listed.total, 6);
    let refused = TasksDeleteQuery::new(&client)
        .with_uids([&0])
        .execute()
        .await
        .expect_err("the reader may not delete");
    assert_eq!(sdk_error_code(refused), ErrorCode::InvalidApiKey);
    let refused = TasksCancelQuery::new(&client)
        .with_uids([&0])
        .execute()
        .await
        .expect_err("the reader may not cancel");
    assert_eq!(sdk_error_code(refused), ErrorCode::InvalidApiKey);

    // Nothing was deleted.
    let (_, list) = same_on_both(&pair, Method::GET, "/tasks", Some(&bearer(KEY))).await;
    assert_eq!(uids(&list), vec![5, 4, 3, 2, 1, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_restricted_keys_see_only_their_indexes_tasks() {
    let pair = pair().await;
    let key = bearer(pair.key(MOVIES_READER));
    let (status, list) = same_on_both(&pair, Method::GET, "/tasks", Some(&key)).await;
    assert_eq!(status, 200);
    // Tasks of `movies` and `movies_2024` only: not `books`, not the index-less task
    // deletion. `total` counts every matching task, as Meilisearch counts it.
    assert_eq!(uids(&list), vec![3, 2, 0]);
    assert_eq!(
        comparable(&list)["results"],
        json!([
            [3, "movies", "documentAdditionOrUpdate", "succeeded"],
            [2, "movies_2024", "indexCreation", "succeeded"],
            [0, "movies", "indexCreation", "succeeded"]
        ])
    );
    assert_eq!(
        (&list["total"], &list["limit"], &list["from"], &list["next"]),
        (&json!(6), &json!(20), &json!(3), &Value::Null)
    );
    // Meilisearch cuts the page before hiding: the first 3 tasks (5, 4, 3) hold one
    // visible task, and there is no `next`.
    let (_, page) = same_on_both(&pair, Method::GET, "/tasks?limit=2", Some(&key)).await;
    assert_eq!(uids(&page), vec![3]);
    assert_eq!(
        (&page["total"], &page["from"], &page["next"]),
        (&json!(6), &json!(3), &Value::Null)
    );
    let (_, page) = same_on_both(&pair, Method::GET, "/tasks?limit=1&from=3", Some(&key)).await;
    assert_eq!(uids(&page), vec![3]);
    assert_eq!(page["next"], json!(2));
    let (_, books) = same_on_both(&pair, Method::GET, "/tasks?indexUids=books", Some(&key)).await;
    assert_eq!(uids(&books), Vec::<u64>::new());
    assert_eq!(books["total"], json!(2));

    for hidden in [1, 4, 5] {
        let (status, error) =
            same_on_both(&pair, Method::GET, &format!("/tasks/{hidden}"), Some(&key)).await;
        assert_eq!((status, error), (404, task_not_found(hidden)));
    }
    let (status, task) = same_on_both(&pair, Method::GET, "/tasks/2", Some(&key)).await;
    assert_eq!((status, &task["indexUid"]), (200, &json!("movies_2024")));

    // The SDK lists the same tasks.
    let client = Client::new(pair.miroir.url(), Some(pair.key(MOVIES_READER))).expect("client");
    let listed = TasksSearchQuery::new(&client)
        .execute()
        .await
        .expect("listed");
    let seen: Vec<u32> = listed.results.iter().map(|t| t.get_uid()).collect();
    assert_eq!((seen, listed.total), (vec![3, 2, 0], 6));
    let master = Client::new(pair.miroir.url(), Some(KEY)).expect("client");
    let books_task = TasksSearchQuery::new(&master)
        .with_uids([&1])
        .execute()
        .await
        .expect("listed")
        .results
        .remove(0);
    let missing = client.get_task(&books_task).await.expect_err("hidden task");
    assert_eq!(sdk_error_code(missing), ErrorCode::TaskNotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_restricted_keys_delete_only_their_indexes_tasks() {
    let pair = pair().await;
    let key = bearer(pair.key(MOVIES_ADMIN));
    let (status, deletion) = same_on_both(
        &pair,
        Method::DELETE,
        "/tasks?statuses=succeeded",
        Some(&key),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        comparable(&deletion),
        json!([6, null, "taskDeletion", "enqueued"])
    );
    // The deletion has no index: the key that asked for it cannot see it.
    let (status, error) = same_on_both(&pair, Method::GET, "/tasks/6", Some(&key)).await;
    assert_eq!((status, error), (404, task_not_found(6)));
    for base in pair.bases() {
        let done = finished(&base, &json!(6)).await;
        assert_eq!(
            (&done["status"], &done["details"]),
            (
                &json!("succeeded"),
                &json!({"matchedTasks": 3, "deletedTasks": 3, "originalFilter": "?statuses=succeeded"})
            ),
            "on {base}"
        );
    }
    let (_, list) = same_on_both(&pair, Method::GET, "/tasks", Some(&bearer(KEY))).await;
    assert_eq!(
        uids(&list),
        vec![6, 5, 4, 1],
        "only the movies tasks are gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_restricted_keys_cancel_only_their_indexes_tasks() {
    let pair = pair().await;
    let key = bearer(pair.key(MOVIES_ADMIN));
    let filter = "/tasks/cancel?uids=0,1,2,3,4,5";
    let (status, cancelation) = same_on_both(&pair, Method::POST, filter, Some(&key)).await;
    assert_eq!(status, 200);
    assert_eq!(
        comparable(&cancelation),
        json!([6, null, "taskCancelation", "enqueued"])
    );
    for base in pair.bases() {
        let done = finished(&base, &json!(6)).await;
        assert_eq!(
            (&done["status"], &done["details"]),
            (
                &json!("succeeded"),
                &json!({"matchedTasks": 3, "canceledTasks": 0, "originalFilter": "?uids=0,1,2,3,4,5"})
            ),
            "on {base}: only the three movies tasks match"
        );
    }
    // Through the SDK, with an index filter outside the key's indexes: nothing matches.
    let client = Client::new(pair.miroir.url(), Some(pair.key(MOVIES_ADMIN))).expect("client");
    let info = TasksCancelQuery::new(&client)
        .with_index_uids(["books"])
        .execute()
        .await
        .expect("cancelation accepted");
    let done = finished(&pair.miroir.url(), &json!(info.task_uid)).await;
    let details = &done["details"];
    assert_eq!(details["matchedTasks"], json!(0), "{details}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_restricted_cancelation_leaves_other_indexes_tasks_running() {
    let pair = pair().await;
    if !hold_tasks(
        &pair.fleet,
        Duration::from_secs(2),
        "index_restricted_cancelation_leaves_other_indexes_tasks_running",
        "needs the fake node's task delay to keep writes enqueued",
    ) {
        return;
    }
    let base = pair.miroir.url();
    let mut writes = Vec::new();
    for index in ["movies", "books"] {
        let (status, task) = http(
            Method::POST,
            format!("{base}/indexes/{index}/documents"),
            Some(json!([{"id": 10, "title": "Late"}])),
        )
        .await;
        assert_eq!(status, 202);
        writes.push(task["taskUid"].clone());
    }
    let (status, cancelation) = call(
        Method::POST,
        format!("{base}/tasks/cancel?statuses=enqueued,processing"),
        Some(&bearer(pair.key(MOVIES_ADMIN))),
    )
    .await;
    assert_eq!(status, 200, "{cancelation}");
    for node in pair.fleet.nodes() {
        node.set_task_delay(Duration::ZERO).expect("fake node");
    }
    let done = finished(&base, &cancelation["taskUid"]).await;
    assert_eq!(
        done["details"],
        json!({"matchedTasks": 1, "canceledTasks": 1, "originalFilter": "?statuses=enqueued,processing"})
    );
    let movies = finished(&base, &writes[0]).await;
    assert_eq!(movies["status"], json!("canceled"), "{movies}");
    let books = finished(&base, &writes[1]).await;
    assert_eq!(books["status"], json!("succeeded"), "{books}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_key_are_refused_like_meilisearch() {
    let pair = pair().await;
    let unknown = bearer(&"0123456789abcdef".repeat(4));
    let uid_as_key = bearer(READER);
    let searcher = bearer(pair.key(SEARCHER));
    let nowhere = bearer(pair.key(NOWHERE));
    let cases: Vec<(Option<&str>, u16, Value)> = vec![
        (None, 401, missing_authorization_header()),
        (
            Some("Basic YWxhZGRpbjpvcGVu"),
            401,
            missing_authorization_header(),
        ),
        (Some("bearer abc"), 401, missing_authorization_header()),
        (Some("Bearer"), 403, invalid_api_key()),
        (Some("Bearer "), 403, invalid_api_key()),
        (Some(&unknown), 403, invalid_api_key()),
        (Some(&uid_as_key), 403, invalid_api_key()),
        (Some(&searcher), 403, invalid_api_key()),
        (Some(&nowhere), 403, invalid_api_key()),
    ];
    for (method, path) in [
        (Method::GET, "/tasks"),
        (Method::GET, "/tasks/0"),
        (Method::DELETE, "/tasks?uids=0"),
        (Method::POST, "/tasks/cancel?uids=0"),
    ] {
        for (authorization, status, body) in &cases {
            let answer = same_on_both(&pair, method.clone(), path, *authorization).await;
            assert_eq!(
                answer,
                (*status, body.clone()),
                "{method} {path} with {authorization:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_keys_are_refused() {
    let pair = pair().await;
    let uid = "00000000-0000-4000-8000-0000000000ee";
    let expires_at = time::OffsetDateTime::now_utc() + Duration::from_secs(3);
    let expires_at = expires_at
        .replace_nanosecond(0)
        .expect("zero nanoseconds")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    let mut key = String::new();
    for base in pair.bases() {
        let (status, created) = http(
            Method::POST,
            format!("{base}/keys"),
            Some(json!({"uid": uid, "actions": ["*"], "indexes": ["*"], "expiresAt": expires_at})),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        key = created["key"].as_str().expect("key").to_owned();
    }
    let key = bearer(&key);
    let (status, _) = same_on_both(&pair, Method::GET, "/tasks", Some(&key)).await;
    assert_eq!(status, 200, "valid until {expires_at}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    for (method, path) in [
        (Method::GET, "/tasks"),
        (Method::GET, "/tasks/0"),
        (Method::DELETE, "/tasks?uids=0"),
        (Method::POST, "/tasks/cancel?uids=0"),
    ] {
        let answer = same_on_both(&pair, method, path, Some(&key)).await;
        assert_eq!(
            answer,
            (403, invalid_api_key()),
            "{path} after {expires_at}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_tokens_are_refused_on_task_routes() {
    let pair = pair().await;
    let client = Client::new(pair.miroir.url(), Some(KEY)).expect("client");
    let token = client
        .generate_tenant_token(ADMIN.to_owned(), json!(["*"]), Some(pair.key(ADMIN)), None)
        .expect("token");
    for (method, path) in [
        (Method::GET, "/tasks"),
        (Method::GET, "/tasks/0"),
        (Method::DELETE, "/tasks?uids=0"),
        (Method::POST, "/tasks/cancel?uids=0"),
    ] {
        let answer = same_on_both(&pair, method, path, Some(&bearer(&token))).await;
        assert_eq!(answer, (403, invalid_api_key()), "{path}");
    }
    let with_token = Client::new(pair.miroir.url(), Some(token)).expect("client");
    let refused = with_token.get_tasks().await.expect_err("refused");
    assert_eq!(sdk_error_code(refused), ErrorCode::InvalidApiKey);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_deleted_through_miroir_stops_working_at_once() {
    let pair = pair().await;
    let reader = bearer(pair.key(READER));
    let (status, _) = same_on_both(&pair, Method::GET, "/tasks", Some(&reader)).await;
    assert_eq!(status, 200);
    for base in pair.bases() {
        let (status, _) = http(Method::DELETE, format!("{base}/keys/{READER}"), None).await;
        assert_eq!(status, 204);
    }
    let answer = same_on_both(&pair, Method::GET, "/tasks", Some(&reader)).await;
    assert_eq!(answer, (403, invalid_api_key()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_master_key_task_routes_are_open() {
    let options = FleetOptions::default();
    let fleet = Fleet::start(2, options.clone())
        .await
        .expect("fleet starts");
    let miroir = Miroir::start(&fleet, MiroirOptions::default())
        .await
        .expect("miroir starts");
    let node = start_node(&options).await.expect("plain node starts");
    for (authorization, status) in [
        (None, 200),
        (Some("Bearer anything"), 200),
        (Some("Bearer"), 403),
        (Some("Basic YWxhZGRpbjpvcGVu"), 401),
    ] {
        let through = call(
            Method::GET,
            format!("{}/tasks", miroir.url()),
            authorization,
        )
        .await;
        let direct = call(Method::GET, format!("{}/tasks", node.url()), authorization).await;
        assert_eq!(through, direct, "with {authorization:?}");
        assert_eq!(through.0, status, "with {authorization:?}: {}", through.1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_judged_before_the_query_string_is_read() {
    let pair = pair().await;
    let unknown = bearer(&"0123456789abcdef".repeat(4));
    let cases: [(Option<&str>, u16, Value); 3] = [
        (None, 401, missing_authorization_header()),
        (Some("Bearer"), 403, invalid_api_key()),
        (Some(&unknown), 403, invalid_api_key()),
    ];
    for (authorization, status, body) in &cases {
        for (method, path) in [
            (Method::GET, "/tasks?limit=many"),
            (Method::GET, "/tasks/many"),
            (Method::DELETE, "/tasks"),
            (Method::DELETE, "/tasks?statuses=done"),
            (Method::POST, "/tasks/cancel"),
            (Method::POST, "/tasks/cancel?color=blue"),
        ] {
            let answer = same_on_both(&pair, method, path, *authorization).await;
            assert_eq!(
                answer,
                (*status, body.clone()),
                "{path} with {authorization:?}"
            );
        }
    }
    // With a valid key, the query string's errors.
    let admin = bearer(pair.key(ADMIN));
    let (status, error) = same_on_both(&pair, Method::GET, "/tasks/many", Some(&admin)).await;
    assert_eq!(
        (status, error),
        (
            400,
            json!({
                "message": "Task uid `many` is invalid. It should only contain numeric characters.",
                "code": "invalid_task_uids",
                "type": "invalid_request",
                "link": "https://docs.meilisearch.com/errors#invalid_task_uids"
            })
        )
    );
    let (status, error) = same_on_both(
        &pair,
        Method::POST,
        "/tasks/cancel?color=blue",
        Some(&admin),
    )
    .await;
    assert_eq!(
        (status, &error["code"]),
        (400, &json!("bad_request")),
        "{error}"
    );
    for (method, path) in [
        (Method::GET, "/tasks?limit=many"),
        (Method::DELETE, "/tasks?statuses=done"),
        (Method::DELETE, "/tasks"),
    ] {
        let (status, error) = same_on_both(&pair, method, path, Some(&admin)).await;
        assert_eq!(status, 400, "{path}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_restricted_keys_see_only_their_indexes_batches() {
    let pair = pair().await;
    let key = bearer(pair.key(MOVIES_READER));
    let base = pair.miroir.url();
    // A Miroir batch holds one task, under the task's uid: the key sees the batches of
    // the tasks it sees.
    let (status, list) = call(Method::GET, format!("{base}/batches"), Some(&key)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(uids(&list), vec![3, 2, 0]);
    assert_eq!(list["total"], json!(6));
    for hidden in [1u32, 4, 5] {
        let (status, error) =
            call(Method::GET, format!("{base}/batches/{hidden}"), Some(&key)).await;
        assert_eq!(
            (status, error),
            (
                404,
                json!({
                    "message": format!("Batch `{hidden}` not found."),
                    "code": "batch_not_found",
                    "type": "invalid_request",
                    "link": "https://docs.meilisearch.com/errors#batch_not_found"
                })
            )
        );
    }
    let (status, batch) = call(Method::GET, format!("{base}/batches/2"), Some(&key)).await;
    assert_eq!((status, &batch["uid"]), (200, &json!(2)));
    // The plain node refuses a key without `tasks.get` on batches as Miroir does.
    let searcher = bearer(pair.key(SEARCHER));
    let (status, _) = same_on_both(&pair, Method::GET, "/batches", Some(&searcher)).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_filters_and_paging_match_a_plain_node() {
    let pair = pair().await;
    let master = bearer(KEY);
    for (query, expected) in [
        ("?types=indexCreation", vec![2, 1, 0]),
        (
            "?types=documentAdditionOrUpdate,taskDeletion",
            vec![5, 4, 3],
        ),
        ("?statuses=succeeded&indexUids=movies", vec![3, 0]),
        ("?statuses=failed", vec![]),
        ("?uids=1,3,5,7", vec![5, 3, 1]),
        ("?indexUids=movies,books&limit=2", vec![4, 3]),
        ("?limit=2&from=3", vec![3, 2]),
        ("?from=1", vec![1, 0]),
        ("?reverse=true&limit=4", vec![0, 1, 2, 3]),
        ("?reverse=true&from=2&limit=2", vec![2, 3]),
        (
            "?afterEnqueuedAt=2000-01-01T00:00:00Z&types=indexCreation&limit=1",
            vec![2],
        ),
        ("?beforeEnqueuedAt=2000-01-01T00:00:00Z", vec![]),
        ("?afterFinishedAt=2000-01-01&indexUids=books", vec![4, 1]),
        ("?canceledBy=5", vec![]),
    ] {
        let (status, list) =
            same_on_both(&pair, Method::GET, &format!("/tasks{query}"), Some(&master)).await;
        assert_eq!(status, 200, "{query}: {list}");
        assert_eq!(uids(&list), expected, "{query}");
    }
    for query in [
        "?types=nope",
        "?statuses=done",
        "?uids=a",
        "?limit=-1",
        "?afterEnqueuedAt=yesterday",
        "?indexUids=bad%20name",
        "?unknown=1",
    ] {
        let (status, error) =
            same_on_both(&pair, Method::GET, &format!("/tasks{query}"), Some(&master)).await;
        assert_eq!(status, 400, "{query}: {error}");
    }
}
