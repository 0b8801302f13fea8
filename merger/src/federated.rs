//! Federated multi-search (`POST /multi-search` with `federation`): the hits of several
//! queries, possibly on several indexes, merged into one list.
//!
//! Each query's node responses are merged together with the query's weight applied to
//! every score (`weightedRankingScore = _rankingScore × weight`); ties go to the query
//! with the smaller position, then to the smaller response index. Each hit gets
//! `_federation: {indexUid, queriesPosition, weightedRankingScore}` after its document
//! fields. Totals are summed without the `maxTotalHits` cap (as Meilisearch's federation
//! does). Facets: with `mergeFacets`, one `facetDistribution`/`facetStats` over all
//! indexes; otherwise `facetsByIndex: {uid: {distribution, stats}}` for every index
//! whose queries asked for facets.

use std::collections::BTreeMap;

use crate::body::{copy_object, parse_u64, Parser, Strip, TopLevel};
use crate::error::MergeError;
use crate::facets::{write_stats, CandidateCount, FacetAccumulator, FacetOrder, FacetSettings};
use crate::scan;
use crate::search::{select, Pagination, Source};
use crate::write::{push_f64, push_key, push_str_lit, push_u64};

/// One query of a federated multi-search and its node responses.
#[derive(Debug, Clone)]
pub struct FederatedQuery<'a> {
    /// The query's `indexUid`.
    pub index_uid: String,
    /// `federationOptions.weight` (default 1.0).
    pub weight: f64,
    /// The query's `showRankingScore`.
    pub show_ranking_score: bool,
    /// The query's `showRankingScoreDetails`.
    pub show_ranking_score_details: bool,
    /// The index's faceting settings (used for `facetsByIndex`).
    pub facets: FacetSettings,
    /// Node responses to this query (each asked for offset 0 and
    /// [`Pagination::node_query`]'s limit, scores on).
    pub responses: Vec<&'a [u8]>,
}

/// The `federation` object of the request.
#[derive(Debug, Clone, PartialEq)]
pub struct FederatedRequest {
    /// `offset`/`limit` (defaults 0/20) or `page`/`hitsPerPage`.
    pub pagination: Pagination,
    /// `federation.mergeFacets`: `None` for `facetsByIndex`, `Some(max)` to merge the
    /// facets of all indexes, `max` being `mergeFacets.maxValuesPerFacet` (if given).
    pub merge_facets: Option<Option<usize>>,
    /// `requestUid` to write.
    pub request_uid: Option<String>,
    /// `federation.distinct`: drop hits whose value a better hit already has (totals
    /// reduced by the drops).
    pub distinct: Option<String>,
}

