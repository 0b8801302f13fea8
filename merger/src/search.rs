//! The search merge (`POST/GET /indexes/{uid}/search`): k-way selection of the global
//! top `offset + limit` hits, pagination totals, facets, and the two-phase variant for
//! deep pages.
//!
//! Each response's hits are already in that node's order, so the merge is a k-way merge
//! with a binary heap holding one head per response. A hit's score details are parsed
//! (simd-json, from a scratch copy) only when it becomes a head, so the work grows with
//! `offset + limit + k`, not with the size of the responses. Ties (hits that compare
//! equal on every value and on the global score) go to the response with the smaller
//! index, then to the earlier position in that response.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};

use simd_json::prelude::*;
use std::ops::Range;

use crate::body::{copy_object, parse_f64, Parser, Strip, TopLevel};
use crate::error::MergeError;
use crate::facets::{CandidateCount, FacetAccumulator, FacetSettings};
use crate::scan;
use crate::score::{compare, RankKey};
use crate::write::{push_key, push_str_lit, push_u64};

/// The client's pagination, as sent to Miroir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// `offset` / `limit` (Meilisearch's default mode; `estimatedTotalHits` in the answer).
    OffsetLimit {
        /// Hits to skip.
        offset: usize,
        /// Hits to return.
        limit: usize,
    },
    /// `page` / `hitsPerPage` (exhaustive `totalHits` and `totalPages` in the answer).
    /// Set when the client sent either `page` or `hitsPerPage`: default the other one as
    /// Meilisearch does (`page` 1, `hitsPerPage` 20).
    Page {
        /// 1-based page; 0 returns no hits.
        page: usize,
        /// Hits per page.
        hits_per_page: usize,
    },
}

impl Pagination {
    /// The global window `(skip, take)` after Meilisearch's clamping to `max_total_hits`.
    pub fn window(&self, max_total_hits: usize) -> (usize, usize) {
        let (offset, limit) = match *self {
            Pagination::OffsetLimit { offset, limit } => (offset, limit),
            Pagination::Page {
                page,
                hits_per_page,
            } => match page.checked_sub(1) {
                None => (0, 0),
                Some(p) => (p.saturating_mul(hits_per_page), hits_per_page),
            },
        };
        let offset = offset.min(max_total_hits);
        let limit = limit.min(max_total_hits.saturating_sub(offset));
        (offset, limit)
    }

    /// What the proxy must send to every node for this client pagination: always the
    /// node's first hits, enough of them to cover the global window. In page mode the
    /// node is asked for page 1 of `page × hitsPerPage` hits, so it still counts
    /// exhaustively (`totalHits`), which the merge sums.
    pub fn node_query(&self, max_total_hits: usize) -> NodePagination {
        let (skip, take) = self.window(max_total_hits);
        match self {
            Pagination::OffsetLimit { .. } => NodePagination::OffsetLimit {
                offset: 0,
                limit: skip + take,
            },
            Pagination::Page { .. } => NodePagination::Page {
                page: 1,
                hits_per_page: skip + take,
            },
        }
    }
}

/// The pagination parameters to put in each node's request (see [`Pagination::node_query`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodePagination {
    /// Send `"offset": offset, "limit": limit`.
    OffsetLimit {
        /// Always 0.
        offset: usize,
        /// The end of the global window.
        limit: usize,
    },
    /// Send `"page": page, "hitsPerPage": hits_per_page`.
    Page {
        /// Always 1.
        page: usize,
        /// The end of the global window.
        hits_per_page: usize,
    },
}

/// Everything the search merge needs besides the node responses.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The client's pagination.
    pub pagination: Pagination,
    /// The index's `pagination.maxTotalHits` (Meilisearch's default: 1000).
    pub max_total_hits: usize,
    /// Did the client ask for `showRankingScore`? If not, `_rankingScore` is removed.
    pub show_ranking_score: bool,
    /// Did the client ask for `showRankingScoreDetails`? If not, the details are removed.
    pub show_ranking_score_details: bool,
    /// Faceting settings as the client configured them.
    pub facets: FacetSettings,
    /// `requestUid` to write (1.50 writes one on every search; the proxy decides).
    pub request_uid: Option<String>,
    /// The distinct attribute in effect (the query's `distinct`, else the index's
    /// `distinctAttribute`), a top-level attribute. Each node applies it to its own hits;
    /// the merge removes hits whose value another node's better hit already has.
    pub distinct: Option<String>,
    /// Top-level attributes the proxy added to `attributesToRetrieve` for the merge only
    /// (e.g. the distinct attribute): removed from every hit.
    pub drop_attributes: Vec<String>,
}

