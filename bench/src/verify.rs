//! Before measuring, the same requests are sent once to every target and each answer is
//! compared with the baseline's: a fast wrong answer is no win, and an error or a
//! different result should be visible next to the figures.
//!
//! What is compared is a summary of each answer, not its bytes: the status (and error
//! code); for a search (asked with `showRankingScore`), the hit count, the totals
//! (`estimatedTotalHits`, `totalHits`, `totalPages`), the facet distribution, the ranking
//! score of each position and the hit ids; for anything else (a document), the whole
//! JSON body. Answers whose ids differ only among hits of equal score are counted apart:
//! a sharded index may legitimately break ties otherwise (see `docs/status.md`), and a
//! page boundary may cut a tie group differently. `processingTimeMs` always differs.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::client::TargetClient;
use crate::load::PreparedRequest;

/// How one target's answer compares with the baseline's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The same summary and the same hits in the same order.
    Same,
    /// The same totals, facets and ranking scores position by position; hits differ
    /// only among documents of equal score (ties may legitimately be broken otherwise
    /// by a sharded index, and a page boundary can cut a tie group differently).
    Ties,
    /// Hits (up to ties) and facets agree, but a total (`estimatedTotalHits`,
    /// `totalHits`, `totalPages`) differs: which one, in a few words.
    Totals(String),
    /// Something else differs: what, in a few words.
    Differs(String),
}

const TOTALS: [&str; 3] = ["estimatedTotalHits", "totalHits", "totalPages"];

/// The summary without its totals (recursively, for multi-search results).
fn without_totals(summary: &Value) -> Value {
    match summary {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .filter(|(key, _)| !TOTALS.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), without_totals(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_totals).collect()),
        other => other.clone(),
    }
}

/// `(id, score)` of each hit; the score is `_rankingScore` rounded to 6 decimals (the
/// verification requests ask for it), or `None` when absent.
type Hit = (String, Option<String>);

fn hits(search: &Value) -> Option<Vec<Hit>> {
    search.get("hits")?.as_array().map(|hits| {
        hits.iter()
            .map(|hit| {
                (
                    hit.get("id").map(Value::to_string).unwrap_or_default(),
                    hit.get("_rankingScore")
                        .and_then(Value::as_f64)
                        .map(|s| format!("{s:.6}")),
                )
            })
            .collect()
    })
}

fn search_summary(search: &Value) -> Value {
    let scores: Vec<Option<String>> = hits(search)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, score)| score)
        .collect();
    json!({
        "hits": scores.len(),
        "scores": scores,
        "estimatedTotalHits": search.get("estimatedTotalHits"),
        "totalHits": search.get("totalHits"),
        "totalPages": search.get("totalPages"),
        "facetDistribution": search.get("facetDistribution"),
    })
}

/// The summary of an answer that [`compare`] looks at besides the hit ids.
pub fn summary(status: u16, body: &[u8]) -> Value {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) => return json!({"status": status, "body": String::from_utf8_lossy(body)}),
    };
    if !(200..300).contains(&status) {
        // Errors: the status and Meilisearch's error code, not the message wording.
        return json!({"status": status, "code": parsed.get("code")});
    }
    let content = if let Some(results) = parsed.get("results").and_then(Value::as_array) {
        json!({"results": results.iter().map(search_summary).collect::<Vec<_>>()})
    } else if parsed.get("hits").is_some() {
        search_summary(&parsed)
    } else {
        parsed
    };
    json!({"status": status, "content": content})
}

fn hit_lists(body: &[u8]) -> Vec<Vec<Hit>> {
    let Ok(parsed) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    match parsed.get("results").and_then(Value::as_array) {
        Some(results) => results.iter().filter_map(hits).collect(),
        None => hits(&parsed).into_iter().collect(),
    }
}

/// With equal scores position by position: whether the ids agree as sets within every
/// run of equal scores, except the first and last runs, which the page may cut.
fn same_up_to_ties(a: &[Hit], b: &[Hit]) -> Result<(), String> {
    let mut start = 0;
    while start < a.len() {
        let end = (start..a.len())
            .find(|&i| a[i].1 != a[start].1)
            .unwrap_or(a.len());
        let inner = start > 0 && end < a.len();
        let mut left: Vec<&String> = a[start..end].iter().map(|h| &h.0).collect();
        let mut right: Vec<&String> = b[start..end].iter().map(|h| &h.0).collect();
        left.sort_unstable();
        right.sort_unstable();
        if inner && left != right {
            return Err(format!(
                "hits {start}..{end} (score {}): ids {left:?} vs {right:?}",
                a[start].1.as_deref().unwrap_or("?")
            ));
        }
        if a[start].1.is_none() && left != right {
            return Err(format!("hit ids from {start}: {left:?} vs {right:?}"));
        }
        start = end;
    }
    Ok(())
}