/// Merges a federated multi-search. Queries are given in request order (their index in
/// `queries` is `queriesPosition`).
///
/// # Errors
/// [`MergeError`] when a body is not a search response; response indexes in errors count
/// across all queries in order.
pub fn merge_federated(
    queries: &[FederatedQuery<'_>],
    req: &FederatedRequest,
) -> Result<Vec<u8>, MergeError> {
    let mut sources = Vec::new();
    let mut groups = Vec::new();
    for (q, query) in queries.iter().enumerate() {
        for body in &query.responses {
            let n = sources.len();
            sources.push(Source::scan(body, n, query.weight)?);
            groups.push(q);
        }
    }
    let mut parser = Parser::new();
    let (skip, take) = req.pagination.window(usize::MAX);
    let selection = select(
        &sources,
        &groups,
        skip,
        take,
        req.distinct.as_deref(),
        &mut parser,
    )?;
    let picked = selection.picked;

    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"hits\":[");
    let mut fed = Vec::with_capacity(128);
    for (i, p) in picked.iter().enumerate() {
        let q = &queries[groups[p.src]];
        fed.clear();
        fed.extend_from_slice(b"\"_federation\":{\"indexUid\":");
        push_str_lit(&mut fed, &q.index_uid);
        fed.extend_from_slice(b",\"queriesPosition\":");
        push_u64(&mut fed, groups[p.src] as u64);
        fed.extend_from_slice(b",\"weightedRankingScore\":");
        push_f64(&mut fed, p.key.global * q.weight);
        fed.push(b'}');
        if i > 0 {
            out.push(b',');
        }
        let strip = Strip {
            ranking_score: !q.show_ranking_score,
            ranking_score_details: !q.show_ranking_score_details,
            extra: &[],
        };
        let src = &sources[p.src];
        copy_object(
            src.body,
            src.hits[p.pos].clone(),
            strip,
            Some(&fed),
            &mut out,
            p.src,
        )?;
    }
    out.push(b']');

    let mut time = 0u64;
    let mut total = 0u64;
    let mut semantic: Option<u64> = None;
    let mut index_candidates: BTreeMap<&str, CandidateCount> = BTreeMap::new();
    let mut by_index: BTreeMap<&str, (FacetAccumulator, usize)> = BTreeMap::new();
    for (i, src) in sources.iter().enumerate() {
        let q = groups[i];
        time = time.max(src.top.u64(src.body, "processingTimeMs", i)?.unwrap_or(0));
        let node_total = src.total(i)?;
        total = total.saturating_add(node_total);
        index_candidates
            .entry(queries[q].index_uid.as_str())
            .or_default()
            .add(node_total, u64::MAX);
        if let Some(s) = src.top.u64(src.body, "semanticHitCount", i)? {
            semantic = Some(semantic.unwrap_or(0) + s);
        }
        if src.top.get(src.body, "facetDistribution").is_none()
            && src.top.get(src.body, "facetStats").is_none()
        {
            continue;
        }
        // One facet computation per index: the first query on it that asked for facets.
        let (acc, owner) = by_index
            .entry(queries[q].index_uid.as_str())
            .or_insert_with(|| (FacetAccumulator::default(), q));
        if *owner == q {
            acc.add(src.body, &src.top, &mut parser, i)?;
        }
    }
    let total = total.saturating_sub(selection.rejected);
    let facets: Vec<IndexFacets<'_>> = by_index
        .iter()
        .map(|(uid, (acc, owner))| IndexFacets {
            uid,
            acc,
            settings: &queries[*owner].facets,
            few: index_candidates.get(uid).is_some_and(CandidateCount::few),
        })
        .collect();
    write_tail(
        &mut out,
        req,
        Tail {
            time,
            total,
            skip,
            take,
            semantic,
        },
        &facets,
    );
    Ok(out)
}

/// The facets gathered for one index of a federated search.
struct IndexFacets<'a> {
    uid: &'a str,
    acc: &'a FacetAccumulator,
    settings: &'a FacetSettings,
    /// Would one node have used its small-candidates path for this index?
    few: bool,
}

/// The numbers written after the hits of a federated answer.
struct Tail {
    time: u64,
    total: u64,
    skip: usize,
    take: usize,
    semantic: Option<u64>,
}

/// Writes everything after `hits` and closes the object: `processingTimeMs`, the
/// pagination members, `facetsByIndex` or the merged facets, `requestUid`,
/// `semanticHitCount`.
fn write_tail(out: &mut Vec<u8>, req: &FederatedRequest, tail: Tail, facets: &[IndexFacets<'_>]) {
    let Tail {
        time,
        total,
        skip,
        take,
        semantic,
    } = tail;
    out.push(b',');
    push_key(out, "processingTimeMs");
    push_u64(out, time);
    match req.pagination {
        Pagination::OffsetLimit { .. } => {
            out.extend_from_slice(b",\"limit\":");
            push_u64(out, take as u64);
            out.extend_from_slice(b",\"offset\":");
            push_u64(out, skip as u64);
            out.extend_from_slice(b",\"estimatedTotalHits\":");
            push_u64(out, total);
        }
        Pagination::Page {
            page,
            hits_per_page,
        } => {
            let pages = if hits_per_page == 0 {
                0
            } else {
                total.div_ceil(hits_per_page as u64)
            };
            out.extend_from_slice(b",\"hitsPerPage\":");
            push_u64(out, hits_per_page as u64);
            out.extend_from_slice(b",\"page\":");
            push_u64(out, page as u64);
            out.extend_from_slice(b",\"totalPages\":");
            push_u64(out, pages);
            out.extend_from_slice(b",\"totalHits\":");
            push_u64(out, total);
        }
    }
    if let Some(max) = req.merge_facets {
        if !facets.is_empty() {
            let per_index: Vec<(&FacetAccumulator, &FacetSettings, bool)> =
                facets.iter().map(|f| (f.acc, f.settings, f.few)).collect();
            write_merged_facets(&per_index, max, out);
        }
    } else if !facets.is_empty() {
        out.push(b',');
        push_key(out, "facetsByIndex");
        out.push(b'{');
        for (i, f) in facets.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_str_lit(out, f.uid);
            out.push(b':');
            f.acc.write_by_index(f.settings, f.few, out);
        }
        out.push(b'}');
    }
    if let Some(uid) = &req.request_uid {
        out.extend_from_slice(b",\"requestUid\":");
        push_str_lit(out, uid);
    }
    if let Some(s) = semantic {
        out.extend_from_slice(b",\"semanticHitCount\":");
        push_u64(out, s);
    }
    out.push(b'}');
}

