//! Keyword search: request validation, ranking with Meilisearch's score details,
//! pagination, facets and hit formatting.
//!
//! Ranking follows the index's `rankingRules`. Every rule computes a rank from the
//! query and the one document only (no corpus statistics), so a corpus split over
//! shards and merged by score details ranks exactly like one node. Documents are
//! ordered the way a merger compares score details: consecutive ranking rules are
//! folded into one rank (`Rank::merge` in Meilisearch), sort rules compare their
//! values, and ties keep insertion order.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use crate::browse::strip_vectors;
use crate::facets::{facet_distribution, validate_facets};
use crate::fields::{flatten, leaves_at, pattern_selects, setting_strings};
use crate::filter::{
    compile_filter, filter_features, filterable_patterns, matches, CompiledFilter, FilterContext,
};
use crate::format::{format_hit, FormatOptions};
use crate::locales::parse_locales;
use crate::sort::{compare, parse_sort, sort_value, SortCaller, SortRule, SortValue};
use crate::text::{match_word, words, WordMatch};
use crate::wire::{
    as_bool, as_str, as_strings, as_usize, bad_value, body_object, invalid, missing_field,
    only_keys, unknown_value, wrong_type,
};
use crate::{project, Document, IndexContext, MeiliError};

/// Keys of a search body, in Meilisearch's order.
const SEARCH_KEYS: &[&str] = &[
    "q",
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "attributesToRetrieve",
    "attributesToCrop",
    "cropLength",
    "cropMarker",
    "attributesToHighlight",
    "highlightPreTag",
    "highlightPostTag",
    "showMatchesPosition",
    "filter",
    "sort",
    "distinct",
    "facets",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
    "locales",
    "hybrid",
    "vector",
    "retrieveVectors",
    "media",
    "personalize",
    "useNetwork",
    "showRankingScore",
    "showRankingScoreDetails",
    "showPerformanceDetails",
];

/// How many query words a document must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchingStrategy {
    /// Drop query words from the end until documents match (the default).
    Last,
    /// Every query word.
    All,
    /// Meilisearch drops the most frequent words first; frequency is a corpus
    /// statistic, so the fake drops from the end like `last`.
    Frequency,
}

/// A validated search request.
pub(crate) struct SearchParams {
    pub q: Option<String>,
    pub offset: usize,
    pub limit: usize,
    pub page: Option<usize>,
    pub hits_per_page: Option<usize>,
    pub attributes_to_retrieve: Option<Vec<String>>,
    pub format: FormatOptions,
    pub filter: Option<CompiledFilter>,
    pub sort: Vec<SortRule>,
    pub distinct: Option<String>,
    pub facets: Option<Vec<String>>,
    pub strategy: MatchingStrategy,
    pub attributes_to_search_on: Option<Vec<String>>,
    pub threshold: Option<f64>,
    pub retrieve_vectors: bool,
    /// A semantic search: the embedder and the query vector.
    pub semantic: Option<(String, Vec<f32>)>,
    pub show_score: bool,
    pub show_details: bool,
}

