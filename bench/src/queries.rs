//! Deterministic request mixes: keyword, typo, filter, facet, sort, pagination and
//! deep-offset searches, get-by-id and multi-search.
//!
//! Proportions are exact, not merely expected: every block of `total weight` consecutive
//! requests holds exactly `weight` requests of each kind, in an order shuffled by the
//! seed. A short run therefore measures the mix it claims to measure.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{json, Value};

use crate::dataset::{word, WordSampler, GENRES};

/// What a generated request exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryKind {
    /// One to three frequent words.
    Keyword,
    /// A word with one letter replaced (Meilisearch's typo tolerance).
    Typo,
    /// A keyword search with a filter on year, rating or genres.
    Filter,
    /// A keyword search asking for facet distributions.
    Facet,
    /// A keyword search sorted on a sortable attribute.
    Sort,
    /// Exhaustive pagination (`page`/`hitsPerPage`).
    Pagination,
    /// A placeholder search with an offset of 500 to 960.
    DeepOffset,
    /// `GET /indexes/{uid}/documents/{id}`.
    GetById,
    /// `POST /multi-search` with two or three queries.
    MultiSearch,
}

impl QueryKind {
    /// Every kind, in a fixed order.
    pub const ALL: [QueryKind; 9] = [
        QueryKind::Keyword,
        QueryKind::Typo,
        QueryKind::Filter,
        QueryKind::Facet,
        QueryKind::Sort,
        QueryKind::Pagination,
        QueryKind::DeepOffset,
        QueryKind::GetById,
        QueryKind::MultiSearch,
    ];

    /// The kind's name, as in the query dumps and the reports (`get-by-id`).
    pub fn name(self) -> &'static str {
        match self {
            QueryKind::Keyword => "keyword",
            QueryKind::Typo => "typo",
            QueryKind::Filter => "filter",
            QueryKind::Facet => "facet",
            QueryKind::Sort => "sort",
            QueryKind::Pagination => "pagination",
            QueryKind::DeepOffset => "deep-offset",
            QueryKind::GetById => "get-by-id",
            QueryKind::MultiSearch => "multi-search",
        }
    }
}

impl std::fmt::Display for QueryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for QueryKind {
    type Err = String;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        QueryKind::ALL
            .into_iter()
            .find(|kind| kind.name() == given)
            .ok_or_else(|| {
                let names: Vec<&str> = QueryKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown query kind `{given}`; one of {}", names.join(", "))
            })
    }
}

/// Relative weights of each kind; a kind with weight 0 never appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryMix {
    weights: Vec<(QueryKind, u32)>,
}

impl QueryMix {
    /// The search mix: 30 keyword, 10 typo, 15 filter, 10 facet, 10 sort, 10 pagination,
    /// 5 deep offset, 5 get-by-id, 5 multi-search (per 100 requests).
    pub fn search_mix() -> Self {
        Self::new(vec![
            (QueryKind::Keyword, 30),
            (QueryKind::Typo, 10),
            (QueryKind::Filter, 15),
            (QueryKind::Facet, 10),
            (QueryKind::Sort, 10),
            (QueryKind::Pagination, 10),
            (QueryKind::DeepOffset, 5),
            (QueryKind::GetById, 5),
            (QueryKind::MultiSearch, 5),
        ])
    }

    /// Only one kind of request.
    pub fn only(kind: QueryKind) -> Self {
        Self::new(vec![(kind, 1)])
    }

    /// A mix from explicit weights. Kinds with weight 0 are dropped.
    ///
    /// # Panics
    /// When every weight is 0: an empty mix cannot generate anything.
    pub fn new(weights: Vec<(QueryKind, u32)>) -> Self {
        let weights: Vec<_> = weights.into_iter().filter(|(_, w)| *w > 0).collect();
        assert!(!weights.is_empty(), "a query mix needs one positive weight");
        Self { weights }
    }

    /// The same mix without `excluded` kinds (e.g. a route a target does not serve).
    /// The other kinds keep their weights, so their proportions grow.
    ///
    /// # Errors
    /// When nothing would be left.
    pub fn without(&self, excluded: &[QueryKind]) -> Result<Self, String> {
        let weights: Vec<_> = self
            .weights
            .iter()
            .copied()
            .filter(|(kind, _)| !excluded.contains(kind))
            .collect();
        if weights.is_empty() {
            return Err("excluding these kinds leaves an empty query mix".to_owned());
        }
        Ok(Self { weights })
    }

    /// Sum of the weights: the length of one shuffled block.
    pub fn total_weight(&self) -> u32 {
        self.weights.iter().map(|(_, w)| w).sum()
    }

    /// The weights, in the order given.
    pub fn weights(&self) -> &[(QueryKind, u32)] {
        &self.weights
    }
}

/// One generated request, ready to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    /// What it exercises.
    pub kind: QueryKind,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path and query string.
    pub path: String,
    /// JSON body, for `POST`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// Generates an endless, seed-determined sequence of queries against one index.