/// Names the first member that differs between two summaries, e.g.
/// `content.estimatedTotalHits: 1000 vs 998`.
fn first_difference(path: &str, base: &Value, other: &Value) -> Option<String> {
    if base == other {
        return None;
    }
    match (base, other) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|key| {
                first_difference(
                    &format!("{path}.{key}"),
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                )
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(&format!("{path}[{i}]"), x, y)),
        _ => {
            let short = |v: &Value| {
                let text = v.to_string();
                match text.char_indices().nth(120) {
                    Some((cut, _)) => format!("{}…", &text[..cut]),
                    None => text,
                }
            };
            Some(format!(
                "{}: {} vs {}",
                path.trim_start_matches('.'),
                short(base),
                short(other)
            ))
        }
    }
}

/// Compares an answer with the baseline's answer to the same request.
pub fn compare(base: (u16, &[u8]), other: (u16, &[u8])) -> Verdict {
    if base.0 != other.0 {
        let code = |body: &[u8]| {
            serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_owned))
                .map(|code| format!(" ({code})"))
                .unwrap_or_default()
        };
        return Verdict::Differs(format!(
            "status {}{} vs {}{}",
            base.0,
            code(base.1),
            other.0,
            code(other.1)
        ));
    }
    let (a, b) = (summary(base.0, base.1), summary(other.0, other.1));
    if let Some(difference) = first_difference("", &without_totals(&a), &without_totals(&b)) {
        return Verdict::Differs(difference);
    }
    let (left, right) = (hit_lists(base.1), hit_lists(other.1));
    if (200..300).contains(&base.0) && left != right {
        for (i, (a, b)) in left.iter().zip(&right).enumerate() {
            if let Err(what) = same_up_to_ties(a, b) {
                let at = if left.len() > 1 {
                    format!("results[{i}] ")
                } else {
                    String::new()
                };
                return Verdict::Differs(format!("{at}{what}"));
            }
        }
    }
    if let Some(difference) = first_difference("", &a, &b) {
        return Verdict::Totals(difference);
    }
    if left == right {
        Verdict::Same
    } else {
        Verdict::Ties
    }
}

/// The request as verification sends it: searches ask for `_rankingScore`, so that
/// ties can be told apart from different results.
pub fn with_scores(request: &PreparedRequest) -> PreparedRequest {
    let mut request = request.clone();
    let Some(mut body) = request
        .body
        .as_ref()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
    else {
        return request;
    };
    if let Some(queries) = body.get_mut("queries").and_then(Value::as_array_mut) {
        for query in queries {
            query["showRankingScore"] = json!(true);
        }
    } else if request.path.ends_with("/search") {
        body["showRankingScore"] = json!(true);
    }
    request.body = Some(bytes::Bytes::from(
        serde_json::to_vec(&body).expect("a JSON value serialises"),
    ));
    request
}

/// Counts of one target against the baseline, per kind of request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindTally {
    /// Identical summaries and hit order.
    pub same: u64,
    /// Different only among hits of equal score.
    pub ties: u64,
    /// Hits agree (up to ties), a total differs.
    pub totals: u64,
    /// Different answers.
    pub differs: u64,
    /// The first difference, with its request.
    pub first: Option<String>,
    /// The first difference of totals only, with its request.
    pub first_totals: Option<String>,
}

fn describe(request: &PreparedRequest, what: &str) -> String {
    let body = request
        .body
        .as_ref()
        .map(|b| format!(" {}", String::from_utf8_lossy(b)))
        .unwrap_or_default();
    format!("{} {}{body}: {what}", request.method, request.path)
}

