//! HTTP routes of the fake node, with Meilisearch 1.50's paths, verbs, status codes and
//! bodies. Handlers read raw bodies and query strings so that every rejection (content
//! type, malformed JSON, size limit, unknown parameter) carries Meilisearch's message,
//! never the web framework's.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::auth::{self, Grant};
use super::engine;
use super::error::{self, ApiError, ApiResult};
use super::payload;
use super::store::Index;
use super::tasks::{self, form_pairs, paginate, Operation, QueryRoute, Swap, TaskQuery};
use super::Node;

type Shared = State<Arc<Node>>;

/// The router of one node.
pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/version", get(version))
        .route("/stats", get(global_stats))
        .route("/indexes", get(list_indexes).post(create_index))
        .route(
            "/indexes/{uid}",
            get(get_index).patch(update_index).delete(delete_index),
        )
        .route("/indexes/{uid}/stats", get(index_stats))
        .route("/indexes/{uid}/compact", post(compact_index))
        .route(
            "/indexes/{uid}/settings",
            get(get_settings)
                .patch(patch_settings)
                .delete(reset_settings),
        )
        .route(
            "/indexes/{uid}/settings/{name}",
            get(get_setting)
                .put(put_setting)
                .patch(patch_setting)
                .delete(reset_setting),
        )
        .route(
            "/indexes/{uid}/documents",
            get(browse_documents)
                .post(replace_documents)
                .put(update_documents)
                .delete(clear_documents),
        )
        .route("/indexes/{uid}/documents/fetch", post(fetch_documents))
        .route(
            "/indexes/{uid}/documents/delete-batch",
            post(delete_documents_batch),
        )
        .route(
            "/indexes/{uid}/documents/delete",
            post(delete_documents_by_filter),
        )
        .route("/indexes/{uid}/documents/edit", post(edit_documents))
        .route(
            "/indexes/{uid}/documents/{id}",
            get(get_document).delete(delete_document),
        )
        .route("/indexes/{uid}/search", get(search_get).post(search_post))
        .route("/indexes/{uid}/facet-search", post(facet_search))
        .route("/indexes/{uid}/fields", post(list_fields))
        .route(
            "/indexes/{uid}/similar",
            get(similar_get).post(similar_post),
        )
        .route("/multi-search", post(multi_search))
        .route("/swap-indexes", post(swap_indexes))
        .route("/dumps", post(create_dump))
        .route("/snapshots", post(create_snapshot))
        .route("/tasks", get(list_tasks).delete(delete_tasks))
        .route("/tasks/cancel", post(cancel_tasks))
        .route("/tasks/{uid}", get(get_task))
        .route("/batches", get(list_batches))
        .route("/batches/{uid}", get(get_batch))
        .route("/keys", get(list_keys).post(create_key))
        .route(
            "/keys/{key}",
            get(get_key).patch(update_key).delete(delete_key),
        )
        .route(
            "/experimental-features",
            get(get_features).patch(patch_features),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(node.clone(), authenticate))
        .with_state(node)
}

// ---------------------------------------------------------------------------------------
// Authentication

/// The action a route needs and the index it is about (from the path).
fn required_action(method: &Method, path: &str) -> Option<(&'static str, Option<String>)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let m = method.as_str();
    let action = match (m, segments.as_slice()) {
        (_, ["health"]) => return None,
        ("GET", ["version"]) => "version",
        ("GET", ["stats"]) => "stats.get",
        ("GET", ["indexes"]) => "indexes.get",
        ("POST", ["indexes"]) => "indexes.create",
        ("GET", ["indexes", _]) => "indexes.get",
        ("PATCH", ["indexes", _]) => "indexes.update",
        ("DELETE", ["indexes", _]) => "indexes.delete",
        ("GET", ["indexes", _, "stats"]) => "stats.get",
        ("POST", ["indexes", _, "compact"]) => "indexes.compact",
        ("GET", ["indexes", _, "settings", ..]) => "settings.get",
        (_, ["indexes", _, "settings", ..]) => "settings.update",
        ("GET", ["indexes", _, "documents", ..]) => "documents.get",
        ("POST", ["indexes", _, "documents", "fetch"]) => "documents.get",
        ("POST", ["indexes", _, "documents", "edit"]) => "documents.*",
        ("POST" | "PUT", ["indexes", _, "documents"]) => "documents.add",
        (_, ["indexes", _, "documents", ..]) => "documents.delete",
        (_, ["indexes", _, "search" | "facet-search" | "similar"]) => "search",
        ("POST", ["indexes", _, "fields"]) => "fields.post",
        ("POST", ["multi-search"]) => "search",
        ("POST", ["swap-indexes"]) => "indexes.swap",
        ("POST", ["dumps"]) => "dumps.create",
        ("POST", ["snapshots"]) => "snapshots.create",
        ("GET", ["tasks", ..]) => "tasks.get",
        ("POST", ["tasks", "cancel"]) => "tasks.cancel",
        ("DELETE", ["tasks"]) => "tasks.delete",
        ("GET", ["batches", ..]) => "tasks.get",
        ("GET", ["keys", ..]) => "keys.get",
        ("POST", ["keys"]) => "keys.create",
        ("PATCH", ["keys", _]) => "keys.update",
        ("DELETE", ["keys", _]) => "keys.delete",
        ("GET", ["experimental-features"]) => "experimental.get",
        ("PATCH", ["experimental-features"]) => "experimental.update",
        _ => return None,
    };
    let index = match segments.as_slice() {
        ["indexes", uid, ..] => Some(percent_decode_path(uid)),
        _ => None,
    };
    Some((action, index))
}

fn percent_decode_path(segment: &str) -> String {
    form_pairs(&format!("x={}", segment.replace('+', "%2B")))
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

async fn authenticate(State(node): Shared, mut request: Request, next: Next) -> Response {
    let Some((action, index)) = required_action(request.method(), request.uri().path()) else {
        request.extensions_mut().insert(Grant::default());
        return next.run(request).await;
    };
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let outcome = {
        let store = node.lock();
        auth::authorize(
            node.master_key.as_deref(),
            &store.keys,
            header.as_deref(),
            action,
            index.as_deref(),
            OffsetDateTime::now_utc(),
        )
    };
    match outcome {
        Ok(grant) => {
            request.extensions_mut().insert(grant);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

fn accepted(summary: Value) -> Response {
    (StatusCode::ACCEPTED, Json(summary)).into_response()
}

async fn read_body(node: &Node, body: Body) -> ApiResult<Bytes> {
    axum::body::to_bytes(body, node.payload_limit)
        .await
        .map_err(|_| error::payload_too_large(node.payload_limit))
}

/// Parse a JSON body of a non-document route, enforcing `application/json`.
async fn json_body(node: &Node, headers: &HeaderMap, body: Body) -> ApiResult<Value> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default());
    match content_type {
        None => return Err(error::missing_content_type(&["application/json"])),
        Some(raw) => match payload::mime_essence(raw) {
            Some(essence) if essence == "application/json" => {}
            Some(essence) => {
                return Err(error::invalid_content_type(&essence, &["application/json"]))
            }
            None => return Err(error::invalid_content_type(raw, &["application/json"])),
        },
    }
    // Meilisearch's JSON extractor reports an oversized body as an internal error naming
    // both sizes (the document routes use `payload_too_large` instead).
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(length) = declared.filter(|l| *l > node.payload_limit) {
        return Err(ApiError(error::internal(
            500,
            format!(
                "JSON payload ({length} bytes) is larger than allowed (limit: {} bytes).",
                node.payload_limit
            ),
        )));
    }
    let bytes = read_body(node, body).await?;
    if bytes.is_empty() {
        return Err(error::bad("missing_payload", "A json payload is missing."));
    }
    serde_json::from_slice(&bytes).map_err(|e| error::malformed_json(&e))
}

pub(super) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "a positive integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn expect_object(value: Value) -> ApiResult<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(error::bad(
            "bad_request",
            format!(
                "Invalid value type: expected an object, but found {}: `{other}`",
                json_type_name(&other)
            ),
        )),
    }
}

