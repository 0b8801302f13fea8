//! Stats: `GET /indexes/{uid}/stats` and `GET /stats` summed over nodes.
//!
//! Nodes must be asked for raw sizes (the default; not `sizeFormat=human`): sizes are
//! summed as integers. `avgDocumentSize` is the document-weighted mean of the nodes'
//! averages, rounded down. `fieldDistribution` is summed per field without Miroir's
//! `_miroir_*` fields; `isIndexing` is true if any node is indexing; `lastUpdate` is the
//! latest of the nodes'.

use std::collections::BTreeMap;

use simd_json::prelude::*;
use simd_json::BorrowedValue;

use crate::body::{Parser, TopLevel};
use crate::error::MergeError;
use crate::write::{push_key, push_str_lit, push_u64};

#[derive(Default)]
struct IndexStats {
    documents: u64,
    raw_size: u64,
    weighted_avg: u128,
    indexing: bool,
    internal: Option<BTreeMap<String, u64>>,
    embeddings: Option<u64>,
    embedded_documents: Option<u64>,
    fields: BTreeMap<String, u64>,
}

fn num(v: &BorrowedValue<'_>, key: &'static str, response: usize) -> Result<u64, MergeError> {
    v.get(key)
        .and_then(|x| x.as_u64())
        .ok_or(MergeError::Missing {
            response,
            field: key,
        })
}

impl IndexStats {
    fn add(&mut self, v: &BorrowedValue<'_>, response: usize) -> Result<(), MergeError> {
        let docs = num(v, "numberOfDocuments", response)?;
        self.documents += docs;
        self.raw_size += num(v, "rawDocumentDbSize", response)?;
        self.weighted_avg += num(v, "avgDocumentSize", response)? as u128 * docs as u128;
        self.indexing |=
            v.get("isIndexing")
                .and_then(|x| x.as_bool())
                .ok_or(MergeError::Missing {
                    response,
                    field: "isIndexing",
                })?;
        if let Some(sizes) = v.get("internalDatabaseSizes").and_then(|x| x.as_object()) {
            let internal = self.internal.get_or_insert_with(BTreeMap::new);
            for (k, s) in sizes.iter() {
                let s = s.as_u64().ok_or(MergeError::Missing {
                    response,
                    field: "internalDatabaseSizes",
                })?;
                *internal.entry(k.to_string()).or_insert(0) += s;
            }
        }
        if let Some(n) = v.get("numberOfEmbeddings").and_then(|x| x.as_u64()) {
            *self.embeddings.get_or_insert(0) += n;
        }
        if let Some(n) = v.get("numberOfEmbeddedDocuments").and_then(|x| x.as_u64()) {
            *self.embedded_documents.get_or_insert(0) += n;
        }
        let fields = v
            .get("fieldDistribution")
            .and_then(|x| x.as_object())
            .ok_or(MergeError::Missing {
                response,
                field: "fieldDistribution",
            })?;
        for (k, n) in fields.iter() {
            if k.starts_with("_miroir_") {
                continue;
            }
            let n = n.as_u64().ok_or(MergeError::Missing {
                response,
                field: "fieldDistribution",
            })?;
            *self.fields.entry(k.to_string()).or_insert(0) += n;
        }
        Ok(())
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        push_key(out, "numberOfDocuments");
        push_u64(out, self.documents);
        out.push(b',');
        push_key(out, "rawDocumentDbSize");
        push_u64(out, self.raw_size);
        out.push(b',');
        push_key(out, "avgDocumentSize");
        let avg = if self.documents == 0 {
            0
        } else {
            (self.weighted_avg / self.documents as u128) as u64
        };
        push_u64(out, avg);
        out.push(b',');
        push_key(out, "isIndexing");
        out.extend_from_slice(if self.indexing { b"true" } else { b"false" });
        if let Some(internal) = self.internal.as_ref().filter(|m| !m.is_empty()) {
            out.push(b',');
            push_key(out, "internalDatabaseSizes");
            write_counts(internal, out);
        }
        if let Some(n) = self.embeddings {
            out.push(b',');
            push_key(out, "numberOfEmbeddings");
            push_u64(out, n);
        }
        if let Some(n) = self.embedded_documents {
            out.push(b',');
            push_key(out, "numberOfEmbeddedDocuments");
            push_u64(out, n);
        }
        out.push(b',');
        push_key(out, "fieldDistribution");
        write_counts(&self.fields, out);
        out.push(b'}');
    }
}

fn write_counts(m: &BTreeMap<String, u64>, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (k, n)) in m.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str_lit(out, k);
        out.push(b':');
        push_u64(out, *n);
    }
    out.push(b'}');
}

/// Merges `GET /indexes/{uid}/stats` responses (raw sizes) into one index's stats, with
/// every member 1.50 writes, in its order.
///
/// # Errors
/// [`MergeError`] when `responses` is empty or a body lacks a stats member.
pub fn merge_index_stats(responses: &[&[u8]]) -> Result<Vec<u8>, MergeError> {
    if responses.is_empty() {
        return Err(MergeError::Request("no responses to merge"));
    }
    let mut parser = Parser::new();
    let mut acc = IndexStats::default();
    for (i, body) in responses.iter().enumerate() {
        let v = parser.parse(body, i, "stats")?;
        acc.add(&v, i)?;
    }
    let mut out = Vec::with_capacity(512);
    acc.write(&mut out);
    Ok(out)
}

