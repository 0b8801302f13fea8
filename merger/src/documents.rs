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

use crate::body::{copy_object, Strip, TopLevel};
use crate::error::MergeError;
use crate::scan;
use crate::write::{push_key, push_u64};

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
    out.extend_from_slice(b"],");
    push_key(&mut out, "offset");
    push_u64(&mut out, offset as u64);
    out.push(b',');
    push_key(&mut out, "limit");
    push_u64(&mut out, limit as u64);
    out.push(b',');
    push_key(&mut out, "total");
    push_u64(&mut out, total);
    out.push(b'}');
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
    fn offset_past_the_end_returns_no_results_and_the_total() {
        let a = r#"{"results":[{"id":1}],"offset":0,"limit":20,"total":1}"#;
        assert_eq!(
            merged(&[a, a], 5, 20),
            r#"{"results":[],"offset":5,"limit":20,"total":2}"#
        );
    }
}