fn check_index_uid(uid: &str) -> ApiResult<()> {
    if error::is_valid_index_uid(uid) {
        Ok(())
    } else {
        Err(error::bad(
            "invalid_index_uid",
            error::index_uid_format_message(uid),
        ))
    }
}

pub(super) fn with_index<T>(
    node: &Node,
    uid: &str,
    f: impl FnOnce(&Index) -> ApiResult<T>,
) -> ApiResult<T> {
    check_index_uid(uid)?;
    let store = node.lock();
    let index = store
        .indexes
        .get(uid)
        .ok_or_else(|| ApiError(error::index_not_found(uid)))?;
    f(index)
}

fn index_view(index: &Index) -> Value {
    json!({
        "uid": index.uid,
        "createdAt": tasks::rfc3339(index.created_at),
        "updatedAt": tasks::rfc3339(index.updated_at),
        "primaryKey": index.primary_key,
    })
}

fn params(raw: Option<&str>) -> Vec<(String, String)> {
    form_pairs(raw.unwrap_or_default())
}

fn parse_usize(code: &str, name: &str, value: &str) -> ApiResult<usize> {
    value
        .parse()
        .map_err(|_| error::not_a_positive_integer(code, name, value))
}

fn parse_bool(code: &str, name: &str, value: &str) -> ApiResult<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(error::bad(
            code,
            format!("Invalid value in parameter `{name}`: could not parse `{value}` as a boolean, expected either `true` or `false`"),
        )),
    }
}

fn comma_list(value: &str) -> Value {
    Value::Array(
        value
            .split(',')
            .map(|s| Value::String(s.trim().to_owned()))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// Instance routes

async fn health() -> Json<Value> {
    Json(json!({ "status": "available" }))
}

async fn version() -> Json<Value> {
    Json(json!({
        "commitSha": "2ecfd54ca7f3dd1c76d304efce86c9b8af9f82aa",
        "commitDate": "2026-07-16T14:59:12.000000000Z",
        "pkgVersion": "1.50.0",
    }))
}

/// How the stats query asks sizes to be shown.
#[derive(Clone, Copy, Default)]
struct SizeView {
    /// `sizeFormat=human`.
    human: bool,
    /// `showInternalDatabaseSizes=true`.
    internal: bool,
}

impl SizeView {
    /// A size the way Meilisearch prints it: bytes, or binary units with at most two
    /// decimals (`4 KiB`, `1.99 KiB`, `640 B`).
    fn size(self, bytes: usize) -> Value {
        if !self.human {
            return json!(bytes);
        }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"];
        let (mut value, mut unit) = (bytes as f64, 0);
        while value >= 1024.0 && unit + 1 < units.len() {
            value /= 1024.0;
            unit += 1;
        }
        let printed = format!("{value:.2}");
        json!(format!(
            "{} {}",
            printed.trim_end_matches('0').trim_end_matches('.'),
            units[unit]
        ))
    }
}

fn stats_of(index: &Index, is_indexing: bool, view: SizeView) -> Value {
    let raw_size: usize = index
        .docs
        .iter()
        .map(|d| Value::Object(d.clone()).to_string().len())
        .sum();
    let count = index.docs.len();
    let mut stats = Map::new();
    stats.insert("numberOfDocuments".into(), json!(count));
    stats.insert("rawDocumentDbSize".into(), view.size(raw_size));
    stats.insert(
        "avgDocumentSize".into(),
        view.size(raw_size.checked_div(count).unwrap_or(0)),
    );
    stats.insert("isIndexing".into(), json!(is_indexing));
    if view.internal {
        // The fake keeps documents only: one "database" for them, one for the rest.
        stats.insert(
            "internalDatabaseSizes".into(),
            json!({"main": view.size(4096), "documents": view.size(raw_size)}),
        );
    }
    stats.insert("numberOfEmbeddings".into(), json!(0));
    stats.insert("numberOfEmbeddedDocuments".into(), json!(0));
    stats.insert(
        "fieldDistribution".into(),
        Value::Object(engine::field_distribution(index)),
    );
    Value::Object(stats)
}

fn is_indexing(store: &super::store::Store, uid: &str) -> bool {
    store
        .tasks
        .values()
        .any(|t| t.status == tasks::TaskStatus::Processing && t.index_uid.as_deref() == Some(uid))
}

/// Meilisearch's validation of the stats query, and how sizes are to be shown.
fn check_stats_params(raw: Option<&str>) -> ApiResult<SizeView> {
    let mut view = SizeView::default();
    for (name, value) in params(raw) {
        match name.as_str() {
            "sizeFormat" if value != "human" && value != "raw" => {
                return Err(error::bad(
                    "invalid_stats_size_format",
                    format!("Unknown value `{value}` for parameter `sizeFormat`: expected one of `human`, `raw`"),
                ))
            }
            "showInternalDatabaseSizes" if value != "true" && value != "false" => {
                return Err(error::bad(
                    "invalid_stats_show_internal_database_sizes",
                    format!("Invalid value in parameter `showInternalDatabaseSizes`: could not parse `{value}` as a boolean, expected either `true` or `false`"),
                ))
            }
            "sizeFormat" => view.human = value == "human",
            "showInternalDatabaseSizes" => view.internal = value == "true",
            other => {
                return Err(error::unknown_parameter(
                    other,
                    &["showInternalDatabaseSizes", "sizeFormat"],
                ))
            }
        }
    }
    Ok(view)
}

/// Reject any query parameter but `customMetadata`, as Meilisearch's deletions do.
fn check_custom_metadata_only(raw: Option<&str>) -> ApiResult<()> {
    match params(raw)
        .into_iter()
        .find(|(name, _)| name != "customMetadata")
    {
        Some((name, _)) => Err(error::unknown_parameter(&name, &["customMetadata"])),
        None => Ok(()),
    }
}

async fn global_stats(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let view = check_stats_params(raw.as_deref())?;
    let store = node.lock();
    let mut indexes = Map::new();
    let mut total = 0usize;
    for (uid, index) in store
        .indexes
        .iter()
        .filter(|(uid, _)| grant.allows_index(uid))
    {
        total += stats_of(index, false, SizeView::default())["rawDocumentDbSize"]
            .as_u64()
            .unwrap_or(0) as usize;
        indexes.insert(uid.clone(), stats_of(index, is_indexing(&store, uid), view));
    }
    Ok(Json(json!({
        "databaseSize": view.size(total),
        "usedDatabaseSize": view.size(total),
        "lastUpdate": store.last_update.map(tasks::rfc3339),
        "indexes": indexes,
    })))
}

async fn index_stats(
    State(node): Shared,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let view = check_stats_params(raw.as_deref())?;
    check_index_uid(&uid)?;
    let store = node.lock();
    let index = store
        .indexes
        .get(&uid)
        .ok_or_else(|| ApiError(error::index_not_found(&uid)))?;
    Ok(Json(stats_of(index, is_indexing(&store, &uid), view)))
}

// ---------------------------------------------------------------------------------------
// Indexes

fn offset_limit(
    raw: Option<&str>,
    prefix: &str,
    default_limit: usize,
) -> ApiResult<(usize, usize)> {
    let (mut offset, mut limit) = (0, default_limit);
    for (name, value) in params(raw) {
        match name.as_str() {
            "offset" => {
                offset = parse_usize(&format!("invalid_{prefix}_offset"), "offset", &value)?
            }
            "limit" => limit = parse_usize(&format!("invalid_{prefix}_limit"), "limit", &value)?,
            other => return Err(error::unknown_parameter(other, &["offset", "limit"])),
        }
    }
    Ok((offset, limit))
}

async fn list_indexes(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let (offset, limit) = offset_limit(raw.as_deref(), "index", 20)?;
    let store = node.lock();
    let visible: Vec<&Index> = store
        .indexes
        .values()
        .filter(|i| grant.allows_index(&i.uid))
        .collect();
    Ok(Json(json!({
        "results": visible.iter().skip(offset).take(limit).map(|i| index_view(i)).collect::<Vec<_>>(),
        "offset": offset,
        "limit": limit,
        "total": visible.len(),
    })))
}

async fn create_index(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let body = expect_object(json_body(&node, &headers, body).await?)?;
    let mut uid = None;
    let mut primary_key = None;
    for (key, value) in body {
        match key.as_str() {
            "uid" => match value {
                Value::String(s) => uid = Some(s),
                other => return Err(error::bad("invalid_index_uid", format!("Invalid value type at `.uid`: expected a string, but found {}: `{other}`", json_type_name(&other)))),
            },
            "primaryKey" => match value {
                Value::String(s) => primary_key = Some(s),
                Value::Null => {}
                other => return Err(error::bad("invalid_index_primary_key", format!("Invalid value type at `.primaryKey`: expected a string, but found {}: `{other}`", json_type_name(&other)))),
            },
            other => return Err(error::unknown_field(other, &["uid", "primaryKey"])),
        }
    }
    let uid = uid.ok_or_else(|| error::bad("missing_index_uid", "Missing field `uid`"))?;
    if !error::is_valid_index_uid(&uid) {
        return Err(error::bad(
            "invalid_index_uid",
            format!(
                "Invalid value at `.uid`: {}",
                error::index_uid_format_message(&uid)
            ),
        ));
    }
    if !grant.allows_index(&uid) {
        return Err(error::invalid_api_key("The provided API key is invalid."));
    }
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::IndexCreation { primary_key },
        None,
    )))
}