#[derive(Debug)]
pub struct QueryGenerator {
    rng: ChaCha8Rng,
    mix: QueryMix,
    index: String,
    documents: u64,
    block: Vec<QueryKind>,
    words: WordSampler,
}

impl QueryGenerator {
    /// Queries against `index`, which holds documents `0..documents`.
    pub fn new(seed: u64, mix: QueryMix, index: &str, documents: u64) -> Self {
        Self {
            // Another stream than the documents', so a seed shared with the dataset does not
            // make queries echo the first documents.
            rng: {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(u64::MAX);
                rng
            },
            mix,
            index: index.to_owned(),
            documents: documents.max(1),
            block: Vec::new(),
            words: WordSampler::new(),
        }
    }

    fn next_kind(&mut self) -> QueryKind {
        if self.block.is_empty() {
            for (kind, weight) in &self.mix.weights {
                self.block
                    .extend(std::iter::repeat_n(*kind, *weight as usize));
            }
            self.block.shuffle(&mut self.rng);
        }
        self.block
            .pop()
            .expect("a refilled block holds total_weight > 0 kinds")
    }

    fn keywords(&mut self) -> String {
        let count = self.rng.random_range(1..=3);
        (0..count)
            .map(|_| self.words.word(&mut self.rng))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn typo(&mut self) -> String {
        let mut letters: Vec<u8> = word(self.rng.random_range(0..500)).into_bytes();
        // Replace one inner letter: the first letter is kept, as typo tolerance counts a
        // changed first letter as two typos.
        let at = self.rng.random_range(1..letters.len());
        let replacement = loop {
            let candidate = b'a' + self.rng.random_range(0..26u8);
            if candidate != letters[at] {
                break candidate;
            }
        };
        letters[at] = replacement;
        String::from_utf8(letters).expect("ASCII letters")
    }

    fn filter(&mut self) -> String {
        match self.rng.random_range(0..4) {
            0 => format!("year >= {}", self.rng.random_range(1950..2020)),
            1 => format!(
                "genres = \"{}\"",
                GENRES[self.rng.random_range(0..GENRES.len())]
            ),
            2 => format!(
                "rating > {} AND year < {}",
                self.rng.random_range(3..9),
                self.rng.random_range(1970..2025)
            ),
            _ => {
                let first = GENRES[self.rng.random_range(0..GENRES.len())];
                let second = GENRES[self.rng.random_range(0..GENRES.len())];
                format!("genres IN [\"{first}\", \"{second}\"]")
            }
        }
    }

    fn search(&self, body: Value) -> (String, Option<Value>) {
        (format!("/indexes/{}/search", self.index), Some(body))
    }

    /// The next query.
    pub fn next_query(&mut self) -> Query {
        let kind = self.next_kind();
        let (path, body) = match kind {
            QueryKind::Keyword => {
                let q = self.keywords();
                self.search(json!({"q": q}))
            }
            QueryKind::Typo => {
                let q = self.typo();
                self.search(json!({"q": q}))
            }
            QueryKind::Filter => {
                let q = self.words.word(&mut self.rng);
                let filter = self.filter();
                self.search(json!({"q": q, "filter": filter}))
            }
            QueryKind::Facet => {
                let q = self.words.word(&mut self.rng);
                self.search(json!({"q": q, "facets": ["genres", "year"]}))
            }
            QueryKind::Sort => {
                let q = self.words.word(&mut self.rng);
                let sort = match self.rng.random_range(0..3) {
                    0 => json!(["popularity:desc"]),
                    1 => json!(["rating:desc", "year:asc"]),
                    _ => json!(["year:desc"]),
                };
                self.search(json!({"q": q, "sort": sort}))
            }
            QueryKind::Pagination => {
                let q = self.words.word(&mut self.rng);
                let page = self.rng.random_range(1..=10);
                self.search(json!({"q": q, "page": page, "hitsPerPage": 20}))
            }
            QueryKind::DeepOffset => {
                let offset = 20 * self.rng.random_range(25..=48);
                self.search(json!({"q": "", "offset": offset, "limit": 20}))
            }
            QueryKind::GetById => {
                let id = self.rng.random_range(0..self.documents);
                (format!("/indexes/{}/documents/{id}", self.index), None)
            }
            QueryKind::MultiSearch => {
                let count = self.rng.random_range(2..=3);
                let queries: Vec<Value> = (0..count)
                    .map(|i| {
                        let q = self.words.word(&mut self.rng);
                        if i == 1 {
                            let filter = self.filter();
                            json!({"indexUid": self.index, "q": q, "filter": filter})
                        } else {
                            json!({"indexUid": self.index, "q": q})
                        }
                    })
                    .collect();
                (
                    "/multi-search".to_owned(),
                    Some(json!({"queries": queries})),
                )
            }
        };
        Query {
            kind,
            method: if body.is_some() { "POST" } else { "GET" },
            path,
            body,
        }
    }

    /// The next `count` queries.
    pub fn take(&mut self, count: usize) -> Vec<Query> {
        (0..count).map(|_| self.next_query()).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn counts(queries: &[Query]) -> BTreeMap<QueryKind, u32> {
        let mut counts = BTreeMap::new();
        for query in queries {
            *counts.entry(query.kind).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn every_block_of_one_hundred_holds_the_exact_search_mix() {
        let mut generator = QueryGenerator::new(7, QueryMix::search_mix(), "movies", 10_000);
        let expected: BTreeMap<QueryKind, u32> =
            QueryMix::search_mix().weights().iter().copied().collect();
        for _ in 0..5 {
            assert_eq!(counts(&generator.take(100)), expected);
        }
    }

    #[test]
    fn kind_names_match_the_serialised_names_and_parse_back() {
        for kind in QueryKind::ALL {
            let serialised = serde_json::to_value(kind).expect("serialisable");
            assert_eq!(serialised, json!(kind.name()));
            assert_eq!(kind.name().parse::<QueryKind>(), Ok(kind));
        }
        assert!("similar".parse::<QueryKind>().is_err());
    }

    #[test]
    fn a_mix_without_a_kind_never_generates_it() {
        let mix = QueryMix::search_mix()
            .without(&[QueryKind::MultiSearch])
            .expect("kinds are left");
        assert_eq!(mix.total_weight(), 95);
        let queries = QueryGenerator::new(7, mix, "movies", 100).take(500);
        assert!(queries.iter().all(|q| q.kind != QueryKind::MultiSearch));
        assert!(QueryMix::only(QueryKind::GetById)
            .without(&[QueryKind::GetById])
            .is_err());
    }

    #[test]
    fn blocks_are_shuffled_not_sorted() {
        let mut generator = QueryGenerator::new(7, QueryMix::search_mix(), "movies", 10_000);
        let first: Vec<QueryKind> = generator.take(100).iter().map(|q| q.kind).collect();
        let second: Vec<QueryKind> = generator.take(100).iter().map(|q| q.kind).collect();
        assert_ne!(first, second);
        assert!(first.windows(2).any(|pair| pair[0] > pair[1]));
    }

    #[test]
    fn the_same_seed_gives_the_same_queries() {
        let a = QueryGenerator::new(9, QueryMix::search_mix(), "movies", 1_000).take(300);
        let b = QueryGenerator::new(9, QueryMix::search_mix(), "movies", 1_000).take(300);
        assert_eq!(a, b);
        let c = QueryGenerator::new(10, QueryMix::search_mix(), "movies", 1_000).take(300);
        assert_ne!(a, c);
    }

    #[test]
    fn get_by_id_only_asks_for_existing_documents() {
        let queries =
            QueryGenerator::new(1, QueryMix::only(QueryKind::GetById), "movies", 50).take(500);
        for query in &queries {
            assert_eq!(query.method, "GET");
            let id: u64 = query
                .path
                .strip_prefix("/indexes/movies/documents/")
                .expect("document path")
                .parse()
                .expect("numeric id");
            assert!(id < 50);
        }
    }

    #[test]
    fn first_queries_of_seed_7_are_fixed() {
        let queries = QueryGenerator::new(7, QueryMix::search_mix(), "movies", 10_000).take(2);
        let rendered: Vec<String> = queries
            .iter()
            .map(|q| serde_json::to_string(q).expect("serialisable"))
            .collect();
        assert_eq!(
            rendered,
            vec![
                r#"{"kind":"keyword","method":"POST","path":"/indexes/movies/search","body":{"q":"panigo"}}"#,
                r#"{"kind":"pagination","method":"POST","path":"/indexes/movies/search","body":{"q":"cebabo","page":4,"hitsPerPage":20}}"#,
            ]
        );
    }

    #[test]
    fn typos_change_exactly_one_inner_letter_of_a_vocabulary_word() {
        let mut generator = QueryGenerator::new(3, QueryMix::only(QueryKind::Typo), "m", 10);
        let vocabulary: Vec<String> = (0..500).map(word).collect();
        for _ in 0..100 {
            let query = generator.next_query();
            let q = query.body.expect("search body")["q"]
                .as_str()
                .expect("q is a string")
                .to_owned();
            let closest = vocabulary
                .iter()
                .map(|w| w.bytes().zip(q.bytes()).filter(|(a, b)| a != b).count())
                .min()
                .expect("vocabulary is not empty");
            assert_eq!(closest, 1, "{q}");
        }
    }

    #[test]
    fn multi_search_sends_two_or_three_queries_to_the_index() {
        let mut generator =
            QueryGenerator::new(5, QueryMix::only(QueryKind::MultiSearch), "movies", 10);
        for _ in 0..50 {
            let query = generator.next_query();
            assert_eq!(
                (query.method, query.path.as_str()),
                ("POST", "/multi-search")
            );
            let body = query.body.expect("multi-search body");
            let queries = body["queries"].as_array().expect("queries array");
            assert!((2..=3).contains(&queries.len()));
            assert!(queries.iter().all(|q| q["indexUid"] == "movies"));
        }
    }
}
