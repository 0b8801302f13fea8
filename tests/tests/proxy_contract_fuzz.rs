//! Regressions found by the OpenAPI fuzzer (`scripts/api-fuzz.sh`): requests on which
//! Miroir answered differently from Meilisearch. Each request goes to Miroir (over a
//! 3-node fleet) and to one standalone node of the same backend, and both must give
//! exactly the expected answer.

mod common;

use common::*;
use miroir_tests::{start_node, FleetOptions};
use serde_json::{json, Value};

/// Send `method url` with an optional `Content-Type` and raw body.
async fn raw(
    method: reqwest::Method,
    url: String,
    content_type: Option<&str>,
    body: &'static str,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(KEY)
        .body(body);
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body read");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A request (method, path and query, content type, body) and the exact answer expected.
type Case = (
    reqwest::Method,
    &'static str,
    Option<&'static str>,
    &'static str,
    u16,
    Value,
);

fn error(code: &str, message: &str) -> Value {
    json!({
        "message": message,
        "code": code,
        "type": "invalid_request",
        "link": format!("https://docs.meilisearch.com/errors#{code}"),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzer_findings_answer_like_meilisearch() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    let node = start_node(&FleetOptions {
        master_key: Some(KEY.into()),
        ..FleetOptions::default()
    })
    .await
    .expect("reference node starts");
    let bases = [("miroir", miroir.url()), ("node", node.url())];
    for (_, base) in &bases {
        let (status, task) = http(
            reqwest::Method::POST,
            format!("{base}/indexes"),
            Some(json!({"uid": "fuzz", "primaryKey": "id"})),
        )
        .await;
        assert_eq!(status, 202, "{task}");
        assert_eq!(
            wait_task(base, &task["taskUid"]).await["status"],
            "succeeded"
        );
    }

    let accepted = "`application/json`, `application/x-ndjson`, `text/csv`";
    let cases: Vec<Case> = vec![
        (
            reqwest::Method::POST,
            "/indexes/fuzz/documents?csvDelimiter=%3B",
            Some("application/json"),
            "[]",
            415,
            error(
                "invalid_content_type",
                "The Content-Type `application/json` does not support the use of a csv delimiter. The csv delimiter can only be used with the Content-Type `text/csv`.",
            ),
        ),
        (
            reqwest::Method::PUT,
            "/indexes/fuzz/documents",
            None,
            "[]",
            415,
            error(
                "missing_content_type",
                &format!("A Content-Type header is missing. Accepted values for the Content-Type header are: {accepted}"),
            ),
        ),
        (
            reqwest::Method::POST,
            "/indexes/fuzz/documents",
            Some("text/plain"),
            "[]",
            415,
            error(
                "invalid_content_type",
                &format!("The Content-Type `text/plain` is invalid. Accepted values for the Content-Type header are: {accepted}"),
            ),
        ),
        (
            reqwest::Method::GET,
            "/stats?sizeFormat=raw&x-unknown=42",
            None,
            "",
            400,
            error(
                "bad_request",
                "Unknown parameter `x-unknown`: expected one of `showInternalDatabaseSizes`, `sizeFormat`",
            ),
        ),
        (
            reqwest::Method::GET,
            "/indexes/fuzz/stats?x-unknown=42",
            None,
            "",
            400,
            error(
                "bad_request",
                "Unknown parameter `x-unknown`: expected one of `showInternalDatabaseSizes`, `sizeFormat`",
            ),
        ),
        (
            reqwest::Method::GET,
            "/stats?sizeFormat=foo",
            None,
            "",
            400,
            error(
                "invalid_stats_size_format",
                "Unknown value `foo` for parameter `sizeFormat`: expected one of `human`, `raw`",
            ),
        ),
        (
            reqwest::Method::GET,
            "/indexes/fuzz/stats?showInternalDatabaseSizes=maybe",
            None,
            "",
            400,
            error(
                "invalid_stats_show_internal_database_sizes",
                "Invalid value in parameter `showInternalDatabaseSizes`: could not parse `maybe` as a boolean, expected either `true` or `false`",
            ),
        ),
        (
            reqwest::Method::DELETE,
            "/indexes/fuzz/documents/1?zz=1",
            None,
            "",
            400,
            error(
                "bad_request",
                "Unknown parameter `zz`: expected one of `customMetadata`",
            ),
        ),
        (
            reqwest::Method::DELETE,
            "/indexes/fuzz/documents?=x",
            None,
            "",
            400,
            error(
                "bad_request",
                "Unknown parameter ``: expected one of `customMetadata`",
            ),
        ),
        (
            reqwest::Method::POST,
            "/indexes/fuzz/documents/delete-batch?zz=1",
            Some("application/json"),
            "[1]",
            400,
            error(
                "bad_request",
                "Unknown parameter `zz`: expected one of `customMetadata`",
            ),
        ),
    ];
    let mut mismatches = Vec::new();
    for (method, path, content_type, body, status, expected) in cases {
        for (name, base) in &bases {
            let got = raw(method.clone(), format!("{base}{path}"), content_type, body).await;
            if got != (status, expected.clone()) {
                mismatches.push(format!(
                    "{name}: {method} {path}: got {} {}, expected {status} {expected}",
                    got.0, got.1
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // Valid stats parameters are still accepted.
    for path in [
        "/stats?sizeFormat=raw",
        "/indexes/fuzz/stats?showInternalDatabaseSizes=false",
    ] {
        let (status, body) = get(format!("{}{path}", miroir.url())).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
}