async fn get_index(State(node): Shared, Path(uid): Path<String>) -> ApiResult<Json<Value>> {
    with_index(&node, &uid, |index| Ok(Json(index_view(index))))
}

async fn update_index(
    State(node): Shared,
    Path(uid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let body = expect_object(json_body(&node, &headers, body).await?)?;
    let mut primary_key = None;
    let mut new_uid = None;
    for (key, value) in body {
        match key.as_str() {
            "primaryKey" => primary_key = value.as_str().map(str::to_owned),
            "uid" => match value {
                Value::String(s) if error::is_valid_index_uid(&s) => new_uid = Some(s),
                Value::String(s) => {
                    return Err(error::bad(
                        "invalid_index_uid",
                        format!(
                            "Invalid value at `.uid`: {}",
                            error::index_uid_format_message(&s)
                        ),
                    ))
                }
                _ => {}
            },
            other => return Err(error::unknown_field(other, &["primaryKey", "uid"])),
        }
    }
    check_index_uid(&uid)?;
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::IndexUpdate {
            primary_key,
            new_uid,
        },
        None,
    )))
}

async fn delete_index(State(node): Shared, Path(uid): Path<String>) -> ApiResult<Response> {
    check_index_uid(&uid)?;
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::IndexDeletion,
        None,
    )))
}

/// Meilisearch enqueues a compaction without checking that the index exists; the task
/// fails with `index_not_found` when it does not.
async fn compact_index(State(node): Shared, Path(uid): Path<String>) -> ApiResult<Response> {
    check_index_uid(&uid)?;
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::IndexCompaction,
        None,
    )))
}

async fn swap_indexes(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let body = json_body(&node, &headers, body).await?;
    let Value::Array(items) = body else {
        return Err(error::bad(
            "bad_request",
            format!(
                "Invalid value type: expected an array, but found {}: `{body}`",
                json_type_name(&body)
            ),
        ));
    };
    let mut swaps = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let item = expect_object(item)?;
        if let Some(unknown) = item
            .keys()
            .find(|k| !matches!(k.as_str(), "indexes" | "rename"))
        {
            return Err(error::bad(
                "bad_request",
                format!(
                    "Unknown field `{unknown}` inside `[{i}]`: expected one of `indexes`, `rename`"
                ),
            ));
        }
        let names: Vec<String> = match item.get("indexes") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => {
                return Err(error::bad(
                    "missing_swap_indexes",
                    format!("Missing field `indexes` inside `[{i}]`"),
                ))
            }
        };
        if names.len() != 2 {
            return Err(error::bad(
                "invalid_swap_indexes",
                format!(
                    "Two indexes must be given for each swap. The list `[{}]` contains {} indexes.",
                    names
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    names.len()
                ),
            ));
        }
        for name in &names {
            check_index_uid(name)?;
            if !grant.allows_index(name) {
                return Err(error::invalid_api_key("The provided API key is invalid."));
            }
        }
        let rename = item.get("rename").and_then(Value::as_bool).unwrap_or(false);
        swaps.push(Swap {
            indexes: [names[0].clone(), names[1].clone()],
            rename,
        });
    }
    let mut seen: Vec<&String> = Vec::new();
    let mut duplicates: Vec<String> = Vec::new();
    for name in swaps.iter().flat_map(|s| s.indexes.iter()) {
        if seen.contains(&name) {
            if !duplicates.contains(name) {
                duplicates.push(name.clone());
            }
        } else {
            seen.push(name);
        }
    }
    match duplicates.len() {
        0 => {}
        1 => {
            return Err(error::bad(
                "invalid_swap_duplicate_index_found",
                format!("Indexes must be declared only once during a swap. `{}` was specified several times.", duplicates[0]),
            ))
        }
        _ => {
            return Err(error::bad(
                "invalid_swap_duplicate_index_found",
                format!(
                    "Indexes must be declared only once during a swap. {} were specified several times.",
                    duplicates.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                ),
            ))
        }
    }
    Ok(accepted(node.enqueue(
        None,
        Operation::IndexSwap { swaps },
        None,
    )))
}

/// `POST /dumps`: the dump is not written anywhere; the task reports a dump uid.
async fn create_dump(State(node): Shared) -> Response {
    accepted(node.enqueue(None, Operation::DumpCreation, None))
}

/// `POST /snapshots`: nothing is written; the task succeeds.
async fn create_snapshot(State(node): Shared) -> Response {
    accepted(node.enqueue(None, Operation::SnapshotCreation, None))
}

// ---------------------------------------------------------------------------------------
// Settings

/// Sub-routes of `/settings`, their settings key and their update verb.
const SETTING_ROUTES: &[(&str, &str, &str)] = &[
    ("filterable-attributes", "filterableAttributes", "PUT"),
    ("sortable-attributes", "sortableAttributes", "PUT"),
    ("displayed-attributes", "displayedAttributes", "PUT"),
    ("typo-tolerance", "typoTolerance", "PATCH"),
    ("searchable-attributes", "searchableAttributes", "PUT"),
    ("stop-words", "stopWords", "PUT"),
    ("non-separator-tokens", "nonSeparatorTokens", "PUT"),
    ("separator-tokens", "separatorTokens", "PUT"),
    ("dictionary", "dictionary", "PUT"),
    ("synonyms", "synonyms", "PUT"),
    ("distinct-attribute", "distinctAttribute", "PUT"),
    ("proximity-precision", "proximityPrecision", "PUT"),
    ("localized-attributes", "localizedAttributes", "PUT"),
    ("ranking-rules", "rankingRules", "PUT"),
    ("faceting", "faceting", "PATCH"),
    ("pagination", "pagination", "PATCH"),
    ("embedders", "embedders", "PATCH"),
    ("search-cutoff-ms", "searchCutoffMs", "PUT"),
    ("facet-search", "facetSearch", "PUT"),
    ("prefix-search", "prefixSearch", "PUT"),
    ("chat", "chat", "PATCH"),
    ("foreign-keys", "foreignKeys", "PUT"),
];

