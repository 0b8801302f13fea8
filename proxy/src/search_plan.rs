//! Turning a client's search query into the query every node of the covering set runs.
//!
//! Each node must return its own top `offset + limit` hits (or, in page mode, its first
//! `page × hitsPerPage`), with ranking scores and score details switched on, so that
//! the merger can pick the global window in Meilisearch's order. When a node holds
//! shards that another node answers for in this search (RF > 1 in the group), the
//! query is narrowed to the node's assigned shards with a `_miroir_shard IN [...]`
//! filter, so no document is counted twice.

use serde_json::{Map, Value};

use crate::strip::SHARD_FIELD;

/// Meilisearch's default `limit` and `hitsPerPage`.
pub const DEFAULT_LIMIT: u64 = 20;

/// The window of hits the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// `offset` / `limit` mode: answers carry `estimatedTotalHits`.
    Offset { offset: u64, limit: u64 },
    /// `page` / `hitsPerPage` mode: answers carry `totalHits` and `totalPages`.
    Page { page: u64, hits_per_page: u64 },
}

impl Pagination {
    /// How many hits from the top every node must return.
    pub fn node_window(self) -> u64 {
        match self {
            Pagination::Offset { offset, limit } => offset.saturating_add(limit),
            Pagination::Page {
                page,
                hits_per_page,
            } => page.saturating_mul(hits_per_page),
        }
    }
}

/// What the merger needs to know about the client's query.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPlan {
    /// The client's window.
    pub pagination: Pagination,
    /// Whether the client asked for `_rankingScore`.
    pub show_ranking_score: bool,
    /// Whether the client asked for `_rankingScoreDetails`.
    pub show_ranking_score_details: bool,
}

/// The query could not be planned because a field has a type Meilisearch rejects: a
/// node must answer it so the client gets Meilisearch's exact error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsNodeValidation;

fn optional_u64(body: &Map<String, Value>, key: &str) -> Result<Option<u64>, NeedsNodeValidation> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or(NeedsNodeValidation),
    }
}

fn optional_bool(body: &Map<String, Value>, key: &str) -> Result<bool, NeedsNodeValidation> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(NeedsNodeValidation),
    }
}

/// Read the client's window and score flags from a `POST .../search` body.
pub fn plan(body: &Map<String, Value>) -> Result<SearchPlan, NeedsNodeValidation> {
    let page = optional_u64(body, "page")?;
    let hits_per_page = optional_u64(body, "hitsPerPage")?;
    let pagination = if page.is_some() || hits_per_page.is_some() {
        Pagination::Page {
            page: page.unwrap_or(1),
            hits_per_page: hits_per_page.unwrap_or(DEFAULT_LIMIT),
        }
    } else {
        Pagination::Offset {
            offset: optional_u64(body, "offset")?.unwrap_or(0),
            limit: optional_u64(body, "limit")?.unwrap_or(DEFAULT_LIMIT),
        }
    };
    Ok(SearchPlan {
        pagination,
        show_ranking_score: optional_bool(body, "showRankingScore")?,
        show_ranking_score_details: optional_bool(body, "showRankingScoreDetails")?,
    })
}

/// The filter that keeps a node out of a search: it answers for none of its shards.
pub const SHARD_NONE: &str = "_miroir_shard IN []";

/// The filter that keeps a node to the shards it answers for in this search.
pub fn shard_filter(shards: &[u32]) -> String {
    let list: Vec<String> = shards.iter().map(u32::to_string).collect();
    format!("{SHARD_FIELD} IN [{}]", list.join(", "))
}

/// Build the body one node runs: the client's query with the node's window, scores
/// switched on, and (when given) the shard restriction added to the filter. The
/// client's own filter is kept as one element of Meilisearch's array form, so a
/// syntax error in it is reported by the node exactly as Meilisearch reports it.
pub fn node_body(
    client: &Map<String, Value>,
    plan: &SearchPlan,
    restrict: Option<&str>,
) -> Map<String, Value> {
    let mut body = client.clone();
    match plan.pagination {
        Pagination::Offset { .. } => {
            body.insert("offset".to_owned(), Value::from(0u64));
            body.insert(
                "limit".to_owned(),
                Value::from(plan.pagination.node_window()),
            );
        }
        Pagination::Page { .. } => {
            body.insert("page".to_owned(), Value::from(1u64));
            body.insert(
                "hitsPerPage".to_owned(),
                Value::from(plan.pagination.node_window()),
            );
        }
    }
    scored_and_restricted(&mut body, restrict);
    body
}