/// One query of a federated multi-search that the nodes federate themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct FederatedNodeQuery {
    /// The query's `indexUid`.
    pub index_uid: String,
    /// `federationOptions.weight` (default 1.0).
    pub weight: f64,
    /// The query's `showRankingScore`.
    pub show_ranking_score: bool,
    /// The query's `showRankingScoreDetails`.
    pub show_ranking_score_details: bool,
}

/// Merges the answers of nodes that each ran the whole federated multi-search over
/// their own documents (every query with `showRankingScore` and
/// `showRankingScoreDetails` on, the federation asked for offset 0 and
/// [`Pagination::node_query`]'s window, `facetsByIndex` without `mergeFacets`).
///
/// This is how Meilisearch's own network search federates remote answers. Each node
/// already dropped the documents two queries on one index both matched and counted
/// each index's candidates once, so with disjoint documents per node the totals and
/// the facet counts add up. Every hit carries the node's `_federation`, whose
/// `queriesPosition` says which query (and weight) it answers; each node's hits of one
/// query are in that query's order, and the lists are merged with the weighted
/// rule-by-rule comparison, ties to the lower query position, then to the earlier
/// node. `index_facets` holds each index's faceting settings (ordering and truncation
/// of its `facetsByIndex` entry). Whether an index had few candidates — which decides
/// Meilisearch's facet ordering path — is judged from the nodes' total over all
/// indexes, as a federated answer does not report per-index totals.
///
/// # Errors
/// [`MergeError`] when a body is not a federated search response or a hit names a
/// query that does not exist.
pub fn merge_federated_nodes(
    responses: &[&[u8]],
    queries: &[FederatedNodeQuery],
    index_facets: &BTreeMap<String, FacetSettings>,
    req: &FederatedRequest,
) -> Result<Vec<u8>, MergeError> {
    let mut sources = Vec::new();
    let mut groups = Vec::new();
    let mut tops = Vec::with_capacity(responses.len());
    for (r, body) in responses.iter().enumerate() {
        let whole = Source::scan(body, r, 1.0)?;
        let mut by_query: Vec<Vec<std::ops::Range<usize>>> = vec![Vec::new(); queries.len()];
        for hit in &whole.hits {
            let position = query_position(body, hit.clone(), r)?
                .filter(|q| *q < queries.len())
                .ok_or(MergeError::Missing {
                    response: r,
                    field: "_federation.queriesPosition",
                })?;
            by_query[position].push(hit.clone());
        }
        for (q, hits) in by_query.into_iter().enumerate() {
            if hits.is_empty() {
                continue;
            }
            sources.push(Source {
                body,
                top: TopLevel::scan(body, r)?,
                hits,
                weight: queries[q].weight,
            });
            groups.push(q);
        }
        tops.push(whole.top);
    }
    let mut parser = Parser::new();
    let (skip, take) = req.pagination.window(usize::MAX);
    let selection = select(
        &sources,
        &groups,
        skip,
        take,
        req.distinct.as_deref(),
        &mut parser,
    )?;

    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"hits\":[");
    for (i, p) in selection.picked.iter().enumerate() {
        let q = &queries[groups[p.src]];
        if i > 0 {
            out.push(b',');
        }
        let strip = Strip {
            ranking_score: !q.show_ranking_score,
            ranking_score_details: !q.show_ranking_score_details,
            extra: &[],
        };
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
    out.push(b']');

    let mut time = 0u64;
    let mut total = 0u64;
    let mut semantic: Option<u64> = None;
    let mut candidates = CandidateCount::default();
    let mut by_index: BTreeMap<String, FacetAccumulator> = BTreeMap::new();
    for (r, (body, top)) in responses.iter().zip(&tops).enumerate() {
        time = time.max(top.u64(body, "processingTimeMs", r)?.unwrap_or(0));
        let node_total = match top.u64(body, "totalHits", r)? {
            Some(t) => t,
            None => top
                .u64(body, "estimatedTotalHits", r)?
                .ok_or(MergeError::Missing {
                    response: r,
                    field: "estimatedTotalHits",
                })?,
        };
        total = total.saturating_add(node_total);
        candidates.add(node_total, u64::MAX);
        if let Some(s) = top.u64(body, "semanticHitCount", r)? {
            semantic = Some(semantic.unwrap_or(0) + s);
        }
        let Some(range) = top.get(body, "facetsByIndex") else {
            continue;
        };
        let bad = MergeError::malformed(r);
        for m in scan::members(body, range.start).map_err(&bad)? {
            let m = m.map_err(&bad)?;
            let uid = String::from_utf8_lossy(&body[m.key.clone()]).into_owned();
            let acc = by_index.entry(uid).or_default();
            for part in scan::members(body, m.value.start).map_err(&bad)? {
                let part = part.map_err(&bad)?;
                match &body[part.key.clone()] {
                    b"distribution" => acc.add_distribution(&body[part.value], &mut parser, r)?,
                    b"stats" => acc.add_stats(&body[part.value], &mut parser, r)?,
                    _ => {}
                }
            }
        }
    }
    let total = total.saturating_sub(selection.rejected);
    let default_settings = FacetSettings::default();
    let facets: Vec<IndexFacets<'_>> = by_index
        .iter()
        .map(|(uid, acc)| IndexFacets {
            uid,
            acc,
            settings: index_facets.get(uid).unwrap_or(&default_settings),
            few: candidates.few(),
        })
        .collect();
    write_tail(
        &mut out,
        req,
        Tail {
            time,
            total,
            skip,
            take,
            semantic,
        },
        &facets,
    );
    Ok(out)
}

