//! The only place where the fake node calls its search engine (`miroir-fake-engine`):
//! settings defaults and validation, search, facet search, browsing, projection,
//! filters and field distribution. Everything here is a thin adapter from the store's
//! types to the engine's pure functions.

use miroir_fake_engine as eng;
use miroir_fake_engine::{Document, MeiliError};
use serde_json::{Map, Value};

use super::store::Index;

/// Settings of a new index: every key with its default value.
pub fn default_settings() -> Map<String, Value> {
    eng::default_settings()
}

/// Apply a settings patch (`null` resets a key); validation errors come from the engine.
pub fn apply_settings_patch(
    current: &Map<String, Value>,
    patch: &Value,
) -> Result<Map<String, Value>, MeiliError> {
    eng::apply_settings_patch(current, patch)
}

/// `POST /indexes/{uid}/search`.
pub fn search(index: &Index, query: &Value) -> Result<Value, MeiliError> {
    eng::search(index.docs.iter(), index.context(), query)
}

/// A search over the documents whose primary key is in `ids` only.
pub fn search_among(
    index: &Index,
    ids: &std::collections::HashSet<String>,
    query: &Value,
) -> Result<Value, MeiliError> {
    let pk = index.primary_key.as_deref();
    let docs = index.docs.iter().filter(|doc| {
        pk.and_then(|pk| doc.get(pk))
            .and_then(super::worker::id_string)
            .is_some_and(|id| ids.contains(&id))
    });
    eng::search(docs, index.context(), query)
}

/// `POST /indexes/{uid}/facet-search`.
pub fn facet_search(index: &Index, query: &Value) -> Result<Value, MeiliError> {
    eng::facet_search(index.docs.iter(), index.context(), query)
}

/// Query parameters of `GET /indexes/{uid}/similar`, in Meilisearch's order.
pub const SIMILAR_GET_PARAMS: &[&str] = &[
    "id",
    "embedder",
    "offset",
    "limit",
    "attributesToRetrieve",
    "retrieveVectors",
    "filter",
    "showRankingScore",
    "showRankingScoreDetails",
    "showPerformanceDetails",
    "rankingScoreThreshold",
];

/// One document as `GET /indexes/{uid}/documents/{id}` shows it: projected, with
/// `_vectors` hidden or in Meilisearch's retrieved form.
pub fn show_document(
    index: &Index,
    doc: &Document,
    fields: Option<&[String]>,
    retrieve_vectors: bool,
) -> Document {
    eng::show_document(doc, index.context(), fields, retrieve_vectors)
}

/// `POST /indexes/{uid}/similar`.
pub fn similar(index: &Index, query: &Value, visible: Option<&Value>) -> Result<Value, MeiliError> {
    eng::similar(index.docs.iter(), index.context(), query, visible)
}

/// `POST /indexes/{uid}/fields`.
pub fn list_fields(index: &Index, query: &Value) -> Result<Value, MeiliError> {
    eng::list_fields(index.docs.iter(), index.context(), query)
}

/// `GET /indexes/{uid}/documents` and `POST /indexes/{uid}/documents/fetch`.
pub fn browse(index: &Index, query: &Value) -> Result<Value, MeiliError> {
    eng::browse(index.docs.iter(), index.context(), query)
}

/// One document restricted to `fields` and to the displayed attributes.
pub fn project(index: &Index, doc: &Document, fields: Option<&[String]>) -> Document {
    eng::project(doc, index.context(), fields)
}

/// Primary keys of the documents matching a deletion filter. `contains_enabled` mirrors
/// the node's `containsFilter` experimental feature.
pub fn ids_matching(
    index: &Index,
    filter: &Value,
    contains_enabled: bool,
) -> Result<Vec<String>, MeiliError> {
    let compile = if contains_enabled {
        eng::compile_filter_with_contains
    } else {
        eng::compile_filter
    };
    let compiled = compile(filter, index.context(), eng::FilterContext::DeleteDocuments)?;
    let Some(compiled) = compiled else {
        return Ok(Vec::new());
    };
    let pk = index.primary_key.as_deref().unwrap_or("id");
    Ok(index
        .docs
        .iter()
        .filter(|doc| eng::matches(doc, &compiled))
        .filter_map(|doc| doc.get(pk).and_then(super::worker::id_string))
        .collect())
}

/// `fieldDistribution` of index stats.
pub fn field_distribution(index: &Index) -> Map<String, Value> {
    eng::field_distribution(index.docs.iter())
}

/// Check only the syntax of a deletion filter, as Meilisearch does before enqueueing
/// (whether its attributes are filterable is checked when the task runs).
pub fn check_filter_syntax(filter: &Value, contains_enabled: bool) -> Result<(), MeiliError> {
    let everything_filterable = serde_json::json!({ "filterableAttributes": [{
        "attributePatterns": ["*"],
        "features": { "facetSearch": false, "filter": { "equality": true, "comparison": true } },
    }] });
    let settings = eng::apply_settings_patch(&eng::default_settings(), &everything_filterable)?;
    let context = eng::IndexContext {
        uid: "",
        primary_key: None,
        settings: &settings,
    };
    let compile = if contains_enabled {
        eng::compile_filter_with_contains
    } else {
        eng::compile_filter
    };
    compile(filter, context, eng::FilterContext::DeleteDocuments).map(|_| ())
}