impl SearchRequest {
    /// Offset/limit pagination with Meilisearch's defaults for everything else.
    pub fn offset_limit(offset: usize, limit: usize) -> SearchRequest {
        SearchRequest {
            pagination: Pagination::OffsetLimit { offset, limit },
            max_total_hits: 1000,
            show_ranking_score: false,
            show_ranking_score_details: false,
            facets: FacetSettings::default(),
            request_uid: None,
            distinct: None,
            drop_attributes: Vec::new(),
        }
    }

    fn strip(&self) -> Strip<'_> {
        Strip {
            ranking_score: !self.show_ranking_score,
            ranking_score_details: !self.show_ranking_score_details,
            extra: &self.drop_attributes,
        }
    }
}

/// One node response: its body, its top-level members and its hits' ranges.
pub(crate) struct Source<'a> {
    pub body: &'a [u8],
    pub top: TopLevel,
    pub hits: Vec<Range<usize>>,
    pub weight: f64,
}

impl<'a> Source<'a> {
    pub(crate) fn scan(
        body: &'a [u8],
        response: usize,
        weight: f64,
    ) -> Result<Source<'a>, MergeError> {
        let top = TopLevel::scan(body, response)?;
        let r = top.get(body, "hits").ok_or(MergeError::Missing {
            response,
            field: "hits",
        })?;
        let mut hits = Vec::new();
        scan::array_elements(body, r.start, &mut hits).map_err(MergeError::malformed(response))?;
        Ok(Source {
            body,
            top,
            hits,
            weight,
        })
    }

    /// Parses the rank key of hit `pos`.
    pub(crate) fn key(
        &self,
        pos: usize,
        response: usize,
        parser: &mut Parser,
    ) -> Result<RankKey, MergeError> {
        let hit = self.hits[pos].clone();
        let mut score = None;
        let mut details = None;
        for m in scan::members(self.body, hit.start).map_err(MergeError::malformed(response))? {
            let m = m.map_err(MergeError::malformed(response))?;
            match &self.body[m.key] {
                b"_rankingScore" => score = parse_f64(&self.body[m.value]),
                b"_rankingScoreDetails" => details = Some(m.value),
                _ => {}
            }
        }
        let global = score.ok_or(MergeError::MissingRankingScore { response, hit: pos })?;
        match details {
            None => Ok(RankKey::from_score(global, self.weight)),
            Some(r) => {
                let v = parser.parse(&self.body[r], response, "_rankingScoreDetails")?;
                Ok(RankKey::from_details(&v, global, self.weight))
            }
        }
    }

    /// The node's total: `estimatedTotalHits` or `totalHits`, whichever it wrote.
    pub(crate) fn total(&self, response: usize) -> Result<u64, MergeError> {
        match self.top.u64(self.body, "totalHits", response)? {
            Some(t) => Ok(t),
            None => self
                .top
                .u64(self.body, "estimatedTotalHits", response)?
                .ok_or(MergeError::Missing {
                    response,
                    field: "estimatedTotalHits",
                }),
        }
    }
}

/// A head of the k-way merge. `Ord` puts the best hit on top of the max-heap.
struct Head {
    key: RankKey,
    /// Tie-breaker before the source (federated: the query's position).
    group: usize,
    src: usize,
    pos: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.key, &other.key)
            .then_with(|| other.group.cmp(&self.group))
            .then_with(|| other.src.cmp(&self.src))
            .then_with(|| other.pos.cmp(&self.pos))
    }
}

/// A selected hit: which response, which position in it, and its key.
#[derive(Debug, Clone)]
pub(crate) struct Picked {
    pub src: usize,
    pub pos: usize,
    pub key: RankKey,
}

/// The outcome of a selection.
pub(crate) struct Selection {
    /// The window, in order.
    pub picked: Vec<Picked>,
    /// Hits dropped as duplicates of the distinct attribute (all responses walked).
    pub rejected: u64,
}

