//! Facets: `facetDistribution` counts summed per value and re-ordered and truncated the
//! way Meilisearch orders them, `facetStats` min/max merged, and the facet-search merge
//! (`POST /indexes/{uid}/facet-search`).
//!
//! Ordering of distribution values (as milli produces them): number values come before
//! string values; by default (`alpha`) numbers ascend numerically and strings ascend by
//! their lower-cased form; with `count`, each group is ordered by descending count, ties
//! by descending value. `maxValuesPerFacet` then truncates the whole list.

use std::collections::{BTreeMap, HashMap};

use simd_json::prelude::*;

use crate::body::{Parser, TopLevel};
use crate::error::MergeError;
use crate::write::{push_f64, push_key, push_str_lit, push_u64};

/// How a facet's values are ordered (`faceting.sortFacetValuesBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FacetOrder {
    /// Lexicographic (Meilisearch's default).
    #[default]
    Alpha,
    /// By descending count.
    Count,
}

/// The index's faceting settings as the client configured them (not the node's values:
/// see `docs/merging.md` on why nodes get a larger `maxValuesPerFacet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetSettings {
    /// `faceting.maxValuesPerFacet` (Meilisearch's default is 100).
    pub max_values_per_facet: usize,
    /// `faceting.sortFacetValuesBy`: facet name (or `*`) → order. Names not listed use `*`,
    /// and alpha without `*`.
    pub sort_facet_values_by: Vec<(String, FacetOrder)>,
}

impl Default for FacetSettings {
    fn default() -> Self {
        FacetSettings {
            max_values_per_facet: 100,
            sort_facet_values_by: Vec::new(),
        }
    }
}

impl FacetSettings {
    /// The order that applies to `facet`.
    pub fn order_of(&self, facet: &str) -> FacetOrder {
        let find = |name: &str| self.sort_facet_values_by.iter().find(|(n, _)| n == name);
        find(facet)
            .or_else(|| find("*"))
            .map(|(_, o)| *o)
            .unwrap_or_default()
    }
}

/// Summed counts of one facet, keyed by the normalized (lower-cased) value as milli keys
/// them; the spelling shown is the one of the first response that had the value.
#[derive(Default)]
struct Counts {
    values: HashMap<String, (String, u64)>,
}

impl Counts {
    fn add(&mut self, value: &str, count: u64) {
        let e = self
            .values
            .entry(value.to_lowercase())
            .or_insert_with(|| (value.to_string(), 0));
        e.1 += count;
    }
}

/// Accumulates `facetDistribution` and `facetStats` over responses.
#[derive(Default)]
pub(crate) struct FacetAccumulator {
    distribution: Option<BTreeMap<String, Counts>>,
    stats: Option<BTreeMap<String, (f64, f64)>>,
}

impl FacetAccumulator {
    /// Adds the facet members of one response (absent members are skipped).
    pub(crate) fn add(
        &mut self,
        body: &[u8],
        top: &TopLevel,
        parser: &mut Parser,
        response: usize,
    ) -> Result<(), MergeError> {
        if let Some(r) = top.get(body, "facetDistribution") {
            self.add_distribution(&body[r], parser, response)?;
        }
        if let Some(r) = top.get(body, "facetStats") {
            self.add_stats(&body[r], parser, response)?;
        }
        Ok(())
    }

    pub(crate) fn add_distribution(
        &mut self,
        raw: &[u8],
        parser: &mut Parser,
        response: usize,
    ) -> Result<(), MergeError> {
        let field = "facetDistribution";
        let v = parser.parse(raw, response, field)?;
        let obj = v
            .as_object()
            .ok_or(MergeError::Missing { response, field })?;
        let dist = self.distribution.get_or_insert_with(BTreeMap::new);
        for (facet, values) in obj.iter() {
            let counts = dist.entry(facet.to_string()).or_default();
            let values = values
                .as_object()
                .ok_or(MergeError::Missing { response, field })?;
            for (value, count) in values.iter() {
                let count = count
                    .as_u64()
                    .ok_or(MergeError::Missing { response, field })?;
                counts.add(value, count);
            }
        }
        Ok(())
    }

    pub(crate) fn add_stats(
        &mut self,
        raw: &[u8],
        parser: &mut Parser,
        response: usize,
    ) -> Result<(), MergeError> {
        let field = "facetStats";
        let v = parser.parse(raw, response, field)?;
        let obj = v
            .as_object()
            .ok_or(MergeError::Missing { response, field })?;
        let stats = self.stats.get_or_insert_with(BTreeMap::new);
        for (facet, s) in obj.iter() {
            let min = s.get("min").and_then(|x| x.cast_f64());
            let max = s.get("max").and_then(|x| x.cast_f64());
            let (Some(min), Some(max)) = (min, max) else {
                return Err(MergeError::Missing { response, field });
            };
            let e = stats.entry(facet.to_string()).or_insert((min, max));
            e.0 = e.0.min(min);
            e.1 = e.1.max(max);
        }
        Ok(())
    }