/// Switch ranking scores and score details on in a query, and add `restrict` (when
/// given) to its filter as one more element of Meilisearch's array form.
pub fn scored_and_restricted(query: &mut Map<String, Value>, restrict: Option<&str>) {
    query.insert("showRankingScore".to_owned(), Value::Bool(true));
    query.insert("showRankingScoreDetails".to_owned(), Value::Bool(true));
    if let Some(restriction) = restrict {
        let restriction = Value::String(restriction.to_owned());
        let filter = match query.remove("filter") {
            None | Some(Value::Null) => restriction,
            Some(Value::Array(mut clauses)) => {
                clauses.push(restriction);
                Value::Array(clauses)
            }
            Some(other) => Value::Array(vec![other, restriction]),
        };
        query.insert("filter".to_owned(), filter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn offset_mode_asks_every_node_for_offset_plus_limit() {
        let client = object(json!({"q": "dune", "offset": 40, "limit": 10}));
        let plan = plan(&client).unwrap();
        assert_eq!(
            plan.pagination,
            Pagination::Offset {
                offset: 40,
                limit: 10
            }
        );
        assert_eq!(
            Value::Object(node_body(&client, &plan, None)),
            json!({"q": "dune", "offset": 0, "limit": 50, "showRankingScore": true, "showRankingScoreDetails": true})
        );
    }

    #[test]
    fn page_mode_asks_for_the_first_pages_at_once() {
        let client = object(json!({"q": "dune", "page": 3, "hitsPerPage": 5}));
        let plan = plan(&client).unwrap();
        assert_eq!(
            plan.pagination,
            Pagination::Page {
                page: 3,
                hits_per_page: 5
            }
        );
        let body = node_body(&client, &plan, None);
        assert_eq!(body["page"], json!(1));
        assert_eq!(body["hitsPerPage"], json!(15));
    }

    #[test]
    fn defaults_match_meilisearch() {
        assert_eq!(
            plan(&object(json!({}))).unwrap().pagination,
            Pagination::Offset {
                offset: 0,
                limit: 20
            }
        );
        assert_eq!(
            plan(&object(json!({"page": 2}))).unwrap().pagination,
            Pagination::Page {
                page: 2,
                hits_per_page: 20
            }
        );
    }

    #[test]
    fn ill_typed_windows_are_left_to_a_node_to_reject() {
        assert_eq!(
            plan(&object(json!({"limit": "ten"}))),
            Err(NeedsNodeValidation)
        );
        assert_eq!(
            plan(&object(json!({"showRankingScore": 1}))),
            Err(NeedsNodeValidation)
        );
    }

    #[test]
    fn shard_restriction_joins_the_client_filter() {
        let restriction = shard_filter(&[1, 5]);
        assert_eq!(restriction, "_miroir_shard IN [1, 5]");
        let plan = plan(&object(json!({}))).unwrap();
        let string = node_body(
            &object(json!({"filter": "genre = drama"})),
            &plan,
            Some(&restriction),
        );
        assert_eq!(
            string["filter"],
            json!(["genre = drama", "_miroir_shard IN [1, 5]"])
        );
        let array = node_body(
            &object(json!({"filter": [["a = 1", "b = 2"], "c = 3"]})),
            &plan,
            Some(&restriction),
        );
        assert_eq!(
            array["filter"],
            json!([["a = 1", "b = 2"], "c = 3", "_miroir_shard IN [1, 5]"])
        );
        let none = node_body(&object(json!({"q": "x"})), &plan, Some(&restriction));
        assert_eq!(none["filter"], json!("_miroir_shard IN [1, 5]"));
    }
}
