//! Document listings (`GET /indexes/{uid}/documents`, `POST .../documents/fetch`):
//! `{"results","offset","limit","total"}` with one global pagination over all nodes.
//!
//! A node lists documents by its internal id, which means nothing across nodes. Miroir's
//! global order is **response-major**: all documents of response 0 in that node's order,
//! then those of response 1, and so on. The proxy must pass the responses in a fixed
//! order (ascending smallest shard id covered by each request), which makes the order
//! deterministic as long as the data does not change. Every node is asked for
//! `offset: 0, limit: offset + limit` with the client's other parameters; that always
//! covers the part of the window that falls inside its range.

use std::cmp::Ordering;

use simd_json::prelude::*;
use simd_json::BorrowedValue;

use crate::body::{copy_object, Parser, Strip, TopLevel};
use crate::error::MergeError;
use crate::scan;
use crate::score::{compare_sort_values, SortValue};
use crate::write::{push_key, push_u64};

/// One rule of a document listing's `sort`: an attribute (dotted for nested objects)
/// and its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentSort {
    /// The attribute.
    pub field: String,
    /// `asc` (true) or `desc`.
    pub asc: bool,
}

/// The value a document sorts by for `field`: a top-level member of that name, else the
/// dotted path through nested objects.
fn sort_value(doc: &BorrowedValue<'_>, field: &str) -> SortValue {
    let direct = doc.get(field);
    let found = direct.or_else(|| {
        let mut current = doc;
        for part in field.split('.') {
            current = current.get(part)?;
        }
        Some(current)
    });
    match found {
        None => SortValue::Null,
        Some(v) if v.is_null() => SortValue::Null,
        Some(v) => match (v.cast_f64(), v.as_str()) {
            (Some(n), _) => SortValue::Number(n),
            (None, Some(text)) => SortValue::String(text.into()),
            _ => SortValue::Other,
        },
    }
}

/// Merges document listings that each node sorted by `sort` (every node asked for
/// `offset: 0, limit: offset + limit`): the window `[offset, offset + limit)` of the
/// documents in `sort` order, compared rule by rule with Meilisearch's sort order
/// (missing values last, numbers before strings); documents equal on every rule keep
/// the response order, then their node's order (one Meilisearch breaks such ties by its
/// internal document id). `drop` names top-level attributes the proxy added to the
/// node queries (sort attributes the client's `fields` left out); they are removed.
///
/// # Errors
/// [`MergeError`] when a body is not a document listing.
pub fn merge_documents_sorted(
    responses: &[&[u8]],
    offset: usize,
    limit: usize,
    sort: &[DocumentSort],
    drop: &[String],
) -> Result<Vec<u8>, MergeError> {
    let mut parser = Parser::new();
    let mut total = 0u64;
    // (sort values, response, range) of every document the nodes sent.
    let mut docs: Vec<(Vec<SortValue>, usize, std::ops::Range<usize>)> = Vec::new();
    for (i, body) in responses.iter().enumerate() {
        let top = TopLevel::scan(body, i)?;
        total += top.u64(body, "total", i)?.ok_or(MergeError::Missing {
            response: i,
            field: "total",
        })?;
        let r = top.get(body, "results").ok_or(MergeError::Missing {
            response: i,
            field: "results",
        })?;
        let mut ranges = Vec::new();
        scan::array_elements(body, r.start, &mut ranges).map_err(MergeError::malformed(i))?;
        for range in ranges {
            let doc = parser.parse(&body[range.clone()], i, "results")?;
            let keys = sort
                .iter()
                .map(|rule| sort_value(&doc, &rule.field))
                .collect();
            docs.push((keys, i, range));
        }
    }
    docs.sort_by(|(a, ..), (b, ..)| {
        for (rule, (x, y)) in sort.iter().zip(a.iter().zip(b)) {
            match compare_sort_values(rule.asc, x, y) {
                Ordering::Equal => continue,
                // `Greater` means "comes first".
                other => return other.reverse(),
            }
        }
        Ordering::Equal
    });
    let strip = Strip {
        ranking_score: false,
        ranking_score_details: false,
        extra: drop,
    };
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"results\":[");
    for (n, (_, i, range)) in docs.iter().skip(offset).take(limit).enumerate() {
        if n > 0 {
            out.push(b',');
        }
        copy_object(responses[*i], range.clone(), strip, None, &mut out, *i)?;
    }
    write_listing_tail(&mut out, offset, limit, total);
    Ok(out)
}

