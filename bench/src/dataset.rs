//! Deterministic movie-like documents and the index settings that go with them.
//!
//! Every document is a pure function of `(seed, id)`: document `id` draws from its own
//! ChaCha8 stream, so any document can be regenerated alone (the query generator and
//! get-by-id use that) and the NDJSON stream of a million documents is identical on every
//! machine. Words come from a synthetic vocabulary drawn with a Zipf law, like natural
//! text: a few words are everywhere, most are rare.

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Pareto, Zipf};
use serde::Serialize;
use serde_json::{json, Value};

/// Number of distinct words in the synthetic vocabulary.
pub const VOCABULARY_SIZE: u64 = 5_000;

/// Zipf exponent of word frequencies (close to natural-language text).
pub const ZIPF_EXPONENT: f64 = 1.07;

/// The genres a movie can have.
pub const GENRES: [&str; 18] = [
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "History",
    "Horror",
    "Music",
    "Mystery",
    "Romance",
    "Science Fiction",
    "Thriller",
    "War",
    "Western",
];

/// Two-letter consonant-vowel syllables; concatenations of them are unambiguous, so
/// distinct syllable sequences give distinct words.
const CONSONANTS: &[u8; 16] = b"bdfgklmnprstvzch";
const VOWELS: &[u8; 4] = b"aeio";

/// The word of the vocabulary at `rank` (0 is the most frequent). Three syllables, six
/// letters: long enough for Meilisearch to tolerate one typo in it.
pub fn word(rank: u64) -> String {
    // An odd multiplier is a bijection modulo 2^18 = 64^3: distinct ranks get distinct
    // syllable triples, and neighbouring ranks do not share a prefix.
    let scrambled = (rank.wrapping_mul(2_654_435_761).wrapping_add(12_345)) % (64 * 64 * 64);
    let mut out = String::with_capacity(6);
    for digit in [scrambled % 64, (scrambled / 64) % 64, scrambled / 4096] {
        out.push(char::from(CONSONANTS[(digit / 4) as usize]));
        out.push(char::from(VOWELS[(digit % 4) as usize]));
    }
    out
}

/// Shape of a generated dataset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DatasetSpec {
    /// Seed of every random draw.
    pub seed: u64,
    /// Number of documents; ids run from 0 to `documents - 1`.
    pub documents: u64,
    /// Dimensions of the user-provided `_vectors.default` embedding; 0 for none.
    pub vector_dimensions: usize,
}

/// User-provided embedding of a document, in Meilisearch's `_vectors` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vectors {
    /// The vector for the embedder named `default`.
    pub default: Vec<f32>,
}

/// One movie-like document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Movie {
    /// Primary key.
    pub id: u64,
    /// One to four capitalised words.
    pub title: String,
    /// Twelve to forty words of Zipf-distributed text.
    pub overview: String,
    /// One to three distinct genres.
    pub genres: Vec<&'static str>,
    /// Release year, 1950 to 2025.
    pub year: u16,
    /// Rating from 1.0 to 10.0 with one decimal.
    pub rating: f64,
    /// Heavy-tailed popularity (Pareto), two decimals.
    pub popularity: f64,
    /// Optional embedding.
    #[serde(rename = "_vectors", skip_serializing_if = "Option::is_none")]
    pub vectors: Option<Vectors>,
}

/// Draws Zipf-distributed vocabulary ranks.
#[derive(Debug, Clone)]
pub struct WordSampler {
    zipf: Zipf<f64>,
}

impl Default for WordSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl WordSampler {
    /// A sampler over [`VOCABULARY_SIZE`] words with exponent [`ZIPF_EXPONENT`].
    pub fn new() -> Self {
        Self {
            zipf: Zipf::new(VOCABULARY_SIZE as f64, ZIPF_EXPONENT)
                .expect("the vocabulary size is at least 1 and the exponent is positive"),
        }
    }