    /// Writes `,"facetDistribution":{...},"facetStats":{...}` for the members seen.
    /// `few` says whether one node would have had at most [`FEW_CANDIDATES`] matching
    /// documents (see [`CandidateCount`]).
    pub(crate) fn write(&self, settings: &FacetSettings, few: bool, out: &mut Vec<u8>) {
        if let Some(dist) = &self.distribution {
            out.push(b',');
            push_key(out, "facetDistribution");
            write_distribution(
                dist.iter().map(|(k, c)| (k.as_str(), c)),
                settings,
                few,
                out,
            );
        }
        if let Some(stats) = &self.stats {
            out.push(b',');
            push_key(out, "facetStats");
            write_stats(stats, out);
        }
    }

    /// Each facet's values as one node would list them (ordered, truncated).
    pub(crate) fn ordered(
        &self,
        settings: &FacetSettings,
        few: bool,
    ) -> Vec<(&str, Vec<(&str, u64)>)> {
        self.distribution
            .iter()
            .flatten()
            .map(|(facet, counts)| {
                let order = settings.order_of(facet);
                let values =
                    order_values(&counts.values, order, settings.max_values_per_facet, few);
                (facet.as_str(), values)
            })
            .collect()
    }

    /// The merged `facetStats`, if any response had them.
    pub(crate) fn stats(&self) -> Option<&BTreeMap<String, (f64, f64)>> {
        self.stats.as_ref()
    }

    /// Writes `{"distribution":{...},"stats":{...}}`, one entry of federated
    /// `facetsByIndex`.
    pub(crate) fn write_by_index(&self, settings: &FacetSettings, few: bool, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"distribution\":");
        match &self.distribution {
            Some(dist) => write_distribution(
                dist.iter().map(|(k, c)| (k.as_str(), c)),
                settings,
                few,
                out,
            ),
            None => out.extend_from_slice(b"{}"),
        }
        out.extend_from_slice(b",\"stats\":");
        match &self.stats {
            Some(stats) => write_stats(stats, out),
            None => out.extend_from_slice(b"{}"),
        }
        out.push(b'}');
    }
}

fn write_distribution<'a>(
    dist: impl Iterator<Item = (&'a str, &'a Counts)>,
    settings: &FacetSettings,
    few: bool,
    out: &mut Vec<u8>,
) {
    out.push(b'{');
    for (i, (facet, counts)) in dist.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str_lit(out, facet);
        out.push(b':');
        let ordered = order_values(
            &counts.values,
            settings.order_of(facet),
            settings.max_values_per_facet,
            few,
        );
        out.push(b'{');
        for (j, (value, count)) in ordered.iter().enumerate() {
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

pub(crate) fn write_stats(stats: &BTreeMap<String, (f64, f64)>, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (facet, (min, max))) in stats.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str_lit(out, facet);
        out.extend_from_slice(b":{\"min\":");
        push_f64(out, *min);
        out.extend_from_slice(b",\"max\":");
        push_f64(out, *max);
        out.push(b'}');
    }
    out.push(b'}');
}

/// The sort key of a facet value: numbers (as milli writes them) before strings.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum ValueKey {
    Number(f64),
    Text(String),
}

fn value_key(v: &str) -> ValueKey {
    match v.parse::<f64>() {
        Ok(n) if n.is_finite() && !v.starts_with('+') && !v.contains(['e', 'E', 'i', 'n', 'N']) => {
            ValueKey::Number(n)
        }
        _ => ValueKey::Text(v.to_lowercase()),
    }
}

/// milli counts facet values document by document, in alphabetical order, when a search
/// matches at most this many documents; numbers are then ordered by their written form
/// (`"10"` before `"9"`). Above it, it walks its facet tree and numbers come in numeric
/// order.
pub(crate) const FEW_CANDIDATES: u64 = 3000;

/// What the merge knows about the number of documents one node would have matched.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct CandidateCount {
    sum: u64,
    capped: bool,
}

impl CandidateCount {
    /// Adds one node's total; `capped` when it reached `maxTotalHits` (then the real
    /// count is unknown and taken as large).
    pub(crate) fn add(&mut self, total: u64, max_total_hits: u64) {
        self.sum = self.sum.saturating_add(total);
        self.capped |= total >= max_total_hits;
    }