fn setting_route(name: &str) -> Option<(&'static str, &'static str)> {
    SETTING_ROUTES
        .iter()
        .find(|(route, _, _)| *route == name)
        .map(|(_, key, verb)| (*key, *verb))
}

async fn get_settings(State(node): Shared, Path(uid): Path<String>) -> ApiResult<Json<Value>> {
    with_index(&node, &uid, |index| {
        Ok(Json(Value::Object(index.settings.clone())))
    })
}

/// Validate a patch against the current (or default) settings before enqueueing, as
/// Meilisearch rejects malformed settings synchronously.
fn validate_settings(node: &Node, uid: &str, patch: &Map<String, Value>) -> ApiResult<()> {
    let current = {
        let store = node.lock();
        store.indexes.get(uid).map(|i| i.settings.clone())
    };
    let current = current.unwrap_or_else(engine::default_settings);
    engine::apply_settings_patch(&current, &Value::Object(patch.clone()))
        .map(|_| ())
        .map_err(ApiError)
}

async fn patch_settings(
    State(node): Shared,
    Path(uid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    check_index_uid(&uid)?;
    let patch = expect_object(json_body(&node, &headers, body).await?)?;
    validate_settings(&node, &uid, &patch)?;
    let ordered = order_like_settings(patch);
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::SettingsUpdate { patch: ordered },
        None,
    )))
}

/// Order a patch's keys as Meilisearch's settings object orders them.
fn order_like_settings(patch: Map<String, Value>) -> Map<String, Value> {
    let mut ordered = Map::new();
    for key in miroir_fake_engine::SETTINGS_KEYS {
        if let Some(v) = patch.get(*key) {
            ordered.insert((*key).to_owned(), v.clone());
        }
    }
    for (k, v) in patch {
        if !ordered.contains_key(&k) {
            ordered.insert(k, v);
        }
    }
    ordered
}

async fn reset_settings(State(node): Shared, Path(uid): Path<String>) -> ApiResult<Response> {
    check_index_uid(&uid)?;
    // Meilisearch's reset details: every setting null, except displayed and searchable
    // attributes which read `["*"]`.
    let mut patch = Map::new();
    for key in miroir_fake_engine::SETTINGS_KEYS {
        let value = match *key {
            "displayedAttributes" | "searchableAttributes" => json!(["*"]),
            _ => Value::Null,
        };
        patch.insert((*key).to_owned(), value);
    }
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::SettingsUpdate { patch },
        None,
    )))
}

/// The values Meilisearch 1.50's sub-routes show for the experimental settings that the
/// full settings object hides while their features are off.
fn hidden_setting_default(key: &str) -> Value {
    match key {
        "foreignKeys" => json!([]),
        "chat" => json!({
            "description": "",
            "documentTemplate": "{% for field in fields %}{% if field.is_searchable and field.value != nil %}{{ field.name }}: {{ field.value }}\n{% endif %}{% endfor %}",
            "documentTemplateMaxBytes": 400,
            "searchParameters": {},
        }),
        _ => Value::Null,
    }
}

async fn get_setting(
    State(node): Shared,
    Path((uid, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let Some((key, _)) = setting_route(&name) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    with_index(&node, &uid, |index| {
        let value = index
            .settings
            .get(key)
            .cloned()
            .unwrap_or_else(|| hidden_setting_default(key));
        Ok(Json(value).into_response())
    })
}

async fn update_setting(
    node: Arc<Node>,
    uid: String,
    name: String,
    verb: &str,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let Some((key, expected_verb)) = setting_route(&name) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    if expected_verb != verb {
        return Ok(StatusCode::METHOD_NOT_ALLOWED.into_response());
    }
    check_index_uid(&uid)?;
    let value = json_body(&node, &headers, body).await?;
    let mut patch = Map::new();
    patch.insert(key.to_owned(), value);
    validate_settings(&node, &uid, &patch)?;
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::SettingsUpdate { patch },
        None,
    )))
}

async fn put_setting(
    State(node): Shared,
    Path((uid, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    update_setting(node, uid, name, "PUT", headers, body).await
}

async fn patch_setting(
    State(node): Shared,
    Path((uid, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    update_setting(node, uid, name, "PATCH", headers, body).await
}

async fn reset_setting(
    State(node): Shared,
    Path((uid, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let Some((key, _)) = setting_route(&name) else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    check_index_uid(&uid)?;
    let mut patch = Map::new();
    patch.insert(key.to_owned(), Value::Null);
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::SettingsUpdate { patch },
        None,
    )))
}

// ---------------------------------------------------------------------------------------
// Documents

async fn add_documents(
    node: Arc<Node>,
    uid: String,
    raw: Option<String>,
    headers: HeaderMap,
    body: Body,
    replace: bool,
) -> ApiResult<Response> {
    let mut primary_key = None;
    let mut delimiter = None;
    for (name, value) in params(raw.as_deref()) {
        match name.as_str() {
            "primaryKey" => primary_key = Some(value),
            "csvDelimiter" => delimiter = Some(payload::parse_csv_delimiter(&value)?),
            "customMetadata" | "skipCreation" => {}
            other => {
                return Err(error::unknown_parameter(
                    other,
                    &[
                        "primaryKey",
                        "csvDelimiter",
                        "customMetadata",
                        "skipCreation",
                    ],
                ))
            }
        }
    }
    check_index_uid(&uid)?;
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default());
    let format = payload::negotiate(content_type, delimiter)?;
    let bytes = read_body(&node, body).await?;
    let documents = payload::parse(&bytes, format)?;
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::DocumentAddition {
            documents,
            primary_key,
            replace,
        },
        None,
    )))
}

async fn replace_documents(
    State(node): Shared,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    add_documents(node, uid, raw, headers, body, true).await
}

async fn update_documents(
    State(node): Shared,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    add_documents(node, uid, raw, headers, body, false).await
}

/// Convert `GET /documents` query parameters into the JSON form `browse` takes.
fn browse_query_from_params(raw: Option<&str>) -> ApiResult<Value> {
    let mut query = Map::new();
    for (name, value) in params(raw) {
        match name.as_str() {
            "offset" => {
                query.insert(
                    name,
                    json!(parse_usize("invalid_document_offset", "offset", &value)?),
                );
            }
            "limit" => {
                query.insert(
                    name,
                    json!(parse_usize("invalid_document_limit", "limit", &value)?),
                );
            }
            "fields" => {
                query.insert(name, comma_list(&value));
            }
            "ids" => {
                query.insert(name, comma_list(&value));
            }
            "sort" => {
                query.insert(name, comma_list(&value));
            }
            "useNetwork" => {
                parse_bool("invalid_document_use_network", "useNetwork", &value)?;
            }
            "retrieveVectors" => {
                query.insert(
                    name,
                    json!(parse_bool(
                        "invalid_document_retrieve_vectors",
                        "retrieveVectors",
                        &value
                    )?),
                );
            }
            "filter" => {
                let filter = serde_json::from_str(&value).unwrap_or(Value::String(value));
                query.insert(name, filter);
            }
            other => {
                return Err(error::unknown_parameter(
                    other,
                    &[
                        "offset",
                        "limit",
                        "fields",
                        "retrieveVectors",
                        "ids",
                        "filter",
                        "sort",
                        "useNetwork",
                    ],
                ))
            }
        }
    }
    Ok(Value::Object(query))
}

