//! Every settings sub-route through Miroir against a plain node: update, read back,
//! reset, the whole settings object, and a bad value, each answer compared with the
//! plain node's; `_miroir_shard` never shows.

mod common;

use common::*;
use miroir_tests::{start_node, FleetOptions};
use reqwest::Method;
use serde_json::{json, Value};

/// Each sub-route with its update verb and a value different from the default.
fn sub_routes() -> Vec<(&'static str, Method, Value)> {
    vec![
        (
            "displayed-attributes",
            Method::PUT,
            json!(["title", "genre", "year"]),
        ),
        (
            "searchable-attributes",
            Method::PUT,
            json!(["title", "genre"]),
        ),
        (
            "filterable-attributes",
            Method::PUT,
            json!(["genre", "year"]),
        ),
        (
            "sortable-attributes",
            Method::PUT,
            json!(["year", "rating"]),
        ),
        (
            "ranking-rules",
            Method::PUT,
            json!([
                "words",
                "typo",
                "sort",
                "proximity",
                "attribute",
                "exactness",
                "year:desc"
            ]),
        ),
        ("stop-words", Method::PUT, json!(["the", "a"])),
        ("non-separator-tokens", Method::PUT, json!(["@"])),
        ("separator-tokens", Method::PUT, json!(["|"])),
        ("dictionary", Method::PUT, json!(["J.R.R."])),
        (
            "synonyms",
            Method::PUT,
            json!({"movie": ["film"], "film": ["movie"]}),
        ),
        ("distinct-attribute", Method::PUT, json!("genre")),
        (
            "typo-tolerance",
            Method::PATCH,
            json!({"minWordSizeForTypos": {"oneTypo": 4}, "disableOnAttributes": ["genre"]}),
        ),
        (
            "faceting",
            Method::PATCH,
            json!({"maxValuesPerFacet": 50, "sortFacetValuesBy": {"genre": "count"}}),
        ),
        ("pagination", Method::PATCH, json!({"maxTotalHits": 500})),
        ("proximity-precision", Method::PUT, json!("byAttribute")),
        ("search-cutoff-ms", Method::PUT, json!(150)),
        (
            "localized-attributes",
            Method::PUT,
            json!([{"attributePatterns": ["title"], "locales": ["eng"]}]),
        ),
        ("facet-search", Method::PUT, json!(false)),
        ("prefix-search", Method::PUT, json!("disabled")),
    ]
}

/// A request on both targets: same status and body.
async fn same(bases: &[String; 2], method: Method, path: &str, body: Option<Value>) -> Value {
    let mut answers = Vec::new();
    for base in bases {
        let (status, answer) = http(method.clone(), format!("{base}{path}"), body.clone()).await;
        let answer = if status == 202 {
            // A task summary: the uids and dates differ; wait and compare the task.
            let task = wait_task(base, &answer["taskUid"]).await;
            json!([
                task["status"],
                task["type"],
                task["indexUid"],
                task["details"],
                task["error"]
            ])
        } else {
            answer
        };
        answers.push((status, answer));
    }
    assert_eq!(
        answers[0], answers[1],
        "{method} {path}: plain node (left) and Miroir (right) differ"
    );
    assert!(
        !answers[1].1.to_string().contains("_miroir"),
        "{method} {path} shows Miroir's field: {}",
        answers[1].1
    );
    answers.remove(1).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_settings_sub_route_answers_like_one_node() {
    let node = start_node(&FleetOptions {
        master_key: Some(KEY.into()),
        ..FleetOptions::default()
    })
    .await
    .expect("node");
    let (_fleet, miroir) = fleet_and_miroir(2).await;
    let bases = [node.url(), miroir.url()];
    for base in &bases {
        let (status, created) = http(
            Method::POST,
            format!("{base}/indexes"),
            Some(json!({"uid": "movies", "primaryKey": "id"})),
        )
        .await;
        assert_eq!(status, 202, "{created}");
        wait_task(base, &created["taskUid"]).await;
    }
    let defaults = same(&bases, Method::GET, "/indexes/movies/settings", None).await;
    for (sub, verb, value) in sub_routes() {
        let path = format!("/indexes/movies/settings/{sub}");
        let before = same(&bases, Method::GET, &path, None).await;
        let task = same(&bases, verb.clone(), &path, Some(value.clone())).await;
        assert_eq!(task[0], json!("succeeded"), "{sub}: {task}");
        let after = same(&bases, Method::GET, &path, None).await;
        assert_ne!(before, after, "{sub}: the update changed nothing");
        let reset = same(&bases, Method::DELETE, &path, None).await;
        assert_eq!(reset[0], json!("succeeded"), "{sub}: {reset}");
        let back = same(&bases, Method::GET, &path, None).await;
        assert_eq!(back, before, "{sub}: reset gives the default back");
    }
    // All at once, then the whole object, then a reset of everything.
    let all: serde_json::Map<String, Value> = sub_routes()
        .into_iter()
        .map(|(sub, _, value)| {
            let key: String = sub
                .split('-')
                .enumerate()
                .map(|(i, part)| {
                    if i == 0 {
                        part.to_owned()
                    } else {
                        part[..1].to_uppercase() + &part[1..]
                    }
                })
                .collect();
            (key, value)
        })
        .collect();
    let task = same(
        &bases,
        Method::PATCH,
        "/indexes/movies/settings",
        Some(Value::Object(all)),
    )
    .await;
    assert_eq!(task[0], json!("succeeded"), "{task}");
    let settings = same(&bases, Method::GET, "/indexes/movies/settings", None).await;
    assert_eq!(settings["filterableAttributes"], json!(["genre", "year"]));
    let task = same(&bases, Method::DELETE, "/indexes/movies/settings", None).await;
    assert_eq!(task[0], json!("succeeded"), "{task}");
    assert_eq!(
        same(&bases, Method::GET, "/indexes/movies/settings", None).await,
        defaults
    );
    // A bad value is refused synchronously with the node's own error.
    let error = same(
        &bases,
        Method::PUT,
        "/indexes/movies/settings/ranking-rules",
        Some(json!(["nonsense rule"])),
    )
    .await;
    assert_eq!(error["code"], json!("invalid_settings_ranking_rules"));
}