/// Orders RFC 3339 UTC timestamps as instants: fractional seconds are padded so that
/// `...:33Z` sorts before `...:33.5Z`.
fn instant_key(ts: &str) -> (String, String) {
    let body = ts.trim_end_matches('Z');
    match body.split_once('.') {
        Some((secs, frac)) => (secs.to_string(), format!("{frac:0<9}")),
        None => (body.to_string(), "000000000".to_string()),
    }
}

/// Merges `GET /stats` responses (raw sizes): `databaseSize` and `usedDatabaseSize`
/// summed, `lastUpdate` the latest (null if no node has one), `indexes` merged per index
/// uid as [`merge_index_stats`] does.
///
/// # Errors
/// [`MergeError`] when `responses` is empty or a body lacks a stats member.
pub fn merge_global_stats(responses: &[&[u8]]) -> Result<Vec<u8>, MergeError> {
    if responses.is_empty() {
        return Err(MergeError::Request("no responses to merge"));
    }
    let mut parser = Parser::new();
    let mut db = 0u64;
    let mut used = 0u64;
    let mut last: Option<String> = None;
    let mut indexes: BTreeMap<String, IndexStats> = BTreeMap::new();
    for (i, body) in responses.iter().enumerate() {
        let top = TopLevel::scan(body, i)?;
        db += top
            .u64(body, "databaseSize", i)?
            .ok_or(MergeError::Missing {
                response: i,
                field: "databaseSize",
            })?;
        used += top
            .u64(body, "usedDatabaseSize", i)?
            .ok_or(MergeError::Missing {
                response: i,
                field: "usedDatabaseSize",
            })?;
        let v = parser.parse(body, i, "stats")?;
        if let Some(ts) = v.get("lastUpdate").and_then(|x| x.as_str()) {
            if last
                .as_deref()
                .is_none_or(|l| instant_key(ts) > instant_key(l))
            {
                last = Some(ts.to_string());
            }
        }
        let idx = v
            .get("indexes")
            .and_then(|x| x.as_object())
            .ok_or(MergeError::Missing {
                response: i,
                field: "indexes",
            })?;
        for (uid, s) in idx.iter() {
            indexes.entry(uid.to_string()).or_default().add(s, i)?;
        }
    }
    let mut out = Vec::with_capacity(1024);
    out.push(b'{');
    push_key(&mut out, "databaseSize");
    push_u64(&mut out, db);
    out.push(b',');
    push_key(&mut out, "usedDatabaseSize");
    push_u64(&mut out, used);
    out.push(b',');
    push_key(&mut out, "lastUpdate");
    match &last {
        Some(ts) => push_str_lit(&mut out, ts),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b',');
    push_key(&mut out, "indexes");
    out.push(b'{');
    for (i, (uid, s)) in indexes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str_lit(&mut out, uid);
        out.push(b':');
        s.write(&mut out);
    }
    out.extend_from_slice(b"}}");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_stats_sum_counts_and_hide_miroir_fields() {
        let a = br#"{"numberOfDocuments":2,"rawDocumentDbSize":200,"avgDocumentSize":90,"isIndexing":false,"numberOfEmbeddings":0,"numberOfEmbeddedDocuments":0,"fieldDistribution":{"_miroir_shard":2,"id":2,"title":1}}"#;
        let b = br#"{"numberOfDocuments":1,"rawDocumentDbSize":100,"avgDocumentSize":60,"isIndexing":true,"numberOfEmbeddings":0,"numberOfEmbeddedDocuments":0,"fieldDistribution":{"_miroir_shard":1,"id":1,"genre":1}}"#;
        let out = merge_index_stats(&[a, b]).expect("merge");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"numberOfDocuments":3,"rawDocumentDbSize":300,"avgDocumentSize":80,"isIndexing":true,"numberOfEmbeddings":0,"numberOfEmbeddedDocuments":0,"fieldDistribution":{"genre":1,"id":3,"title":1}}"#
        );
    }

    #[test]
    fn global_stats_take_the_latest_update_and_merge_indexes() {
        let a = br#"{"databaseSize":10,"usedDatabaseSize":5,"lastUpdate":"2025-01-01T00:00:01Z","indexes":{"m":{"numberOfDocuments":1,"rawDocumentDbSize":1,"avgDocumentSize":1,"isIndexing":false,"fieldDistribution":{"id":1}}}}"#;
        let b = br#"{"databaseSize":20,"usedDatabaseSize":6,"lastUpdate":"2025-01-01T00:00:01.5Z","indexes":{"m":{"numberOfDocuments":1,"rawDocumentDbSize":1,"avgDocumentSize":3,"isIndexing":false,"fieldDistribution":{"id":1}}}}"#;
        let out = merge_global_stats(&[a, b]).expect("merge");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"databaseSize":30,"usedDatabaseSize":11,"lastUpdate":"2025-01-01T00:00:01.5Z","indexes":{"m":{"numberOfDocuments":2,"rawDocumentDbSize":2,"avgDocumentSize":2,"isIndexing":false,"fieldDistribution":{"id":2}}}}"#
        );
    }
}
