//! Merging of Meilisearch shard responses with simd-json.