/// Sends each of `requests` to the baseline and to every other target, one at a time,
/// and tallies the verdicts per target and kind. A transport error counts as status 0.
pub async fn verify(
    baseline: &TargetClient,
    others: &[(&str, &TargetClient)],
    requests: &[PreparedRequest],
) -> BTreeMap<String, BTreeMap<&'static str, KindTally>> {
    async fn ask(client: &TargetClient, request: &PreparedRequest) -> (u16, bytes::Bytes) {
        let body = request.body.clone().map(|b| (b, "application/json"));
        match client
            .send(request.method.clone(), &request.path, body)
            .await
        {
            Ok(answer) => (answer.status.as_u16(), answer.body),
            Err(error) => (0, bytes::Bytes::from(error.to_string())),
        }
    }
    let mut tallies: BTreeMap<String, BTreeMap<&'static str, KindTally>> = BTreeMap::new();
    for request in requests {
        let request = &with_scores(request);
        let base = ask(baseline, request).await;
        for (name, client) in others {
            let answer = ask(client, request).await;
            let tally = tallies
                .entry((*name).to_owned())
                .or_default()
                .entry(request.kind.name())
                .or_default();
            match compare((base.0, &base.1), (answer.0, &answer.1)) {
                Verdict::Same => tally.same += 1,
                Verdict::Ties => tally.ties += 1,
                Verdict::Totals(what) => {
                    tally.totals += 1;
                    tally
                        .first_totals
                        .get_or_insert_with(|| describe(request, &what));
                }
                Verdict::Differs(what) => {
                    tally.differs += 1;
                    tally.first.get_or_insert_with(|| describe(request, &what));
                }
            }
        }
    }
    tallies
}

