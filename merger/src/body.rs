//! Shared plumbing for shard bodies: locating top-level members, reading small scalars,
//! parsing a member with simd-json from a reusable scratch buffer, and copying a hit or
//! document with Miroir's and unrequested members spliced out.

use std::ops::Range;

use simd_json::BorrowedValue;

use crate::error::MergeError;
use crate::scan;

/// The top-level members of one response body, by name.
pub(crate) struct TopLevel {
    members: Vec<(Range<usize>, Range<usize>)>,
}

impl TopLevel {
    pub(crate) fn scan(body: &[u8], response: usize) -> Result<TopLevel, MergeError> {
        let mut members = Vec::with_capacity(12);
        for m in scan::members(body, scan::root(body)).map_err(MergeError::malformed(response))? {
            let m = m.map_err(MergeError::malformed(response))?;
            members.push((m.key, m.value));
        }
        Ok(TopLevel { members })
    }

    /// The value range of member `name`, if present.
    pub(crate) fn get(&self, body: &[u8], name: &str) -> Option<Range<usize>> {
        self.members
            .iter()
            .find(|(k, _)| &body[k.clone()] == name.as_bytes())
            .map(|(_, v)| v.clone())
    }

    /// Member `name` as an unsigned integer (`None` when absent; an error when mistyped).
    pub(crate) fn u64(
        &self,
        body: &[u8],
        name: &'static str,
        response: usize,
    ) -> Result<Option<u64>, MergeError> {
        match self.get(body, name) {
            None => Ok(None),
            Some(r) => parse_u64(&body[r]).map(Some).ok_or(MergeError::Missing {
                response,
                field: name,
            }),
        }
    }
}

pub(crate) fn parse_u64(raw: &[u8]) -> Option<u64> {
    std::str::from_utf8(raw).ok()?.parse().ok()
}

pub(crate) fn parse_f64(raw: &[u8]) -> Option<f64> {
    std::str::from_utf8(raw).ok()?.parse().ok()
}

/// simd-json parsing of small members, reusing one scratch buffer and simd-json's buffers
/// across calls so that parsing thousands of score details does not allocate each time.
pub(crate) struct Parser {
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
}

impl Parser {
    pub(crate) fn new() -> Parser {
        Parser {
            scratch: Vec::with_capacity(1024),
            buffers: simd_json::Buffers::new(1024),
        }
    }

    /// Parses `raw` (copied: simd-json parses in place and would destroy the body).
    pub(crate) fn parse<'s>(
        &'s mut self,
        raw: &[u8],
        response: usize,
        field: &'static str,
    ) -> Result<BorrowedValue<'s>, MergeError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(raw);
        simd_json::to_borrowed_value_with_buffers(&mut self.scratch, &mut self.buffers).map_err(
            |e| MergeError::Invalid {
                response,
                field,
                message: e.to_string(),
            },
        )
    }
}

/// Which members of a hit or document to drop when copying it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Strip<'a> {
    pub ranking_score: bool,
    pub ranking_score_details: bool,
    /// Top-level attributes the proxy added to the node query for the merge only.
    pub extra: &'a [String],
}

impl Strip<'_> {
    pub(crate) const MIROIR_ONLY: Strip<'static> = Strip {
        ranking_score: false,
        ranking_score_details: false,
        extra: &[],
    };

    fn drops(&self, key: &[u8]) -> bool {
        key.starts_with(b"_miroir_")
            || (self.ranking_score && key == b"_rankingScore")
            || (self.ranking_score_details && key == b"_rankingScoreDetails")
            || self.extra.iter().any(|e| e.as_bytes() == key)
    }
}

/// Keys that Meilisearch writes after the document's own fields in a hit.
fn is_hit_trailer(key: &[u8]) -> bool {
    matches!(
        key,
        b"_formatted" | b"_matchesPosition" | b"_rankingScore" | b"_rankingScoreDetails"
    )
}