/// `_federation.queriesPosition` of a hit.
fn query_position(
    body: &[u8],
    hit: std::ops::Range<usize>,
    response: usize,
) -> Result<Option<usize>, MergeError> {
    let bad = MergeError::malformed(response);
    for m in scan::members(body, hit.start).map_err(&bad)? {
        let m = m.map_err(&bad)?;
        if &body[m.key] != b"_federation" {
            continue;
        }
        for f in scan::members(body, m.value.start).map_err(&bad)? {
            let f = f.map_err(&bad)?;
            if &body[f.key] == b"queriesPosition" {
                return Ok(parse_u64(&body[f.value]).map(|p| p as usize));
            }
        }
    }
    Ok(None)
}

/// One facet's values and counts, in output order.
type FacetValues<'a> = Vec<(&'a str, u64)>;

/// `mergeFacets`: Meilisearch merges the indexes' finished distributions by exact value
/// (no normalization across indexes), orders each facet by the first index's
/// `sortFacetValuesBy` for it — alpha as plain byte order of the values, count as
/// descending count (ties: ascending value; Meilisearch leaves them unspecified) — and
/// truncates to `mergeFacets.maxValuesPerFacet` if given. Stats: min of mins, max of maxes.
fn write_merged_facets(
    per_index: &[(&FacetAccumulator, &FacetSettings, bool)],
    max: Option<usize>,
    out: &mut Vec<u8>,
) {
    let mut distribution: BTreeMap<&str, (FacetOrder, FacetValues<'_>)> = BTreeMap::new();
    let mut stats: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut any_distribution = false;
    let mut any_stats = false;
    for (acc, settings, few) in per_index {
        for (facet, values) in acc.ordered(settings, *few) {
            any_distribution = true;
            let (_, merged) = distribution
                .entry(facet)
                .or_insert_with(|| (settings.order_of(facet), Vec::new()));
            for (value, count) in values {
                match merged.iter_mut().find(|(v, _)| *v == value) {
                    Some((_, c)) => *c += count,
                    None => merged.push((value, count)),
                }
            }
        }
        if let Some(index_stats) = acc.stats() {
            any_stats = true;
            for (facet, (min, max)) in index_stats {
                let e = stats.entry(facet.clone()).or_insert((*min, *max));
                e.0 = e.0.min(*min);
                e.1 = e.1.max(*max);
            }
        }
    }
    if any_distribution {
        out.extend_from_slice(b",\"facetDistribution\":{");
        for (i, (facet, (order, values))) in distribution.iter_mut().enumerate() {
            match order {
                FacetOrder::Alpha => values.sort_by(|a, b| a.0.cmp(b.0)),
                FacetOrder::Count => values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0))),
            }
            if let Some(max) = max {
                values.truncate(max);
            }
            if i > 0 {
                out.push(b',');
            }
            push_str_lit(out, facet);
            out.extend_from_slice(b":{");
            for (j, (value, count)) in values.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                push_str_lit(out, value);
                out.push(b':');
                push_u64(out, *count);
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
    if any_stats {
        out.extend_from_slice(b",\"facetStats\":");
        write_stats(&stats, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q<'a>(uid: &str, weight: f64, responses: Vec<&'a [u8]>) -> FederatedQuery<'a> {
        FederatedQuery {
            index_uid: uid.into(),
            weight,
            show_ranking_score: false,
            show_ranking_score_details: false,
            facets: FacetSettings::default(),
            responses,
        }
    }

    #[test]
    fn weights_reorder_hits_across_indexes_and_federation_is_added() {
        let movies = br#"{"hits":[{"id":1,"_rankingScore":0.9}],"query":"a","processingTimeMs":1,"limit":2,"offset":0,"estimatedTotalHits":1}"#;
        let books = br#"{"hits":[{"id":7,"_rankingScore":0.6}],"query":"a","processingTimeMs":3,"limit":2,"offset":0,"estimatedTotalHits":1}"#;
        let req = FederatedRequest {
            pagination: Pagination::OffsetLimit {
                offset: 0,
                limit: 2,
            },
            merge_facets: None,
            request_uid: None,
            distinct: None,
        };
        let out = merge_federated(
            &[q("movies", 1.0, vec![movies]), q("books", 2.0, vec![books])],
            &req,
        )
        .expect("merge");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"hits":[{"id":7,"_federation":{"indexUid":"books","queriesPosition":1,"weightedRankingScore":1.2}},{"id":1,"_federation":{"indexUid":"movies","queriesPosition":0,"weightedRankingScore":0.9}}],"processingTimeMs":3,"limit":2,"offset":0,"estimatedTotalHits":2}"#
        );
    }

    #[test]
    fn facets_by_index_sums_the_shards_of_each_index() {
        let s1 = br#"{"hits":[],"query":"","processingTimeMs":1,"limit":2,"offset":0,"estimatedTotalHits":0,"facetDistribution":{"g":{"a":1}},"facetStats":{}}"#;
        let s2 = br#"{"hits":[],"query":"","processingTimeMs":1,"limit":2,"offset":0,"estimatedTotalHits":0,"facetDistribution":{"g":{"a":2,"b":1}},"facetStats":{}}"#;
        let req = FederatedRequest {
            pagination: Pagination::OffsetLimit {
                offset: 0,
                limit: 2,
            },
            merge_facets: None,
            request_uid: None,
            distinct: None,
        };
        let out = merge_federated(&[q("m", 1.0, vec![s1, s2])], &req).expect("merge");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"hits":[],"processingTimeMs":1,"limit":2,"offset":0,"estimatedTotalHits":0,"facetsByIndex":{"m":{"distribution":{"g":{"a":3,"b":1}},"stats":{}}}}"#
        );
    }

    #[test]
    fn node_federations_merge_by_weighted_score_and_sum_totals_and_facets() {
        let node_a = br#"{"hits":[{"id":1,"_miroir_shard":3,"_federation":{"indexUid":"movies","queriesPosition":0,"weightedRankingScore":0.9},"_rankingScore":0.9},{"id":7,"_federation":{"indexUid":"books","queriesPosition":1,"weightedRankingScore":0.4},"_rankingScore":0.2}],"processingTimeMs":2,"limit":3,"offset":0,"estimatedTotalHits":5,"facetsByIndex":{"movies":{"distribution":{"g":{"a":2}},"stats":{}}},"requestUid":"x"}"#;
        let node_b = br#"{"hits":[{"id":8,"_federation":{"indexUid":"books","queriesPosition":1,"weightedRankingScore":1.4},"_rankingScore":0.7},{"id":2,"_federation":{"indexUid":"movies","queriesPosition":0,"weightedRankingScore":0.5},"_rankingScore":0.5}],"processingTimeMs":4,"limit":3,"offset":0,"estimatedTotalHits":4,"facetsByIndex":{"movies":{"distribution":{"g":{"a":1,"b":1}},"stats":{}}},"requestUid":"y"}"#;
        let queries = [
            FederatedNodeQuery {
                index_uid: "movies".into(),
                weight: 1.0,
                show_ranking_score: true,
                show_ranking_score_details: false,
            },
            FederatedNodeQuery {
                index_uid: "books".into(),
                weight: 2.0,
                show_ranking_score: false,
                show_ranking_score_details: false,
            },
        ];
        let req = FederatedRequest {
            pagination: Pagination::OffsetLimit {
                offset: 1,
                limit: 2,
            },
            merge_facets: None,
            request_uid: Some("u".into()),
            distinct: None,
        };
        let out = merge_federated_nodes(&[node_a, node_b], &queries, &BTreeMap::new(), &req)
            .expect("merge");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"hits":[{"id":1,"_federation":{"indexUid":"movies","queriesPosition":0,"weightedRankingScore":0.9},"_rankingScore":0.9},{"id":2,"_federation":{"indexUid":"movies","queriesPosition":0,"weightedRankingScore":0.5},"_rankingScore":0.5}],"processingTimeMs":4,"limit":2,"offset":1,"estimatedTotalHits":9,"facetsByIndex":{"movies":{"distribution":{"g":{"a":3,"b":1}},"stats":{}}},"requestUid":"u"}"#
        );
        let paged = FederatedRequest {
            pagination: Pagination::Page {
                page: 2,
                hits_per_page: 3,
            },
            merge_facets: Some(Some(1)),
            request_uid: None,
            distinct: None,
        };
        let out = merge_federated_nodes(&[node_a, node_b], &queries, &BTreeMap::new(), &paged)
            .expect("merge");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"hits":[{"id":7,"_federation":{"indexUid":"books","queriesPosition":1,"weightedRankingScore":0.4}}],"processingTimeMs":4,"hitsPerPage":3,"page":2,"totalPages":3,"totalHits":9,"facetDistribution":{"g":{"a":3}},"facetStats":{}}"#
        );
    }

    #[test]
    fn a_hit_without_its_query_is_an_error() {
        let node = br#"{"hits":[{"id":1,"_rankingScore":0.9}],"processingTimeMs":2,"limit":3,"offset":0,"estimatedTotalHits":1}"#;
        let req = FederatedRequest {
            pagination: Pagination::OffsetLimit {
                offset: 0,
                limit: 2,
            },
            merge_facets: None,
            request_uid: None,
            distinct: None,
        };
        assert!(merge_federated_nodes(&[node], &[], &BTreeMap::new(), &req).is_err());
    }
}