    /// Would one node have used its small-candidates path?
    pub(crate) fn few(&self) -> bool {
        !self.capped && self.sum <= FEW_CANDIDATES
    }
}

/// Orders and truncates one facet's merged values.
fn order_values(
    values: &HashMap<String, (String, u64)>,
    order: FacetOrder,
    max: usize,
    few: bool,
) -> Vec<(&str, u64)> {
    let mut v: Vec<(ValueKey, &str, u64)> = values
        .values()
        .map(|(k, c)| (value_key(k), k.as_str(), *c))
        .collect();
    let group = |k: &ValueKey| matches!(k, ValueKey::Text(_)) as u8;
    match order {
        FacetOrder::Alpha => v.sort_by(|a, b| {
            let by_value = match (&a.0, &b.0) {
                (ValueKey::Number(_), ValueKey::Number(_)) if few => a.1.cmp(b.1),
                _ => a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal),
            };
            group(&a.0)
                .cmp(&group(&b.0))
                .then(by_value)
                .then_with(|| a.1.cmp(b.1))
        }),
        FacetOrder::Count => v.sort_by(|a, b| {
            group(&a.0)
                .cmp(&group(&b.0))
                .then_with(|| b.2.cmp(&a.2))
                .then_with(|| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal))
                .then_with(|| b.1.cmp(a.1))
        }),
    }
    v.truncate(max);
    v.into_iter().map(|(_, k, c)| (k, c)).collect()
}

/// The parameters of a facet-search merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetSearchRequest {
    /// The order configured for the searched facet (`sortFacetValuesBy`).
    pub order: FacetOrder,
    /// The client's `maxValuesPerFacet` (facet search returns at most this many hits).
    pub max_values_per_facet: usize,
}