async fn browse_documents(
    State(node): Shared,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let query = browse_query_from_params(raw.as_deref())?;
    with_index(&node, &uid, |index| {
        Ok(Json(engine::browse(index, &query)?))
    })
}

async fn fetch_documents(
    State(node): Shared,
    Path(uid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let query = Value::Object(expect_object(json_body(&node, &headers, body).await?)?);
    with_index(&node, &uid, |index| {
        Ok(Json(engine::browse(index, &query)?))
    })
}

async fn get_document(
    State(node): Shared,
    Path((uid, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let mut fields: Option<Vec<String>> = None;
    let mut retrieve_vectors = false;
    for (name, value) in params(raw.as_deref()) {
        match name.as_str() {
            "fields" => fields = Some(value.split(',').map(|s| s.trim().to_owned()).collect()),
            "retrieveVectors" => {
                retrieve_vectors = parse_bool(
                    "invalid_document_retrieve_vectors",
                    "retrieveVectors",
                    &value,
                )?;
            }
            other => {
                return Err(error::unknown_parameter(
                    other,
                    &["fields", "retrieveVectors"],
                ))
            }
        }
    }
    with_index(&node, &uid, |index| {
        let doc = index
            .docs
            .get(&id)
            .ok_or_else(|| error::document_not_found(&id))?;
        Ok(Json(Value::Object(engine::show_document(
            index,
            doc,
            fields.as_deref(),
            retrieve_vectors,
        ))))
    })
}

async fn delete_document(
    State(node): Shared,
    Path((uid, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    check_custom_metadata_only(raw.as_deref())?;
    check_index_uid(&uid)?;
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::DocumentDeletion { ids: vec![id] },
        None,
    )))
}

async fn delete_documents_batch(
    State(node): Shared,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    check_custom_metadata_only(raw.as_deref())?;
    check_index_uid(&uid)?;
    let body = json_body(&node, &headers, body).await?;
    // This route takes its body through serde, whose type errors Meilisearch relays.
    let items: Vec<Value> = serde_json::from_value(body).map_err(|e| {
        error::bad(
            "bad_request",
            format!("Json deserialize error: {e} at line 1 column 0"),
        )
    })?;
    // Meilisearch keeps the string form of each value as the id to delete.
    let ids = items
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::DocumentDeletion { ids },
        None,
    )))
}

async fn delete_documents_by_filter(
    State(node): Shared,
    Path(uid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    check_index_uid(&uid)?;
    let body = expect_object(json_body(&node, &headers, body).await?)?;
    let mut filter = None;
    for (key, value) in body {
        match key.as_str() {
            "filter" => filter = Some(value),
            other => return Err(error::unknown_field(other, &["filter"])),
        }
    }
    let filter =
        filter.ok_or_else(|| error::bad("missing_document_filter", "Missing field `filter`"))?;
    if filter.is_null() || filter == json!("") || filter == json!([]) {
        return Err(error::bad(
            "invalid_document_filter",
            "Sending an empty filter is forbidden.",
        ));
    }
    let contains_enabled = node.lock().features.get("containsFilter") == Some(&Value::Bool(true));
    engine::check_filter_syntax(&filter, contains_enabled)?;
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::DocumentDeletionByFilter { filter },
        None,
    )))
}

async fn clear_documents(
    State(node): Shared,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    check_custom_metadata_only(raw.as_deref())?;
    check_index_uid(&uid)?;
    Ok(accepted(node.enqueue(
        Some(uid),
        Operation::DocumentClear,
        None,
    )))
}

async fn edit_documents(State(node): Shared, Path(_uid): Path<String>) -> ApiResult<Response> {
    let enabled = node.lock().features.get("editDocumentsByFunction") == Some(&Value::Bool(true));
    if enabled {
        // Rhai function editing is outside what the fake can imitate.
        return Err(ApiError(error::internal(
            501,
            "The fake Meilisearch node does not run document edition functions.",
        )));
    }
    Err(error::bad(
        "feature_not_enabled",
        "Using the documents edit route requires enabling the `edit documents by function` experimental feature. See https://github.com/orgs/meilisearch/discussions/762",
    ))
}

// ---------------------------------------------------------------------------------------
// Search

/// Convert `GET /search` query parameters into the JSON body form, as Meilisearch does.
pub fn search_query_from_params(raw: Option<&str>) -> ApiResult<Value> {
    let mut query = Map::new();
    let mut hybrid_embedder = None;
    let mut semantic_ratio = None;
    for (name, value) in params(raw) {
        let converted = match name.as_str() {
            "q" | "cropMarker" | "highlightPreTag" | "highlightPostTag" | "distinct" | "matchingStrategy" => {
                Value::String(value)
            }
            "offset" | "limit" | "page" | "hitsPerPage" | "cropLength" => {
                let code = format!("invalid_search_{}", snake(&name));
                json!(parse_usize(&code, &name, &value)?)
            }
            "attributesToRetrieve" | "attributesToCrop" | "attributesToHighlight" | "facets"
            | "attributesToSearchOn" | "locales" => comma_list(&value),
            "showMatchesPosition" | "showRankingScore" | "showRankingScoreDetails"
            | "showPerformanceDetails" | "retrieveVectors" | "useNetwork" => {
                let code = format!("invalid_search_{}", snake(&name));
                json!(parse_bool(&code, &name, &value)?)
            }
            "filter" => serde_json::from_str(&value).unwrap_or(Value::String(value)),
            "sort" => Value::Array(fix_sort(&value).into_iter().map(Value::String).collect()),
            "rankingScoreThreshold" => match value.parse::<f64>() {
                Ok(v) => json!(v),
                Err(_) => {
                    return Err(error::bad(
                        "invalid_search_ranking_score_threshold",
                        format!("Invalid value in parameter `rankingScoreThreshold`: could not parse `{value}` as a number"),
                    ))
                }
            },
            "vector" => {
                let parsed: Result<Vec<f64>, _> = value.split(',').map(|v| v.trim().parse::<f64>()).collect();
                match parsed {
                    Ok(v) => json!(v),
                    Err(_) => {
                        return Err(error::bad(
                            "invalid_search_vector",
                            format!("Invalid value in parameter `vector`: could not parse `{value}` as a list of numbers"),
                        ))
                    }
                }
            }
            "hybridEmbedder" => {
                hybrid_embedder = Some(value);
                continue;
            }
            "hybridSemanticRatio" => {
                semantic_ratio = Some(value.parse::<f64>().map_err(|_| {
                    error::bad(
                        "invalid_search_semantic_ratio",
                        format!("Invalid value in parameter `hybridSemanticRatio`: could not parse `{value}` as a number"),
                    )
                })?);
                continue;
            }
            "personalizeUserContext" => {
                query.insert("personalize".into(), json!({ "userContext": value }));
                continue;
            }
            other => {
                return Err(error::unknown_parameter(other, SEARCH_GET_PARAMS));
            }
        };
        query.insert(name, converted);
    }
    match (hybrid_embedder, semantic_ratio) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(error::bad(
                "invalid_search_hybrid_query",
                "`hybridEmbedder` is mandatory when `hybridSemanticRatio` is present",
            ))
        }
        (Some(embedder), ratio) => {
            query.insert(
                "hybrid".into(),
                json!({ "embedder": embedder, "semanticRatio": ratio.unwrap_or(0.5) }),
            );
        }
    }
    if query.contains_key("vector") && !query.contains_key("hybrid") {
        return Err(error::bad(
            "missing_search_hybrid",
            "`hybridEmbedder` is mandatory when `vector` is present",
        ));
    }
    Ok(Value::Object(query))
}

