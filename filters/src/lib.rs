//! Pure request logic for Miroir: the Meilisearch filter parser, the shard planner,
//! request validation and Meilisearch-shaped errors. No I/O, no Pingora types.

pub mod filter;
pub mod planner;
