//! Tokenisation and word matching for the fake engine's search.
//!
//! Deliberately simple: a word is a maximal run of alphanumeric characters, compared
//! lowercased. Meilisearch's charabia does language-aware segmentation, normalisation
//! (accents, compatibility forms) and separators; `docs/testing.md` lists the gap.

use crate::wire::damerau_levenshtein;

/// A word of a text with its byte range in the original string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    /// The lowercased word.
    pub text: String,
    /// Byte offset of the word in the original string.
    pub start: usize,
    /// Byte length of the word in the original string.
    pub len: usize,
}

/// Split `text` into lowercased alphanumeric words.
pub(crate) fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Word {
                    text: text[s..i].to_lowercase(),
                    start: s,
                    len: i - s,
                });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Word {
            text: text[s..].to_lowercase(),
            start: s,
            len: text.len() - s,
        });
    }
    out
}

/// How a query word matched a document word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WordMatch {
    /// Same word.
    Exact,
    /// The query word is a prefix of the document word (last query word only).
    Prefix,
    /// Matched with this many typos.
    Typo(u8),
}

impl WordMatch {
    /// Typos this match costs.
    pub fn typos(self) -> u8 {
        match self {
            WordMatch::Exact | WordMatch::Prefix => 0,
            WordMatch::Typo(n) => n,
        }
    }
}

/// Match one query word against one document word.
///
/// `prefix` allows the query word to match the beginning of a longer word;
/// `max_typos` is the edit budget (Damerau–Levenshtein) for whole-word matches.
pub(crate) fn match_word(
    query: &str,
    word: &str,
    prefix: bool,
    max_typos: u8,
) -> Option<WordMatch> {
    if query == word {
        return Some(WordMatch::Exact);
    }
    if prefix && word.starts_with(query) {
        return Some(WordMatch::Prefix);
    }
    if max_typos == 0 {
        return None;
    }
    let distance = damerau_levenshtein(query, word);
    u8::try_from(distance)
        .ok()
        .filter(|d| *d <= max_typos)
        .map(WordMatch::Typo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_alphanumeric_runs_with_byte_ranges() {
        let w = words("Batman: the Dark-Knight");
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["batman", "the", "dark", "knight"]);
        assert_eq!((w[3].start, w[3].len), (17, 6));
    }

    #[test]
    fn match_word_prefers_exact_then_prefix_then_typos() {
        assert_eq!(match_word("dark", "dark", true, 1), Some(WordMatch::Exact));
        assert_eq!(
            match_word("kni", "knight", true, 0),
            Some(WordMatch::Prefix)
        );
        assert_eq!(match_word("kni", "knight", false, 0), None);
        assert_eq!(
            match_word("knihgt", "knight", false, 1),
            Some(WordMatch::Typo(1))
        );
        assert_eq!(match_word("drk", "dark", false, 0), None);
    }
}
