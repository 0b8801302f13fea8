//! The fault switches of a test node behave the same on both backends: forced error
//! statuses, dropped connections, added latency, stop (connection refused) and restart
//! on the same port with the same data.

use std::time::Duration;

use miroir_tests::{start_node, FleetOptions, TestNode};
use serde_json::{json, Value};

async fn node() -> TestNode {
    start_node(&FleetOptions::default())
        .await
        .expect("node starts")
}

/// A fresh client per call, so no pooled connection hides a fault.
async fn get(
    node: &TestNode,
    path: &str,
    timeout: Option<Duration>,
) -> reqwest::Result<(u16, Value)> {
    let mut builder = reqwest::Client::builder().pool_max_idle_per_host(0);
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    let client = builder.build().expect("client builds");
    let response = client.get(format!("{}{}", node.url(), path)).send().await?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

#[tokio::test]
async fn a_failing_node_answers_the_forced_status_with_an_internal_error() {
    let node = node().await;
    node.fail_with(Some(503));
    let (status, body) = get(&node, "/health", None).await.expect("answered");
    assert_eq!(status, 503);
    assert_eq!(body["code"], json!("internal"));
    assert_eq!(body["type"], json!("internal"));
    assert_eq!(
        body["link"],
        json!("https://docs.meilisearch.com/errors#internal")
    );
}

#[tokio::test]
async fn switching_failures_off_restores_normal_answers() {
    let node = node().await;
    node.fail_with(Some(500));
    node.fail_with(None);
    assert_eq!(
        get(&node, "/health", None).await.expect("answered"),
        (200, json!({"status": "available"}))
    );
}

#[tokio::test]
async fn dropped_connections_get_no_answer() {
    let node = node().await;
    node.drop_connections(true);
    let error = get(&node, "/health", None).await.expect_err("no answer");
    assert!(
        !error.is_timeout() && error.status().is_none(),
        "expected a transport error, got {error}"
    );
    node.drop_connections(false);
    assert_eq!(get(&node, "/health", None).await.expect("answered").0, 200);
}

#[tokio::test]
async fn added_latency_outlasts_a_short_client_timeout() {
    let node = node().await;
    node.set_delay(Duration::from_secs(5));
    let error = get(&node, "/health", Some(Duration::from_millis(100)))
        .await
        .expect_err("too slow");
    assert!(error.is_timeout(), "expected a timeout, got {error}");
    node.set_delay(Duration::ZERO);
    assert_eq!(get(&node, "/health", None).await.expect("answered").0, 200);
}

#[tokio::test]
async fn a_stopped_node_refuses_connections() {
    let node = node().await;
    node.stop().await;
    let error = get(&node, "/health", None).await.expect_err("refused");
    assert!(
        error.is_connect(),
        "expected connection refused, got {error}"
    );
}

#[tokio::test]
async fn a_restarted_node_listens_on_the_same_port_with_the_same_data() {
    let node = node().await;
    let addr = node.addr();
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/indexes", node.url()))
        .json(&json!({"uid": "kept"}))
        .send()
        .await
        .expect("accepted");
    assert_eq!(created.status().as_u16(), 202);
    for _ in 0..300 {
        if get(&node, "/indexes/kept", None).await.expect("answered").0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.stop().await;
    node.restart().await.expect("restarts");
    assert_eq!(node.addr(), addr);
    let (status, body) = get(&node, "/indexes/kept", None).await.expect("answered");
    assert_eq!((status, body["uid"].clone()), (200, json!("kept")));
}

#[tokio::test]
async fn dropping_a_node_releases_its_port() {
    let node = node().await;
    let addr = node.addr();
    drop(node);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        refused,
        "{addr} still accepts connections after the node was dropped"
    );
}