fn code_for(key: &str) -> String {
    let mut snake = String::from("invalid_search_");
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

/// Validate a search body; errors are Meilisearch's, first bad key first.
pub(crate) fn parse_params(
    query: &Value,
    index: &IndexContext<'_>,
) -> Result<SearchParams, MeiliError> {
    let body = body_object(query)?;
    only_keys(body, "bad_request", "", SEARCH_KEYS)?;
    let mut p = SearchParams {
        q: None,
        offset: 0,
        limit: 20,
        page: None,
        hits_per_page: None,
        attributes_to_retrieve: None,
        format: FormatOptions::default(),
        filter: None,
        sort: Vec::new(),
        distinct: None,
        facets: None,
        strategy: MatchingStrategy::Last,
        attributes_to_search_on: None,
        threshold: None,
        retrieve_vectors: false,
        semantic: None,
        show_score: false,
        show_details: false,
    };
    let mut hybrid = None;
    let mut has_vector = false;
    for (key, value) in body {
        if value.is_null() {
            continue;
        }
        let code = code_for(key);
        let at = format!(".{key}");
        match key.as_str() {
            "q" => p.q = Some(as_str(&code, &at, value)?.to_owned()),
            "offset" => p.offset = as_usize(&code, &at, value)?,
            "limit" => p.limit = as_usize(&code, &at, value)?,
            "page" => p.page = Some(as_usize(&code, &at, value)?),
            "hitsPerPage" => p.hits_per_page = Some(as_usize(&code, &at, value)?),
            "attributesToRetrieve" => {
                p.attributes_to_retrieve = Some(as_strings(&code, &at, value)?)
            }
            "attributesToCrop" => {
                p.format.attributes_to_crop = Some(as_strings(&code, &at, value)?)
            }
            "cropLength" => p.format.crop_length = as_usize(&code, &at, value)?,
            "cropMarker" => p.format.crop_marker = as_str(&code, &at, value)?.to_owned(),
            "attributesToHighlight" => {
                p.format.attributes_to_highlight = Some(as_strings(&code, &at, value)?)
            }
            "highlightPreTag" => p.format.pre_tag = as_str(&code, &at, value)?.to_owned(),
            "highlightPostTag" => p.format.post_tag = as_str(&code, &at, value)?.to_owned(),
            "showMatchesPosition" => p.format.show_matches_position = as_bool(&code, &at, value)?,
            "filter" | "sort" | "facets" | "distinct" => {}
            "matchingStrategy" => {
                let text = as_str(&code, &at, value)?;
                p.strategy = match text {
                    "last" => MatchingStrategy::Last,
                    "all" => MatchingStrategy::All,
                    "frequency" => MatchingStrategy::Frequency,
                    other => {
                        return Err(unknown_value(
                            &code,
                            &at,
                            other,
                            &["last", "all", "frequency"],
                        ))
                    }
                };
            }
            "attributesToSearchOn" => {
                p.attributes_to_search_on = Some(as_strings(&code, &at, value)?)
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
                p.threshold = Some(n);
            }
            "locales" => {
                parse_locales(&code, &at, value)?;
            }
            "hybrid" => {
                let object = value.as_object().ok_or_else(|| {
                    wrong_type("invalid_search_hybrid_query", &at, "an object", value)
                })?;
                only_keys(
                    object,
                    "invalid_search_hybrid_query",
                    &at,
                    &["semanticRatio", "embedder"],
                )?;
                let embedder = match object.get("embedder") {
                    Some(e) => as_str("invalid_search_embedder", ".hybrid.embedder", e)?.to_owned(),
                    None => {
                        return Err(missing_field(
                            "invalid_search_hybrid_query",
                            &at,
                            "embedder",
                        ))
                    }
                };
                let ratio = match object.get("semanticRatio") {
                    Some(r) => r.as_f64().ok_or_else(|| {
                        wrong_type(
                            "invalid_search_semantic_ratio",
                            ".hybrid.semanticRatio",
                            "a number",
                            r,
                        )
                    })?,
                    None => 0.5,
                };
                hybrid = Some((embedder, ratio));
            }
            "vector" => {
                if !value.is_array() {
                    return Err(wrong_type(&code, &at, "an array", value));
                }
                has_vector = true;
            }
            "retrieveVectors" => p.retrieve_vectors = as_bool(&code, &at, value)?,
            "showRankingScore" => p.show_score = as_bool(&code, &at, value)?,
            "showRankingScoreDetails" => p.show_details = as_bool(&code, &at, value)?,
            "showPerformanceDetails" | "useNetwork" => {
                as_bool(&code, &at, value)?;
            }
            "media" | "personalize" => {}
            other => unreachable!("`{other}` passed the key check but has no validator"),
        }
    }
    if (has_vector || body.get("media").is_some_and(|m| !m.is_null())) && hybrid.is_none() {
        return Err(invalid(
            "missing_search_hybrid",
            "Invalid request: missing `hybrid` parameter when `vector` or `media` are present.",
        ));
    }
    if let Some((embedder, ratio)) = hybrid {
        p.semantic = semantic_kind(body, index, &embedder, ratio, p.q.as_deref())?;
    }
    // Semantic checks against the index come after the shape checks, as in Meilisearch.
    if let Some(filter) = body.get("filter").filter(|f| !f.is_null()) {
        p.filter = compile_filter(filter, *index, FilterContext::Search)?;
    }
    if let Some(sort) = body.get("sort").filter(|s| !s.is_null()) {
        p.sort = parse_sort(sort, index, SortCaller::Search)?;
        let rules = setting_strings(index, "rankingRules").unwrap_or_default();
        if !p.sort.is_empty() && !rules.contains(&"sort") {
            return Err(invalid(
                "invalid_search_sort",
                "You must specify where `sort` is listed in the rankingRules setting to use the sort parameter at search time.",
            ));
        }
    }
    if let Some(facets) = body.get("facets").filter(|f| !f.is_null()) {
        let facets = as_strings("invalid_search_facets", ".facets", facets)?;
        validate_facets(&facets, index)?;
        p.facets = Some(facets);
    }
    if let Some(distinct) = body.get("distinct").filter(|d| !d.is_null()) {
        let field = as_str("invalid_search_distinct", ".distinct", distinct)?;
        if filter_features(index, field).is_none() {
            let patterns = filterable_patterns(index);
            let tail = if patterns.is_empty() {
                "This index does not have configured filterable attributes.".to_owned()
            } else {
                format!(
                    "Available filterable attributes patterns are: `{}`.",
                    patterns.join(", ")
                )
            };
            return Err(invalid(
                "invalid_search_distinct",
                format!(
                    "Index `{}`: Attribute `{field}` is not filterable and thus, cannot be used as distinct attribute. {tail}",
                    index.uid
                ),
            ));
        }
        p.distinct = Some(field.to_owned());
    }
    Ok(p)
}

/// Decide what a search with `hybrid` runs, in Meilisearch's order of cases: a
/// keyword search (ratio 0, or neither a query nor a vector), a semantic search with
/// the given vector (ratio 1, or no query), or a hybrid search, which the fake cannot
/// run (nor a semantic search that would have to embed the query).
fn semantic_kind(
    body: &Map<String, Value>,
    index: &IndexContext<'_>,
    embedder: &str,
    ratio: f64,
    q: Option<&str>,
) -> Result<Option<(String, Vec<f32>)>, MeiliError> {
    let vector = body.get("vector").filter(|v| !v.is_null());
    let has_query = q.is_some_and(|q| !q.trim().is_empty());
    if ratio == 0.0 || (!has_query && vector.is_none()) {
        return Ok(None);
    }
    if !crate::vectors::embedder_names(index)
        .iter()
        .any(|name| name == embedder)
    {
        return Err(invalid(
            "invalid_search_embedder",
            format!("Cannot find embedder with name `{embedder}`."),
        ));
    }
    let unsupported = || {
        MeiliError::new(
            501,
            "unsupported_by_fake_node",
            "internal",
            "The fake Meilisearch node does not embed queries nor run hybrid search; send `vector` with `semanticRatio: 1.0`, use `semanticRatio: 0.0`, or a real node.",
        )
    };
    let Some(vector) = vector else {
        return Err(unsupported());
    };
    if has_query && ratio != 1.0 {
        return Err(unsupported());
    }
    let values: Vec<f32> = vector
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_f64)
                .map(|f| f as f32)
                .collect()
        })
        .unwrap_or_default();
    if let Some(expected) = crate::vectors::dimensions(index, embedder) {
        if expected != values.len() {
            return Err(invalid(
                "invalid_vector_dimensions",
                format!(
                    "Invalid vector dimensions: expected: `{expected}`, found: `{}`.",
                    values.len()
                ),
            ));
        }
    }
    Ok(Some((embedder.to_owned(), values)))
}