const SEARCH_GET_PARAMS: &[&str] = &[
    "q",
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "attributesToRetrieve",
    "attributesToCrop",
    "cropLength",
    "cropMarker",
    "attributesToHighlight",
    "highlightPreTag",
    "highlightPostTag",
    "showMatchesPosition",
    "filter",
    "sort",
    "distinct",
    "facets",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
    "locales",
    "hybridEmbedder",
    "hybridSemanticRatio",
    "vector",
    "retrieveVectors",
    "personalizeUserContext",
    "useNetwork",
    "showRankingScore",
    "showRankingScoreDetails",
    "showPerformanceDetails",
];

fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Split a GET `sort` value on commas, keeping `_geoPoint(lat, lng):asc` in one piece.
fn fix_sort(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut merging = false;
    for part in value.trim_matches('"').split(',').map(str::trim) {
        if part.starts_with("_geoPoint(") {
            out.push(part.to_owned());
            merging = true;
        } else if merging && !out.is_empty() {
            if let Some(last) = out.last_mut() {
                last.push(',');
                last.push_str(part);
            }
            if part.ends_with("):desc") || part.ends_with("):asc") {
                merging = false;
            }
        } else {
            out.push(part.to_owned());
            merging = false;
        }
    }
    out
}

/// Add the tenant token's filter for `index` to the query's filter, as Meilisearch does
/// (both become members of one top-level AND array).
fn apply_tenant_filter(grant: &Grant, index: &str, query: &mut Map<String, Value>) {
    let Some(rule) = grant.tenant_filter(index) else {
        return;
    };
    let fused = match query.remove("filter").filter(|f| !f.is_null()) {
        None => rule,
        Some(existing) => {
            let mut left = match existing {
                Value::Array(items) => items,
                other => vec![other],
            };
            let right = match rule {
                Value::Array(items) => items,
                other => vec![other],
            };
            left.extend(right);
            Value::Array(left)
        }
    };
    query.insert("filter".into(), fused);
}

pub(super) fn run_search(node: &Node, grant: &Grant, uid: &str, query: Value) -> ApiResult<Value> {
    let mut query = expect_object(query)?;
    apply_tenant_filter(grant, uid, &mut query);
    with_index(node, uid, |index| {
        Ok(engine::search(index, &Value::Object(query))?)
    })
}

async fn search_get(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let query = search_query_from_params(raw.as_deref())?;
    Ok(Json(run_search(&node, &grant, &uid, query)?))
}

