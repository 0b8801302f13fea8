//! The global order of hits: Meilisearch's cross-source comparison, rebuilt from the
//! `_rankingScore` and `_rankingScoreDetails` a node writes into each hit.
//!
//! A node orders hits by its ranking rules bucket by bucket. Meilisearch's federated
//! search merges sources by turning each hit's score details into a list of values —
//! runs of consecutive ranking rules (words, typo, proximity, attribute, exactness, ...)
//! folded into one score, sort values, geo distances, vector similarities — and comparing
//! two lists value by value, falling back to the weighted global score when two values
//! cannot be compared (e.g. a sort against a ranking score). This module does the same
//! from the JSON form of the details. Where the JSON lacks information Meilisearch has in
//! memory, the choices are:
//!
//! - A run of ranking rules is compared rule by rule on each rule's `score`. For two hits
//!   of the same query (same maximum ranks per rule, as all shards of one index share
//!   settings), this is exactly the order of the folded score.
//! - A run compared against a vector similarity (hybrid search) uses the hit's global
//!   `_rankingScore`, which equals the folded run when the run is the only one.
//! - Geo distances follow the node's own order (ascending: nearer first; a missing
//!   distance last), which is the order one node gives.
//! - Sort rules on attributes that are not displayed appear as `<hidden-rule-N>` with the
//!   value `<hidden>`: they compare equal (the node hides the value from us too).
//! - A hit without details is compared by its `_rankingScore` alone (exact when the query
//!   uses neither `sort` nor vectors).

use std::cmp::Ordering;

use simd_json::prelude::*;
use simd_json::BorrowedValue;
use smallvec::SmallVec;

/// A sort value as Meilisearch compares it: null < strings < numbers in "goodness".
#[derive(Debug, Clone, PartialEq)]
pub enum SortValue {
    /// No value (the document lacks the field).
    Null,
    /// A number.
    Number(f64),
    /// A string (compared bytewise, as Rust's `str::cmp`).
    String(Box<str>),
    /// Arrays, objects, booleans: compare equal to anything of the same kind.
    Other,
}

/// One comparable value of a hit's score, in rule order.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleValue {
    /// A run of consecutive ranking rules: each rule's local score in `[0, 1]`.
    Ranks(SmallVec<[f64; 6]>),
    /// A `field:asc` / `field:desc` sort rule and the document's value.
    Sort {
        /// Ascending order.
        asc: bool,
        /// The value.
        value: SortValue,
    },
    /// A `_geoPoint(lat, lng):asc|desc` rule and the distance in meters, if any.
    Geo {
        /// Ascending order (nearest first).
        asc: bool,
        /// The distance.
        distance: Option<f64>,
    },
    /// A vector similarity.
    Vector(f64),
    /// A redacted sort rule: the value is hidden and compares equal.
    Hidden,
}

/// Everything needed to place one hit in the global order.
#[derive(Debug, Clone, PartialEq)]
pub struct RankKey {
    /// The values, in rule order.
    pub rules: SmallVec<[RuleValue; 4]>,
    /// The hit's `_rankingScore`.
    pub global: f64,
    /// The weight of the query the hit answers (1.0 outside federated search).
    pub weight: f64,
    /// `Some(position)` when the hit is pinned at a position by a search rule.
    pub pin: Option<u32>,
}

impl RankKey {
    /// A key for a hit without score details.
    pub fn from_score(global: f64, weight: f64) -> RankKey {
        RankKey {
            rules: smallvec::smallvec![RuleValue::Ranks(smallvec::smallvec![global])],
            global,
            weight,
            pin: None,
        }
    }