/// Score documents for a semantic search: by their best similarity to the query
/// vector, highest first; documents without an embedding come last with a `null`
/// similarity (and a score of 0), as Meilisearch's vector sort ends.
fn semantic_scored<'a>(
    docs: impl Iterator<Item = &'a Document>,
    params: &SearchParams,
    embedder: &str,
    vector: &[f32],
) -> Vec<Scored<'a>> {
    let mut scored: Vec<(Option<f32>, &'a Document)> = docs
        .filter(|doc| params.filter.as_ref().is_none_or(|f| matches(doc, f)))
        .map(|doc| (crate::vectors::best_similarity(doc, embedder, vector), doc))
        .collect();
    // Stable: equal similarities keep insertion order (Meilisearch: document id order).
    scored.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
    scored
        .into_iter()
        .map(|(similarity, doc)| {
            let mut details = Map::new();
            details.insert(
                "vectorSort".into(),
                json!({"order": 0, "similarity": similarity.map(f64::from)}),
            );
            Scored {
                doc,
                steps: Vec::new(),
                details,
                score: similarity.map(f64::from).unwrap_or(0.0),
            }
        })
        .collect()
}

/// A ranking rule of the index.
#[derive(Debug, Clone, PartialEq)]
enum Rule {
    Words,
    Typo,
    Proximity,
    /// Legacy `attribute`: attribute rank and word position reported together.
    Attribute,
    AttributeRank,
    WordPosition,
    Sort,
    Exactness,
    Custom {
        field: String,
        ascending: bool,
    },
}

fn ranking_rules(index: &IndexContext<'_>) -> Vec<Rule> {
    let names = setting_strings(index, "rankingRules")
        .unwrap_or_else(|| crate::DEFAULT_RANKING_RULES.to_vec());
    names
        .into_iter()
        .filter_map(|name| {
            Some(match name {
                "words" => Rule::Words,
                "typo" => Rule::Typo,
                "proximity" => Rule::Proximity,
                "attribute" => Rule::Attribute,
                "attributeRank" => Rule::AttributeRank,
                "wordPosition" => Rule::WordPosition,
                "sort" => Rule::Sort,
                "exactness" => Rule::Exactness,
                custom => {
                    let (field, direction) = custom.rsplit_once(':')?;
                    Rule::Custom {
                        field: field.to_owned(),
                        ascending: direction == "asc",
                    }
                }
            })
        })
        .collect()
}

/// A rank and its maximum, as Meilisearch's score details count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rank {
    pub rank: u64,
    pub max: u64,
}

impl Rank {
    fn score(self) -> f64 {
        self.rank as f64 / self.max as f64
    }

    /// Fold an inner rank into an outer one: the outer rank's buckets are subdivided
    /// by the inner rank's.
    fn merge(outer: Rank, inner: Rank) -> Rank {
        Rank {
            rank: outer.rank.saturating_sub(1) * inner.max + inner.rank,
            max: outer.max * inner.max,
        }
    }

    fn global(ranks: impl Iterator<Item = Rank>) -> f64 {
        ranks.fold(Rank { rank: 1, max: 1 }, Rank::merge).score()
    }
}

/// One step of a document's score: a rank, or a sort value.
#[derive(Debug, Clone)]
enum Step {
    Rank(Rank),
    Sort { value: SortValue, ascending: bool },
}

/// Where a query word was found in a document.
#[derive(Debug, Clone)]
struct Hit {
    kind: WordMatch,
    /// Weight of the searchable attribute (0 is the most important).
    weight: usize,
    /// Position of the word inside its attribute.
    position: usize,
    /// Which searchable value (attribute occurrence) holds it.
    value_index: usize,
}

/// The searchable texts of a document: (field path, weight, words).
struct Searchable {
    values: Vec<(String, usize, Vec<String>)>,
}

fn searchable(doc: &Document, index: &IndexContext<'_>, restrict: Option<&[String]>) -> Searchable {
    let list = setting_strings(index, "searchableAttributes").unwrap_or_else(|| vec!["*"]);
    let wildcard = list.contains(&"*");
    let mut values = Vec::new();
    for (path, leaf) in flatten(doc) {
        let text = match leaf {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        // With `*` every field weighs the same, as in Meilisearch.
        let weight = if wildcard {
            Some(0)
        } else {
            list.iter()
                .position(|pattern| pattern_selects(pattern, &path))
        };
        let Some(weight) = weight else { continue };
        if restrict.is_some_and(|r| !r.iter().any(|pattern| pattern_selects(pattern, &path))) {
            continue;
        }
        values.push((
            path,
            weight,
            words(&text).into_iter().map(|w| w.text).collect(),
        ));
    }
    Searchable { values }
}

/// The typo budget of a query word under the index's `typoTolerance`.
pub(crate) fn typo_budget(word: &str, index: &IndexContext<'_>) -> u8 {
    let typo = index.settings.get("typoTolerance");
    let get = |path: &[&str]| {
        let mut v = typo;
        for key in path {
            v = v.and_then(|x| x.get(*key));
        }
        v
    };
    if get(&["enabled"]).and_then(Value::as_bool) == Some(false) {
        return 0;
    }
    if get(&["disableOnWords"])
        .and_then(Value::as_array)
        .is_some_and(|w| w.iter().any(|x| x.as_str() == Some(word)))
    {
        return 0;
    }
    if get(&["disableOnNumbers"]).and_then(Value::as_bool) == Some(true)
        && word.chars().all(|c| c.is_ascii_digit())
    {
        return 0;
    }
    let one = get(&["minWordSizeForTypos", "oneTypo"])
        .and_then(Value::as_u64)
        .unwrap_or(5);
    let two = get(&["minWordSizeForTypos", "twoTypos"])
        .and_then(Value::as_u64)
        .unwrap_or(9);
    let len = word.chars().count() as u64;
    if len >= two {
        2
    } else if len >= one {
        1
    } else {
        0
    }
}

/// The query, tokenised: words without stop words, and whether the last is a prefix.
pub(crate) struct ParsedQuery {
    pub words: Vec<String>,
    pub last_is_prefix: bool,
}

pub(crate) fn parse_query(q: &str, index: &IndexContext<'_>) -> ParsedQuery {
    let stop: Vec<&str> = setting_strings(index, "stopWords").unwrap_or_default();
    let words: Vec<String> = words(q)
        .into_iter()
        .map(|w| w.text)
        .filter(|w| !stop.contains(&w.as_str()))
        .collect();
    let prefix_enabled =
        index.settings.get("prefixSearch").and_then(Value::as_str) != Some("disabled");
    let last_is_prefix = prefix_enabled && q.chars().last().is_some_and(char::is_alphanumeric);
    ParsedQuery {
        words,
        last_is_prefix,
    }
}

fn find(
    word: &str,
    prefix: bool,
    budget: u8,
    doc: &Searchable,
    disabled_typo_fields: &[&str],
) -> Option<Hit> {
    let mut best: Option<Hit> = None;
    for (value_index, (path, weight, tokens)) in doc.values.iter().enumerate() {
        let field_budget = if disabled_typo_fields
            .iter()
            .any(|f| pattern_selects(f, path))
        {
            0
        } else {
            budget
        };
        for (position, token) in tokens.iter().enumerate() {
            if let Some(kind) = match_word(word, token, prefix, field_budget) {
                let candidate = Hit {
                    kind,
                    weight: *weight,
                    position,
                    value_index,
                };
                let better = match &best {
                    None => true,
                    Some(b) => {
                        (candidate.kind.typos(), candidate.weight, candidate.position)
                            < (b.kind.typos(), b.weight, b.position)
                    }
                };
                if better {
                    best = Some(candidate);
                }
            }
        }
    }
    best
}

fn cost_from_distance(distance: usize) -> u64 {
    match distance {
        0 => 0,
        1 => 1,
        2..=4 => 2,
        5..=7 => 3,
        8..=11 => 4,
        12..=16 => 5,
        17..=24 => 6,
        25..=64 => 7,
        65..=256 => 8,
        257..=1024 => 9,
        _ => 10,
    }
}

/// A document that matched, with its score steps and details.
struct Scored<'a> {
    doc: &'a Document,
    steps: Vec<Step>,
    details: Map<String, Value>,
    score: f64,
}

