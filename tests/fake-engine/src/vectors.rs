//! User-provided embeddings: reading a document's `_vectors`, showing them the way
//! `retrieveVectors` does, and scoring vectors the way Meilisearch's vector store does.
//!
//! Only `userProvided` embedders are meaningful here: the fake never embeds text, so a
//! document's embeddings are the ones it was given, under `_vectors.<embedder>` as one
//! vector, an array of vectors, or `{"embeddings": ..., "regenerate": ...}`.
//!
//! Scores follow Meilisearch's cosine store: the distance is `(1 - cos) / 2` computed in
//! `f32`, the similarity `1 - distance`, reported as that `f32` widened to `f64`. A
//! document with several embeddings scores with its closest one.

use serde_json::{Map, Value};

use crate::{Document, IndexContext};

/// The embedders configured on the index, in name order (Meilisearch keeps them in a
/// sorted map).
pub(crate) fn embedder_names(index: &IndexContext<'_>) -> Vec<String> {
    let mut names: Vec<String> = index
        .settings
        .get("embedders")
        .and_then(Value::as_object)
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The configured `dimensions` of an embedder, if any.
pub(crate) fn dimensions(index: &IndexContext<'_>, embedder: &str) -> Option<usize> {
    index
        .settings
        .get("embedders")?
        .get(embedder)?
        .get("dimensions")?
        .as_u64()
        .map(|d| d as usize)
}

fn as_vector(value: &Value) -> Option<Vec<f32>> {
    value
        .as_array()?
        .iter()
        .map(|n| n.as_f64().map(|f| f as f32))
        .collect()
}

/// One vector, or an array of vectors.
fn vectors_of(value: &Value) -> Vec<Vec<f32>> {
    match value {
        Value::Array(items) if items.iter().all(Value::is_array) && !items.is_empty() => {
            items.iter().filter_map(as_vector).collect()
        }
        Value::Array(items) if items.is_empty() => Vec::new(),
        other => as_vector(other).into_iter().collect(),
    }
}

/// The embeddings a document carries for `embedder`.
pub(crate) fn embeddings(doc: &Document, embedder: &str) -> Vec<Vec<f32>> {
    let Some(entry) = doc.get("_vectors").and_then(|v| v.get(embedder)) else {
        return Vec::new();
    };
    match entry {
        Value::Object(explicit) => explicit
            .get("embeddings")
            .map(vectors_of)
            .unwrap_or_default(),
        other => vectors_of(other),
    }
}

/// Whether the document asked for its embeddings to be regenerated (only the explicit
/// form can; user-provided vectors never are).
fn regenerate(doc: &Document, embedder: &str) -> bool {
    doc.get("_vectors")
        .and_then(|v| v.get(embedder))
        .and_then(|e| e.get("regenerate"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// An `f32` as Meilisearch prints a stored embedding: widened to `f64` first
/// (`0.542` prints `0.5419999957084656`).
pub(crate) fn f32_widened(x: f32) -> Value {
    serde_json::Number::from_f64(f64::from(x))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// An `f32` as Meilisearch prints a query vector: its shortest decimal form.
pub(crate) fn f32_value(x: f32) -> Value {
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The `_vectors` member `retrieveVectors: true` shows: the `_vectors` object the
/// projection kept (`shown`), with every configured embedder replaced by
/// `{"embeddings": [[...]], "regenerate": bool}` from the stored document `doc`.
pub(crate) fn retrieved(shown: Option<&Value>, doc: &Document, index: &IndexContext<'_>) -> Value {
    let mut out: Map<String, Value> = match shown {
        Some(Value::Object(stored)) => stored.clone(),
        _ => Map::new(),
    };
    for name in embedder_names(index) {
        let embeddings: Vec<Value> = embeddings(doc, &name)
            .into_iter()
            .map(|v| Value::Array(v.into_iter().map(f32_widened).collect()))
            .collect();
        let mut entry = Map::new();
        entry.insert("embeddings".into(), Value::Array(embeddings));
        entry.insert("regenerate".into(), Value::Bool(regenerate(doc, &name)));
        out.insert(name, Value::Object(entry));
    }
    Value::Object(out)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Meilisearch's similarity of two vectors: `1 - (1 - cos) / 2`, in `f32`.
pub(crate) fn similarity(query: &[f32], target: &[f32]) -> f32 {
    let norms = dot(query, query).sqrt() * dot(target, target).sqrt();
    let distance = if norms > f32::EPSILON {
        let cos = (dot(query, target) / norms).clamp(-1.0, 1.0);
        (1.0 - cos) / 2.0
    } else {
        0.0
    };
    1.0 - distance
}

/// The best similarity between `query` and any embedding of `doc` for `embedder`; `None`
/// when the document has no embedding for it.
pub(crate) fn best_similarity(doc: &Document, embedder: &str, query: &[f32]) -> Option<f32> {
    embeddings(doc, embedder)
        .iter()
        .filter(|v| v.len() == query.len())
        .map(|v| similarity(query, v))
        .max_by(|a, b| a.total_cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> Document {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn embeddings_are_read_in_every_accepted_form() {
        assert_eq!(
            embeddings(&doc(json!({"_vectors": {"e": [1.0, 0.0]}})), "e"),
            vec![vec![1.0, 0.0]]
        );
        assert_eq!(
            embeddings(
                &doc(json!({"_vectors": {"e": [[1.0, 0.0], [0.0, 1.0]]}})),
                "e"
            ),
            vec![vec![1.0, 0.0], vec![0.0, 1.0]]
        );
        assert_eq!(
            embeddings(
                &doc(json!({"_vectors": {"e": {"embeddings": [0.5, 0.5], "regenerate": false}}})),
                "e"
            ),
            vec![vec![0.5, 0.5]]
        );
        assert!(embeddings(&doc(json!({"_vectors": {"e": null}})), "e").is_empty());
        assert!(embeddings(&doc(json!({"id": 1})), "e").is_empty());
    }

    #[test]
    fn similarity_is_one_for_the_same_direction_and_half_for_orthogonal() {
        assert_eq!(similarity(&[1.0, 0.0], &[2.0, 0.0]), 1.0);
        assert_eq!(similarity(&[1.0, 0.0], &[0.0, 1.0]), 0.5);
        assert_eq!(similarity(&[1.0, 0.0], &[-1.0, 0.0]), 0.0);
    }

    #[test]
    fn f32_values_print_widened_or_shortest() {
        assert_eq!(f32_widened(0.542).to_string(), "0.5419999957084656");
        assert_eq!(f32_value(0.1).to_string(), "0.1");
        assert_eq!(f32_value(0.123_456_79).to_string(), "0.12345679");
    }
}
