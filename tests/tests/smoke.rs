//! Smoke test of the fleet harness with the official Rust SDK: every node of a 3-node
//! fleet (fake or real Meilisearch, depending on `MEILI_BIN`) creates an index, indexes
//! documents, and answers a search and a document fetch exactly.

use meilisearch_sdk::client::Client;
use miroir_tests::{Fleet, FleetOptions};
use serde::{Deserialize, Serialize};

const MASTER_KEY: &str = "smoke-test-master-key-0123456789";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Movie {
    id: u32,
    title: String,
    year: u32,
}

fn movies() -> Vec<Movie> {
    vec![
        Movie {
            id: 1,
            title: "Carol".into(),
            year: 2015,
        },
        Movie {
            id: 2,
            title: "Wonder Woman".into(),
            year: 2017,
        },
        Movie {
            id: 3,
            title: "Life of Pi".into(),
            year: 2012,
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_indexes_searches_and_returns_documents_through_the_sdk() {
    let fleet = Fleet::start(
        3,
        FleetOptions {
            master_key: Some(MASTER_KEY.into()),
            ..FleetOptions::default()
        },
    )
    .await
    .expect("fleet starts");
    for node in fleet.nodes() {
        let client = Client::new(node.url(), Some(MASTER_KEY)).expect("client");
        let created = client
            .create_index("movies", Some("id"))
            .await
            .expect("index creation accepted")
            .wait_for_completion(&client, None, None)
            .await
            .expect("index creation finishes");
        assert!(
            created.is_success(),
            "index creation failed on {}: {created:?}",
            node.url()
        );

        let index = client.index("movies");
        let added = index
            .add_documents(&movies(), Some("id"))
            .await
            .expect("document addition accepted")
            .wait_for_completion(&client, None, None)
            .await
            .expect("document addition finishes");
        assert!(
            added.is_success(),
            "document addition failed on {}: {added:?}",
            node.url()
        );

        let results = index
            .search()
            .with_query("wonder")
            .execute::<Movie>()
            .await
            .expect("search answers");
        let hits: Vec<Movie> = results.hits.into_iter().map(|h| h.result).collect();
        assert_eq!(
            hits,
            vec![Movie {
                id: 2,
                title: "Wonder Woman".into(),
                year: 2017
            }]
        );
        assert_eq!(results.estimated_total_hits, Some(1));

        let document: Movie = index.get_document("3").await.expect("document exists");
        assert_eq!(
            document,
            Movie {
                id: 3,
                title: "Life of Pi".into(),
                year: 2012
            }
        );
    }
}
