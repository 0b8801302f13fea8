//! Merging of Meilisearch node responses into the response one Meilisearch would give.
//!
//! The proxy fans a request out to the nodes that cover every shard of an index and hands
//! their response bodies (in a fixed order: see each function) to one function of this
//! crate, which returns the client's body. Everything here is a pure function over byte
//! buffers: no I/O, no Pingora types.
//!
//! | request | function |
//! |---|---|
//! | search | [`merge_search`] (window: [`Pagination::node_query`]) |
//! | search, two phases (deep pages) | [`select_winners`] then [`assemble_two_phase`] |
//! | facet search | [`merge_facet_search`] |
//! | `GET /documents`, `POST /documents/fetch` | [`merge_documents`] |
//! | `GET /indexes/{uid}/stats`, `GET /stats` | [`merge_index_stats`], [`merge_global_stats`] |
//! | federated multi-search | [`merge_federated`] |
//!
//! A search call in the proxy looks like this:
//!
//! ```
//! use miroir_merger::{merge_search, NodePagination, Pagination, SearchRequest};
//!
//! let client = Pagination::OffsetLimit { offset: 1, limit: 1 };
//! // Every node gets its first `offset + limit` hits, scores on.
//! assert_eq!(client.node_query(1000), NodePagination::OffsetLimit { offset: 0, limit: 2 });
//! let node_a = br#"{"hits":[{"id":1,"_miroir_shard":0,"_rankingScore":0.9}],"query":"q","processingTimeMs":2,"limit":2,"offset":0,"estimatedTotalHits":1}"#;
//! let node_b = br#"{"hits":[{"id":2,"_miroir_shard":1,"_rankingScore":0.8}],"query":"q","processingTimeMs":5,"limit":2,"offset":0,"estimatedTotalHits":1}"#;
//! let mut req = SearchRequest::offset_limit(1, 1);
//! req.pagination = client;
//! let body = merge_search(&[node_a, node_b], &req)?;
//! assert_eq!(
//!     body,
//!     br#"{"hits":[{"id":2}],"query":"q","processingTimeMs":5,"limit":1,"offset":1,"estimatedTotalHits":2}"#
//! );
//! # Ok::<(), miroir_merger::MergeError>(())
//! ```
//!
//! **Zero copy.** A light structural scanner (`scan`) finds the byte range of every hit;
//! the merge compares hits on their score details, parsed with simd-json from a small
//! scratch copy only when a hit reaches the head of its list, and the winners are copied
//! byte for byte into the output, with `_miroir_*` members (also inside `_formatted`) and
//! unrequested `_rankingScore`/`_rankingScoreDetails` spliced out. No hit is ever
//! rebuilt. See `docs/merging.md` for the ordering rules and their limits.

mod body;
mod documents;
mod error;
mod facets;
mod federated;
mod scan;
mod score;
mod search;
mod stats;
mod write;

pub use documents::{merge_documents, merge_documents_sorted, DocumentSort};
pub use error::{MergeError, ScanError};
pub use facets::{merge_facet_search, FacetOrder, FacetSearchRequest, FacetSettings};
pub use federated::{
    merge_federated, merge_federated_nodes, FederatedNodeQuery, FederatedQuery, FederatedRequest,
};
pub use score::{compare, compare_sort_values, RankKey, RuleValue, SortValue};
pub use search::{
    assemble_two_phase, merge_search, select_winners, NodePagination, Pagination, SearchRequest,
    Winner,
};
pub use stats::{merge_global_stats, merge_index_stats};

/// Parses a `_rankingScoreDetails` JSON object into a [`RankKey`] (a test and tooling
/// helper: the merge functions do this internally).
///
/// # Errors
/// [`MergeError::Invalid`] when `details` is not valid JSON.
pub fn rank_key(details: &[u8], ranking_score: f64, weight: f64) -> Result<RankKey, MergeError> {
    let mut bytes = details.to_vec();
    let v = simd_json::to_borrowed_value(&mut bytes).map_err(|e| MergeError::Invalid {
        response: 0,
        field: "_rankingScoreDetails",
        message: e.to_string(),
    })?;
    Ok(RankKey::from_details(&v, ranking_score, weight))
}
