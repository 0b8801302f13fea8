//! The shard planner: which primary keys can a filter match?
//!
//! A search whose filter pins the primary key (`id = 7`, `id IN [a, b]`, either of them
//! ANDed with anything) only needs the shards owning those keys. This module works out
//! that set of primary-key strings, or says the filter does not restrict it.
//!
//! The answer must be sound: a document whose primary key is outside the set can never
//! match the filter on Meilisearch. Meilisearch compares `=` in two ways at once, and
//! the planner follows both:
//!
//! - as strings, after normalising both sides (trimmed, compatibility-decomposed,
//!   lowercased). Document ids are ASCII letters, digits, `-` and `_`, so the keys that
//!   match a value are the upper/lower-case spellings of its normalised form. A value
//!   with letters matches every case variant (`id = ab` matches `ab`, `AB`, `Ab`, `aB`);
//!   the planner lists them while there are at most [`MAX_CASE_VARIANTS`], and gives up
//!   (fans out) beyond. A value that is not ASCII after trimming is not analysed (its
//!   normalisation could produce ASCII) and restricts nothing.
//! - as numbers, when the value parses as a finite float: integer ids equal to it match
//!   (`id = 1.0` and `id = 01` match the document `1`). Integers beyond 2^53 share floats
//!   with their neighbours, so such a value restricts nothing.

use std::collections::BTreeSet;

use crate::filter::{CompareOp, Filter, Token};

/// The most spellings one value may expand to before the planner fans out instead.
pub const MAX_CASE_VARIANTS: usize = 64;

/// The most keys a restriction may hold before the planner fans out instead.
pub const MAX_RESTRICTED_KEYS: usize = 1024;

/// The primary-key strings `filter` can match on an index whose primary key is
/// `pk_field`, or `None` when the filter does not pin the primary key and the search
/// must go to every shard.
///
/// - `pk = v` and `pk IN [v, ...]`: the keys `v` can match (see the module docs);
/// - `AND`: the intersection of the conjuncts that restrict (one is enough);
/// - `OR`: the union, if every branch restricts; otherwise `None`;
/// - `NOT`, other operators and other fields: `None`.
///
/// `Some` of an empty set means no document can match.
pub fn pk_restriction(filter: &Filter, pk_field: &str) -> Option<BTreeSet<String>> {
    let keys = restriction(filter, pk_field)?;
    (keys.len() <= MAX_RESTRICTED_KEYS).then_some(keys)
}

fn restriction(filter: &Filter, pk_field: &str) -> Option<BTreeSet<String>> {
    match filter {
        Filter::Compare {
            field,
            op: CompareOp::Equal,
            value,
        } if field.value == pk_field => keys_equal_to(value),
        Filter::In { field, values } if field.value == pk_field => {
            let mut keys = BTreeSet::new();
            for value in values {
                keys.extend(keys_equal_to(value)?);
                if keys.len() > MAX_RESTRICTED_KEYS {
                    return None;
                }
            }
            Some(keys)
        }
        Filter::And(children) => children
            .iter()
            .filter_map(|child| restriction(child, pk_field))
            .reduce(|left, right| left.intersection(&right).cloned().collect()),
        Filter::Or(children) => {
            let mut keys = BTreeSet::new();
            for child in children {
                keys.extend(restriction(child, pk_field)?);
                if keys.len() > MAX_RESTRICTED_KEYS {
                    return None;
                }
            }
            Some(keys)
        }
        _ => None,
    }
}

/// Every primary-key string a document can have and still match `pk = value`, or `None`
/// when that set is too large or cannot be worked out.
pub fn keys_equal_to(value: &Token) -> Option<BTreeSet<String>> {
    let mut keys = BTreeSet::new();

    let trimmed = value.value.trim();
    if !trimmed.is_ascii() {
        return None;
    }
    let normalized = trimmed.to_ascii_lowercase();
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if !normalized.is_empty() && normalized.chars().all(is_id_char) {
        let letters = normalized.chars().filter(char::is_ascii_alphabetic).count();
        if letters >= usize::BITS as usize || 1usize << letters > MAX_CASE_VARIANTS {
            return None;
        }
        keys.extend(case_variants(&normalized));
    }

    // Meilisearch parses the value untrimmed.
    if let Ok(number) = value.value.parse::<f64>() {
        if number.is_finite() && number.fract() == 0.0 {
            const EXACT_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
            if number.abs() >= EXACT_LIMIT {
                return None;
            }
            // Exact: an integral float below 2^53 converts without loss.
            keys.insert(format!("{}", number as i64));
        }
    }
    Some(keys)
}

/// Every spelling of `lowercase` obtained by uppercasing any subset of its letters.
fn case_variants(lowercase: &str) -> Vec<String> {
    let mut variants = vec![String::with_capacity(lowercase.len())];
    for c in lowercase.chars() {
        if c.is_ascii_alphabetic() {
            let upper = c.to_ascii_uppercase();
            variants = variants
                .into_iter()
                .flat_map(|prefix| {
                    let mut with_upper = prefix.clone();
                    with_upper.push(upper);
                    let mut with_lower = prefix;
                    with_lower.push(c);
                    [with_lower, with_upper]
                })
                .collect();
        } else {
            variants.iter_mut().for_each(|variant| variant.push(c));
        }
    }
    variants
}