fn score_document<'a>(
    doc: &'a Document,
    index: &IndexContext<'_>,
    rules: &[Rule],
    query: &ParsedQuery,
    params: &SearchParams,
) -> Option<Scored<'a>> {
    let placeholder = query.words.is_empty();
    let mut steps = Vec::new();
    let mut details = Map::new();
    let mut order = 0u64;
    let push_rank = |name: &str,
                     rank: Rank,
                     extra: Vec<(&str, Value)>,
                     steps: &mut Vec<Step>,
                     details: &mut Map<String, Value>,
                     order: &mut u64| {
        let mut d = Map::new();
        d.insert("order".into(), json!(*order));
        for (k, v) in extra {
            d.insert(k.into(), v);
        }
        d.insert("score".into(), json!(rank.score()));
        details.insert(name.into(), Value::Object(d));
        steps.push(Step::Rank(rank));
        *order += 1;
    };

    // Word matching: which query words the document contains, under the strategy.
    let (hits, k) = if placeholder {
        (Vec::new(), 0)
    } else {
        let text = searchable(doc, index, params.attributes_to_search_on.as_deref());
        let disabled: Vec<&str> = index
            .settings
            .get("typoTolerance")
            .and_then(|t| t.get("disableOnAttributes"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let n = query.words.len();
        let found: Vec<Option<Hit>> = query
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                find(
                    w,
                    query.last_is_prefix && i == n - 1,
                    typo_budget(w, index),
                    &text,
                    &disabled,
                )
            })
            .collect();
        let k = match params.strategy {
            MatchingStrategy::All => {
                if found.iter().all(Option::is_some) {
                    n
                } else {
                    0
                }
            }
            MatchingStrategy::Last | MatchingStrategy::Frequency => {
                found.iter().take_while(|h| h.is_some()).count()
            }
        };
        if k == 0 {
            return None;
        }
        let hits: Vec<Hit> = found
            .into_iter()
            .take(k)
            .map(|h| h.expect("the first k words were found"))
            .collect();
        (hits, k)
    };
    let n = query.words.len() as u64;
    let k64 = k as u64;

    for rule in rules {
        match rule {
            Rule::Sort => {
                for sort_rule in &params.sort {
                    let (name, ascending) = match sort_rule {
                        SortRule::Field { name, ascending } => (
                            format!("{name}:{}", if *ascending { "asc" } else { "desc" }),
                            *ascending,
                        ),
                        SortRule::Geo { point, ascending } => (
                            format!(
                                "_geoPoint({}, {}):{}",
                                point[0],
                                point[1],
                                if *ascending { "asc" } else { "desc" }
                            ),
                            *ascending,
                        ),
                    };
                    let value = sort_value(doc, sort_rule);
                    let mut d = Map::new();
                    d.insert("order".into(), json!(order));
                    d.insert("value".into(), value.detail_value());
                    if let SortValue::Distance { meters, .. } = &value {
                        d.insert("distance".into(), json!(meters));
                    } else if matches!(sort_rule, SortRule::Geo { .. }) {
                        d.insert("distance".into(), Value::Null);
                    }
                    details.insert(name, Value::Object(d));
                    steps.push(Step::Sort { value, ascending });
                    order += 1;
                }
            }
            Rule::Custom { field, ascending } => {
                let rule = SortRule::Field {
                    name: field.clone(),
                    ascending: *ascending,
                };
                let value = sort_value(doc, &rule);
                details.insert(
                    format!("{field}:{}", if *ascending { "asc" } else { "desc" }),
                    json!({"order": order, "value": value.detail_value()}),
                );
                steps.push(Step::Sort {
                    value,
                    ascending: *ascending,
                });
                order += 1;
            }
            _ if placeholder => {}
            Rule::Words => push_rank(
                "words",
                Rank { rank: k64, max: n },
                vec![
                    ("matchingWords", json!(k64)),
                    ("maxMatchingWords", json!(n)),
                ],
                &mut steps,
                &mut details,
                &mut order,
            ),
            Rule::Typo => {
                let count: u64 = hits.iter().map(|h| u64::from(h.kind.typos())).sum();
                let max: u64 = query
                    .words
                    .iter()
                    .take(k)
                    .map(|w| u64::from(typo_budget(w, index).max(1)))
                    .sum();
                push_rank(
                    "typo",
                    Rank {
                        rank: max + 1 - count.min(max),
                        max: max + 1,
                    },
                    vec![("typoCount", json!(count)), ("maxTypoCount", json!(max))],
                    &mut steps,
                    &mut details,
                    &mut order,
                );
            }
            Rule::Proximity => {
                let pairs = k64.saturating_sub(1);
                let cost: u64 = hits
                    .windows(2)
                    .map(|pair| {
                        let (a, b) = (&pair[0], &pair[1]);
                        if a.value_index != b.value_index {
                            7
                        } else if b.position > a.position {
                            (b.position - a.position).min(8) as u64 - 1
                        } else {
                            (a.position - b.position + 1).min(8) as u64 - 1
                        }
                    })
                    .sum();
                let max = 1 + 7 * pairs;
                push_rank(
                    "proximity",
                    Rank {
                        rank: max - cost,
                        max,
                    },
                    vec![],
                    &mut steps,
                    &mut details,
                    &mut order,
                );
            }
            Rule::AttributeRank | Rule::Attribute | Rule::WordPosition => {
                let attributes =
                    setting_strings(index, "searchableAttributes").unwrap_or_else(|| vec!["*"]);
                let weights = if attributes.contains(&"*") {
                    1
                } else {
                    attributes.len().max(1) as u64
                };
                let fid_cost = hits
                    .iter()
                    .map(|h| h.weight as u64)
                    .min()
                    .unwrap_or(0)
                    .min(weights - 1);
                let fid = Rank {
                    rank: weights - fid_cost,
                    max: weights,
                };
                let position_cost: u64 = hits.iter().map(|h| cost_from_distance(h.position)).sum();
                let position_max = 1 + 10 * k64;
                let position = Rank {
                    rank: position_max - position_cost,
                    max: position_max,
                };
                match rule {
                    Rule::AttributeRank => push_rank(
                        "attributeRank",
                        fid,
                        vec![],
                        &mut steps,
                        &mut details,
                        &mut order,
                    ),
                    Rule::WordPosition => push_rank(
                        "wordPosition",
                        position,
                        vec![],
                        &mut steps,
                        &mut details,
                        &mut order,
                    ),
                    _ => {
                        details.insert(
                            "attribute".into(),
                            json!({
                                "order": order,
                                "attributeRankingOrderScore": fid.score(),
                                "queryWordDistanceScore": position.score(),
                                "score": Rank::global([fid, position].into_iter()),
                            }),
                        );
                        steps.push(Step::Rank(fid));
                        steps.push(Step::Rank(position));
                        order += 1;
                    }
                }
            }
            Rule::Exactness => {
                let active: Vec<&str> = query.words.iter().take(k).map(String::as_str).collect();
                let text = searchable(doc, index, params.attributes_to_search_on.as_deref());
                let mut match_type = "noExactMatch";
                for (_, _, tokens) in &text.values {
                    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
                    if tokens == active {
                        match_type = "exactMatch";
                        break;
                    }
                    if tokens.starts_with(&active) {
                        match_type = "matchesStart";
                    }
                }
                let attribute = match match_type {
                    "exactMatch" => Rank { rank: 3, max: 3 },
                    "matchesStart" => Rank { rank: 2, max: 3 },
                    _ => Rank { rank: 1, max: 3 },
                };
                steps.push(Step::Rank(attribute));
                if match_type == "noExactMatch" {
                    let exact = hits.iter().filter(|h| h.kind == WordMatch::Exact).count() as u64;
                    let words = Rank {
                        rank: exact + 1,
                        max: k64 + 1,
                    };
                    steps.push(Step::Rank(words));
                    details.insert(
                        "exactness".into(),
                        json!({
                            "order": order,
                            "matchType": match_type,
                            "matchingWords": exact,
                            "maxMatchingWords": k64,
                            "score": Rank::global([attribute, words].into_iter()),
                        }),
                    );
                } else {
                    steps.push(Step::Rank(Rank {
                        rank: k64 + 1,
                        max: k64 + 1,
                    }));
                    details.insert("exactness".into(), json!({"order": order, "matchType": match_type, "score": attribute.score()}));
                }
                order += 1;
            }
        }
    }
    let score = Rank::global(steps.iter().filter_map(|s| match s {
        Step::Rank(r) => Some(*r),
        Step::Sort { .. } => None,
    }));
    Some(Scored {
        doc,
        steps,
        details,
        score,
    })
}