/// Copies the object at `obj` into `out`, dropping the members `strip` names and the
/// `_miroir_*` members of a nested `_formatted` object. Kept members are copied byte for
/// byte. `insert` (a complete `"key":value` member) is placed after the document's own
/// fields, before `_formatted` and the other hit trailers — where Meilisearch puts
/// `_federation`.
pub(crate) fn copy_object(
    body: &[u8],
    obj: Range<usize>,
    strip: Strip<'_>,
    insert: Option<&[u8]>,
    out: &mut Vec<u8>,
    response: usize,
) -> Result<(), MergeError> {
    let bad = MergeError::malformed(response);
    // Fast path: nothing to remove and nothing to insert.
    if insert.is_none() && !needs_splice(&body[obj.clone()], strip) {
        out.extend_from_slice(&body[obj]);
        return Ok(());
    }
    out.push(b'{');
    let mut first = true;
    let mut pending = insert;
    for m in scan::members(body, obj.start).map_err(&bad)? {
        let m = m.map_err(&bad)?;
        let key = &body[m.key.clone()];
        if strip.drops(key) {
            continue;
        }
        if pending.is_some() && is_hit_trailer(key) {
            if let Some(ins) = pending.take() {
                if !first {
                    out.push(b',');
                }
                out.extend_from_slice(ins);
                first = false;
            }
        }
        if !first {
            out.push(b',');
        }
        first = false;
        if key == b"_formatted" && body.get(m.value.start) == Some(&b'{') {
            out.extend_from_slice(&body[m.whole.start..m.value.start]);
            copy_object(
                body,
                m.value.clone(),
                Strip::MIROIR_ONLY,
                None,
                out,
                response,
            )?;
        } else {
            out.extend_from_slice(&body[m.whole.clone()]);
        }
    }
    if let Some(ins) = pending {
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(ins);
    }
    out.push(b'}');
    Ok(())
}

/// A conservative pre-check: could this object contain a member to drop?
fn needs_splice(obj: &[u8], strip: Strip<'_>) -> bool {
    if !strip.extra.is_empty() {
        return true;
    }
    memchr::memmem::find(obj, b"\"_miroir_").is_some()
        || ((strip.ranking_score || strip.ranking_score_details)
            && memchr::memmem::find(obj, b"\"_rankingScore").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(s: &str, strip: Strip, insert: Option<&str>) -> String {
        let mut out = Vec::new();
        copy_object(
            s.as_bytes(),
            0..s.len(),
            strip,
            insert.map(str::as_bytes),
            &mut out,
            0,
        )
        .expect("valid object");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn miroir_members_are_removed_from_hit_and_formatted() {
        let hit = r#"{"id":1,"_miroir_shard":7,"t":"x","_formatted":{"id":"1","_miroir_shard":"7","t":"<em>x</em>"}}"#;
        assert_eq!(
            copy(hit, Strip::MIROIR_ONLY, None),
            r#"{"id":1,"t":"x","_formatted":{"id":"1","t":"<em>x</em>"}}"#
        );
    }

    #[test]
    fn unrequested_ranking_members_are_removed() {
        let hit = r#"{"id":1,"_rankingScore":0.5,"_rankingScoreDetails":{"words":{"order":0,"score":0.5}}}"#;
        let strip = Strip {
            ranking_score: true,
            ranking_score_details: true,
            extra: &[],
        };
        assert_eq!(copy(hit, strip, None), r#"{"id":1}"#);
    }

    #[test]
    fn inserted_member_goes_before_hit_trailers() {
        let hit = r#"{"id":1,"_formatted":{"id":"1"},"_rankingScore":0.5}"#;
        assert_eq!(
            copy(hit, Strip::MIROIR_ONLY, Some(r#""_federation":{}"#)),
            r#"{"id":1,"_federation":{},"_formatted":{"id":"1"},"_rankingScore":0.5}"#
        );
    }

    #[test]
    fn untouched_hit_is_copied_verbatim() {
        let hit = r#"{ "id" : 1 , "t":"_miroir" }"#;
        assert_eq!(copy(hit, Strip::MIROIR_ONLY, None), hit);
    }
}
