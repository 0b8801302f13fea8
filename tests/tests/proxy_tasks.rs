//! End-to-end: batches, index compaction and the task routes Miroir refuses, through
//! the `miroir` binary in front of a 3-node fleet (fake nodes, or real Meilisearch with
//! `MEILI_BIN`).
//!
//! A Miroir batch is one task: every test checks a batch against the task it holds,
//! read from `GET /tasks/{uid}` in the same run, so the exact JSON is asserted without
//! guessing timestamps. The nodes' processing times in `stats.progressTrace` are checked
//! for their shape, then required to be the same in every answer.

mod common;

use common::*;
use meilisearch_sdk::client::Client;
use miroir_tests::{start_node, FleetOptions};
use serde_json::{json, Value};

/// The `batchStrategy` of the batch holding task `uid` of type `kind`.
fn strategy(uid: u64, kind: &str) -> String {
    format!(
        "Miroir gives every task a batch of its own: this batch holds task {uid} of type \
         `{kind}` only (each node batches its share of the work independently)."
    )
}

/// The batch view Miroir must answer for a task it gave a batch, built from the task's
/// own view and, for a finished task, the per-node trace read by [`node_trace`].
fn expected_batch(task: &Value, trace: Option<&Value>) -> Value {
    let uid = task["uid"].as_u64().expect("task uid");
    let kind = task["type"].as_str().expect("task type");
    let status = task["status"].as_str().expect("task status");
    let mut index_uids = serde_json::Map::new();
    if let Some(index) = task["indexUid"].as_str() {
        index_uids.insert(index.to_owned(), json!(1));
    }
    let mut stats = json!({
        "totalNbTasks": 1,
        "status": {status: 1},
        "types": {kind: 1},
        "indexUids": index_uids,
    });
    if let Some(trace) = trace {
        stats["progressTrace"] = trace.clone();
    }
    json!({
        "uid": uid,
        "progress": null,
        "details": task.get("details").cloned().unwrap_or(json!({})),
        "stats": stats,
        "duration": task["duration"],
        "startedAt": task["startedAt"],
        "finishedAt": task["finishedAt"],
        "batchStrategy": strategy(uid, kind),
    })
}

/// Read the batch of a finished task and check its `progressTrace`: one entry per node
/// task, named ``node `nX` > task N``, each a duration as Rust prints it with two
/// decimals (`9.46ms`), and every node of the fleet present. Returns the trace.
async fn node_trace(base: &str, uid: u64) -> Value {
    let (status, batch) = get(format!("{base}/batches/{uid}")).await;
    assert_eq!(status, 200, "{batch}");
    let trace = batch["stats"]["progressTrace"].clone();
    let entries = trace
        .as_object()
        .unwrap_or_else(|| panic!("no progressTrace: {batch}"));
    let mut nodes = std::collections::BTreeSet::new();
    for (key, value) in entries {
        let (node, task) = key
            .strip_prefix("node `")
            .and_then(|rest| rest.split_once("` > task "))
            .unwrap_or_else(|| panic!("unexpected trace key {key}"));
        assert!(task.parse::<u64>().is_ok(), "{key}");
        nodes.insert(node.to_owned());
        let text = value.as_str().expect("a duration");
        let unit = ["ns", "µs", "ms", "s"]
            .into_iter()
            .find(|unit| text.ends_with(unit))
            .unwrap_or_else(|| panic!("unexpected unit in {text}"));
        let number = &text[..text.len() - unit.len()];
        assert!(number.parse::<f64>().is_ok(), "{text}");
        if let Some((_, decimals)) = number.split_once('.') {
            assert_eq!(decimals.len(), 2, "{text}");
        }
    }
    let all: std::collections::BTreeSet<String> =
        ["n0", "n1", "n2"].into_iter().map(str::to_owned).collect();
    assert_eq!(nodes, all, "{batch}");
    trace
}

async fn task(base: &str, uid: u64) -> Value {
    let (status, task) = get(format!("{base}/tasks/{uid}")).await;
    assert_eq!(status, 200, "{task}");
    task
}

