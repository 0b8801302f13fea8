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

use crate::body::{copy_object, Parser, Strip};
use crate::error::MergeError;
use crate::facets::{write_stats, CandidateCount, FacetAccumulator, FacetOrder, FacetSettings};
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
    out.push(b',');
    push_key(&mut out, "processingTimeMs");
    push_u64(&mut out, time);
    match req.pagination {
        Pagination::OffsetLimit { .. } => {
            out.extend_from_slice(b",\"limit\":");
            push_u64(&mut out, take as u64);
            out.extend_from_slice(b",\"offset\":");
            push_u64(&mut out, skip as u64);
            out.extend_from_slice(b",\"estimatedTotalHits\":");
            push_u64(&mut out, total);
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
            push_u64(&mut out, hits_per_page as u64);
            out.extend_from_slice(b",\"page\":");
            push_u64(&mut out, page as u64);
            out.extend_from_slice(b",\"totalPages\":");
            push_u64(&mut out, pages);
            out.extend_from_slice(b",\"totalHits\":");
            push_u64(&mut out, total);
        }
    }
    if let Some(max) = req.merge_facets {
        if !by_index.is_empty() {
            let per_index: Vec<(&FacetAccumulator, &FacetSettings, bool)> = by_index
                .iter()
                .map(|(uid, (acc, owner))| {
                    let few = index_candidates.get(uid).is_some_and(CandidateCount::few);
                    (acc, &queries[*owner].facets, few)
                })
                .collect();
            write_merged_facets(&per_index, max, &mut out);
        }
    } else if !by_index.is_empty() {
        out.push(b',');
        push_key(&mut out, "facetsByIndex");
        out.push(b'{');
        for (i, (uid, (acc, owner))) in by_index.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_str_lit(&mut out, uid);
            out.push(b':');
            let few = index_candidates.get(uid).is_some_and(CandidateCount::few);
            acc.write_by_index(&queries[*owner].facets, few, &mut out);
        }
        out.push(b'}');
    }
    if let Some(uid) = &req.request_uid {
        out.extend_from_slice(b",\"requestUid\":");
        push_str_lit(&mut out, uid);
    }
    if let Some(s) = semantic {
        out.extend_from_slice(b",\"semanticHitCount\":");
        push_u64(&mut out, s);
    }
    out.push(b'}');
    Ok(out)
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
}
