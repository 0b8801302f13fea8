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

#[cfg(test)]
mod tests {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    use proptest::prelude::*;

    use super::*;
    use crate::filter::parse;

    fn plan(filter: &str) -> Option<BTreeSet<String>> {
        let filter = parse(filter)
            .expect("valid filter")
            .expect("non-empty filter");
        pk_restriction(&filter, "id")
    }

    fn keys(keys: &[&str]) -> Option<BTreeSet<String>> {
        Some(keys.iter().map(|key| key.to_string()).collect())
    }

    #[test]
    fn equality_on_a_numeric_key_restricts_to_that_key() {
        assert_eq!(plan("id = 42"), keys(&["42"]));
    }

    #[test]
    fn a_quoted_number_is_the_same_key_as_the_bare_number() {
        assert_eq!(plan("id = \"42\""), plan("id = 42"));
    }

    #[test]
    fn numeric_spellings_of_an_integer_include_the_integer_key() {
        assert_eq!(plan("id = 1.0"), keys(&["1"]));
        assert_eq!(plan("id = 01"), keys(&["01", "1"]));
        assert_eq!(plan("id = 1e3"), keys(&["1000", "1E3", "1e3"]));
    }

    #[test]
    fn a_value_with_letters_matches_every_case_spelling() {
        assert_eq!(plan("id = ab"), keys(&["AB", "Ab", "aB", "ab"]));
        assert_eq!(plan("id = 'a-1'"), keys(&["A-1", "a-1"]));
    }

    #[test]
    fn surrounding_whitespace_is_ignored_like_meilisearch_does() {
        assert_eq!(plan("id = ' 7 '"), keys(&["7"]));
    }

    #[test]
    fn values_that_are_no_valid_document_id_restrict_to_nothing() {
        assert_eq!(plan("id = 'a b'"), keys(&[]));
        assert_eq!(plan("id = 2.5"), keys(&[]));
    }

    #[test]
    fn too_many_case_spellings_fan_out() {
        assert_eq!(plan("id = abcdefg"), None);
    }

    #[test]
    fn non_ascii_values_fan_out() {
        assert_eq!(plan("id = Ａbc"), None);
    }

    #[test]
    fn integers_beyond_exact_floats_fan_out() {
        assert_eq!(plan("id = 9007199254740993"), None);
    }

    #[test]
    fn in_restricts_to_the_union_of_its_values() {
        assert_eq!(plan("id IN [1, 2, 3]"), keys(&["1", "2", "3"]));
        assert_eq!(plan("id IN []"), keys(&[]));
    }

    #[test]
    fn and_intersects_the_conjuncts_that_restrict() {
        assert_eq!(plan("id IN [1, 2] AND id IN [2, 3]"), keys(&["2"]));
        assert_eq!(plan("genre = horror AND id = 7"), keys(&["7"]));
    }

    #[test]
    fn and_without_a_restricting_conjunct_fans_out() {
        assert_eq!(plan("genre = horror AND year > 2000"), None);
    }

    #[test]
    fn or_restricts_only_when_every_branch_does() {
        assert_eq!(plan("id = 1 OR id IN [2, 3]"), keys(&["1", "2", "3"]));
        assert_eq!(plan("id = 1 OR genre = horror"), None);
    }

    #[test]
    fn negations_and_other_operators_fan_out() {
        assert_eq!(plan("NOT id = 1"), None);
        assert_eq!(plan("id NOT IN [1]"), None);
        assert_eq!(plan("id != 1"), None);
        assert_eq!(plan("id > 1"), None);
        assert_eq!(plan("id 1 TO 3"), None);
        assert_eq!(plan("id EXISTS"), None);
    }

    #[test]
    fn other_fields_named_like_the_key_do_not_restrict() {
        assert_eq!(plan("ID = 1"), None);
        assert_eq!(plan("id.x = 1"), None);
    }

    #[test]
    fn restrictions_beyond_the_key_limit_fan_out() {
        let values: Vec<String> = (0..=MAX_RESTRICTED_KEYS).map(|n| n.to_string()).collect();
        assert_eq!(plan(&format!("id IN [{}]", values.join(", "))), None);
    }