/// Selects the global hits `[skip, skip + take)` from `sources` (pinned hits placed at
/// their positions). `groups[src]` is a tie-breaker that ranks before the source index.
/// With `distinct`, a hit sharing a distinct value with a better hit is dropped, and
/// every response is walked to the end to count the drops (as Meilisearch's federation
/// does).
pub(crate) fn select(
    sources: &[Source<'_>],
    groups: &[usize],
    skip: usize,
    take: usize,
    distinct: Option<&str>,
    parser: &mut Parser,
) -> Result<Selection, MergeError> {
    // Pinned hits are rare: find them with a byte search before parsing anything.
    let mut pins: Vec<Picked> = Vec::new();
    let mut pinned: Vec<Vec<bool>> = Vec::new();
    for (s, src) in sources.iter().enumerate() {
        let mut flags = Vec::new();
        let any = src.hits.first().zip(src.hits.last()).is_some_and(|(a, b)| {
            memchr::memmem::find(&src.body[a.start..b.end], b"\"pin\":{").is_some()
        });
        if any {
            flags = Vec::with_capacity(src.hits.len());
            for pos in 0..src.hits.len() {
                let key = src.key(pos, s, parser)?;
                flags.push(key.pin.is_some());
                if key.pin.is_some() {
                    pins.push(Picked { src: s, pos, key });
                }
            }
        }
        pinned.push(flags);
    }
    let is_pinned = |s: usize, p: usize| pinned[s].get(p).copied().unwrap_or(false);
    let end = skip.saturating_add(take);
    let organic_needed = end;

    let mut heap = BinaryHeap::with_capacity(sources.len());
    let mut next = vec![0usize; sources.len()];
    let mut advance =
        |s: usize, heap: &mut BinaryHeap<Head>, parser: &mut Parser| -> Result<(), MergeError> {
            while next[s] < sources[s].hits.len() && is_pinned(s, next[s]) {
                next[s] += 1;
            }
            if next[s] < sources[s].hits.len() {
                let pos = next[s];
                next[s] += 1;
                let key = sources[s].key(pos, s, parser)?;
                heap.push(Head {
                    key,
                    group: groups.get(s).copied().unwrap_or(0),
                    src: s,
                    pos,
                });
            }
            Ok(())
        };
    for s in 0..sources.len() {
        advance(s, &mut heap, parser)?;
    }
    let mut organic: Vec<Picked> = Vec::with_capacity(organic_needed.min(4096));
    let mut seen: HashSet<String> = HashSet::new();
    let mut rejected = 0u64;
    while organic.len() < organic_needed || distinct.is_some() {
        let Some(head) = heap.pop() else { break };
        let s = head.src;
        advance(s, &mut heap, parser)?;
        if let Some(attr) = distinct {
            let values = distinct_values(&sources[s], head.pos, attr, s, parser)?;
            if values.iter().any(|v| seen.contains(v)) {
                rejected += 1;
                continue;
            }
            seen.extend(values);
            if organic.len() >= organic_needed {
                continue;
            }
        }
        organic.push(Picked {
            src: s,
            pos: head.pos,
            key: head.key,
        });
    }
    if !pins.is_empty() {
        pins.sort_by_key(|p| {
            (
                p.key.pin.unwrap_or(u32::MAX),
                groups.get(p.src).copied().unwrap_or(0),
                p.src,
                p.pos,
            )
        });
        for p in pins {
            let at = (p.key.pin.unwrap_or(u32::MAX) as usize).min(organic.len());
            organic.insert(at, p);
        }
    }
    Ok(Selection {
        picked: organic.into_iter().skip(skip).take(take).collect(),
        rejected,
    })
}

/// The distinct values of a hit: its attribute's scalar values (array elements one by
/// one), strings lower-cased as milli normalizes facet strings. A hit without the
/// attribute (or with null) has none and is never dropped.
fn distinct_values(
    src: &Source<'_>,
    pos: usize,
    attr: &str,
    response: usize,
    parser: &mut Parser,
) -> Result<Vec<String>, MergeError> {
    let Some(r) = member_raw(src.body, src.hits[pos].clone(), attr, response)? else {
        return Ok(Vec::new());
    };
    let v = parser.parse(&src.body[r], response, "distinct attribute")?;
    let mut out = Vec::new();
    let mut push = |v: &simd_json::BorrowedValue<'_>| {
        if let Some(s) = v.as_str() {
            out.push(format!("s{}", s.to_lowercase()));
        } else if let Some(b) = v.as_bool() {
            out.push(format!("s{b}"));
        } else if let Some(n) = v.cast_f64() {
            out.push(format!("n{n}"));
        }
    };
    match v.as_array() {
        Some(items) => items.iter().for_each(&mut push),
        None => push(&v),
    }
    Ok(out)
}