/// Closes a listing: `],"offset":..,"limit":..,"total":..}`.
fn write_listing_tail(out: &mut Vec<u8>, offset: usize, limit: usize, total: u64) {
    out.extend_from_slice(b"],");
    push_key(out, "offset");
    push_u64(out, offset as u64);
    out.push(b',');
    push_key(out, "limit");
    push_u64(out, limit as u64);
    out.push(b',');
    push_key(out, "total");
    push_u64(out, total);
    out.push(b'}');
}

/// Merges document-listing responses for the client's `offset` and `limit`.
///
/// `total` is the sum of the nodes' totals; `results` is the window `[offset,
/// offset + limit)` of the response-major order, each document copied byte for byte
/// minus its `_miroir_*` members.
///
/// # Errors
/// [`MergeError`] when a body is not a document listing.
pub fn merge_documents(
    responses: &[&[u8]],
    offset: usize,
    limit: usize,
) -> Result<Vec<u8>, MergeError> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"results\":[");
    let mut total = 0u64;
    let mut before = 0u64; // documents of the previous responses in the global order
    let end = offset as u64 + limit as u64;
    let mut written = 0usize;
    let mut ranges = Vec::new();
    for (i, body) in responses.iter().enumerate() {
        let top = TopLevel::scan(body, i)?;
        let node_total = top.u64(body, "total", i)?.ok_or(MergeError::Missing {
            response: i,
            field: "total",
        })?;
        let r = top.get(body, "results").ok_or(MergeError::Missing {
            response: i,
            field: "results",
        })?;
        // The node's local window that intersects the global one.
        let lo = (offset as u64).max(before);
        let hi = end.min(before + node_total);
        if lo < hi {
            ranges.clear();
            scan::array_elements(body, r.start, &mut ranges).map_err(MergeError::malformed(i))?;
            let local_lo = (lo - before) as usize;
            let local_hi = ((hi - before) as usize).min(ranges.len());
            for d in ranges.iter().take(local_hi).skip(local_lo) {
                if written > 0 {
                    out.push(b',');
                }
                copy_object(body, d.clone(), Strip::MIROIR_ONLY, None, &mut out, i)?;
                written += 1;
            }
        }
        before += node_total;
        total += node_total;
    }
    write_listing_tail(&mut out, offset, limit, total);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(responses: &[&str], offset: usize, limit: usize) -> String {
        let bodies: Vec<&[u8]> = responses.iter().map(|s| s.as_bytes()).collect();
        String::from_utf8(merge_documents(&bodies, offset, limit).expect("merge")).expect("utf8")
    }

    #[test]
    fn documents_are_paginated_response_major() {
        let a = r#"{"results":[{"id":1,"_miroir_shard":0},{"id":2,"_miroir_shard":0},{"id":3,"_miroir_shard":0}],"offset":0,"limit":4,"total":3}"#;
        let b = r#"{"results":[{"id":10,"_miroir_shard":1},{"id":11,"_miroir_shard":1}],"offset":0,"limit":4,"total":2}"#;
        assert_eq!(
            merged(&[a, b], 2, 2),
            r#"{"results":[{"id":3},{"id":10}],"offset":2,"limit":2,"total":5}"#
        );
    }

    #[test]
    fn sorted_listings_merge_rule_by_rule_and_drop_added_fields() {
        let a = r#"{"results":[{"id":1,"year":1990,"g":"b"},{"id":2,"year":1980,"g":"a"},{"id":3,"g":"z"}],"offset":0,"limit":4,"total":3}"#;
        let b = r#"{"results":[{"id":10,"year":1990,"g":"a","_miroir_shard":1},{"id":11,"year":"x","g":"c"}],"offset":0,"limit":4,"total":2}"#;
        let bodies: Vec<&[u8]> = vec![a.as_bytes(), b.as_bytes()];
        let sort = [
            DocumentSort {
                field: "year".into(),
                asc: false,
            },
            DocumentSort {
                field: "g".into(),
                asc: true,
            },
        ];
        let out = merge_documents_sorted(&bodies, 1, 4, &sort, &["g".to_owned()]).expect("merge");
        // year desc: 1990 (g a, then b), 1980, then the string, then the missing value.
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"results":[{"id":1,"year":1990},{"id":2,"year":1980},{"id":11,"year":"x"},{"id":3}],"offset":1,"limit":4,"total":5}"#
        );
    }

    #[test]
    fn offset_past_the_end_returns_no_results_and_the_total() {
        let a = r#"{"results":[{"id":1}],"offset":0,"limit":20,"total":1}"#;
        assert_eq!(
            merged(&[a, a], 5, 20),
            r#"{"results":[],"offset":5,"limit":20,"total":2}"#
        );
    }
}
