//! Hit formatting: `_formatted` (highlighting and cropping) and `_matchesPosition`.
//!
//! A word is highlighted when it matches a query word (exactly, within the typo
//! budget, or as a prefix of the last query word, in which case only the prefix is
//! wrapped, as Meilisearch does). Cropping keeps `cropLength` words starting at the
//! first match (or the start of the text) and marks cut ends with `cropMarker`.
//! Meilisearch picks the crop window that holds the most matches; the fake keeps the
//! first one. In `_formatted`, numbers and booleans become strings as in Meilisearch.

use serde_json::{Map, Value};

use crate::fields::pattern_selects;
use crate::search::{typo_budget, ParsedQuery};
use crate::text::{match_word, words, WordMatch};
use crate::IndexContext;

/// The formatting options of a search request, with Meilisearch's defaults.
#[derive(Debug, Clone)]
pub(crate) struct FormatOptions {
    pub attributes_to_highlight: Option<Vec<String>>,
    pub attributes_to_crop: Option<Vec<String>>,
    pub crop_length: usize,
    pub crop_marker: String,
    pub pre_tag: String,
    pub post_tag: String,
    pub show_matches_position: bool,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions {
            attributes_to_highlight: None,
            attributes_to_crop: None,
            crop_length: 10,
            crop_marker: "…".to_owned(),
            pre_tag: "<em>".to_owned(),
            post_tag: "</em>".to_owned(),
            show_matches_position: false,
        }
    }
}

/// A matched word in a string: byte start and matched byte length.
fn matches_in(
    text: &str,
    query: &ParsedQuery,
    index: &IndexContext<'_>,
) -> Vec<(usize, usize, usize)> {
    let n = query.words.len();
    words(text)
        .into_iter()
        .enumerate()
        .filter_map(|(word_index, word)| {
            query.words.iter().enumerate().find_map(|(i, q)| {
                let prefix = query.last_is_prefix && i + 1 == n;
                match match_word(q, &word.text, prefix, typo_budget(q, index))? {
                    WordMatch::Prefix => {
                        let chars = q.chars().count();
                        let bytes: usize = text[word.start..]
                            .chars()
                            .take(chars)
                            .map(char::len_utf8)
                            .sum();
                        Some((word_index, word.start, bytes))
                    }
                    _ => Some((word_index, word.start, word.len)),
                }
            })
        })
        .collect()
}

fn selected(list: &Option<Vec<String>>, path: &str) -> bool {
    list.as_ref().is_some_and(|l| {
        l.iter()
            .any(|p| pattern_selects(p.split(':').next().unwrap_or(p), path))
    })
}

fn highlight(
    text: &str,
    from: usize,
    to: usize,
    found: &[(usize, usize, usize)],
    opts: &FormatOptions,
    wrap: bool,
) -> String {
    let mut out = String::new();
    let mut cursor = from;
    if wrap {
        for (_, start, len) in found.iter().filter(|(_, s, _)| *s >= from && *s < to) {
            out.push_str(&text[cursor..*start]);
            out.push_str(&opts.pre_tag);
            out.push_str(&text[*start..start + len]);
            out.push_str(&opts.post_tag);
            cursor = start + len;
        }
    }
    out.push_str(&text[cursor..to]);
    out
}

fn format_string(
    text: &str,
    path: &str,
    query: &ParsedQuery,
    opts: &FormatOptions,
    index: &IndexContext<'_>,
) -> String {
    let wrap = selected(&opts.attributes_to_highlight, path);
    let found = if query.words.is_empty() {
        Vec::new()
    } else {
        matches_in(text, query, index)
    };
    if !selected(&opts.attributes_to_crop, path) {
        return highlight(text, 0, text.len(), &found, opts, wrap);
    }
    let all = words(text);
    if all.len() <= opts.crop_length || opts.crop_length == 0 {
        return highlight(text, 0, text.len(), &found, opts, wrap);
    }
    let first = found
        .first()
        .map(|(i, _, _)| *i)
        .unwrap_or(0)
        .min(all.len() - opts.crop_length);
    let last = first + opts.crop_length - 1;
    let (from, to) = (all[first].start, all[last].start + all[last].len);
    let mut out = String::new();
    if first > 0 {
        out.push_str(&opts.crop_marker);
    }
    out.push_str(&highlight(text, from, to, &found, opts, wrap));
    if last + 1 < all.len() {
        out.push_str(&opts.crop_marker);
    }
    out
}

fn format_value(
    value: &Value,
    path: &str,
    query: &ParsedQuery,
    opts: &FormatOptions,
    index: &IndexContext<'_>,
) -> Value {
    match value {
        Value::String(s) => Value::String(format_string(s, path, query, opts, index)),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| format_value(i, path, query, opts, index))
                .collect(),
        ),
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        format_value(v, &format!("{path}.{k}"), query, opts, index),
                    )
                })
                .collect(),
        ),
        Value::Null => Value::Null,
    }
}

fn positions(
    value: &Value,
    path: &str,
    query: &ParsedQuery,
    index: &IndexContext<'_>,
    out: &mut Map<String, Value>,
) {
    match value {
        Value::String(s) => {
            let found = matches_in(s, query, index);
            if !found.is_empty() {
                let entry = out
                    .entry(path.to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = entry {
                    list.extend(
                        found.into_iter().map(
                            |(_, start, len)| serde_json::json!({"start": start, "length": len}),
                        ),
                    );
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|i| positions(i, path, query, index, out)),
        Value::Object(object) => object
            .iter()
            .for_each(|(k, v)| positions(v, &format!("{path}.{k}"), query, index, out)),
        _ => {}
    }
}

/// `_formatted` (when highlighting or cropping was asked) and `_matchesPosition`
/// (when `showMatchesPosition`) for one hit; `None` when neither applies.
#[allow(clippy::type_complexity)]
pub(crate) fn format_hit(
    shown: &Map<String, Value>,
    displayed: &Map<String, Value>,
    query: &ParsedQuery,
    opts: &FormatOptions,
    index: &IndexContext<'_>,
) -> Option<(Option<Map<String, Value>>, Option<Map<String, Value>>)> {
    let wants_formatted =
        opts.attributes_to_highlight.is_some() || opts.attributes_to_crop.is_some();
    if !wants_formatted && !opts.show_matches_position {
        return None;
    }
    let formatted = wants_formatted.then(|| {
        shown
            .iter()
            .filter(|(k, _)| !k.starts_with('_') || k.as_str() == "_geo")
            .map(|(k, v)| (k.clone(), format_value(v, k, query, opts, index)))
            .collect()
    });
    let matches = opts.show_matches_position.then(|| {
        let mut out = Map::new();
        if !query.words.is_empty() {
            for (k, v) in displayed {
                positions(v, k, query, index, &mut out);
            }
        }
        out
    });
    Some((formatted, matches))
}
