//! The search engine behind Miroir's fake Meilisearch node.
//!
//! Pure functions over JSON documents and Meilisearch-shaped settings: filter
//! evaluation, search with ranking and score details, facets, document browsing.
//! The HTTP server, storage and task queue live in `miroir-tests` (`tests/src/fake`);
//! this crate never does I/O. Where Meilisearch is more subtle than this engine
//! (real tokenisation, language handling), the difference is written down in
//! `docs/testing.md`; the score of a document depends only on the query and the
//! document, so a corpus split over shards ranks exactly as it does on one node.

use serde_json::{Map, Value};

mod browse;
mod facets;
mod fields;
mod filter;
mod format;
mod geo;
mod index_fields;
mod locales;
mod search;
mod settings;
mod similar;
mod sort;
mod text;
mod vectors;
mod wire;

pub use browse::{browse, show_document};
pub use facets::facet_search;
pub use fields::{field_distribution, flatten, leaves_at, project, values_at};
pub use filter::{
    compile_filter, compile_filter_with_contains, matches, CompiledFilter, FilterContext,
};
pub use index_fields::list_fields;
pub use search::search;
pub use settings::{apply_settings_patch, default_settings, DEFAULT_RANKING_RULES, SETTINGS_KEYS};
pub use similar::{similar, SIMILAR_KEYS};
pub use wire::did_you_mean;

/// A document as stored: a JSON object.
pub type Document = Map<String, Value>;

/// What the engine needs to know about an index besides its documents.
#[derive(Debug, Clone, Copy)]
pub struct IndexContext<'a> {
    /// The index uid, used in error messages.
    pub uid: &'a str,
    /// The primary key field, if the index has one yet.
    pub primary_key: Option<&'a str>,
    /// The full settings object, in Meilisearch's `GET /indexes/{uid}/settings` shape
    /// (every key present, defaults filled in).
    pub settings: &'a Map<String, Value>,
}

/// An error in Meilisearch's wire shape plus its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MeiliError {
    /// HTTP status code.
    pub status: u16,
    /// Human-readable message, Meilisearch's text.
    pub message: String,
    /// Error code, e.g. `invalid_search_filter`.
    pub code: String,
    /// Error type: `invalid_request`, `internal`, `auth` or `system`.
    pub error_type: String,
    /// Documentation link, `https://docs.meilisearch.com/errors#<code>`.
    pub link: String,
}

impl MeiliError {
    /// Build an error; the link is derived from the code as Meilisearch does.
    pub fn new(status: u16, code: &str, error_type: &str, message: impl Into<String>) -> Self {
        MeiliError {
            status,
            message: message.into(),
            code: code.to_owned(),
            error_type: error_type.to_owned(),
            link: format!("https://docs.meilisearch.com/errors#{code}"),
        }
    }

    /// The JSON body Meilisearch sends: `{"message","code","type","link"}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "message": self.message,
            "code": self.code,
            "type": self.error_type,
            "link": self.link,
        })
    }
}