/// Merges node search responses into the body one Meilisearch would have returned.
///
/// `responses` are the bodies of successful (2xx) node answers to the same query, sent
/// with the pagination from [`Pagination::node_query`] and `showRankingScore: true`
/// (plus `showRankingScoreDetails: true` whenever the query has `sort`, a geo sort,
/// vectors, or the client asked for details). The output has Meilisearch's member order:
/// `hits`, `query`, `queryVector`, `processingTimeMs`, the pagination members,
/// `facetDistribution`, `facetStats`, `requestUid`, `semanticHitCount`.
///
/// - hits: the global window, each copied byte for byte minus `_miroir_*` members (also
///   inside `_formatted`) and the ranking members the client did not ask for;
/// - `query`, `queryVector`: copied from the first response;
/// - `processingTimeMs`: the maximum over responses (the nodes ran in parallel);
/// - totals: summed (Meilisearch does not cap them at `maxTotalHits`);
/// - `semanticHitCount`: summed when present.
///
/// # Errors
/// [`MergeError`] when `responses` is empty or a body is not a search response.
pub fn merge_search(responses: &[&[u8]], req: &SearchRequest) -> Result<Vec<u8>, MergeError> {
    let first = *responses
        .first()
        .ok_or(MergeError::Request("no responses to merge"))?;
    let sources = responses
        .iter()
        .enumerate()
        .map(|(i, b)| Source::scan(b, i, 1.0))
        .collect::<Result<Vec<_>, _>>()?;
    let mut parser = Parser::new();
    let (skip, take) = req.pagination.window(req.max_total_hits);
    let selection = select(
        &sources,
        &[],
        skip,
        take,
        req.distinct.as_deref(),
        &mut parser,
    )?;
    let picked = selection.picked;

    let strip = req.strip();
    let hit_bytes: usize = picked
        .iter()
        .map(|p| sources[p.src].hits[p.pos].len())
        .sum();
    let mut out = Vec::with_capacity(hit_bytes + 512);
    out.extend_from_slice(b"{\"hits\":[");
    for (i, p) in picked.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let src = &sources[p.src];
        copy_object(
            src.body,
            src.hits[p.pos].clone(),
            strip,
            None,
            &mut out,
            p.src,
        )?;
    }
    out.extend_from_slice(b"]");
    write_tail(
        &sources,
        first,
        req,
        0,
        selection.rejected,
        &mut out,
        &mut parser,
    )?;
    Ok(out)
}