async fn search_post(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    Path(uid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let query = json_body(&node, &headers, body).await?;
    Ok(Json(run_search(&node, &grant, &uid, query)?))
}

async fn facet_search(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    Path(uid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let mut query = expect_object(json_body(&node, &headers, body).await?)?;
    apply_tenant_filter(&grant, &uid, &mut query);
    let query = Value::Object(query);
    with_index(&node, &uid, |index| {
        Ok(Json(engine::facet_search(index, &query)?))
    })
}

/// Convert `GET /similar` query parameters into the body form, as Meilisearch does.
fn similar_query_from_params(raw: Option<&str>) -> ApiResult<Value> {
    let mut query = Map::new();
    for (name, value) in params(raw) {
        let code = format!("invalid_similar_{}", snake(&name));
        let converted = match name.as_str() {
            "id" | "embedder" => Value::String(value),
            "offset" | "limit" => json!(parse_usize(&code, &name, &value)?),
            "attributesToRetrieve" => comma_list(&value),
            "retrieveVectors" | "showRankingScore" | "showRankingScoreDetails"
            | "showPerformanceDetails" => json!(parse_bool(&code, &name, &value)?),
            "filter" => serde_json::from_str(&value).unwrap_or(Value::String(value)),
            "rankingScoreThreshold" => match value.parse::<f64>() {
                Ok(v) if (0.0..=1.0).contains(&v) => json!(v),
                // Meilisearch words an unparsable value like one out of range.
                _ => {
                    return Err(error::bad(
                        &code,
                        "Invalid value in parameter `rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.",
                    ))
                }
            },
            other => {
                return Err(error::unknown_parameter(other, engine::SIMILAR_GET_PARAMS));
            }
        };
        query.insert(name, converted);
    }
    for required in ["id", "embedder"] {
        if !query.contains_key(required) {
            return Err(error::bad(
                "bad_request",
                format!("Missing parameter `{required}`"),
            ));
        }
    }
    Ok(Value::Object(query))
}

fn run_similar(node: &Node, grant: &Grant, uid: &str, query: Value) -> ApiResult<Json<Value>> {
    let mut query = expect_object(query)?;
    apply_tenant_filter(grant, uid, &mut query);
    let visible = grant.tenant_filter(uid);
    with_index(node, uid, |index| {
        Ok(Json(engine::similar(
            index,
            &Value::Object(query),
            visible.as_ref(),
        )?))
    })
}

async fn similar_get(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    Path(uid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    check_index_uid(&uid)?;
    let query = similar_query_from_params(raw.as_deref())?;
    run_similar(&node, &grant, &uid, query)
}

async fn similar_post(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    Path(uid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    check_index_uid(&uid)?;
    let query = json_body(&node, &headers, body).await?;
    run_similar(&node, &grant, &uid, query)
}

async fn list_fields(
    State(node): Shared,
    Path(uid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    check_index_uid(&uid)?;
    let query = json_body(&node, &headers, body).await?;
    with_index(&node, &uid, |index| {
        Ok(Json(engine::list_fields(index, &query)?))
    })
}

/// Locate an error of query `i` of a multi-search the way Meilisearch does: body
/// deserialization errors say "inside `.queries[i]`" (and list `indexUid` and
/// `federationOptions` among the known fields), other errors are prefixed.
pub(super) fn query_error(i: usize, e: ApiError) -> ApiError {
    let mut inner = e.0;
    let unknown = inner
        .message
        .strip_prefix("Unknown field ")
        .and_then(|rest| rest.split_once(": expected one of "))
        .map(|(field, list)| (field.to_owned(), list.to_owned()));
    inner.message = match unknown {
        Some((field, list)) => format!(
            "Unknown field {field} inside `.queries[{i}]`: expected one of `indexUid`, {list}, `federationOptions`"
        ),
        None => format!("Inside `.queries[{i}]`: {}", inner.message),
    };
    if inner.status == 404 {
        inner.status = 400;
    }
    ApiError(inner)
}

async fn multi_search(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let mut body = expect_object(json_body(&node, &headers, body).await?)?;
    let federation = match body.remove("federation") {
        None | Some(Value::Null) => None,
        Some(Value::Object(federation)) => Some(federation),
        Some(other) => {
            return Err(error::bad(
                "invalid_multi_search_federation",
                format!(
                "Invalid value type at `.federation`: expected an object, but found {}: `{other}`",
                json_type_name(&other)
            ),
            ))
        }
    };
    let queries = match body.remove("queries") {
        Some(Value::Array(queries)) => queries,
        Some(other) => {
            return Err(error::bad(
                "bad_request",
                format!(
                    "Invalid value type at `.queries`: expected an array, but found {}: `{other}`",
                    json_type_name(&other)
                ),
            ))
        }
        None => return Err(error::bad("bad_request", "Missing field `queries`")),
    };
    if let Some(federation) = federation {
        return Ok(Json(super::federation::federated_search(
            &node, &grant, federation, queries,
        )?));
    }
    let mut results = Vec::with_capacity(queries.len());
    for (i, query) in queries.into_iter().enumerate() {
        let inside = |e: ApiError| query_error(i, e);
        let mut query = expect_object(query).map_err(inside)?;
        let uid = match query.remove("indexUid") {
            Some(Value::String(uid)) => uid,
            _ => {
                return Err(error::bad(
                    "missing_index_uid",
                    format!("Missing field `indexUid` inside `.queries[{i}]`"),
                ))
            }
        };
        if !grant.allows_index(&uid) {
            return Err(inside(error::invalid_api_key(
                "The provided API key is invalid.",
            )));
        }
        let result = run_search(&node, &grant, &uid, Value::Object(query)).map_err(inside)?;
        let mut with_index = Map::new();
        with_index.insert("indexUid".into(), Value::String(uid));
        if let Value::Object(fields) = result {
            with_index.extend(fields);
        }
        results.push(Value::Object(with_index));
    }
    Ok(Json(json!({ "results": results })))
}

// ---------------------------------------------------------------------------------------
// Tasks and batches

async fn list_tasks(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let query = TaskQuery::parse(raw.as_deref(), QueryRoute::ListTasks)?;
    let store = node.lock();
    let items: Vec<(u32, &tasks::Task)> = store
        .tasks
        .values()
        .filter(|t| query.matches(t))
        .map(|t| (t.uid, t))
        .collect();
    // As Meilisearch: `total` counts every matching task; the page is cut first and
    // the tasks the key may not see (and, with `indexUids`, tasks of several or no
    // indexes) are removed from it afterwards.
    let hidden_kinds = query.index_uids.is_some() || !grant.all_indexes();
    Ok(Json(tasks::paginate_then_hide(
        items,
        &query,
        |t| visible_task(&grant, t) && (!hidden_kinds || tasks::related_to_one_index(t.kind)),
        |t| t.view(),
    )))
}

/// Whether a key sees a task, as Meilisearch decides it: a key on every index sees
/// every task; a key restricted to some indexes sees only the tasks of one index that
/// it may access.
fn visible_task(grant: &Grant, task: &tasks::Task) -> bool {
    if grant.all_indexes() {
        return true;
    }
    tasks::related_to_one_index(task.kind)
        && task
            .index_uid
            .as_deref()
            .is_some_and(|uid| grant.allows_index(uid))
}

async fn get_task(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    Path(uid): Path<String>,
) -> ApiResult<Json<Value>> {
    let parsed: u32 = uid.parse().map_err(|_| {
        error::bad(
            "invalid_task_uids",
            format!("Task uid `{uid}` is invalid. It should only contain numeric characters."),
        )
    })?;
    let store = node.lock();
    match store.tasks.get(&parsed).filter(|t| visible_task(&grant, t)) {
        Some(task) => Ok(Json(task.view())),
        None => Err(error::task_not_found(&uid)),
    }
}

fn cancel_or_delete(
    node: &Node,
    grant: &Grant,
    raw: Option<&str>,
    cancel: bool,
) -> ApiResult<Response> {
    let query = TaskQuery::parse(raw, QueryRoute::CancelOrDelete)?;
    if !query.has_filters() {
        let verb = if cancel { "cancel" } else { "delete" };
        return Err(error::bad(
            "missing_task_filters",
            format!("Query parameters to filter the tasks to {verb} are missing. Available query parameters are: `uids`, `indexUids`, `statuses`, `types`, `canceledBy`, `beforeEnqueuedAt`, `afterEnqueuedAt`, `beforeStartedAt`, `afterStartedAt`, `beforeFinishedAt`, `afterFinishedAt`."),
        ));
    }
    let matched: Vec<u32> = {
        let store = node.lock();
        store
            .tasks
            .values()
            .filter(|t| query.matches(t) && visible_task(grant, t))
            .filter(|t| query.index_uids.is_none() || tasks::related_to_one_index(t.kind))
            .map(|t| t.uid)
            .collect()
    };
    let original = format!("?{}", raw.unwrap_or_default());
    let op = if cancel {
        Operation::TaskCancelation { matched }
    } else {
        Operation::TaskDeletion { matched }
    };
    // Meilisearch answers these two with 200, not 202.
    Ok((
        StatusCode::OK,
        Json(node.enqueue(None, op, Some(&original))),
    )
        .into_response())
}

async fn cancel_tasks(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    cancel_or_delete(&node, &grant, raw.as_deref(), true)
}

async fn delete_tasks(
    State(node): Shared,
    Extension(grant): Extension<Grant>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    cancel_or_delete(&node, &grant, raw.as_deref(), false)
}

async fn list_batches(State(node): Shared, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let query = TaskQuery::parse(raw.as_deref(), QueryRoute::ListBatches)?;
    let store = node.lock();
    let items: Vec<(u32, &tasks::Batch)> = store
        .batches
        .values()
        .filter(|b| {
            b.tasks.iter().filter_map(|t| store.tasks.get(t)).any(|t| {
                let mut as_task_query = query.clone();
                as_task_query.batch_uids = None;
                as_task_query.matches(t)
            }) && query.batch_uids.as_ref().is_none_or(|l| l.contains(&b.uid))
        })
        .map(|b| (b.uid, b))
        .collect();
    Ok(Json(paginate(items, &query, |b| b.view(&store.tasks))))
}

async fn get_batch(State(node): Shared, Path(uid): Path<String>) -> ApiResult<Json<Value>> {
    let parsed: u32 = uid.parse().map_err(|_| {
        error::bad(
            "invalid_batch_uids",
            format!("Batch uid `{uid}` is invalid. It should only contain numeric characters."),
        )
    })?;
    let store = node.lock();
    match store.batches.get(&parsed) {
        Some(batch) => Ok(Json(batch.view(&store.tasks))),
        None => Err(error::batch_not_found(&uid)),
    }
}

// ---------------------------------------------------------------------------------------
// Keys

fn master(node: &Node) -> ApiResult<&str> {
    node.master_key
        .as_deref()
        .ok_or_else(error::missing_master_key)
}

async fn list_keys(State(node): Shared, RawQuery(raw): RawQuery) -> ApiResult<Json<Value>> {
    let master = master(&node)?;
    let (offset, limit) = offset_limit(raw.as_deref(), "api_key", 20)?;
    let store = node.lock();
    let mut keys: Vec<&auth::ApiKey> = store.keys.iter().collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    Ok(Json(json!({
        "results": keys.iter().skip(offset).take(limit).map(|k| k.view(master)).collect::<Vec<_>>(),
        "offset": offset,
        "limit": limit,
        "total": keys.len(),
    })))
}

fn find_key(keys: &[auth::ApiKey], master: &str, uid_or_key: &str) -> Option<usize> {
    keys.iter()
        .position(|k| k.uid == uid_or_key || auth::derive_key(&k.uid, master) == uid_or_key)
}

async fn get_key(State(node): Shared, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let master = master(&node)?;
    let store = node.lock();
    let position =
        find_key(&store.keys, master, &key).ok_or_else(|| error::api_key_not_found(&key))?;
    Ok(Json(store.keys[position].view(master)))
}

fn parse_expires_at(value: &Value) -> ApiResult<Option<OffsetDateTime>> {
    let invalid = || {
        error::bad(
            "invalid_api_key_expires_at",
            format!("Invalid value at `.expiresAt`: `{}` is not a valid date. It should follow the RFC 3339 format to represents a date or datetime in the future or specified as a null value. e.g. 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'.\n", value.as_str().unwrap_or_default()),
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let parsed = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()
                .or_else(|| {
                    let format = time::macros::format_description!("[year]-[month]-[day]");
                    time::Date::parse(s, &format)
                        .ok()
                        .map(|d| d.midnight().assume_utc())
                })
                .ok_or_else(invalid)?;
            if parsed <= OffsetDateTime::now_utc() {
                return Err(invalid());
            }
            Ok(Some(parsed))
        }
        _ => Err(invalid()),
    }
}

fn string_list(value: &Value, field: &str, code: &str) -> ApiResult<Vec<String>> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    error::bad(code, format!("Invalid value type at `.{field}[{i}]`: expected a string, but found {}: `{v}`", json_type_name(v)))
                })
            })
            .collect(),
        other => Err(error::bad(
            code,
            format!("Invalid value type at `.{field}`: expected an array, but found {}: `{other}`", json_type_name(other)),
        )),
    }
}

