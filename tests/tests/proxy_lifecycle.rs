//! Index lifecycle and fleet-wide operations through Miroir: index update, rename and
//! deletion, swaps, deletion by filter and of every document, dumps, snapshots and
//! experimental features. Where a plain node gives the reference, the same request is
//! sent to a standalone node and the answers compared.

mod common;

use common::*;
use meilisearch_sdk::client::Client;
use miroir_tests::{start_node, FleetOptions, TestNode};
use serde_json::{json, Value};

async fn standalone() -> TestNode {
    start_node(&FleetOptions {
        master_key: Some(KEY.into()),
        ..FleetOptions::default()
    })
    .await
    .expect("node")
}

/// Send a write, check Meilisearch's 202 summary and wait for its task.
async fn write(method: reqwest::Method, url: String, body: Option<Value>) -> Value {
    let (status, summary) = http(method, url.clone(), body).await;
    assert_eq!(status, 202, "{url}: {summary}");
    let base = url
        .split("/indexes")
        .next()
        .and_then(|b| b.split("/swap-indexes").next())
        .and_then(|b| b.split("/dumps").next())
        .and_then(|b| b.split("/snapshots").next())
        .expect("base")
        .to_owned();
    wait_task(&base, &summary["taskUid"]).await
}

fn not_found(uid: &str) -> Value {
    json!({
        "message": format!("Index `{uid}` not found."),
        "code": "index_not_found",
        "type": "invalid_request",
        "link": "https://docs.meilisearch.com/errors#index_not_found"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_are_updated_renamed_and_deleted_on_every_node() {
    let (fleet, miroir) = fleet_and_miroir(1).await;
    let base = miroir.url();
    let task = write(
        reqwest::Method::POST,
        format!("{base}/indexes"),
        Some(json!({"uid": "things"})),
    )
    .await;
    assert_eq!(task["status"], json!("succeeded"), "{task}");
    let task = write(
        reqwest::Method::PATCH,
        format!("{base}/indexes/things"),
        Some(json!({"primaryKey": "id"})),
    )
    .await;
    assert_eq!(
        (&task["status"], &task["type"], &task["details"]),
        (
            &json!("succeeded"),
            &json!("indexUpdate"),
            &json!({"primaryKey": "id"})
        ),
        "{task}"
    );
    for url in fleet.urls() {
        let (_, index) = get(format!("{url}/indexes/things")).await;
        assert_eq!(index["primaryKey"], json!("id"), "node {url}");
    }
    let client = Client::new(&base, Some(KEY)).expect("client");
    succeeded(
        &client,
        client
            .index("things")
            .add_documents(&corpus()[..20], None)
            .await,
    )
    .await;

    // Rename: the documents keep their shards, and Miroir routes by the new name.
    let task = write(
        reqwest::Method::PATCH,
        format!("{base}/indexes/things"),
        Some(json!({"uid": "stuff"})),
    )
    .await;
    assert_eq!(task["status"], json!("succeeded"), "{task}");
    let (status, error) = get(format!("{base}/indexes/things")).await;
    assert_eq!((status, error), (404, not_found("things")));
    let movie: Movie = client
        .index("stuff")
        .get_document("7")
        .await
        .expect("document 7 under the new name");
    assert_eq!(movie, corpus()[6]);
    succeeded(
        &client,
        client
            .index("stuff")
            .add_documents(&corpus()[20..30], None)
            .await,
    )
    .await;
    let (_, stats) = get(format!("{base}/indexes/stuff/stats")).await;
    assert_eq!(stats["numberOfDocuments"], json!(30));
    for id in [3u32, 25, 30] {
        let movie: Movie = client
            .index("stuff")
            .get_document(&id.to_string())
            .await
            .expect("document");
        assert_eq!(movie, corpus()[id as usize - 1]);
    }

    succeeded(&client, client.index("stuff").delete().await).await;
    for url in fleet.urls().into_iter().chain([base.clone()]) {
        let (status, error) = get(format!("{url}/indexes/stuff")).await;
        assert_eq!((status, error), (404, not_found("stuff")), "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_indexes_trade_their_documents() {
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    let base = miroir.url();
    load_corpus(&base).await;
    let client = Client::new(&base, Some(KEY)).expect("client");
    succeeded(
        &client,
        client
            .index("shorts")
            .add_documents(&corpus()[..3], Some("id"))
            .await,
    )
    .await;
    let task = write(
        reqwest::Method::POST,
        format!("{base}/swap-indexes"),
        Some(json!([{"indexes": ["movies", "shorts"]}])),
    )
    .await;
    assert_eq!(
        (&task["status"], &task["type"], &task["details"]),
        (
            &json!("succeeded"),
            &json!("indexSwap"),
            &json!({"swaps": [{"indexes": ["movies", "shorts"], "rename": false}]})
        ),
        "{task}"
    );
    let (_, movies) = get(format!("{base}/indexes/movies/stats")).await;
    let (_, shorts) = get(format!("{base}/indexes/shorts/stats")).await;
    assert_eq!(
        (&movies["numberOfDocuments"], &shorts["numberOfDocuments"]),
        (&json!(3), &json!(60))
    );
    let movie: Movie = client
        .index("shorts")
        .get_document("42")
        .await
        .expect("document 42 now in shorts");
    assert_eq!(movie, corpus()[41]);
    let (status, _) = get(format!("{base}/indexes/movies/documents/42")).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_deleted_by_filter_and_all_at_once_match_one_node() {
    let node = standalone().await;
    load_corpus(&node.url()).await;
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    load_corpus(&miroir.url()).await;
    let mut tasks = Vec::new();
    for base in [node.url(), miroir.url()] {
        let by_filter = write(
            reqwest::Method::POST,
            format!("{base}/indexes/movies/documents/delete"),
            Some(json!({"filter": "genre = drama"})),
        )
        .await;
        let (_, stats) = get(format!("{base}/indexes/movies/stats")).await;
        assert_eq!(stats["numberOfDocuments"], json!(45), "{base}");
        let (_, search) = http(
            reqwest::Method::POST,
            format!("{base}/indexes/movies/search"),
            Some(json!({"filter": "genre = drama"})),
        )
        .await;
        assert_eq!(search["estimatedTotalHits"], json!(0), "{base}");
        let all = write(
            reqwest::Method::DELETE,
            format!("{base}/indexes/movies/documents"),
            None,
        )
        .await;
        let (_, stats) = get(format!("{base}/indexes/movies/stats")).await;
        assert_eq!(stats["numberOfDocuments"], json!(0), "{base}");
        tasks.push((by_filter, all));
    }
    for (field, expected) in [
        ("status", json!("succeeded")),
        ("type", json!("documentDeletion")),
    ] {
        assert_eq!(tasks[0].0[field], expected);
        assert_eq!(tasks[1].0[field], expected);
        assert_eq!(tasks[0].1[field], expected);
        assert_eq!(tasks[1].1[field], expected);
    }
    assert_eq!(
        tasks[0].0["details"],
        json!({"providedIds": 0, "deletedDocuments": 15, "originalFilter": "\"genre = drama\""})
    );
    assert_eq!(tasks[1].0["details"], tasks[0].0["details"]);
    assert_eq!(tasks[0].1["details"], json!({"deletedDocuments": 45}));
    assert_eq!(tasks[1].1["details"], tasks[0].1["details"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dumps_and_snapshots_are_one_task_each() {
    let node = standalone().await;
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let client = Client::new(miroir.url(), Some(KEY)).expect("client");
    succeeded(&client, client.create_dump().await).await;
    let mut views = Vec::new();
    for base in [node.url(), miroir.url()] {
        for route in ["dumps", "snapshots"] {
            let (status, summary) =
                http(reqwest::Method::POST, format!("{base}/{route}"), None).await;
            assert_eq!(status, 202, "{base}/{route}: {summary}");
            let members: Vec<&String> = summary.as_object().expect("summary").keys().collect();
            assert_eq!(
                members,
                ["taskUid", "indexUid", "status", "type", "enqueuedAt"],
                "{summary}"
            );
            let task = wait_task(&base, &summary["taskUid"]).await;
            assert_eq!(task["status"], json!("succeeded"), "{base}/{route}: {task}");
            views.push(task);
        }
    }
    let members =
        |task: &Value| -> Vec<String> { task.as_object().expect("task").keys().cloned().collect() };
    for (one, many) in [(&views[0], &views[2]), (&views[1], &views[3])] {
        assert_eq!(members(one), members(many), "{one} / {many}");
        assert_eq!(one["type"], many["type"]);
        assert_eq!(one["indexUid"], json!(null));
    }
    assert_eq!(views[2]["type"], json!("dumpCreation"));
    assert!(views[2]["details"]["dumpUid"].is_string(), "{}", views[2]);
    assert_eq!(views[3]["type"], json!("snapshotCreation"));
    assert_eq!(views[3].get("details"), None, "{}", views[3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn experimental_features_are_set_on_every_node() {
    let node = standalone().await;
    let (fleet, miroir) = fleet_and_miroir(1).await;
    let patch = json!({"containsFilter": true});
    let ((s1, one), (s2, many)) = on_both(
        &node.url(),
        &miroir.url(),
        reqwest::Method::PATCH,
        "/experimental-features",
        Some(patch),
    )
    .await;
    assert_eq!((s1, &one), (s2, &many));
    assert_eq!(s1, 200);
    assert_eq!(many["containsFilter"], json!(true));
    let (status, read) = get(format!("{}/experimental-features", miroir.url())).await;
    assert_eq!((status, &read), (200, &one));
    for url in fleet.urls() {
        let (_, features) = get(format!("{url}/experimental-features")).await;
        assert_eq!(features, one, "node {url}");
    }
    let ((status, error), (node_status, node_error)) = on_both(
        &miroir.url(),
        &node.url(),
        reqwest::Method::PATCH,
        "/experimental-features",
        Some(json!({"noSuchFeature": true})),
    )
    .await;
    assert_eq!((status, error), (node_status, node_error));
    assert_eq!(node_status, 400);
}

/// Poll `GET url` until it answers `status` (10 s at most).
async fn eventually(url: String, status: u16) {
    for _ in 0..200 {
        if get(url.clone()).await.0 == status {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer {status} within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_that_fails_on_one_node_is_undone_everywhere() {
    let (fleet, miroir) = fleet_and_miroir(1).await;
    let urls = fleet.urls();
    // A leftover index on the third node only.
    let leftover = write(
        reqwest::Method::POST,
        format!("{}/indexes", urls[2]),
        Some(json!({"uid": "leftover"})),
    )
    .await;
    assert_eq!(leftover["status"], json!("succeeded"));
    let task = write(
        reqwest::Method::POST,
        format!("{}/indexes", miroir.url()),
        Some(json!({"uid": "leftover", "primaryKey": "id"})),
    )
    .await;
    assert_eq!(task["status"], json!("failed"), "{task}");
    assert_eq!(
        task["error"],
        json!({
            "message": "Index `leftover` already exists.",
            "code": "index_already_exists",
            "type": "invalid_request",
            "link": "https://docs.meilisearch.com/errors#index_already_exists"
        })
    );
    // The nodes that created it delete it again; the third node keeps its own.
    eventually(format!("{}/indexes/leftover", urls[0]), 404).await;
    eventually(format!("{}/indexes/leftover", urls[1]), 404).await;
    let (status, own) = get(format!("{}/indexes/leftover", urls[2])).await;
    assert_eq!((status, &own["primaryKey"]), (200, &json!(null)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_without_quorum_is_refused_and_undone() {
    let (fleet, miroir) = fleet_and_miroir(1).await;
    fleet.node(1).stop().await;
    fleet.node(2).stop().await;
    let (status, error) = http(
        reqwest::Method::POST,
        format!("{}/indexes", miroir.url()),
        Some(json!({"uid": "lonely"})),
    )
    .await;
    assert_eq!(status, 503, "{error}");
    assert_eq!(error["code"], json!("miroir_no_quorum"));
    let first = fleet.urls()[0].clone();
    // The one node that accepted it runs the creation, then the deletion.
    let (_, tasks) = get(format!("{first}/tasks?indexUids=lonely")).await;
    let kinds: Vec<&Value> = tasks["results"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| &t["type"])
        .collect();
    assert_eq!(kinds, [&json!("indexDeletion"), &json!("indexCreation")]);
    eventually(format!("{first}/indexes/lonely"), 404).await;
    fleet.node(1).restart().await.expect("restart");
    fleet.node(2).restart().await.expect("restart");
    for url in fleet.urls() {
        let (status, error) = get(format!("{url}/indexes/lonely")).await;
        assert_eq!((status, error), (404, not_found("lonely")), "{url}");
    }
    let (status, error) = get(format!("{}/indexes/lonely", miroir.url())).await;
    assert_eq!((status, error), (404, not_found("lonely")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_edited_by_function_match_one_node() {
    let node = standalone().await;
    if node.backend() == miroir_tests::Backend::Fake {
        miroir_tests::fleet::skip_notice(
            "documents_edited_by_function_match_one_node",
            "the fake node does not run Rhai edition functions; needs MEILI_BIN",
        );
        return;
    }
    load_corpus(&node.url()).await;
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    load_corpus(&miroir.url()).await;
    let edit = json!({"function": "doc.title = `edited ${doc.title}`", "filter": "genre = horror"});
    let mut tasks = Vec::new();
    for base in [node.url(), miroir.url()] {
        let (status, _) = http(
            reqwest::Method::PATCH,
            format!("{base}/experimental-features"),
            Some(json!({"editDocumentsByFunction": true})),
        )
        .await;
        assert_eq!(status, 200);
        let task = write(
            reqwest::Method::POST,
            format!("{base}/indexes/movies/documents/edit"),
            Some(edit.clone()),
        )
        .await;
        assert_eq!(task["status"], json!("succeeded"), "{base}: {task}");
        let (_, hits) = http(
            reqwest::Method::POST,
            format!("{base}/indexes/movies/search"),
            Some(json!({"q": "", "filter": "genre = horror", "sort": ["year:asc"], "limit": 2})),
        )
        .await;
        let titles: Vec<&Value> = hits["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| &h["title"])
            .collect();
        assert_eq!(
            titles,
            [
                &json!(format!("edited {}", corpus()[2].title)),
                &json!(format!("edited {}", corpus()[6].title))
            ],
            "{base}"
        );
        tasks.push(task);
    }
    assert_eq!(tasks[0]["type"], json!("documentEdition"));
    assert_eq!(tasks[1]["type"], tasks[0]["type"]);
    assert_eq!(tasks[1]["details"], tasks[0]["details"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_broadcast_shows_its_details_like_one_node() {
    let node = standalone().await;
    let (fleet, miroir) = fleet_and_miroir(1).await;
    let delay = std::time::Duration::from_secs(2);
    if node.set_task_delay(delay).is_err() {
        miroir_tests::fleet::skip_notice(
            "a_waiting_broadcast_shows_its_details_like_one_node",
            "needs the fake node's task delay to keep a task enqueued",
        );
        return;
    }
    let mut views = Vec::new();
    for (base, held) in [(node.url(), None), (miroir.url(), Some(&fleet))] {
        let (status, created) = http(
            reqwest::Method::POST,
            format!("{base}/indexes"),
            Some(json!({"uid": "movies", "primaryKey": "id"})),
        )
        .await;
        assert_eq!(status, 202, "{created}");
        wait_task(&base, &created["taskUid"]).await;
        if let Some(fleet) = held {
            for fleet_node in fleet.nodes() {
                fleet_node.set_task_delay(delay).expect("fake node");
            }
        }
        let (status, summary) = http(
            reqwest::Method::PATCH,
            format!("{base}/indexes/movies/settings"),
            Some(json!({"searchCutoffMs": 150, "filterableAttributes": ["genre"]})),
        )
        .await;
        assert_eq!(status, 202, "{summary}");
        let (_, waiting) = get(format!("{base}/tasks/{}", summary["taskUid"])).await;
        assert!(
            matches!(waiting["status"].as_str(), Some("enqueued" | "processing")),
            "{base}: {waiting}"
        );
        views.push(waiting["details"].clone());
    }
    assert_eq!(
        views[0],
        json!({"filterableAttributes": ["genre"], "searchCutoffMs": 150})
    );
    assert_eq!(views[1], views[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_seen_while_waiting_reports_its_uid_once_done() {
    let (fleet, miroir) = fleet_and_miroir(1).await;
    let delay = std::time::Duration::from_secs(1);
    if !hold_tasks(
        &fleet,
        delay,
        "a_dump_seen_while_waiting_reports_its_uid_once_done",
        "needs the fake node's task delay to keep a dump enqueued",
    ) {
        return;
    }
    let (status, summary) = http(
        reqwest::Method::POST,
        format!("{}/dumps", miroir.url()),
        None,
    )
    .await;
    assert_eq!(status, 202, "{summary}");
    let (_, waiting) = get(format!("{}/tasks/{}", miroir.url(), summary["taskUid"])).await;
    assert!(
        matches!(waiting["status"].as_str(), Some("enqueued" | "processing")),
        "{waiting}"
    );
    assert_eq!(waiting["details"], json!({"dumpUid": null}));
    let done = wait_task(&miroir.url(), &summary["taskUid"]).await;
    assert_eq!(done["status"], json!("succeeded"), "{done}");
    assert!(done["details"]["dumpUid"].is_string(), "{done}");
}