/// Writes everything after `hits`. `extra_time` is added to the processing time (the
/// second phase of a two-phase search).
fn write_tail(
    sources: &[Source<'_>],
    first: &[u8],
    req: &SearchRequest,
    extra_time: u64,
    rejected: u64,
    out: &mut Vec<u8>,
    parser: &mut Parser,
) -> Result<(), MergeError> {
    let top0 = &sources[0].top;
    out.push(b',');
    push_key(out, "query");
    match top0.get(first, "query") {
        Some(r) => out.extend_from_slice(&first[r]),
        None => out.extend_from_slice(b"\"\""),
    }
    if let Some(r) = top0.get(first, "queryVector") {
        out.push(b',');
        push_key(out, "queryVector");
        out.extend_from_slice(&first[r]);
    }
    let mut time = 0u64;
    let mut total = 0u64;
    let mut semantic: Option<u64> = None;
    let mut facets = FacetAccumulator::default();
    let mut candidates = CandidateCount::default();
    for (i, src) in sources.iter().enumerate() {
        time = time.max(src.top.u64(src.body, "processingTimeMs", i)?.unwrap_or(0));
        let node_total = src.total(i)?;
        total = total.saturating_add(node_total);
        candidates.add(node_total, req.max_total_hits as u64);
        if let Some(s) = src.top.u64(src.body, "semanticHitCount", i)? {
            semantic = Some(semantic.unwrap_or(0) + s);
        }
        facets.add(src.body, &src.top, parser, i)?;
    }
    // Meilisearch 1.50 reports the full count; maxTotalHits only bounds which hits can
    // be returned (checked against a real node: 2000 documents, maxTotalHits 1000,
    // estimatedTotalHits 2000 and totalHits 2000).
    let total = total.saturating_sub(rejected);
    out.push(b',');
    push_key(out, "processingTimeMs");
    push_u64(out, time + extra_time);
    match req.pagination {
        // Meilisearch echoes the client's window even where maxTotalHits cut the hits.
        Pagination::OffsetLimit { offset, limit } => {
            out.push(b',');
            push_key(out, "limit");
            push_u64(out, limit as u64);
            out.push(b',');
            push_key(out, "offset");
            push_u64(out, offset as u64);
            out.push(b',');
            push_key(out, "estimatedTotalHits");
            push_u64(out, total);
        }
        Pagination::Page {
            page,
            hits_per_page,
        } => {
            let total_pages = if hits_per_page == 0 {
                0
            } else {
                total.div_ceil(hits_per_page as u64)
            };
            out.push(b',');
            push_key(out, "hitsPerPage");
            push_u64(out, hits_per_page as u64);
            out.push(b',');
            push_key(out, "page");
            push_u64(out, page as u64);
            out.push(b',');
            push_key(out, "totalPages");
            push_u64(out, total_pages);
            out.push(b',');
            push_key(out, "totalHits");
            push_u64(out, total);
        }
    }
    facets.write(&req.facets, candidates.few(), out);
    if let Some(uid) = &req.request_uid {
        out.push(b',');
        push_key(out, "requestUid");
        push_str_lit(out, uid);
    }
    // `metadata` (Meili-Include-Metadata): the nodes' index uid and primary key are the
    // client's; the first node's `queryUid` stands for the query.
    if let Some(r) = top0.get(first, "metadata") {
        out.push(b',');
        push_key(out, "metadata");
        out.extend_from_slice(&first[r]);
    }
    if let Some(s) = semantic {
        out.push(b',');
        push_key(out, "semanticHitCount");
        push_u64(out, s);
    }
    out.push(b'}');
    Ok(())
}

/// One winner of the first phase of a two-phase search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Winner {
    /// Index of the response (node) that holds the hit.
    pub response: usize,
    /// The primary key value as the node wrote it (raw JSON: `12` or `"a-1"`).
    pub id: Vec<u8>,
}

/// Phase 1 of a two-phase search: ranks id-only responses (nodes asked with
/// `attributesToRetrieve: [<pk>]`, `showRankingScore(Details)`, the same window as a
/// one-phase search) and returns the winners of the global window, in order.
///
/// The proxy then asks each node for its winners only (same query, filter
/// `<pk> IN [ids]`, `limit` = their count, the client's display options) and passes the
/// answers to [`assemble_two_phase`].
///
/// # Errors
/// [`MergeError`] as [`merge_search`], or when a winning hit lacks `primary_key`.
pub fn select_winners(
    responses: &[&[u8]],
    req: &SearchRequest,
    primary_key: &str,
) -> Result<Vec<Winner>, MergeError> {
    let sources = responses
        .iter()
        .enumerate()
        .map(|(i, b)| Source::scan(b, i, 1.0))
        .collect::<Result<Vec<_>, _>>()?;
    let mut parser = Parser::new();
    let (skip, take) = req.pagination.window(req.max_total_hits);
    let selection = select(
        &sources,
        &[],
        skip,
        take,
        req.distinct.as_deref(),
        &mut parser,
    )?;
    selection
        .picked
        .iter()
        .map(|p| {
            let src = &sources[p.src];
            let id = member_raw(src.body, src.hits[p.pos].clone(), primary_key, p.src)?.ok_or(
                MergeError::Missing {
                    response: p.src,
                    field: "primary key",
                },
            )?;
            Ok(Winner {
                response: p.src,
                id: src.body[id].to_vec(),
            })
        })
        .collect()
}

fn member_raw(
    body: &[u8],
    obj: Range<usize>,
    name: &str,
    response: usize,
) -> Result<Option<Range<usize>>, MergeError> {
    for m in scan::members(body, obj.start).map_err(MergeError::malformed(response))? {
        let m = m.map_err(MergeError::malformed(response))?;
        if &body[m.key] == name.as_bytes() {
            return Ok(Some(m.value));
        }
    }
    Ok(None)
}