    /// A rank in `0..VOCABULARY_SIZE`, rank 0 the most likely.
    pub fn rank<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        (self.zipf.sample(rng) as u64).clamp(1, VOCABULARY_SIZE) - 1
    }

    /// A word drawn with Zipf frequencies.
    pub fn word<R: Rng + ?Sized>(&self, rng: &mut R) -> String {
        word(self.rank(rng))
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

impl DatasetSpec {
    /// The random stream of document `id`: independent of every other document.
    pub fn document_rng(&self, id: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(id);
        rng
    }

    /// Document `id` of this dataset.
    pub fn movie(&self, id: u64, words: &WordSampler) -> Movie {
        let mut rng = self.document_rng(id);
        let title_len = rng.random_range(1..=4);
        let title = (0..title_len)
            .map(|_| capitalise(&words.word(&mut rng)))
            .collect::<Vec<_>>()
            .join(" ");
        let overview_len = rng.random_range(12..=40);
        let overview = (0..overview_len)
            .map(|_| words.word(&mut rng))
            .collect::<Vec<_>>()
            .join(" ");
        let genre_count = rng.random_range(1..=3);
        let mut genres: Vec<&'static str> = Vec::with_capacity(genre_count);
        while genres.len() < genre_count {
            let genre = GENRES[rng.random_range(0..GENRES.len())];
            if !genres.contains(&genre) {
                genres.push(genre);
            }
        }
        let year = rng.random_range(1950..=2025);
        let rating = f64::from(rng.random_range(10u32..=100)) / 10.0;
        let pareto = Pareto::new(1.0, 1.5).expect("scale and shape are positive");
        let popularity = round_to(pareto.sample(&mut rng), 2);
        let vectors = (self.vector_dimensions > 0).then(|| Vectors {
            default: (0..self.vector_dimensions)
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect(),
        });
        Movie {
            id,
            title,
            overview,
            genres,
            year,
            rating,
            popularity,
            vectors,
        }
    }

    /// Documents `range` in id order.
    pub fn movies(&self, range: std::ops::Range<u64>) -> impl Iterator<Item = Movie> + '_ {
        let words = WordSampler::new();
        range.map(move |id| self.movie(id, &words))
    }

    /// Writes documents `range` as NDJSON (one document per line) without holding them
    /// in memory. Returns the number of documents written.
    pub fn write_ndjson<W: Write>(
        &self,
        range: std::ops::Range<u64>,
        out: &mut W,
    ) -> std::io::Result<u64> {
        let mut written = 0;
        for movie in self.movies(range) {
            serde_json::to_writer(&mut *out, &movie)?;
            out.write_all(b"\n")?;
            written += 1;
        }
        Ok(written)
    }

    /// The NDJSON body of documents `range`.
    pub fn ndjson_batch(&self, range: std::ops::Range<u64>) -> Vec<u8> {
        let mut body = Vec::with_capacity((range.end - range.start) as usize * 400);
        self.write_ndjson(range, &mut body)
            .expect("writing into a Vec<u8> cannot fail");
        body
    }

    /// The index settings this dataset is meant to be searched with.
    pub fn settings(&self) -> Value {
        let mut settings = json!({
            "searchableAttributes": ["title", "overview", "genres"],
            "filterableAttributes": ["genres", "year", "rating", "popularity"],
            "sortableAttributes": ["year", "rating", "popularity"],
        });
        if self.vector_dimensions > 0 {
            settings["embedders"] = json!({
                "default": {"source": "userProvided", "dimensions": self.vector_dimensions}
            });
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: DatasetSpec = DatasetSpec {
        seed: 42,
        documents: 10_000,
        vector_dimensions: 0,
    };

    #[test]
    fn vocabulary_words_are_distinct_six_letter_words() {
        let words: std::collections::BTreeSet<String> = (0..VOCABULARY_SIZE).map(word).collect();
        assert_eq!(words.len(), VOCABULARY_SIZE as usize);
        assert!(words.iter().all(|w| w.len() == 6));
        assert_eq!(word(0), "cebabo");
    }

    #[test]
    fn first_document_of_seed_42_is_fixed() {
        let mut line = Vec::new();
        SPEC.write_ndjson(0..1, &mut line).expect("in memory");
        assert_eq!(
            String::from_utf8(line).expect("utf-8"),
            concat!(
                r#"{"id":0,"title":"Tibime","overview":"siroci daliha mogivi hekezi sedeva siroci "#,
                r#"siroci cebabo hemope cebabo mogivi zihava gonora cebabo siroci vihoda cebabo "#,
                r#"vopego hofeci gilase","genres":["Mystery","Thriller"],"year":1984,"rating":4.4,"#,
                r#""popularity":1.14}"#,
                "\n"
            )
        );
    }

    #[test]
    fn documents_do_not_depend_on_the_range_they_are_generated_in() {
        let alone = SPEC.ndjson_batch(5..6);
        let all = SPEC.ndjson_batch(0..10);
        let sixth = all.split(|b| *b == b'\n').nth(5).expect("ten lines");
        assert_eq!(&alone[..alone.len() - 1], sixth);
    }

    #[test]
    fn another_seed_gives_another_document() {
        let other = DatasetSpec { seed: 43, ..SPEC };
        assert_ne!(SPEC.ndjson_batch(0..1), other.ndjson_batch(0..1));
    }

    #[test]
    fn vectors_have_the_requested_dimensions_and_settings_declare_the_embedder() {
        let spec = DatasetSpec {
            vector_dimensions: 8,
            ..SPEC
        };
        let movie = spec.movie(3, &WordSampler::new());
        assert_eq!(movie.vectors.expect("vectors requested").default.len(), 8);
        assert_eq!(
            spec.settings()["embedders"],
            json!({"default": {"source": "userProvided", "dimensions": 8}})
        );
        assert_eq!(SPEC.settings().get("embedders"), None);
    }

    #[test]
    fn settings_make_filter_and_sort_fields_usable() {
        assert_eq!(
            SPEC.settings(),
            json!({
                "searchableAttributes": ["title", "overview", "genres"],
                "filterableAttributes": ["genres", "year", "rating", "popularity"],
                "sortableAttributes": ["year", "rating", "popularity"],
            })
        );
    }

    #[test]
    fn frequent_words_dominate_like_natural_text() {
        let words = WordSampler::new();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let draws = 10_000;
        let top_ten = (0..draws).filter(|_| words.rank(&mut rng) < 10).count();
        // With exponent 1.07 over 5000 words the ten most frequent words carry about a third
        // of all occurrences.
        assert!((2_500..4_500).contains(&top_ten), "top ten drew {top_ten}");
    }
}