async fn create_key(State(node): Shared, headers: HeaderMap, body: Body) -> ApiResult<Response> {
    let master = master(&node)?.to_owned();
    let body = expect_object(json_body(&node, &headers, body).await?)?;
    const FIELDS: &[&str] = &[
        "description",
        "name",
        "uid",
        "actions",
        "indexes",
        "expiresAt",
    ];
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(error::unknown_field(unknown, FIELDS));
    }
    let actions = string_list(
        body.get("actions")
            .ok_or_else(|| error::bad("missing_api_key_actions", "Missing field `actions`"))?,
        "actions",
        "invalid_api_key_actions",
    )?;
    for (i, action) in actions.iter().enumerate() {
        if !auth::ACTIONS.contains(&action.as_str()) {
            return Err(error::bad(
                "invalid_api_key_actions",
                format!(
                    "Unknown value `{action}` at `.actions[{i}]`: expected one of {}",
                    auth::ACTIONS
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let indexes = string_list(
        body.get("indexes")
            .ok_or_else(|| error::bad("missing_api_key_indexes", "Missing field `indexes`"))?,
        "indexes",
        "invalid_api_key_indexes",
    )?;
    for (i, pattern) in indexes.iter().enumerate() {
        let body = pattern.strip_suffix('*').unwrap_or(pattern);
        let valid = pattern == "*"
            || (!body.is_empty()
                && body
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        if !valid {
            return Err(error::bad(
                "invalid_api_key_indexes",
                format!("Invalid value at `.indexes[{i}]`: `{pattern}` is not a valid index uid pattern. Index uid patterns can be an integer or a string containing only alphanumeric characters, hyphens (-), underscores (_), and optionally end with a star (*)."),
            ));
        }
    }
    let expires_at =
        parse_expires_at(body.get("expiresAt").ok_or_else(|| {
            error::bad("missing_api_key_expires_at", "Missing field `expiresAt`")
        })?)?;
    let uid = match body.get("uid") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().hyphenated().to_string(),
        Some(Value::String(s)) => match uuid::Uuid::parse_str(s) {
            Ok(u) => u.hyphenated().to_string(),
            Err(e) => {
                return Err(error::bad(
                    "invalid_api_key_uid",
                    format!("Invalid value at `.uid`: {e}"),
                ))
            }
        },
        Some(other) => {
            return Err(error::bad(
                "invalid_api_key_uid",
                format!(
                    "Invalid value type at `.uid`: expected a string, but found {}: `{other}`",
                    json_type_name(other)
                ),
            ))
        }
    };
    let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_owned);
    let now = OffsetDateTime::now_utc();
    let key = auth::ApiKey {
        uid: uid.clone(),
        name: text("name"),
        description: text("description"),
        actions,
        indexes,
        expires_at,
        created_at: now,
        updated_at: now,
    };
    let mut store = node.lock();
    if store.keys.iter().any(|k| k.uid == uid) {
        return Err(error::bad(
            "api_key_already_exists",
            format!("`uid` field value `{uid}` is already an existing API key."),
        )
        .with_status(409));
    }
    let view = key.view(&master);
    store.keys.push(key);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn update_key(
    State(node): Shared,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let master = master(&node)?.to_owned();
    let body = expect_object(json_body(&node, &headers, body).await?)?;
    for field in body.keys() {
        match field.as_str() {
            "name" | "description" => {}
            "actions" | "indexes" | "expiresAt" | "uid" | "key" | "createdAt" | "updatedAt" => {
                let code = format!("immutable_api_key_{}", snake(field));
                return Err(error::bad(
                    &code,
                    format!("Immutable field `{field}`: expected one of `description`, `name`"),
                ));
            }
            other => return Err(error::unknown_field(other, &["description", "name"])),
        }
    }
    let mut store = node.lock();
    let position =
        find_key(&store.keys, &master, &key).ok_or_else(|| error::api_key_not_found(&key))?;
    let entry = &mut store.keys[position];
    if let Some(name) = body.get("name") {
        entry.name = name.as_str().map(str::to_owned);
    }
    if let Some(description) = body.get("description") {
        entry.description = description.as_str().map(str::to_owned);
    }
    entry.updated_at = OffsetDateTime::now_utc();
    Ok(Json(entry.view(&master)))
}

async fn delete_key(State(node): Shared, Path(key): Path<String>) -> ApiResult<StatusCode> {
    let master = master(&node)?.to_owned();
    let mut store = node.lock();
    let position =
        find_key(&store.keys, &master, &key).ok_or_else(|| error::api_key_not_found(&key))?;
    store.keys.remove(position);
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------
// Experimental features

async fn get_features(State(node): Shared) -> Json<Value> {
    Json(Value::Object(node.lock().features.clone()))
}

async fn patch_features(
    State(node): Shared,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let body = expect_object(json_body(&node, &headers, body).await?)?;
    let mut store = node.lock();
    let names: Vec<String> = store.features.keys().cloned().collect();
    for (name, value) in &body {
        if !store.features.contains_key(name) {
            let expected: Vec<&str> = names.iter().map(String::as_str).collect();
            return Err(error::unknown_field(name, &expected));
        }
        if !(value.is_boolean() || value.is_null()) {
            return Err(error::bad(
                "bad_request",
                format!(
                    "Invalid value type at `.{name}`: expected a boolean, but found {}: `{value}`",
                    json_type_name(value)
                ),
            ));
        }
    }
    for (name, value) in body {
        if let Value::Bool(on) = value {
            store.features.insert(name, Value::Bool(on));
        }
    }
    Ok(Json(Value::Object(store.features.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_search_parameters_become_the_json_body() {
        let query = search_query_from_params(Some(
            "q=star%20wars&limit=5&attributesToRetrieve=title,year&showRankingScore=true&filter=year%20%3E%202000&sort=year:desc,title:asc",
        ))
        .expect("valid parameters");
        assert_eq!(
            query,
            json!({
                "q": "star wars",
                "limit": 5,
                "attributesToRetrieve": ["title", "year"],
                "showRankingScore": true,
                "filter": "year > 2000",
                "sort": ["year:desc", "title:asc"],
            })
        );
    }

    #[test]
    fn a_get_filter_that_parses_as_json_is_kept_as_json() {
        let query =
            search_query_from_params(Some("filter=%5B%22a%20%3D%201%22%5D")).expect("valid");
        assert_eq!(query, json!({ "filter": ["a = 1"] }));
    }

    #[test]
    fn geo_point_sorts_keep_their_comma() {
        assert_eq!(
            fix_sort("_geoPoint(1.5, 2):asc,price:desc"),
            vec!["_geoPoint(1.5,2):asc", "price:desc"]
        );
    }

    #[test]
    fn routes_map_to_meilisearch_actions() {
        assert_eq!(
            required_action(&Method::POST, "/indexes/movies/documents"),
            Some(("documents.add", Some("movies".into())))
        );
        assert_eq!(
            required_action(&Method::POST, "/indexes/movies/documents/fetch"),
            Some(("documents.get", Some("movies".into())))
        );
        assert_eq!(
            required_action(&Method::POST, "/multi-search"),
            Some(("search", None))
        );
        assert_eq!(required_action(&Method::GET, "/health"), None);
        assert_eq!(required_action(&Method::GET, "/nope"), None);
    }
}
