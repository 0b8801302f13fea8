//! Contract: Miroir's answers validate against Meilisearch 1.50's OpenAPI document
//! (`shared/meilisearch-openapi-1.50.json`, beside the repository).

mod common;

use common::*;
use serde_json::{json, Value};

/// The OpenAPI document. CI and every developer machine have `shared/` beside the
/// repository; a missing file is a failure, not a skip.
fn openapi() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/meilisearch-openapi-1.50.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the OpenAPI contract at {}: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("the OpenAPI document is JSON")
}

/// Validate `instance` against `#/components/schemas/<name>` of the document.
fn assert_schema(document: &Value, name: &str, instance: &Value) {
    let mut root = document.clone();
    root.as_object_mut().expect("object").insert(
        "$ref".to_owned(),
        json!(format!("#/components/schemas/{name}")),
    );
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} rejects {instance}:\n{}",
        errors.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miroir_answers_match_the_openapi_schemas() {
    let document = openapi();
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    let base = miroir.url();
    load_corpus(&base).await;

    let (status, summary) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/documents"),
        Some(json!([{"id": 100, "title": "x"}])),
    )
    .await;
    assert_eq!(status, 202);
    assert_schema(&document, "SummarizedTaskView", &summary);
    let task = wait_task(&base, &summary["taskUid"]).await;
    assert_schema(&document, "TaskView", &task);

    let (_, tasks) = get(format!("{base}/tasks?limit=3")).await;
    assert_schema(&document, "AllTasks", &tasks);

    let (status, batches) = get(format!("{base}/batches?limit=3")).await;
    assert_eq!(status, 200);
    assert_eq!(batches["results"].as_array().map(Vec::len), Some(3));
    assert_schema(&document, "AllBatches", &batches);
    let (status, batch) = get(format!("{base}/batches/{}", task["uid"])).await;
    assert_eq!(status, 200);
    assert_schema(&document, "BatchView", &batch);
    let (status, error) = get(format!("{base}/batches/999999")).await;
    assert_eq!(status, 404);
    assert_schema(&document, "ResponseError", &error);

    let (_, search) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/search"),
        Some(json!({"q": "star", "facets": ["genre", "rating"], "showRankingScore": true})),
    )
    .await;
    assert_schema(&document, "SearchResult", &search);

    let (_, paged) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/search"),
        Some(json!({"q": "", "page": 2, "hitsPerPage": 5})),
    )
    .await;
    assert_schema(&document, "SearchResult", &paged);

    let (_, stats) = get(format!("{base}/indexes/movies/stats")).await;
    assert_schema(&document, "IndexStats", &stats);

    let (status, error) = get(format!("{base}/indexes/nope")).await;
    assert_eq!(status, 404);
    assert_schema(&document, "ResponseError", &error);

    let (status, error) = http(
        reqwest::Method::POST,
        format!("{base}/indexes/movies/documents"),
        Some(json!([{"id": 1, "_miroir_shard": 2}])),
    )
    .await;
    assert_eq!(status, 400);
    // Miroir's own codes (DESIGN.md §5) are not in Meilisearch's code list; everything
    // else about the error must be Meilisearch's shape.
    assert_eq!(error["code"], json!("miroir_reserved_field"));
    let mut shape = error.clone();
    shape["code"] = json!("bad_request");
    assert_schema(&document, "ResponseError", &shape);
}
