//! Miroir fleet harness, fake Meilisearch node and end-to-end suites.