    // ----- soundness against a model of Meilisearch's matching ---------------------------

    /// A document's primary key as stored: a JSON integer or a JSON string.
    #[derive(Debug, Clone)]
    enum Pk {
        Int(i64),
        Str(String),
    }

    impl Pk {
        fn key(&self) -> String {
            match self {
                Pk::Int(n) => n.to_string(),
                Pk::Str(s) => s.clone(),
            }
        }
    }

    /// Meilisearch's `id = value` for ASCII values: normalised string equality, or
    /// numeric equality with an integer id.
    fn pk_equals(pk: &Pk, value: &str) -> bool {
        let normalized = value.trim().to_lowercase();
        let number = value.parse::<f64>().ok().filter(|n| n.is_finite());
        match pk {
            Pk::Int(n) => number == Some(*n as f64) || normalized == n.to_string(),
            Pk::Str(s) => normalized == s.to_lowercase(),
        }
    }

    /// Evaluates `filter` on a document with key `pk`; conditions the model does not
    /// know get an arbitrary (seeded) truth value, so soundness must hold for all of them.
    fn matches(filter: &Filter, pk: &Pk, seed: u64) -> bool {
        match filter {
            Filter::And(children) => children.iter().all(|child| matches(child, pk, seed)),
            Filter::Or(children) => children.iter().any(|child| matches(child, pk, seed)),
            Filter::Not(child) => !matches(child, pk, seed),
            Filter::Compare {
                field,
                op: CompareOp::Equal,
                value,
            } if field.value == "id" => pk_equals(pk, &value.value),
            Filter::In { field, values } if field.value == "id" => {
                values.iter().any(|value| pk_equals(pk, &value.value))
            }
            other => {
                let mut hasher = DefaultHasher::new();
                (seed, other.to_string(), pk.key()).hash(&mut hasher);
                hasher.finish() % 2 == 0
            }
        }
    }

    fn pk() -> impl Strategy<Value = Pk> {
        prop_oneof![
            (-3i64..1005).prop_map(Pk::Int),
            prop::sample::select(vec![
                "abc", "ABC", "aBc", "1", "01", "7", "1e3", "1E3", "a-b_c", "A-B_C", "x"
            ])
            .prop_map(|s| Pk::Str(s.to_string())),
        ]
    }

    fn leaf() -> impl Strategy<Value = String> {
        let value = prop::sample::select(vec![
            "1", "01", "1.0", "-0", "7", "abc", "ABC", "a-b_c", "' 7 '", "1e3", "1000", "x",
            "'x y'", "2.5",
        ]);
        prop_oneof![
            value.clone().prop_map(|v| format!("id = {v}")),
            prop::collection::vec(value.clone(), 0..4)
                .prop_map(|vs| format!("id IN [{}]", vs.join(", "))),
            value.clone().prop_map(|v| format!("id > {v}")),
            value.clone().prop_map(|v| format!("id != {v}")),
            value.prop_map(|v| format!("genre = {v}")),
        ]
    }

    fn filter_text() -> impl Strategy<Value = String> {
        leaf().prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4)
                    .prop_map(|c| format!("({})", c.join(" AND "))),
                prop::collection::vec(inner.clone(), 2..4)
                    .prop_map(|c| format!("({})", c.join(" OR "))),
                inner.prop_map(|c| format!("NOT ({c})")),
            ]
        })
    }

    proptest! {
        #[test]
        fn no_document_outside_the_restriction_matches(
            text in filter_text(),
            pks in prop::collection::vec(pk(), 1..12),
            seed in any::<u64>(),
        ) {
            let filter = parse(&text).expect("generated filters are valid").expect("non-empty");
            if let Some(allowed) = pk_restriction(&filter, "id") {
                for pk in &pks {
                    if matches(&filter, pk, seed) {
                        prop_assert!(
                            allowed.contains(&pk.key()),
                            "{:?} matches `{}` but is outside {:?}", pk, text, allowed
                        );
                    }
                }
            }
        }
    }
}
