//! Federated multi-search through Miroir: the same two indexes in one standalone node
//! and in Miroir over three nodes (RF=1 and RF=2) must give the same federated answers —
//! hits (ties in weighted score may come in another order), totals, facets by index and
//! merged facets — and the same errors.

mod common;

use std::collections::BTreeMap;

use common::*;
use meilisearch_sdk::client::Client;
use miroir_tests::{start_node, FleetOptions};
use serde_json::{json, Value};

/// The second index: the corpus under other ids, with its own genres.
fn films() -> Vec<Movie> {
    corpus()
        .into_iter()
        .filter(|m| m.id % 2 == 0)
        .map(|mut m| {
            m.id += 1000;
            m.genre = GENRES[(m.id as usize / 2) % 3].to_owned();
            m
        })
        .collect()
}

async fn load_films(url: &str) {
    let client = Client::new(url, Some(KEY)).expect("client");
    succeeded(
        &client,
        client
            .index("films")
            .add_documents(&films(), Some("id"))
            .await,
    )
    .await;
    let settings =
        meilisearch_sdk::settings::Settings::new().with_filterable_attributes(["genre", "year"]);
    succeeded(&client, client.index("films").set_settings(&settings).await).await;
}

/// Hits grouped by weighted score: `(score, [(index, id)])`, each group sorted.
fn weighted_groups(response: &Value) -> Vec<(String, Vec<(String, u64)>)> {
    let mut groups: Vec<(String, Vec<(String, u64)>)> = Vec::new();
    for hit in response["hits"].as_array().expect("hits") {
        let federation = &hit["_federation"];
        let score = format!(
            "{:.12}",
            federation["weightedRankingScore"].as_f64().expect("score")
        );
        let member = (
            federation["indexUid"].as_str().expect("index").to_owned(),
            hit["id"].as_u64().expect("id"),
        );
        match groups.last_mut() {
            Some((last, members)) if *last == score => members.push(member),
            _ => groups.push((score, vec![member])),
        }
    }
    for (_, members) in &mut groups {
        members.sort();
    }
    groups
}

fn federated_requests() -> Vec<Value> {
    vec![
        // Two indexes, one weighted down.
        json!({"federation": {}, "queries": [
            {"indexUid": "movies", "q": "star"},
            {"indexUid": "films", "q": "night", "federationOptions": {"weight": 0.9}},
        ]}),
        // Two queries on one index: a document both match is shown (and counted) once.
        json!({"federation": {"limit": 30}, "queries": [
            {"indexUid": "movies", "q": "star", "showRankingScore": true},
            {"indexUid": "movies", "q": "night"},
        ]}),
        // Page mode and a filter.
        json!({"federation": {"page": 2, "hitsPerPage": 5}, "queries": [
            {"indexUid": "movies", "q": "river", "filter": "genre != comedy"},
            {"indexUid": "films", "q": "river"},
        ]}),
        // Facets by index, with an offset.
        json!({"federation": {"offset": 3, "limit": 4, "facetsByIndex": {"movies": ["genre"], "films": ["genre", "year"]}}, "queries": [
            {"indexUid": "movies", "q": "king"},
            {"indexUid": "films", "q": "love", "federationOptions": {"weight": 1.2}},
        ]}),
        // Merged facets.
        json!({"federation": {"limit": 5, "facetsByIndex": {"movies": ["genre"], "films": ["genre"]}, "mergeFacets": {"maxValuesPerFacet": 3}}, "queries": [
            {"indexUid": "movies", "q": ""},
            {"indexUid": "films", "q": "war"},
        ]}),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_multi_search_answers_like_one_node() {
    for rf in [1u32, 2] {
        let standalone = start_node(&FleetOptions {
            master_key: Some(KEY.into()),
            ..FleetOptions::default()
        })
        .await
        .expect("node");
        load_corpus(&standalone.url()).await;
        load_films(&standalone.url()).await;
        let (_fleet, miroir) = fleet_and_miroir(rf).await;
        load_corpus(&miroir.url()).await;
        load_films(&miroir.url()).await;
        for request in federated_requests() {
            let ((s1, one), (s2, many)) = on_both(
                &standalone.url(),
                &miroir.url(),
                reqwest::Method::POST,
                "/multi-search",
                Some(request.clone()),
            )
            .await;
            assert_eq!((s1, s2), (200, 200), "rf={rf} {request}: {one} / {many}");
            let members = |v: &Value| -> BTreeMap<String, ()> {
                v.as_object()
                    .expect("object")
                    .keys()
                    .map(|k| (k.clone(), ()))
                    .collect()
            };
            assert_eq!(
                members(&one),
                members(&many),
                "rf={rf} members of {request}"
            );
            for member in [
                "estimatedTotalHits",
                "totalHits",
                "totalPages",
                "page",
                "hitsPerPage",
                "limit",
                "offset",
                "facetsByIndex",
                "facetDistribution",
                "facetStats",
            ] {
                assert_eq!(
                    one.get(member),
                    many.get(member),
                    "rf={rf} {member} for {request}"
                );
            }
            assert!(
                !one["hits"].as_array().expect("hits").is_empty(),
                "the request must match something: {request}"
            );
            // The window may cut a group of tied hits at either end: which of them make
            // it is the tie order, so the first and last groups are compared by score
            // and size only, the groups between them member by member.
            let (a, b) = (weighted_groups(&one), weighted_groups(&many));
            let sizes = |g: &[(String, Vec<(String, u64)>)]| -> Vec<(String, usize)> {
                g.iter().map(|(s, m)| (s.clone(), m.len())).collect()
            };
            assert_eq!(sizes(&a), sizes(&b), "rf={rf} hit scores for {request}");
            if a.len() > 2 {
                assert_eq!(
                    a[1..a.len() - 1],
                    b[1..b.len() - 1],
                    "rf={rf} hits for {request}"
                );
            }
            // Scores are shown exactly where the client asked for them.
            for (a, b) in one["hits"]
                .as_array()
                .expect("hits")
                .iter()
                .zip(many["hits"].as_array().expect("hits"))
            {
                let shape = |hit: &Value| -> Vec<String> {
                    let mut keys: Vec<String> =
                        hit.as_object().expect("hit").keys().cloned().collect();
                    keys.sort();
                    keys
                };
                assert_eq!(shape(a), shape(b), "rf={rf} hit members for {request}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_errors_are_the_nodes_own() {
    let (standalone, _fleet, miroir) = loaded_pair(1).await;
    for request in [
        json!({"federation": {}, "queries": [{"indexUid": "movies", "q": "a", "limit": 3}]}),
        json!({"federation": {"limit": "ten"}, "queries": [{"indexUid": "movies"}]}),
        json!({"federation": {}, "queries": [{"indexUid": "nowhere", "q": "a"}]}),
        json!({"federation": {}, "queries": [{"indexUid": "movies", "filter": "nope = 1"}]}),
    ] {
        let ((s1, one), (s2, many)) = on_both(
            &standalone.url(),
            &miroir.url(),
            reqwest::Method::POST,
            "/multi-search",
            Some(request.clone()),
        )
        .await;
        assert_eq!(s1, 400, "{request}: {one}");
        assert_eq!((s2, many), (s1, one), "{request}");
    }
}