/// `GET` without credentials.
async fn get_anonymous(url: String) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_started_task_is_a_batch_of_its_own() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    load_corpus(&base).await; // tasks 0 (index), 1 (settings), 2 (documents)
    let tasks = [
        task(&base, 0).await,
        task(&base, 1).await,
        task(&base, 2).await,
    ];
    for task in &tasks {
        assert_eq!(task["batchUid"], task["uid"], "{task}");
    }
    let mut expected = Vec::new();
    for (uid, task) in tasks.iter().enumerate() {
        let trace = node_trace(&base, uid as u64).await;
        expected.push(expected_batch(task, Some(&trace)));
    }

    let (status, list) = get(format!("{base}/batches")).await;
    assert_eq!(status, 200);
    assert_eq!(
        list,
        json!({
            "results": [expected[2], expected[1], expected[0]],
            "total": 3, "limit": 20, "from": 2, "next": null
        })
    );
    for (uid, expected) in expected.iter().enumerate() {
        let (status, batch) = get(format!("{base}/batches/{uid}")).await;
        assert_eq!(status, 200);
        assert_eq!(&batch, expected);
    }

    // The SDK reads the same batches.
    let client = Client::new(&base, Some(KEY)).expect("client");
    let batches = client.get_batches().await.expect("SDK lists batches");
    let uids: Vec<u32> = batches.results.iter().map(|b| b.uid).collect();
    assert_eq!(uids, vec![2, 1, 0]);
    let batch = client.get_batch(1).await.expect("SDK reads a batch");
    assert_eq!(batch.uid, 1);
    assert!(batch.started_at.is_some() && batch.finished_at.is_some());
    let page = meilisearch_sdk::batches::BatchesQuery::new(&client)
        .with_limit(1)
        .with_from(1)
        .execute()
        .await
        .expect("SDK pages batches");
    assert_eq!(
        (page.results.len(), page.results[0].uid, page.next),
        (1, 1, Some(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_lists_page_and_filter_like_meilisearch() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    load_corpus(&base).await;
    let mut batches = Vec::new();
    for uid in 0..3 {
        let trace = node_trace(&base, uid).await;
        batches.push(expected_batch(&task(&base, uid).await, Some(&trace)));
    }
    let page = |uids: &[usize], total: u64, limit: u64, next: Value| {
        let results: Vec<Value> = uids.iter().map(|&i| batches[i].clone()).collect();
        let from = uids.first().map_or(Value::Null, |&i| json!(i));
        json!({"results": results, "total": total, "limit": limit, "from": from, "next": next})
    };
    let cases: Vec<(&str, Value)> = vec![
        ("limit=2", page(&[2, 1], 3, 2, json!(0))),
        ("limit=2&from=0", page(&[0], 3, 2, Value::Null)),
        ("limit=2&reverse=true", page(&[0, 1], 3, 2, json!(2))),
        ("limit=0", page(&[], 3, 0, json!(2))),
        ("types=settingsUpdate", page(&[1], 1, 20, Value::Null)),
        (
            "types=indexCreation,documentAdditionOrUpdate",
            page(&[2, 0], 2, 20, Value::Null),
        ),
        ("indexUids=movies&limit=1", page(&[2], 3, 1, json!(1))),
        ("indexUids=books", page(&[], 0, 20, Value::Null)),
        ("uids=1,2", page(&[2, 1], 2, 20, Value::Null)),
        ("batchUids=0", page(&[0], 1, 20, Value::Null)),
        ("statuses=succeeded", page(&[2, 1, 0], 3, 20, Value::Null)),
        ("statuses=enqueued,failed", page(&[], 0, 20, Value::Null)),
        // No succeeded cancelation: `canceledBy` matches no batch at all.
        ("canceledBy=1", page(&[], 0, 20, Value::Null)),
        // Meilisearch reads one more than the limit, saturating: the echo is one less.
        (
            "canceledBy=1&limit=4294967295",
            page(&[], 0, 4_294_967_294, Value::Null),
        ),
        (
            "limit=4294967295",
            page(&[2, 1, 0], 3, 4_294_967_294, Value::Null),
        ),
        ("canceledBy=*", page(&[2, 1, 0], 3, 20, Value::Null)),
        ("afterFinishedAt=2100-01-01", page(&[], 0, 20, Value::Null)),
        (
            "beforeEnqueuedAt=2100-01-01&afterStartedAt=2000-01-01",
            page(&[2, 1, 0], 3, 20, Value::Null),
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = get(format!("{base}/batches?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body, expected, "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_errors_are_those_of_one_meilisearch() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    load_corpus(&base).await;
    let options = FleetOptions {
        master_key: Some(KEY.into()),
        ..FleetOptions::default()
    };
    let node = start_node(&options).await.expect("standalone node");
    let link = |code: &str| format!("https://docs.meilisearch.com/errors#{code}");
    let cases: Vec<(&str, u16, Value)> = vec![
        (
            "batches/abc",
            400,
            json!({
                "message": "Batch uid `abc` is invalid. It should only contain numeric characters.",
                "code": "invalid_batch_uids", "type": "invalid_request", "link": link("invalid_batch_uids")
            }),
        ),
        (
            "batches/4000",
            404,
            json!({
                "message": "Batch `4000` not found.",
                "code": "batch_not_found", "type": "invalid_request", "link": link("batch_not_found")
            }),
        ),
        (
            "batches?limit=-1",
            400,
            json!({
                "message": "Invalid value in parameter `limit`: could not parse `-1` as a positive integer",
                "code": "invalid_task_limit", "type": "invalid_request", "link": link("invalid_task_limit")
            }),
        ),
        (
            "batches?batchUids=one",
            400,
            json!({
                "message": "Invalid value in parameter `batchUids`: could not parse `one` as a positive integer",
                "code": "invalid_batch_uids", "type": "invalid_request", "link": link("invalid_batch_uids")
            }),
        ),
        (
            "batches?statuses=done",
            400,
            json!({
                "message": "Invalid value in parameter `statuses`: `done` is not a valid task status. Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`.",
                "code": "invalid_task_statuses", "type": "invalid_request", "link": link("invalid_task_statuses")
            }),
        ),
        (
            "batches?afterStartedAt=yesterday",
            400,
            json!({
                "message": "Invalid value in parameter `afterStartedAt`: `yesterday` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format.",
                "code": "invalid_task_after_started_at", "type": "invalid_request", "link": link("invalid_task_after_started_at")
            }),
        ),
        (
            "batches?statuse=failed",
            400,
            json!({
                "message": "Unknown parameter `statuse`: did you mean `statuses`? expected one of `limit`, `from`, `reverse`, `batchUids`, `uids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`",
                "code": "bad_request", "type": "invalid_request", "link": link("bad_request")
            }),
        ),
    ];
    for (path, status, expected) in cases {
        let (got_status, got) = get(format!("{base}/{path}")).await;
        assert_eq!((got_status, &got), (status, &expected), "Miroir: {path}");
        let (node_status, node_body) = get(format!("{}/{path}", node.url())).await;
        assert_eq!(
            (node_status, &node_body),
            (status, &expected),
            "one node: {path}"
        );
    }
    let missing_key = json!({
        "message": "The Authorization header is missing. It must use the bearer authorization method.",
        "code": "missing_authorization_header", "type": "auth", "link": link("missing_authorization_header")
    });
    for path in ["batches", "batches/0"] {
        assert_eq!(
            get_anonymous(format!("{base}/{path}")).await,
            (401, missing_key.clone()),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processing_task_is_a_batch_and_an_enqueued_one_is_not() {
    let (fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    create_movies(&base).await;
    if !hold_tasks(
        &fleet,
        std::time::Duration::from_secs(2),
        "a_processing_task_is_a_batch_and_an_enqueued_one_is_not",
        "needs the fake node's task delay to hold tasks processing and enqueued",
    ) {
        return;
    }
    // Settings writes reach every node, so every node holds the second one back.
    let write = |word: &'static str| {
        http(
            reqwest::Method::PATCH,
            format!("{base}/indexes/movies/settings"),
            Some(json!({"stopWords": [word]})),
        )
    };
    let (first_status, first) = write("a").await;
    let (second_status, second) = write("b").await;
    assert_eq!((first_status, second_status), (202, 202));
    let (first, second) = (
        first["taskUid"].as_u64().expect("uid"),
        second["taskUid"].as_u64().expect("uid"),
    );
    // Every node works on the first write and holds the second back.
    let mut running = task(&base, first).await;
    for _ in 0..100 {
        if running["status"] == json!("processing") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        running = task(&base, first).await;
    }
    assert_eq!(running["status"], json!("processing"), "{running}");
    let (status, batch) = get(format!("{base}/batches/{first}")).await;
    assert_eq!(status, 200);
    assert_eq!(batch, expected_batch(&running, None));
    assert_eq!(
        (&batch["finishedAt"], &batch["duration"]),
        (&Value::Null, &Value::Null)
    );
    let (_, list) = get(format!("{base}/batches?statuses=processing")).await;
    assert_eq!(
        list,
        json!({"results": [expected_batch(&running, None)], "total": 1, "limit": 20, "from": first, "next": null})
    );
    // A processing batch has no enqueue date to filter on yet.
    let (_, dated) = get(format!(
        "{base}/batches?statuses=processing&beforeEnqueuedAt=2100-01-01"
    ))
    .await;
    assert_eq!(dated["total"], json!(0), "{dated}");

    let waiting = task(&base, second).await;
    assert_eq!(waiting["status"], json!("enqueued"), "{waiting}");
    let (status, error) = get(format!("{base}/batches/{second}")).await;
    assert_eq!((status, &error["code"]), (404, &json!("batch_not_found")));
    let (_, enqueued) = get(format!("{base}/batches?uids={second}")).await;
    assert_eq!(enqueued["total"], json!(0), "{enqueued}");

    for node in fleet.nodes() {
        node.set_task_delay(std::time::Duration::ZERO)
            .expect("fake node");
    }
    let done = wait_task(&base, &json!(second)).await;
    let trace = node_trace(&base, second).await;
    let (_, batch) = get(format!("{base}/batches/{second}")).await;
    assert_eq!(batch, expected_batch(&done, Some(&trace)));
}

/// Read a size as Meilisearch prints it in task details back into bytes.
fn size_in_bytes(text: &str) -> u64 {
    let (value, unit) = text.split_once(' ').expect("`<value> <unit>`");
    let scale: u64 = match unit {
        "B" => 1,
        "KB" => 1_000,
        "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" => 1 << 30,
        other => panic!("unexpected unit {other}"),
    };
    (value.parse::<f64>().expect("a number") * scale as f64).round() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacting_an_index_compacts_it_on_every_node_as_one_task() {
    let (fleet, miroir) = fleet_and_miroir(2).await;
    let base = miroir.url();
    load_corpus(&base).await;
    let client = Client::new(&base, Some(KEY)).expect("client");
    let info = client
        .index("movies")
        .compact()
        .await
        .expect("compaction accepted");
    let uid = info.get_task_uid();
    let finished = info
        .wait_for_completion(&client, None, None)
        .await
        .expect("compaction finishes");
    assert!(finished.is_success(), "{finished:?}");

    // Every node compacted its own copy: the fleet's sizes are the sums of the nodes'.
    let (mut pre, mut post) = (0u64, 0u64);
    for node in fleet.nodes() {
        let (_, tasks) = get(format!("{}/tasks?types=indexCompaction", node.url())).await;
        assert_eq!(tasks["total"], json!(1), "one compaction per node: {tasks}");
        let details = &tasks["results"][0]["details"];
        assert_eq!(tasks["results"][0]["status"], json!("succeeded"));
        pre += size_in_bytes(details["preCompactionSize"].as_str().expect("pre size"));
        post += size_in_bytes(details["postCompactionSize"].as_str().expect("post size"));
    }
    let view = task(&base, uid as u64).await;
    assert_eq!(
        size_in_bytes(view["details"]["preCompactionSize"].as_str().expect("pre")),
        pre,
        "{view}"
    );
    assert_eq!(
        size_in_bytes(
            view["details"]["postCompactionSize"]
                .as_str()
                .expect("post")
        ),
        post,
        "{view}"
    );
    let mut expected = json!({
        "uid": uid, "batchUid": uid, "indexUid": "movies", "status": "succeeded",
        "type": "indexCompaction", "canceledBy": null,
        "details": {
            "preCompactionSize": view["details"]["preCompactionSize"],
            "postCompactionSize": view["details"]["postCompactionSize"],
        },
        "error": null,
    });
    for key in ["duration", "enqueuedAt", "startedAt", "finishedAt"] {
        assert!(view[key].is_string(), "{key}: {view}");
        expected[key] = view[key].clone();
    }
    assert_eq!(view, expected);
    let trace = node_trace(&base, uid as u64).await;
    let (_, batch) = get(format!("{base}/batches/{uid}")).await;
    assert_eq!(batch, expected_batch(&view, Some(&trace)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacting_an_unknown_index_fails_its_task_with_index_not_found() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    let (status, summary) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/nope/compact"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{summary}");
    assert_eq!(
        summary,
        json!({
            "taskUid": 0, "indexUid": "nope", "status": "enqueued", "type": "indexCompaction",
            "enqueuedAt": summary["enqueuedAt"]
        })
    );
    let done = wait_task(&base, &summary["taskUid"]).await;
    let mut expected = json!({
        "uid": 0, "batchUid": 0, "indexUid": "nope", "status": "failed",
        "type": "indexCompaction", "canceledBy": null, "details": {},
        "error": {
            "message": "Index `nope` not found.",
            "code": "index_not_found",
            "type": "invalid_request",
            "link": "https://docs.meilisearch.com/errors#index_not_found"
        },
    });
    for key in ["duration", "enqueuedAt", "startedAt", "finishedAt"] {
        expected[key] = done[key].clone();
    }
    assert_eq!(done, expected);

    let (status, error) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/not%20valid/compact"),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], json!("invalid_index_uid"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_queue_compaction_is_refused_with_instructions() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let (status, error) = http(
        reqwest::Method::POST,
        format!("{}/tasks/compact", miroir.url()),
        None,
    )
    .await;
    assert_eq!(status, 501);
    assert_eq!(
        error,
        json!({
            "message": "This route is not available through Miroir: compacting the task queue blocks a node's task queue until the node is restarted, so Miroir does not broadcast it to the whole fleet. Compact each node's own queue directly (`POST /tasks/compact` on the node, with its `taskQueueCompactionRoute` experimental feature on) and restart that node, one node at a time.",
            "code": "miroir_unsupported_route",
            "type": "invalid_request",
            "link": "docs/errors.md#miroir_unsupported_route"
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_documents_are_refused_with_the_reason() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let (status, error) = get(format!("{}/tasks/0/documents", miroir.url())).await;
    assert_eq!(status, 501);
    assert_eq!(
        error,
        json!({
            "message": "This route is not available through Miroir: the documents of a Miroir task are split by shard across the nodes and re-encoded there, and each node drops its part as soon as it processed it, so Miroir cannot return the payload as it was sent. Keep a copy of the payload on the client side if you need it.",
            "code": "miroir_unsupported_route",
            "type": "invalid_request",
            "link": "docs/errors.md#miroir_unsupported_route"
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_registry_deletes_its_oldest_finished_tasks_as_meilisearch_does() {
    let (_fleet, miroir) = fleet_with(
        3,
        miroir_tests::MiroirOptions {
            master_key: Some(KEY.into()),
            max_tasks: Some(5),
            ..miroir_tests::MiroirOptions::default()
        },
    )
    .await;
    let base = miroir.url();
    create_movies(&base).await;
    // Tasks 1 to 3, each finished before the next.
    let mut last = Value::Null;
    for cutoff in [100, 200, 300] {
        let (status, summary) = http(
            reqwest::Method::PATCH,
            format!("{base}/indexes/movies/settings"),
            Some(json!({"searchCutoffMs": cutoff})),
        )
        .await;
        assert_eq!(status, 202, "{summary}");
        last = wait_task(&base, &summary["taskUid"]).await;
    }
    let (_, page) = get(format!("{base}/tasks")).await;
    assert_eq!(page["total"], json!(4), "{page}");
    // Task 4 fills the registry (5 tasks): tasks 0 to 3, finished, are deleted by
    // task 5, as Meilisearch trims a full queue.
    let (status, summary) = http(
        reqwest::Method::PATCH,
        format!("{base}/indexes/movies/settings"),
        Some(json!({"searchCutoffMs": 400})),
    )
    .await;
    assert_eq!(status, 202, "{summary}");
    assert_eq!(summary["taskUid"], json!(4));
    let (_, page) = get(format!("{base}/tasks?types=taskDeletion,settingsUpdate")).await;
    let uids: Vec<&Value> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|t| &t["uid"])
        .collect();
    assert_eq!(uids, [&json!(5), &json!(4)], "{page}");
    let deletion = &page["results"][0];
    let enqueued = time::OffsetDateTime::parse(
        last["enqueuedAt"].as_str().expect("enqueuedAt"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("date");
    let before = (enqueued + time::Duration::nanoseconds(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    assert_eq!(deletion["type"], json!("taskDeletion"));
    assert_eq!(deletion["status"], json!("succeeded"));
    assert_eq!(deletion["indexUid"], json!(null));
    assert_eq!(
        deletion["details"],
        json!({
            "matchedTasks": 4,
            "deletedTasks": 4,
            "originalFilter": format!("?beforeEnqueuedAt={before}&statuses=succeeded,failed,canceled"),
        })
    );
    let (status, gone) = get(format!("{base}/tasks/0")).await;
    assert_eq!(status, 404, "{gone}");
    assert_eq!(gone["code"], json!("task_not_found"));
}
