//! Similar documents (`POST /indexes/{uid}/similar`): the documents whose embeddings are
//! closest to a reference document's, with Meilisearch's validation order, totals and
//! threshold semantics.
//!
//! Meilisearch checks, in order: the body's shape, the embedder, the filter's syntax,
//! the reference id's syntax, that the reference exists, then runs the query (where a
//! filter on an attribute that is not filterable fails). The reference's `i`-th
//! embedding is compared with every other document's `i`-th embedding (its vector store
//! keeps one tree per embedding position) and a document scores with its best match.
//! The candidates are every document the filter keeps except the reference, with or
//! without embeddings; `estimatedTotalHits` counts them, up to `maxTotalHits`. With
//! `rankingScoreThreshold`, the first returned hit below it ends the answer and the total
//! becomes the number of documents walked before it (the skipped ones included).

use serde_json::{json, Map, Value};

use crate::browse::{document_id, strip_vectors};
use crate::filter::{check_filterable, parse_only, FilterContext};
use crate::vectors::{embedder_names, embeddings, similarity};
use crate::wire::{
    as_bool, as_str, as_strings, as_usize, bad_value, body_object, invalid, missing_field,
    only_keys, wrong_type,
};
use crate::{project, Document, IndexContext, MeiliError};

/// Keys of a similar body, in Meilisearch's order.
pub const SIMILAR_KEYS: &[&str] = &[
    "id",
    "offset",
    "limit",
    "filter",
    "embedder",
    "attributesToRetrieve",
    "retrieveVectors",
    "showRankingScore",
    "showRankingScoreDetails",
    "showPerformanceDetails",
    "rankingScoreThreshold",
];

fn code_for(key: &str) -> String {
    let mut snake = String::from("invalid_similar_");
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// The id as Meilisearch accepts a document id: an integer, or a string of at most 511
/// bytes made of ASCII letters, digits, `-` and `_`.
fn document_id_of(value: &Value) -> Result<String, MeiliError> {
    let valid = match value {
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::String(s)
            if !s.is_empty()
                && s.len() <= 511
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Some(s.clone())
        }
        _ => None,
    };
    valid.ok_or_else(|| {
        invalid(
            "invalid_similar_id",
            format!(
                "Invalid value at `.id`: Document identifier `{value}` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes."
            ),
        )
    })
}