/// Compare two documents as a merger compares score details: consecutive ranks are
/// folded into one score, sort steps compare values. `Less` = `a` ranks first.
fn compare_steps(a: &[Step], b: &[Step]) -> Ordering {
    fn fold(steps: &[Step]) -> Vec<Step> {
        let mut out: Vec<Step> = Vec::new();
        for step in steps {
            match (out.last_mut(), step) {
                (Some(Step::Rank(acc)), Step::Rank(r)) => *acc = Rank::merge(*acc, *r),
                _ => out.push(step.clone()),
            }
        }
        out
    }
    for (x, y) in fold(a).iter().zip(fold(b).iter()) {
        let ordering = match (x, y) {
            (Step::Rank(x), Step::Rank(y)) => {
                let (sx, sy) = (x.score(), y.score());
                if (sx - sy).abs() <= f64::EPSILON {
                    Ordering::Equal
                } else {
                    sy.total_cmp(&sx)
                }
            }
            (
                Step::Sort {
                    value: x,
                    ascending,
                },
                Step::Sort { value: y, .. },
            ) => compare(x, y, *ascending),
            _ => Ordering::Equal,
        };
        if ordering.is_ne() {
            return ordering;
        }
    }
    Ordering::Equal
}

/// A request uid shaped like Meilisearch's (a UUID v7 string): time-ordered, unique
/// within the process.
fn request_uid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let counter = COUNTER.fetch_add(1, AtomicOrdering::Relaxed);
    let rand_a = counter & 0x0fff;
    let rand_b = (counter >> 12) & 0x3fff_ffff_ffff_ffff;
    format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        (millis >> 16) & 0xffff_ffff,
        millis & 0xffff,
        rand_a,
        0x8000 | ((rand_b >> 48) & 0x3fff),
        rand_b & 0xffff_ffff_ffff
    )
}