/// Phase 2 of a two-phase search: builds the final body from the phase-1 responses
/// (totals, facets, query — exactly as [`merge_search`] would) and the phase-2 responses
/// (`fetched[i]` answers node `i`'s winners; a node without winners may send any search
/// response, e.g. an empty one), with hits in `winners` order.
/// `processingTimeMs` is the phase-1 maximum plus the phase-2 maximum.
///
/// # Errors
/// [`MergeError::Request`] when `fetched` does not have one body per phase-1 response or
/// a winner is missing from its node's phase-2 answer; otherwise as [`merge_search`].
pub fn assemble_two_phase(
    phase1: &[&[u8]],
    winners: &[Winner],
    fetched: &[&[u8]],
    req: &SearchRequest,
    primary_key: &str,
) -> Result<Vec<u8>, MergeError> {
    let first = *phase1
        .first()
        .ok_or(MergeError::Request("no responses to merge"))?;
    if fetched.len() != phase1.len() {
        return Err(MergeError::Request(
            "one phase-2 body per phase-1 response is required",
        ));
    }
    let sources = phase1
        .iter()
        .enumerate()
        .map(|(i, b)| Source::scan(b, i, 1.0))
        .collect::<Result<Vec<_>, _>>()?;
    let full = fetched
        .iter()
        .enumerate()
        .map(|(i, b)| Source::scan(b, i, 1.0))
        .collect::<Result<Vec<_>, _>>()?;
    // id → hit range, per node.
    let mut by_id: Vec<std::collections::HashMap<&[u8], Range<usize>>> =
        Vec::with_capacity(full.len());
    let mut time2 = 0u64;
    for (i, src) in full.iter().enumerate() {
        time2 = time2.max(src.top.u64(src.body, "processingTimeMs", i)?.unwrap_or(0));
        let mut map = std::collections::HashMap::with_capacity(src.hits.len());
        for h in &src.hits {
            if let Some(id) = member_raw(src.body, h.clone(), primary_key, i)? {
                map.insert(&src.body[id], h.clone());
            }
        }
        by_id.push(map);
    }
    let strip = req.strip();
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"hits\":[");
    for (i, w) in winners.iter().enumerate() {
        let hit = by_id
            .get(w.response)
            .and_then(|m| m.get(w.id.as_slice()))
            .ok_or(MergeError::Request(
                "a winner is missing from its node's phase-2 answer",
            ))?;
        if i > 0 {
            out.push(b',');
        }
        copy_object(
            full[w.response].body,
            hit.clone(),
            strip,
            None,
            &mut out,
            w.response,
        )?;
    }
    out.extend_from_slice(b"]");
    let mut parser = Parser::new();
    // The duplicates dropped by `distinct` are counted again from phase 1 (deterministic).
    let rejected = match req.distinct.as_deref() {
        None => 0,
        Some(attr) => {
            let (skip, take) = req.pagination.window(req.max_total_hits);
            select(&sources, &[], skip, take, Some(attr), &mut parser)?.rejected
        }
    };
    write_tail(&sources, first, req, time2, rejected, &mut out, &mut parser)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(out: Vec<u8>) -> String {
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn pinned_hit_is_placed_at_its_position_whatever_its_score() {
        let a = br#"{"hits":[{"id":1,"_rankingScore":0.9},{"id":2,"_rankingScore":0.8}],"query":"","processingTimeMs":0,"limit":3,"offset":0,"estimatedTotalHits":2}"#;
        let b = br#"{"hits":[{"id":9,"_rankingScore":0.1,"_rankingScoreDetails":{"pin":{"order":0,"position":0}}},{"id":3,"_rankingScore":0.7}],"query":"","processingTimeMs":0,"limit":3,"offset":0,"estimatedTotalHits":2}"#;
        let out = merge_search(&[a, b], &SearchRequest::offset_limit(0, 3)).expect("merge");
        assert_eq!(
            s(out),
            r#"{"hits":[{"id":9},{"id":1},{"id":2}],"query":"","processingTimeMs":0,"limit":3,"offset":0,"estimatedTotalHits":4}"#
        );
    }

    #[test]
    fn two_phase_assembles_fetched_hits_in_winner_order_with_phase_one_totals() {
        let p1a = br#"{"hits":[{"id":1,"_rankingScore":0.9},{"id":2,"_rankingScore":0.5}],"query":"q","processingTimeMs":3,"limit":2,"offset":0,"estimatedTotalHits":10}"#;
        let p1b = br#"{"hits":[{"id":"x","_rankingScore":0.7}],"query":"q","processingTimeMs":4,"limit":2,"offset":0,"estimatedTotalHits":5}"#;
        let req = SearchRequest::offset_limit(0, 2);
        let winners = select_winners(&[p1a, p1b], &req, "id").expect("phase 1");
        assert_eq!(
            winners,
            vec![
                Winner {
                    response: 0,
                    id: b"1".to_vec()
                },
                Winner {
                    response: 1,
                    id: b"\"x\"".to_vec()
                }
            ]
        );
        let p2a = br#"{"hits":[{"id":1,"t":"one","_miroir_shard":0,"_rankingScore":0.9}],"query":"q","processingTimeMs":1,"limit":1,"offset":0,"estimatedTotalHits":1}"#;
        let p2b = br#"{"hits":[{"id":"x","t":"ex","_miroir_shard":1,"_rankingScore":0.7}],"query":"q","processingTimeMs":2,"limit":1,"offset":0,"estimatedTotalHits":1}"#;
        let out =
            assemble_two_phase(&[p1a, p1b], &winners, &[p2a, p2b], &req, "id").expect("phase 2");
        assert_eq!(
            s(out),
            r#"{"hits":[{"id":1,"t":"one"},{"id":"x","t":"ex"}],"query":"q","processingTimeMs":6,"limit":2,"offset":0,"estimatedTotalHits":15}"#
        );
    }

    #[test]
    fn distinct_drops_a_worse_hit_with_a_value_another_node_already_gave() {
        let a = br#"{"hits":[{"id":1,"g":"X","_rankingScore":0.9},{"id":2,"g":"y","_rankingScore":0.5}],"query":"","processingTimeMs":0,"limit":3,"offset":0,"estimatedTotalHits":2}"#;
        let b = br#"{"hits":[{"id":3,"g":"x","_rankingScore":0.7},{"id":4,"g":null,"_rankingScore":0.6}],"query":"","processingTimeMs":0,"limit":3,"offset":0,"estimatedTotalHits":2}"#;
        let mut req = SearchRequest::offset_limit(0, 3);
        req.distinct = Some("g".to_string());
        req.drop_attributes = vec!["g".to_string()];
        let out = merge_search(&[a, b], &req).expect("merge");
        assert_eq!(
            s(out),
            r#"{"hits":[{"id":1},{"id":4},{"id":2}],"query":"","processingTimeMs":0,"limit":3,"offset":0,"estimatedTotalHits":3}"#
        );
    }

    #[test]
    fn request_uid_and_first_metadata_follow_the_facets() {
        let a = br#"{"hits":[],"query":"","processingTimeMs":0,"limit":1,"offset":0,"estimatedTotalHits":0,"metadata":{"queryUid":"u1","indexUid":"m","primaryKey":"id"}}"#;
        let b = br#"{"hits":[],"query":"","processingTimeMs":0,"limit":1,"offset":0,"estimatedTotalHits":0,"metadata":{"queryUid":"u2","indexUid":"m","primaryKey":"id"}}"#;
        let mut req = SearchRequest::offset_limit(0, 1);
        req.request_uid = Some("r-1".to_string());
        let out = merge_search(&[a, b], &req).expect("merge");
        assert_eq!(
            s(out),
            r#"{"hits":[],"query":"","processingTimeMs":0,"limit":1,"offset":0,"estimatedTotalHits":0,"requestUid":"r-1","metadata":{"queryUid":"u1","indexUid":"m","primaryKey":"id"}}"#
        );
    }

    #[test]
    fn node_query_asks_every_node_for_the_head_of_the_window() {
        let ol = Pagination::OffsetLimit {
            offset: 30,
            limit: 20,
        };
        assert_eq!(
            ol.node_query(1000),
            NodePagination::OffsetLimit {
                offset: 0,
                limit: 50
            }
        );
        assert_eq!(
            ol.node_query(40),
            NodePagination::OffsetLimit {
                offset: 0,
                limit: 40
            }
        );
        let page = Pagination::Page {
            page: 3,
            hits_per_page: 10,
        };
        assert_eq!(
            page.node_query(1000),
            NodePagination::Page {
                page: 1,
                hits_per_page: 30
            }
        );
        let page0 = Pagination::Page {
            page: 0,
            hits_per_page: 10,
        };
        assert_eq!(
            page0.node_query(1000),
            NodePagination::Page {
                page: 1,
                hits_per_page: 0
            }
        );
    }
}
