//! The admin listener (`admin_listen`): Prometheus metrics and the nodes' health, behind
//! the admin key.

mod common;

use common::*;
use miroir_tests::{Fleet, Miroir, MiroirOptions};
use serde_json::{json, Value};

const ADMIN_KEY: &str = "admin-key-for-the-tests-0123";

async fn with_admin(rf: u32) -> (Fleet, Miroir) {
    fleet_with(
        3,
        MiroirOptions {
            replication_factor: rf,
            master_key: Some(KEY.into()),
            admin_key: Some(ADMIN_KEY.into()),
            health_check: Some(("200ms", "200ms", 2, 2)),
            ..MiroirOptions::default()
        },
    )
    .await
}

async fn admin(
    miroir: &Miroir,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
) -> (u16, String) {
    let base = miroir.admin_url().expect("admin listener configured");
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("admin request sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("admin body"))
}

/// The value of the sample whose line starts with `series ` (name and labels as
/// Prometheus' text format writes them).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().expect("a number"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_routes_need_the_admin_key() {
    let (_fleet, miroir) = with_admin(1).await;
    let error = |message: &str, code: &str, kind: &str| json!({"message": message, "code": code, "type": kind, "link": format!("docs/errors.md#{code}")});
    let (status, body) = admin(&miroir, reqwest::Method::GET, "/_miroir/metrics", None).await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("json"),
        error(
            "The admin API needs the admin key: send `Authorization: Bearer <keys.admin_key>`.",
            "miroir_missing_admin_key",
            "auth"
        )
    );
    for wrong in ["not-the-admin-key", KEY] {
        let (status, body) =
            admin(&miroir, reqwest::Method::GET, "/_miroir/nodes", Some(wrong)).await;
        assert_eq!(status, 403, "{wrong}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("json"),
            error(
                "The provided key is not the admin key (`keys.admin_key`).",
                "miroir_invalid_admin_key",
                "auth"
            )
        );
    }
    for (method, path) in [
        (reqwest::Method::GET, "/_miroir/nope"),
        (reqwest::Method::POST, "/_miroir/metrics"),
    ] {
        let (status, body) = admin(&miroir, method.clone(), path, Some(ADMIN_KEY)).await;
        assert_eq!(status, 404);
        assert_eq!(
            serde_json::from_str::<Value>(&body).expect("json"),
            error(
                &format!("The admin API has no route `{method} {path}`: it serves `GET /_miroir/metrics` and `GET /_miroir/nodes`."),
                "miroir_admin_route_not_found",
                "invalid_request"
            )
        );
    }
    // The Meilisearch API keeps refusing Meilisearch's own `/metrics`, pointing here.
    let (status, refused) = get(format!("{}/metrics", miroir.url())).await;
    assert_eq!(status, 501);
    assert_eq!(refused["code"], json!("miroir_unsupported_route"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_show_the_nodes_health() {
    let (fleet, miroir) = with_admin(2).await;
    load_corpus(&miroir.url()).await;
    for _ in 0..3 {
        assert_eq!(all_ids(&miroir.url()).await.len(), 60);
    }
    let (status, _) = get(format!("{}/indexes/movies/documents/999", miroir.url())).await;
    assert_eq!(status, 404);
    let (status, text) = admin(
        &miroir,
        reqwest::Method::GET,
        "/_miroir/metrics",
        Some(ADMIN_KEY),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        sample(
            &text,
            r#"miroir_requests_total{route="search",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"miroir_requests_total{route="documents.get",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"miroir_request_duration_seconds_count{route="search"}"#
        ),
        Some(3.0),
        "{text}"
    );
    for node in ["n0", "n1", "n2"] {
        assert_eq!(
            sample(
                &text,
                &format!(r#"miroir_node_up{{group="g0",node="{node}"}}"#)
            ),
            Some(1.0),
            "{text}"
        );
    }
    // Node 0 stops answering its checks in time: the metrics and the node list say so.
    fleet
        .node(0)
        .set_delay(std::time::Duration::from_millis(1000));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (_, text) = admin(
        &miroir,
        reqwest::Method::GET,
        "/_miroir/metrics",
        Some(ADMIN_KEY),
    )
    .await;
    let (_, nodes) = admin(
        &miroir,
        reqwest::Method::GET,
        "/_miroir/nodes",
        Some(ADMIN_KEY),
    )
    .await;
    fleet.node(0).set_delay(std::time::Duration::ZERO);
    assert_eq!(
        sample(&text, r#"miroir_node_up{group="g0",node="n0"}"#),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"miroir_node_up{group="g0",node="n1"}"#),
        Some(1.0),
        "{text}"
    );
    let failed = sample(
        &text,
        r#"miroir_health_checks_total{node="n0",result="failed"}"#,
    )
    .expect("n0's failed checks are counted");
    assert!(failed >= 2.0, "{text}");
    assert_eq!(
        sample(
            &text,
            r#"miroir_health_checks_total{node="n1",result="failed"}"#
        ),
        None,
        "{text}"
    );
    let mut nodes: Value = serde_json::from_str(&nodes).expect("json");
    for node in nodes["results"].as_array_mut().expect("results") {
        let latency = node
            .as_object_mut()
            .expect("node")
            .remove("latencyMs")
            .expect("latencyMs");
        assert!(latency.is_f64(), "every node answered a read: {latency}");
    }
    assert_eq!(
        nodes,
        json!({"results": [
            {"id": "n0", "group": "g0", "readable": false, "healthy": false},
            {"id": "n1", "group": "g0", "readable": true, "healthy": true},
            {"id": "n2", "group": "g0", "readable": true, "healthy": true},
        ]})
    );
}