/// Report notes: one line per target and kind, differences first spelled out.
pub fn notes(
    baseline: &str,
    tallies: &BTreeMap<String, BTreeMap<&'static str, KindTally>>,
) -> Vec<String> {
    let mut notes = Vec::new();
    for (target, kinds) in tallies {
        let counts: Vec<String> = kinds
            .iter()
            .map(|(kind, t)| format!("{kind} {}/{}/{}/{}", t.same, t.ties, t.totals, t.differs))
            .collect();
        notes.push(format!(
            "answers of {target} compared with {baseline} before measuring (same / differing only among equal-score hits / only a total differs / different): {}",
            counts.join(", ")
        ));
        for (kind, tally) in kinds {
            if let Some(first) = &tally.first {
                notes.push(format!(
                    "{target} ({kind}) first different answer: `{first}`"
                ));
            }
            if let Some(first) = &tally.first_totals {
                notes.push(format!(
                    "{target} ({kind}) first different total: `{first}`"
                ));
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(hits: &[(u64, f64)], total: u64) -> Vec<u8> {
        let hits: Vec<Value> = hits
            .iter()
            .map(|(id, score)| json!({"id": id, "title": "t", "_rankingScore": score}))
            .collect();
        serde_json::to_vec(&json!({
            "hits": hits, "estimatedTotalHits": total, "processingTimeMs": 3,
            "query": "q", "limit": 20, "offset": 0
        }))
        .expect("serialisable")
    }

    #[test]
    fn processing_time_does_not_count_but_totals_and_hits_do() {
        let base = search(
            &[(1, 0.9), (2, 0.5), (3, 0.5), (4, 0.5), (5, 0.1), (6, 0.1)],
            40,
        );
        let ok = |other: &[u8]| compare((200, &base), (200, other));
        assert_eq!(
            ok(&search(
                &[(1, 0.9), (2, 0.5), (3, 0.5), (4, 0.5), (5, 0.1), (6, 0.1)],
                40
            )),
            Verdict::Same
        );
        // Inside a tie group, and across the cut of the last group: ties.
        assert_eq!(
            ok(&search(
                &[(1, 0.9), (4, 0.5), (2, 0.5), (3, 0.5), (5, 0.1), (9, 0.1)],
                40
            )),
            Verdict::Ties
        );
        assert_eq!(
            ok(&search(
                &[(1, 0.9), (2, 0.5), (3, 0.5), (4, 0.5), (5, 0.1), (6, 0.1)],
                1000
            )),
            Verdict::Totals("content.estimatedTotalHits: 40 vs 1000".to_owned())
        );
        assert_eq!(
            ok(&search(
                &[(1, 0.9), (2, 0.5), (3, 0.5), (7, 0.5), (5, 0.1), (6, 0.1)],
                40
            )),
            Verdict::Differs(
                "hits 1..4 (score 0.500000): ids [\"2\", \"3\", \"4\"] vs [\"2\", \"3\", \"7\"]"
                    .to_owned()
            )
        );
        assert_eq!(
            ok(&search(
                &[(1, 0.9), (2, 0.6), (3, 0.5), (4, 0.5), (5, 0.1), (6, 0.1)],
                40
            )),
            Verdict::Differs("content.scores[1]: \"0.500000\" vs \"0.600000\"".to_owned())
        );
    }

    #[test]
    fn errors_compare_by_status_and_code() {
        let ok = search(&[(1, 1.0)], 1);
        let refused = br#"{"message":"not yet","code":"miroir_unsupported_route","type":"invalid_request","link":""}"#;
        assert_eq!(
            compare((200, &ok), (501, refused)),
            Verdict::Differs("status 200 vs 501 (miroir_unsupported_route)".to_owned())
        );
        let a = br#"{"message":"a","code":"index_not_found"}"#;
        let b = br#"{"message":"b","code":"index_not_found"}"#;
        assert_eq!(compare((404, a), (404, b)), Verdict::Same);
    }

    #[test]
    fn documents_compare_whole_and_multi_search_per_query() {
        let doc = br#"{"id":1,"title":"a"}"#;
        assert_eq!(
            compare((200, doc), (200, br#"{"title":"a","id":1}"#)),
            Verdict::Same
        );
        assert!(matches!(
            compare((200, doc), (200, br#"{"id":1,"title":"b"}"#)),
            Verdict::Differs(what) if what == "content.title: \"a\" vs \"b\""
        ));
        let multi = |hits: &[(u64, f64)]| {
            serde_json::to_vec(&json!({"results": [
                serde_json::from_slice::<Value>(&search(&[(7, 1.0)], 1)).expect("json"),
                serde_json::from_slice::<Value>(&search(hits, 2)).expect("json"),
            ]}))
            .expect("serialisable")
        };
        let base = multi(&[(1, 0.9), (2, 0.5), (3, 0.5), (4, 0.1)]);
        assert_eq!(
            compare(
                (200, &base),
                (200, &multi(&[(1, 0.9), (3, 0.5), (2, 0.5), (4, 0.1)]))
            ),
            Verdict::Ties
        );
        assert!(matches!(
            compare((200, &base), (200, &multi(&[(1, 0.9), (2, 0.5), (5, 0.5), (4, 0.1)]))),
            Verdict::Differs(what) if what.starts_with("results[1] hits 1..3")
        ));
    }

    #[test]
    fn verification_requests_ask_for_ranking_scores() {
        let search = PreparedRequest {
            kind: crate::queries::QueryKind::Keyword,
            method: http::Method::POST,
            path: "/indexes/m/search".to_owned(),
            body: Some(bytes::Bytes::from_static(br#"{"q":"a"}"#)),
        };
        assert_eq!(
            with_scores(&search).body.as_deref(),
            Some(&br#"{"q":"a","showRankingScore":true}"#[..])
        );
        let multi = PreparedRequest {
            kind: crate::queries::QueryKind::MultiSearch,
            path: "/multi-search".to_owned(),
            body: Some(bytes::Bytes::from_static(
                br#"{"queries":[{"q":"a"},{"q":"b"}]}"#,
            )),
            ..search.clone()
        };
        assert_eq!(
            with_scores(&multi).body.as_deref(),
            Some(&br#"{"queries":[{"q":"a","showRankingScore":true},{"q":"b","showRankingScore":true}]}"#[..])
        );
        let get = PreparedRequest {
            kind: crate::queries::QueryKind::GetById,
            method: http::Method::GET,
            path: "/indexes/m/documents/1".to_owned(),
            body: None,
        };
        assert!(with_scores(&get).body.is_none());
    }

    #[test]
    fn notes_give_counts_per_kind_and_the_first_difference() {
        let mut kinds = BTreeMap::new();
        kinds.insert(
            "keyword",
            KindTally {
                same: 9,
                ties: 1,
                totals: 3,
                differs: 0,
                first: None,
                first_totals: Some("POST /t: total".to_owned()),
            },
        );
        kinds.insert(
            "facet",
            KindTally {
                same: 0,
                ties: 0,
                totals: 0,
                differs: 2,
                first: Some("POST /x: y".to_owned()),
                first_totals: None,
            },
        );
        let mut tallies = BTreeMap::new();
        tallies.insert("m3".to_owned(), kinds);
        assert_eq!(
            notes("one", &tallies),
            vec![
                "answers of m3 compared with one before measuring (same / differing only among equal-score hits / only a total differs / different): facet 0/0/0/2, keyword 9/1/3/0".to_owned(),
                "m3 (facet) first different answer: `POST /x: y`".to_owned(),
                "m3 (keyword) first different total: `POST /t: total`".to_owned(),
            ]
        );
    }
}