/// Merges `POST /indexes/{uid}/facet-search` responses: `facetHits` counts summed per
/// value, ordered like Meilisearch (alpha: ascending lower-cased value; count: descending
/// count, ties by descending value) and truncated to `max_values_per_facet`;
/// `facetQuery` echoed from the first response; `processingTimeMs` the maximum.
///
/// # Errors
/// [`MergeError`] when a body is not a facet-search response or `responses` is empty.
pub fn merge_facet_search(
    responses: &[&[u8]],
    req: &FacetSearchRequest,
) -> Result<Vec<u8>, MergeError> {
    let first = responses
        .first()
        .ok_or(MergeError::Request("no responses to merge"))?;
    let mut parser = Parser::new();
    let mut counts = Counts::default();
    let mut time = 0u64;
    let mut facet_query: Option<std::ops::Range<usize>> = None;
    for (i, body) in responses.iter().enumerate() {
        let top = TopLevel::scan(body, i)?;
        time = time.max(top.u64(body, "processingTimeMs", i)?.unwrap_or(0));
        if i == 0 {
            facet_query = top.get(body, "facetQuery");
        }
        let field = "facetHits";
        let r = top
            .get(body, field)
            .ok_or(MergeError::Missing { response: i, field })?;
        let v = parser.parse(&body[r], i, field)?;
        let arr = v
            .as_array()
            .ok_or(MergeError::Missing { response: i, field })?;
        for h in arr {
            let value = h.get("value").and_then(|x| x.as_str());
            let count = h.get("count").and_then(|x| x.as_u64());
            let (Some(value), Some(count)) = (value, count) else {
                return Err(MergeError::Missing { response: i, field });
            };
            counts.add(value, count);
        }
    }
    let mut hits: Vec<(&str, u64)> = counts
        .values
        .values()
        .map(|(k, c)| (k.as_str(), *c))
        .collect();
    match req.order {
        FacetOrder::Alpha => hits.sort_by(|a, b| {
            a.0.to_lowercase()
                .cmp(&b.0.to_lowercase())
                .then(a.0.cmp(b.0))
        }),
        FacetOrder::Count => hits.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(a.0))),
    }
    hits.truncate(req.max_values_per_facet);
    let mut out = Vec::with_capacity(64 + hits.len() * 32);
    out.push(b'{');
    push_key(&mut out, "facetHits");
    out.push(b'[');
    for (i, (value, count)) in hits.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"value\":");
        push_str_lit(&mut out, value);
        out.extend_from_slice(b",\"count\":");
        push_u64(&mut out, *count);
        out.push(b'}');
    }
    out.extend_from_slice(b"],");
    push_key(&mut out, "facetQuery");
    match facet_query {
        Some(r) => out.extend_from_slice(&first[r]),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b',');
    push_key(&mut out, "processingTimeMs");
    push_u64(&mut out, time);
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> HashMap<String, (String, u64)> {
        let mut c = Counts::default();
        for (k, n) in pairs {
            c.add(k, *n);
        }
        c.values
    }

    #[test]
    fn alpha_order_puts_numbers_first_then_case_insensitive_strings() {
        let c = counts(&[("b", 1), ("10", 1), ("A", 1), ("2", 1)]);
        assert_eq!(
            order_values(&c, FacetOrder::Alpha, 10, false),
            vec![("2", 1), ("10", 1), ("A", 1), ("b", 1)]
        );
    }

    #[test]
    fn alpha_order_of_numbers_follows_their_written_form_when_few_documents_match() {
        let c = counts(&[("9", 1), ("10", 1), ("2.5", 1)]);
        assert_eq!(
            order_values(&c, FacetOrder::Alpha, 10, true),
            vec![("10", 1), ("2.5", 1), ("9", 1)]
        );
        assert_eq!(
            order_values(&c, FacetOrder::Alpha, 10, false),
            vec![("2.5", 1), ("9", 1), ("10", 1)]
        );
    }

    #[test]
    fn candidate_count_is_few_only_when_uncapped_and_small() {
        let mut c = CandidateCount::default();
        c.add(1500, 1000 * 1000);
        c.add(1500, 1000 * 1000);
        assert!(c.few());
        c.add(1, 1000 * 1000);
        assert!(!c.few());
        let mut capped = CandidateCount::default();
        capped.add(1000, 1000);
        assert!(!capped.few());
    }

    #[test]
    fn count_order_sorts_by_descending_count_then_descending_value() {
        let c = counts(&[("a", 2), ("b", 5), ("c", 2)]);
        assert_eq!(
            order_values(&c, FacetOrder::Count, 10, false),
            vec![("b", 5), ("c", 2), ("a", 2)]
        );
    }

    #[test]
    fn values_differing_only_in_case_are_one_value_spelled_as_first_seen() {
        let c = counts(&[("Drama", 2), ("drama", 3)]);
        assert_eq!(
            order_values(&c, FacetOrder::Alpha, 10, false),
            vec![("Drama", 5)]
        );
    }

    #[test]
    fn truncation_applies_after_the_merge() {
        let c = counts(&[("a", 2), ("b", 5), ("c", 2)]);
        assert_eq!(
            order_values(&c, FacetOrder::Alpha, 2, false),
            vec![("a", 2), ("b", 5)]
        );
    }

    #[test]
    fn facet_settings_fall_back_to_star_then_alpha() {
        let s = FacetSettings {
            max_values_per_facet: 100,
            sort_facet_values_by: vec![
                ("*".into(), FacetOrder::Count),
                ("genre".into(), FacetOrder::Alpha),
            ],
        };
        assert_eq!(s.order_of("genre"), FacetOrder::Alpha);
        assert_eq!(s.order_of("color"), FacetOrder::Count);
        assert_eq!(
            FacetSettings::default().order_of("color"),
            FacetOrder::Alpha
        );
    }

    #[test]
    fn facet_search_sums_counts_and_orders_by_count() {
        let a = br#"{"facetHits":[{"value":"Red","count":3},{"value":"blue","count":1}],"facetQuery":"r","processingTimeMs":2}"#;
        let b = br#"{"facetHits":[{"value":"blue","count":4},{"value":"green","count":1}],"facetQuery":"r","processingTimeMs":5}"#;
        let req = FacetSearchRequest {
            order: FacetOrder::Count,
            max_values_per_facet: 2,
        };
        let out = merge_facet_search(&[a, b], &req).expect("merge");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"facetHits":[{"value":"blue","count":5},{"value":"Red","count":3}],"facetQuery":"r","processingTimeMs":5}"#
        );
    }

    #[test]
    fn facet_search_alpha_order_ignores_case() {
        let a = br#"{"facetHits":[{"value":"b","count":1},{"value":"C","count":1}],"facetQuery":null,"processingTimeMs":0}"#;
        let b =
            br#"{"facetHits":[{"value":"A","count":1}],"facetQuery":null,"processingTimeMs":1}"#;
        let req = FacetSearchRequest {
            order: FacetOrder::Alpha,
            max_values_per_facet: 100,
        };
        let out = merge_facet_search(&[a, b], &req).expect("merge");
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            r#"{"facetHits":[{"value":"A","count":1},{"value":"b","count":1},{"value":"C","count":1}],"facetQuery":null,"processingTimeMs":1}"#
        );
    }
}