    /// Builds the key from a parsed `_rankingScoreDetails` object. Unknown members without
    /// a numeric `score` are ignored; the members are taken in their `order`.
    pub fn from_details(details: &BorrowedValue<'_>, global: f64, weight: f64) -> RankKey {
        let mut entries: SmallVec<[(u64, &str, &BorrowedValue<'_>); 8]> = SmallVec::new();
        if let Some(obj) = details.as_object() {
            for (k, v) in obj.iter() {
                let order = v.get("order").and_then(|o| o.as_u64()).unwrap_or(u64::MAX);
                entries.push((order, k.as_ref(), v));
            }
        }
        entries.sort_by_key(|e| e.0);
        let mut rules: SmallVec<[RuleValue; 4]> = SmallVec::new();
        let mut pin = None;
        for (_, name, v) in entries {
            let value = match name {
                "pin" => {
                    pin = v.get("position").and_then(|p| p.as_u64()).map(|p| p as u32);
                    continue;
                }
                "skipped" => RuleValue::Ranks(smallvec::smallvec![0.0]),
                "vectorSort" => RuleValue::Vector(
                    v.get("similarity")
                        .and_then(|s| s.cast_f64())
                        .unwrap_or(0.0),
                ),
                _ if name.starts_with("<hidden-rule-") => RuleValue::Hidden,
                _ if name.ends_with(":asc") || name.ends_with(":desc") => {
                    let asc = name.ends_with(":asc");
                    if name.starts_with("_geoPoint(") {
                        RuleValue::Geo {
                            asc,
                            distance: v.get("distance").and_then(|d| d.cast_f64()),
                        }
                    } else {
                        RuleValue::Sort {
                            asc,
                            value: sort_value(v.get("value")),
                        }
                    }
                }
                _ => match v.get("score").and_then(|s| s.cast_f64()) {
                    Some(s) => RuleValue::Ranks(smallvec::smallvec![s]),
                    None => continue,
                },
            };
            match (rules.last_mut(), value) {
                (Some(RuleValue::Ranks(run)), RuleValue::Ranks(one)) => run.extend(one),
                (_, value) => rules.push(value),
            }
        }
        RankKey {
            rules,
            global,
            weight,
            pin,
        }
    }

    /// Is this a hit whose ranking rules form one run (so the run folds to `global`)?
    fn single_run(&self) -> bool {
        self.rules
            .iter()
            .filter(|r| matches!(r, RuleValue::Ranks(_)))
            .count()
            == 1
            && !self.rules.iter().any(|r| matches!(r, RuleValue::Vector(_)))
    }
}

fn sort_value(v: Option<&BorrowedValue<'_>>) -> SortValue {
    match v {
        None => SortValue::Null,
        Some(v) if v.is_null() => SortValue::Null,
        Some(v) => {
            if let Some(s) = v.as_str() {
                SortValue::String(s.into())
            } else if let Some(n) = v.cast_f64() {
                SortValue::Number(n)
            } else {
                SortValue::Other
            }
        }
    }
}

/// Meilisearch's tolerance when comparing scores.
fn cmp_score(a: f64, b: f64) -> Ordering {
    if (a - b).abs() <= f64::EPSILON {
        Ordering::Equal
    } else {
        a.partial_cmp(&b).unwrap_or(Ordering::Equal)
    }
}

/// Compares sort values: `Greater` means `a` comes first. Null last; numbers before
/// strings whatever the direction; within a kind, ascending puts the smaller first.
pub fn compare_sort_values(asc: bool, a: &SortValue, b: &SortValue) -> Ordering {
    use SortValue::*;
    let order = match (a, b) {
        (Null, Null) => return Ordering::Equal,
        (Null, _) => return Ordering::Less,
        (_, Null) => return Ordering::Greater,
        (Number(_), String(_)) => return Ordering::Greater,
        (String(_), Number(_)) => return Ordering::Less,
        (Number(x), Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (String(x), String(y)) => x.cmp(y),
        _ => return Ordering::Equal,
    };
    if asc {
        order.reverse()
    } else {
        order
    }
}

fn compare_values(a: &RankKey, x: &RuleValue, b: &RankKey, y: &RuleValue) -> Option<Ordering> {
    use RuleValue::*;
    match (x, y) {
        (Ranks(l), Ranks(r)) => {
            if a.weight == b.weight && l.len() == r.len() {
                for (p, q) in l.iter().zip(r.iter()) {
                    match cmp_score(*p, *q) {
                        Ordering::Equal => continue,
                        o => return Some(o),
                    }
                }
                Some(Ordering::Equal)
            } else if a.single_run() && b.single_run() {
                Some(cmp_score(a.global * a.weight, b.global * b.weight))
            } else {
                for (p, q) in l.iter().zip(r.iter()) {
                    match cmp_score(p * a.weight, q * b.weight) {
                        Ordering::Equal => continue,
                        o => return Some(o),
                    }
                }
                Some(l.len().cmp(&r.len()))
            }
        }
        (Ranks(_), Vector(s)) => Some(cmp_score(a.global * a.weight, s * b.weight)),
        (Vector(s), Ranks(_)) => Some(cmp_score(s * a.weight, b.global * b.weight)),
        (Vector(l), Vector(r)) => Some(cmp_score(l * a.weight, r * b.weight)),
        (Sort { asc: la, value: lv }, Sort { asc: ra, value: rv }) => {
            (la == ra).then(|| compare_sort_values(*la, lv, rv))
        }
        (
            Geo {
                asc: la,
                distance: ld,
            },
            Geo {
                asc: ra,
                distance: rd,
            },
        ) => {
            if la != ra {
                return None;
            }
            Some(match (ld, rd) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(l), Some(r)) => {
                    let o = cmp_score(*l, *r);
                    if *la {
                        o.reverse()
                    } else {
                        o
                    }
                }
            })
        }
        (Hidden, Hidden) => Some(Ordering::Equal),
        _ => None,
    }
}

/// Compares two hits: `Greater` means `a` ranks before `b`.
///
/// Values are compared in rule order; the first difference decides. When two values
/// cannot be compared, the hit with more remaining values wins, and if both have as many,
/// the weighted global scores decide (Meilisearch's federated rule). `Equal` means a tie,
/// which callers break by source order.
pub fn compare(a: &RankKey, b: &RankKey) -> Ordering {
    let mut li = a.rules.iter();
    let mut ri = b.rules.iter();
    loop {
        match (li.next(), ri.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match compare_values(a, x, b, y) {
                Some(Ordering::Equal) => continue,
                Some(o) => return o,
                None => {
                    let by_count = li.count().cmp(&ri.count());
                    if by_count.is_ne() {
                        return by_count;
                    }
                    return cmp_score(a.global * a.weight, b.global * b.weight);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(details: &str, global: f64) -> RankKey {
        let mut bytes = details.as_bytes().to_vec();
        let v = simd_json::to_borrowed_value(&mut bytes).expect("valid details");
        RankKey::from_details(&v, global, 1.0)
    }

    #[test]
    fn earlier_rule_decides_before_later_rules() {
        let a = key(
            r#"{"words":{"order":0,"matchingWords":2,"maxMatchingWords":2,"score":1.0},"typo":{"order":1,"typoCount":1,"maxTypoCount":2,"score":0.6666666666666666}}"#,
            0.83,
        );
        let b = key(
            r#"{"words":{"order":0,"matchingWords":1,"maxMatchingWords":2,"score":0.5},"typo":{"order":1,"typoCount":0,"maxTypoCount":2,"score":1.0}}"#,
            0.9,
        );
        assert_eq!(compare(&a, &b), Ordering::Greater);
    }

    #[test]
    fn ascending_sort_puts_numbers_first_then_strings_then_missing() {
        let n1 = key(r#"{"price:asc":{"order":0,"value":1}}"#, 1.0);
        let n2 = key(r#"{"price:asc":{"order":0,"value":2.5}}"#, 1.0);
        let s = key(r#"{"price:asc":{"order":0,"value":"a"}}"#, 1.0);
        let null = key(r#"{"price:asc":{"order":0,"value":null}}"#, 1.0);
        assert_eq!(compare(&n1, &n2), Ordering::Greater);
        assert_eq!(compare(&n2, &s), Ordering::Greater);
        assert_eq!(compare(&s, &null), Ordering::Greater);
    }

    #[test]
    fn descending_sort_still_puts_numbers_before_strings() {
        let n = key(r#"{"title:desc":{"order":0,"value":1}}"#, 1.0);
        let s = key(r#"{"title:desc":{"order":0,"value":"z"}}"#, 1.0);
        let s2 = key(r#"{"title:desc":{"order":0,"value":"y"}}"#, 1.0);
        assert_eq!(compare(&n, &s), Ordering::Greater);
        assert_eq!(compare(&s, &s2), Ordering::Greater);
    }

    #[test]
    fn sort_between_rule_runs_splits_the_runs() {
        let k = key(
            r#"{"words":{"order":0,"score":1.0},"price:asc":{"order":1,"value":3},"typo":{"order":2,"score":0.5},"proximity":{"order":3,"score":1.0}}"#,
            0.9,
        );
        assert_eq!(
            k.rules.to_vec(),
            vec![
                RuleValue::Ranks(smallvec::smallvec![1.0]),
                RuleValue::Sort {
                    asc: true,
                    value: SortValue::Number(3.0)
                },
                RuleValue::Ranks(smallvec::smallvec![0.5, 1.0]),
            ]
        );
    }

    #[test]
    fn geo_ascending_puts_nearer_first_and_missing_last() {
        let near = key(
            r#"{"_geoPoint(1, 2):asc":{"order":0,"value":{"lat":1,"lng":2},"distance":10.0}}"#,
            1.0,
        );
        let far = key(
            r#"{"_geoPoint(1, 2):asc":{"order":0,"value":{"lat":1,"lng":3},"distance":900.0}}"#,
            1.0,
        );
        let none = key(
            r#"{"_geoPoint(1, 2):asc":{"order":0,"value":null,"distance":null}}"#,
            1.0,
        );
        assert_eq!(compare(&near, &far), Ordering::Greater);
        assert_eq!(compare(&far, &none), Ordering::Greater);
    }

    #[test]
    fn incomparable_values_fall_back_to_the_global_score() {
        let sorted = key(r#"{"price:asc":{"order":0,"value":3}}"#, 0.2);
        let ranked = key(r#"{"words":{"order":0,"score":1.0}}"#, 0.9);
        assert_eq!(compare(&sorted, &ranked), Ordering::Less);
    }

    #[test]
    fn pin_is_recorded_and_not_compared() {
        let k = key(
            r#"{"pin":{"order":0,"position":3},"words":{"order":1,"score":1.0}}"#,
            1.0,
        );
        assert_eq!(k.pin, Some(3));
        assert_eq!(k.rules.len(), 1);
    }
}