/// Run a similar query (the body form of `POST /indexes/{uid}/similar`).
///
/// `visible` is the filter of the caller's tenant token, if any: a reference outside it
/// is "not found", as on Meilisearch (the server also adds it to the query's filter).
pub fn similar<'a>(
    docs: impl Iterator<Item = &'a Document>,
    index: IndexContext<'_>,
    query: &Value,
    visible: Option<&Value>,
) -> Result<Value, MeiliError> {
    let docs: Vec<&Document> = docs.collect();
    let body = body_object(query)?;
    only_keys(body, "bad_request", "", SIMILAR_KEYS)?;
    let mut offset = 0usize;
    let mut limit = 20usize;
    let mut embedder: Option<String> = None;
    let mut fields: Option<Vec<String>> = None;
    let mut retrieve_vectors = false;
    let mut show_score = false;
    let mut show_details = false;
    let mut threshold: Option<f64> = None;
    for (key, value) in body {
        let code = code_for(key);
        let at = format!(".{key}");
        match key.as_str() {
            "id" | "filter" => {}
            "offset" => offset = as_usize(&code, &at, value)?,
            "limit" => limit = as_usize(&code, &at, value)?,
            "embedder" => embedder = Some(as_str(&code, &at, value)?.to_owned()),
            _ if value.is_null() => {}
            "attributesToRetrieve" => fields = Some(as_strings(&code, &at, value)?),
            "retrieveVectors" => retrieve_vectors = as_bool(&code, &at, value)?,
            "showRankingScore" => show_score = as_bool(&code, &at, value)?,
            "showRankingScoreDetails" => show_details = as_bool(&code, &at, value)?,
            "showPerformanceDetails" => {
                as_bool(&code, &at, value)?;
            }
            "rankingScoreThreshold" => {
                let n = value
                    .as_f64()
                    .ok_or_else(|| wrong_type(&code, &at, "a number", value))?;
                if !(0.0..=1.0).contains(&n) {
                    return Err(bad_value(
                        &code,
                        &at,
                        "the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.",
                    ));
                }
                threshold = Some(n);
            }
            other => unreachable!("`{other}` passed the key check but has no validator"),
        }
    }
    let Some(id_value) = body.get("id") else {
        return Err(missing_field("bad_request", "", "id"));
    };
    let Some(embedder) = embedder else {
        return Err(missing_field("bad_request", "", "embedder"));
    };
    if !embedder_names(&index).contains(&embedder) {
        return Err(invalid(
            "invalid_similar_embedder",
            format!("Cannot find embedder with name `{embedder}`."),
        ));
    }
    let filter_source = body.get("filter").filter(|f| !f.is_null());
    let parsed_filter = match filter_source {
        Some(filter) => parse_only(filter, FilterContext::Similar)?,
        None => None,
    };
    let visible = match visible {
        Some(filter) => parse_only(filter, FilterContext::Similar)?,
        None => None,
    };
    let id = document_id_of(id_value)?;
    let reference = *docs
        .iter()
        .find(|doc| document_id(doc, index.primary_key).as_deref() == Some(id.as_str()))
        .filter(|doc| visible.as_ref().is_none_or(|f| crate::filter::eval(doc, f)))
        .ok_or_else(|| {
            invalid(
                "not_found_similar_id",
                format!("Document `{id}` not found."),
            )
        })?;
    if let (Some(parsed), Some(source)) = (&parsed_filter, filter_source) {
        check_filterable(parsed, source, &index, FilterContext::Similar)?;
    }

    let candidates: Vec<&Document> = docs
        .into_iter()
        .filter(|doc| !std::ptr::eq(*doc, reference))
        .filter(|doc| {
            parsed_filter
                .as_ref()
                .is_none_or(|f| crate::filter::eval(doc, f))
        })
        .collect();
    let reference_vectors = embeddings(reference, &embedder);
    let mut neighbours: Vec<(f32, &Document)> = candidates
        .iter()
        .filter_map(|doc| {
            let theirs = embeddings(doc, &embedder);
            reference_vectors
                .iter()
                .zip(theirs.iter())
                .filter(|(a, b)| a.len() == b.len())
                .map(|(a, b)| similarity(a, b))
                .max_by(|a, b| a.total_cmp(b))
                .map(|s| (s, *doc))
        })
        .collect();
    // Stable: equal similarities keep insertion order.
    neighbours.sort_by(|(a, _), (b, _)| b.total_cmp(a));

    let mut total = candidates.len();
    let mut hits = Vec::new();
    for (walked, (score, doc)) in neighbours.iter().enumerate().skip(offset).take(limit) {
        let score = f64::from(*score);
        if threshold.is_some_and(|t| score < t) {
            total = walked;
            break;
        }
        let mut shown = project(doc, index, fields.as_deref());
        strip_vectors(&mut shown, doc, retrieve_vectors, &index);
        if show_score {
            shown.insert("_rankingScore".into(), json!(score));
        }
        if show_details {
            shown.insert(
                "_rankingScoreDetails".into(),
                json!({"vectorSort": {"order": 0, "similarity": score}}),
            );
        }
        hits.push(Value::Object(shown));
    }
    let max_total_hits = index
        .settings
        .get("pagination")
        .and_then(|p| p.get("maxTotalHits"))
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .unwrap_or(1000);
    let mut out = Map::new();
    out.insert("hits".into(), Value::Array(hits));
    out.insert("id".into(), Value::String(id));
    out.insert("processingTimeMs".into(), json!(0));
    out.insert("limit".into(), json!(limit));
    out.insert("offset".into(), json!(offset));
    out.insert(
        "estimatedTotalHits".into(),
        json!(total.min(max_total_hits)),
    );
    Ok(Value::Object(out))
}