/// The documents a search request matches (filter and query words), unordered.
pub(crate) fn candidates<'a>(
    docs: impl Iterator<Item = &'a Document>,
    index: &IndexContext<'_>,
    params: &SearchParams,
) -> Vec<&'a Document> {
    let parsed = parse_query(params.q.as_deref().unwrap_or(""), index);
    let rules = ranking_rules(index);
    docs.filter(|doc| params.filter.as_ref().is_none_or(|f| matches(doc, f)))
        .filter(|doc| score_document(doc, index, &rules, &parsed, params).is_some())
        .collect()
}

/// Run a search (the body of `POST /indexes/{uid}/search`).
///
/// Returns Meilisearch's response object: `hits`, `query`, `processingTimeMs` (always
/// 0: the fake does not time itself), the pagination keys of the chosen mode, then
/// `facetDistribution`/`facetStats` when `facets` was given, then `requestUid`.
pub fn search<'a>(
    docs: impl Iterator<Item = &'a Document>,
    index: IndexContext<'_>,
    query: &Value,
) -> Result<Value, MeiliError> {
    let params = parse_params(query, &index)?;
    let parsed = parse_query(params.q.as_deref().unwrap_or(""), &index);
    let rules = ranking_rules(&index);
    let mut scored: Vec<Scored<'a>> = match &params.semantic {
        Some((embedder, vector)) => semantic_scored(docs, &params, embedder, vector),
        None => {
            let mut scored: Vec<Scored<'a>> = docs
                .filter(|doc| params.filter.as_ref().is_none_or(|f| matches(doc, f)))
                .filter_map(|doc| score_document(doc, &index, &rules, &parsed, &params))
                .collect();
            scored.sort_by(|a, b| compare_steps(&a.steps, &b.steps));
            scored
        }
    };
    if let Some(threshold) = params.threshold {
        scored.retain(|s| s.score >= threshold);
    }
    let distinct = params.distinct.clone().or_else(|| {
        index
            .settings
            .get("distinctAttribute")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    if let Some(field) = distinct {
        let mut seen: Vec<String> = Vec::new();
        scored.retain(|s| {
            let keys: Vec<String> = leaves_at(s.doc, &field)
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(t) => Some(crate::filter::normalize(t)),
                    Value::Number(n) => Some(format!("n:{}", n.as_f64().unwrap_or(0.0))),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                })
                .collect();
            if keys.is_empty() {
                return true;
            }
            if keys.iter().any(|k| seen.contains(k)) {
                return false;
            }
            seen.extend(keys);
            true
        });
    }

    let max_total_hits = index
        .settings
        .get("pagination")
        .and_then(|p| p.get("maxTotalHits"))
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .unwrap_or(1000);
    // maxTotalHits bounds which hits can be returned, not the reported totals (a real
    // 1.50 node with 2000 matches and the default 1000 answers 2000).
    let total = scored.len();
    let reachable = total.min(max_total_hits);
    let page_mode = params.page.is_some() || params.hits_per_page.is_some();
    let (offset, limit) = if page_mode {
        let per_page = params.hits_per_page.unwrap_or(20);
        let page = params.page.unwrap_or(1);
        match page.checked_sub(1) {
            Some(p) => (p.saturating_mul(per_page), per_page),
            None => (0, 0),
        }
    } else {
        (params.offset, params.limit)
    };
    let end = offset.saturating_add(limit).min(reachable);
    let window = if offset < end {
        &scored[offset..end]
    } else {
        &[][..]
    };

    let format_words = &parsed;
    let hits: Vec<Value> = window
        .iter()
        .map(|s| {
            let mut shown = project(s.doc, index, params.attributes_to_retrieve.as_deref());
            strip_vectors(&mut shown, s.doc, params.retrieve_vectors, &index);
            let displayed = project(s.doc, index, None);
            if let Some((formatted, positions)) =
                format_hit(&shown, &displayed, format_words, &params.format, &index)
            {
                if let Some(formatted) = formatted {
                    shown.insert("_formatted".into(), Value::Object(formatted));
                }
                if let Some(positions) = positions {
                    shown.insert("_matchesPosition".into(), Value::Object(positions));
                }
            }
            if params.show_score {
                shown.insert("_rankingScore".into(), json!(s.score));
            }
            if params.show_details {
                shown.insert(
                    "_rankingScoreDetails".into(),
                    Value::Object(s.details.clone()),
                );
            }
            Value::Object(shown)
        })
        .collect();

    let mut out = Map::new();
    out.insert("hits".into(), Value::from(hits));
    out.insert("query".into(), json!(params.q.clone().unwrap_or_default()));
    if let (Some((_, vector)), true) = (&params.semantic, params.retrieve_vectors) {
        let shown: Vec<Value> = vector
            .iter()
            .copied()
            .map(crate::vectors::f32_value)
            .collect();
        out.insert("queryVector".into(), Value::Array(shown));
    }
    out.insert("processingTimeMs".into(), json!(0));
    if page_mode {
        let per_page = params.hits_per_page.unwrap_or(20);
        let total_pages = if per_page == 0 {
            0
        } else {
            total.div_ceil(per_page)
        };
        out.insert("hitsPerPage".into(), json!(per_page));
        out.insert("page".into(), json!(params.page.unwrap_or(1)));
        out.insert("totalPages".into(), json!(total_pages));
        out.insert("totalHits".into(), json!(total));
    } else {
        out.insert("limit".into(), json!(params.limit));
        out.insert("offset".into(), json!(params.offset));
        out.insert("estimatedTotalHits".into(), json!(total));
    }
    if let Some(facets) = &params.facets {
        let candidates: Vec<&Document> = scored.iter().map(|s| s.doc).collect();
        let (distribution, stats) = facet_distribution(&candidates, facets, &index);
        out.insert("facetDistribution".into(), Value::Object(distribution));
        out.insert("facetStats".into(), Value::Object(stats));
    }
    out.insert("requestUid".into(), json!(request_uid()));
    if params.semantic.is_some() {
        // Meilisearch counts the hits its semantic search returned.
        out.insert("semanticHitCount".into(), json!(window.len()));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<Document> {
        [
            json!({"id": 1, "title": "The Dark Knight", "genre": ["Action", "Drama"], "price": 10}),
            json!({"id": 2, "title": "Dark Shadows", "genre": ["Comedy"], "price": "cheap"}),
            json!({"id": 3, "title": "Knight and Day", "genre": "action", "price": 5.5}),
            json!({"id": 4, "title": "The Shining", "genre": ["Horror"]}),
            json!({"id": 5, "title": "Batman: the dark knight returns", "genre": ["ACTION"], "price": 20}),
        ]
        .into_iter()
        .map(|v| v.as_object().cloned().expect("object"))
        .collect()
    }

    fn settings() -> Map<String, Value> {
        let mut s = crate::default_settings();
        s.insert("filterableAttributes".into(), json!(["genre", "price"]));
        s.insert("sortableAttributes".into(), json!(["price"]));
        s
    }

    fn run_on(docs: &[Document], body: Value) -> Result<Value, MeiliError> {
        let settings = settings();
        let mut out = search(
            docs.iter(),
            IndexContext {
                uid: "movies",
                primary_key: Some("id"),
                settings: &settings,
            },
            &body,
        )?;
        out.as_object_mut().expect("object").remove("requestUid");
        Ok(out)
    }

    fn run(body: Value) -> Result<Value, MeiliError> {
        run_on(&corpus(), body)
    }

    fn ids(response: &Value) -> Vec<i64> {
        response["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| h["id"].as_i64().expect("id"))
            .collect()
    }

    #[test]
    fn placeholder_search_returns_insertion_order_with_offset_limit_keys() {
        assert_eq!(
            run(json!({"limit": 2, "attributesToRetrieve": ["id"]})).unwrap(),
            json!({"hits": [{"id": 1}, {"id": 2}], "query": "", "processingTimeMs": 0, "limit": 2, "offset": 0, "estimatedTotalHits": 5})
        );
    }

    #[test]
    fn response_ends_with_a_request_uid() {
        let settings = settings();
        let docs = corpus();
        let out = search(
            docs.iter(),
            IndexContext {
                uid: "movies",
                primary_key: Some("id"),
                settings: &settings,
            },
            &json!({}),
        )
        .unwrap();
        let keys: Vec<&String> = out.as_object().expect("object").keys().collect();
        assert_eq!(
            keys,
            [
                "hits",
                "query",
                "processingTimeMs",
                "limit",
                "offset",
                "estimatedTotalHits",
                "requestUid"
            ]
        );
        assert_eq!(out["requestUid"].as_str().map(str::len), Some(36));
    }

    #[test]
    fn words_rule_ranks_full_matches_first_and_last_strategy_drops_the_tail() {
        assert_eq!(ids(&run(json!({"q": "dark knight"})).unwrap()), [1, 5, 2]);
        assert_eq!(
            ids(&run(json!({"q": "dark knight", "matchingStrategy": "all"})).unwrap()),
            [1, 5]
        );
    }

    #[test]
    fn score_details_have_meilisearch_shape() {
        let out = run(json!({"q": "dark knight", "showRankingScoreDetails": true, "attributesToRetrieve": ["id"], "limit": 1})).unwrap();
        assert_eq!(
            out["hits"][0],
            json!({"id": 1, "_rankingScoreDetails": {
                "words": {"order": 0, "matchingWords": 2, "maxMatchingWords": 2, "score": 1.0},
                "typo": {"order": 1, "typoCount": 0, "maxTypoCount": 2, "score": 1.0},
                "proximity": {"order": 2, "score": 1.0},
                "attributeRank": {"order": 3, "score": 1.0},
                "wordPosition": {"order": 4, "score": 18.0 / 21.0},
                "exactness": {"order": 5, "matchType": "noExactMatch", "matchingWords": 2, "maxMatchingWords": 2, "score": 1.0 / 3.0}
            }})
        );
    }

    #[test]
    fn global_score_folds_each_rank_into_the_buckets_of_the_previous_ones() {
        let ranks = [(1, 2), (2, 2), (2, 3)].map(|(rank, max)| Rank { rank, max });
        assert_eq!(Rank::global(ranks.into_iter()), 5.0 / 12.0);
    }

    #[test]
    fn typos_are_tolerated_on_long_words_only() {
        let mut found = ids(&run(json!({"q": "knihgt shadows"})).unwrap());
        found.sort_unstable();
        assert_eq!(found, [1, 3, 5]);
        assert_eq!(ids(&run(json!({"q": "drk"})).unwrap()), Vec::<i64>::new());
    }

    #[test]
    fn last_query_word_matches_as_a_prefix() {
        assert_eq!(ids(&run(json!({"q": "shin"})).unwrap()), [4]);
        assert_eq!(ids(&run(json!({"q": "shin "})).unwrap()), Vec::<i64>::new());
    }

    #[test]
    fn sort_orders_placeholder_results_and_reports_values() {
        let out = run(json!({"sort": ["price:asc"], "showRankingScoreDetails": true, "attributesToRetrieve": ["id"], "limit": 2})).unwrap();
        assert_eq!(
            out["hits"],
            json!([
                {"id": 3, "_rankingScoreDetails": {"price:asc": {"order": 0, "value": 5.5}}},
                {"id": 1, "_rankingScoreDetails": {"price:asc": {"order": 0, "value": 10}}}
            ])
        );
    }

    #[test]
    fn page_mode_reports_total_pages_and_hits() {
        let out =
            run(json!({"hitsPerPage": 2, "page": 2, "attributesToRetrieve": ["id"]})).unwrap();
        assert_eq!(
            out,
            json!({"hits": [{"id": 3}, {"id": 4}], "query": "", "processingTimeMs": 0, "hitsPerPage": 2, "page": 2, "totalPages": 3, "totalHits": 5})
        );
    }

    #[test]
    fn facets_count_normalised_values_and_give_numeric_stats() {
        let out = run(json!({"facets": ["genre", "price"], "limit": 0})).unwrap();
        assert_eq!(
            out["facetDistribution"],
            json!({"genre": {"Action": 3, "Comedy": 1, "Drama": 1, "Horror": 1}, "price": {"5.5": 1, "10": 1, "20": 1, "cheap": 1}})
        );
        assert_eq!(
            out["facetStats"],
            json!({"price": {"min": 5.5, "max": 20.0}})
        );
    }

    #[test]
    fn unknown_search_key_is_a_bad_request() {
        let err = run(json!({"foo": 1})).unwrap_err();
        assert_eq!(err.code, "bad_request");
        assert!(err
            .message
            .starts_with("Unknown field `foo`: expected one of `q`, `offset`, `limit`, `page`,"));
    }

    #[test]
    fn wrong_types_get_invalid_search_codes() {
        let err = run(json!({"limit": "x"})).unwrap_err();
        assert_eq!((err.code.as_str(), err.message.as_str()), ("invalid_search_limit", "Invalid value type at `.limit`: expected a positive integer, but found a string: `\"x\"`"));
        let err = run(json!({"matchingStrategy": "x"})).unwrap_err();
        assert_eq!(
            err.message,
            "Unknown value `x` at `.matchingStrategy`: expected one of `last`, `all`, `frequency`"
        );
        let err = run(json!({"rankingScoreThreshold": 2})).unwrap_err();
        assert_eq!(err.code, "invalid_search_ranking_score_threshold");
    }

    #[test]
    fn facets_must_be_filterable() {
        let err = run(json!({"facets": ["title"]})).unwrap_err();
        assert_eq!(err.code, "invalid_search_facets");
        assert_eq!(err.message, "Invalid facet distribution: Pattern `title` is not filterable. Available filterable attributes patterns are: `genre, price`.");
    }

    #[test]
    fn vector_without_hybrid_is_rejected() {
        let err = run(json!({"vector": [1.0]})).unwrap_err();
        assert_eq!(err.code, "missing_search_hybrid");
        let err = run(json!({"q": "x", "hybrid": {"embedder": "x"}})).unwrap_err();
        assert_eq!(err.message, "Cannot find embedder with name `x`.");
    }

    #[test]
    fn highlight_wraps_matches_and_stringifies_numbers() {
        let out = run(json!({"q": "dark knigh", "attributesToHighlight": ["title"], "attributesToRetrieve": ["id", "title"], "limit": 1})).unwrap();
        assert_eq!(
            out["hits"][0]["_formatted"],
            json!({"id": "1", "title": "The <em>Dark</em> <em>Knigh</em>t"})
        );
    }

    #[test]
    fn crop_keeps_crop_length_words_from_the_first_match() {
        let out = run(json!({"q": "dark knigh", "attributesToCrop": ["title"], "attributesToHighlight": ["title"], "cropLength": 2, "attributesToRetrieve": ["title"], "limit": 1, "showMatchesPosition": true})).unwrap();
        assert_eq!(
            out["hits"][0]["_formatted"],
            json!({"title": "…<em>Dark</em> <em>Knigh</em>t"})
        );
        assert_eq!(
            out["hits"][0]["_matchesPosition"],
            json!({"title": [{"start": 4, "length": 4}, {"start": 9, "length": 5}]})
        );
    }

    #[test]
    fn splitting_the_corpus_in_three_and_merging_by_score_details_keeps_the_order() {
        let docs: Vec<Document> = (0..30)
            .map(|i| {
                let title = [
                    "dark knight rises",
                    "the dark",
                    "knight of the dark",
                    "dark and stormy knight",
                    "sunny day",
                    "knights tale",
                ][i % 6];
                json!({"id": i, "title": format!("{title} {i}"), "price": (i * 7) % 11})
                    .as_object()
                    .cloned()
                    .expect("object")
            })
            .collect();
        for body in [
            json!({"q": "dark knight"}),
            json!({"q": "dark knigh"}),
            json!({"q": "knight"}),
            json!({"q": "stormy dark"}),
        ] {
            let mut whole_body = body.clone();
            whole_body["limit"] = json!(100);
            whole_body["showRankingScore"] = json!(true);
            let whole = run_on(&docs, whole_body.clone()).unwrap();
            let mut merged: Vec<(usize, Value)> = Vec::new();
            for shard in 0..3 {
                let part: Vec<Document> = docs
                    .iter()
                    .filter(|d| d["id"].as_u64().expect("id") % 3 == shard)
                    .cloned()
                    .collect();
                let response = run_on(&part, whole_body.clone()).unwrap();
                for hit in response["hits"].as_array().expect("hits") {
                    let position = docs
                        .iter()
                        .position(|d| d["id"] == hit["id"])
                        .expect("hit comes from the corpus");
                    merged.push((position, hit.clone()));
                }
            }
            // A merger orders hits by their global score, ties by insertion order.
            merged.sort_by(|a, b| {
                let score = |h: &Value| h["_rankingScore"].as_f64().expect("score");
                score(&b.1).total_cmp(&score(&a.1)).then(a.0.cmp(&b.0))
            });
            let merged_ids: Vec<&Value> = merged.iter().map(|(_, h)| &h["id"]).collect();
            let whole_ids: Vec<&Value> = whole["hits"]
                .as_array()
                .expect("hits")
                .iter()
                .map(|h| &h["id"])
                .collect();
            assert_eq!(merged_ids, whole_ids, "{body}");
        }
    }
}
