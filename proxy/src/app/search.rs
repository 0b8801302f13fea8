//! Scatter-gather search: one group's covering set answers, the merger combines.

use http::Method;
use serde_json::{Map, Value};

use super::hedge::Replicas;
use super::App;
use crate::error::ApiError;
use crate::fanout::{NodeAddress, NodeRequest, NodeResponse};
use crate::http::{parse_query, ClientRequest, Response};
use crate::runtime::Runtime;
use crate::search_plan::{node_body, plan, NeedsNodeValidation, SearchPlan};

/// Query parameters of `GET .../search` whose values are numbers or booleans; every
/// other parameter is passed to the nodes as the client wrote it.
const GET_NUMBERS: &[&str] = &["offset", "limit", "page", "hitsPerPage"];
const GET_BOOLEANS: &[&str] = &["showRankingScore", "showRankingScoreDetails"];

/// Read the planning fields of a `GET` search into the JSON form [`plan`] reads.
fn get_params_as_body(
    pairs: &[(String, String)],
) -> Result<Map<String, Value>, NeedsNodeValidation> {
    let mut body = Map::new();
    for (key, value) in pairs {
        if GET_NUMBERS.contains(&key.as_str()) {
            let number: u64 = value.parse().map_err(|_| NeedsNodeValidation)?;
            body.insert(key.clone(), Value::from(number));
        } else if GET_BOOLEANS.contains(&key.as_str()) {
            let flag: bool = value.parse().map_err(|_| NeedsNodeValidation)?;
            body.insert(key.clone(), Value::Bool(flag));
        }
    }
    Ok(body)
}

/// Rewrite a `GET` search's query string for one node (window, scores, shard
/// restriction), keeping every other parameter as the client wrote it.
fn node_query_string(
    pairs: &[(String, String)],
    node: &Map<String, Value>,
    restrict: Option<&str>,
) -> String {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| {
            !GET_NUMBERS.contains(&k.as_str())
                && !GET_BOOLEANS.contains(&k.as_str())
                && k != "filter"
        })
        .cloned()
        .collect();
    for key in GET_NUMBERS.iter().chain(GET_BOOLEANS) {
        if let Some(value) = node.get(*key) {
            out.push(((*key).to_owned(), value.to_string()));
        }
    }
    let client_filter = pairs
        .iter()
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v.as_str());
    let filter = super::reads::combine_string_filter(client_filter, restrict);
    if let Some(filter) = filter {
        out.push(("filter".to_owned(), filter));
    }
    out.iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                super::writes::urlencode(k),
                super::writes::urlencode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl App {
    /// `GET` / `POST /indexes/{uid}/search`.
    pub(crate) async fn search(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        index: &str,
    ) -> Result<Response, ApiError> {
        let meta = self.index_meta(index).await?;
        let is_get = request.method == Method::GET;
        let pairs = if is_get {
            request
                .query
                .as_deref()
                .map(parse_query)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let client_body: Option<Map<String, Value>> = if is_get {
            None
        } else {
            match serde_json::from_slice::<Value>(&request.body) {
                Ok(Value::Object(map)) => Some(map),
                // Not an object: a node answers with Meilisearch's exact error.
                _ => return self.ask_one_node(runtime, request).await,
            }
        };
        let planned: Result<SearchPlan, NeedsNodeValidation> = match &client_body {
            Some(body) => plan(body),
            None => get_params_as_body(&pairs).and_then(|body| plan(&body)),
        };
        let (Some(meta), Ok(search_plan)) = (meta, planned) else {
            // An index Miroir does not know, or a query it cannot plan: the answer is an
            // error only a node can word exactly.
            return self.ask_one_node(runtime, request).await;
        };

        let settings = self.merge_settings(runtime, index).await?;
        let (query_distinct, retrieve): (Option<String>, Option<Vec<String>>) = match &client_body {
            Some(body) => (
                body.get("distinct")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                body.get("attributesToRetrieve")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    }),
            ),
            None => (
                pairs
                    .iter()
                    .find(|(k, _)| k == "distinct")
                    .map(|(_, v)| v.clone()),
                pairs
                    .iter()
                    .find(|(k, _)| k == "attributesToRetrieve")
                    .map(|(_, v)| v.split(',').map(|f| f.trim().to_owned()).collect()),
            ),
        };
        let distinct = super::merge::distinct_in_effect(
            query_distinct.as_deref(),
            &settings,
            retrieve.as_deref(),
        );
        let extra = distinct.1.clone();
        let bodies = self
            .scatter_covering(
                runtime,
                request,
                meta.shards,
                Replicas::Fastest,
                |restriction| {
                    Ok(match &client_body {
                        Some(body) => {
                            let mut node_query = node_body(body, &search_plan, restriction);
                            if let (Some(extra), Some(Value::Array(fields))) =
                                (&extra, node_query.get_mut("attributesToRetrieve"))
                            {
                                fields.push(Value::String(extra.clone()));
                            }
                            let bytes = serde_json::to_vec(&Value::Object(node_query))
                                .map_err(|e| ApiError::internal(e.to_string()))?;
                            NodeRequest::json(Method::POST, request.path.clone(), bytes)
                        }
                        None => {
                            let planned_body = get_params_as_body(&pairs).unwrap_or_default();
                            let node_query = node_body(&planned_body, &search_plan, None);
                            let mut node_pairs = pairs.clone();
                            if let Some(extra) = &extra {
                                for (key, value) in node_pairs.iter_mut() {
                                    if key == "attributesToRetrieve" {
                                        value.push(',');
                                        value.push_str(extra);
                                    }
                                }
                            }
                            let query = node_query_string(&node_pairs, &node_query, restriction);
                            NodeRequest::new(Method::GET, format!("{}?{query}", request.path))
                        }
                    })
                },
            )
            .await?;
        let merged = super::merge::merge_search(&search_plan, &settings, distinct, &bodies.bodies)?;
        Ok(bodies.answer(merged))
    }

    /// Sort the answers of a read fan-out: all successes are returned; a Meilisearch
    /// error (4xx) from a node is the client's error; a node that failed or could not be
    /// reached is marked down and added to `avoid`, and `None` asks the caller to plan
    /// the read again without it.
    pub(crate) fn settle_reads(
        &self,
        answers: Vec<(NodeAddress, Result<NodeResponse, crate::fanout::NodeError>)>,
        avoid: &mut crate::runtime::Avoid,
    ) -> Result<Option<Vec<NodeResponse>>, ApiError> {
        let mut bodies: Vec<NodeResponse> = Vec::with_capacity(answers.len());
        let mut failed = false;
        for (node, answer) in answers {
            match answer {
                Ok(response) if response.is_success() => bodies.push(response),
                Ok(response) if (400..500).contains(&response.status) => {
                    return Err(super::node_error(&response))
                }
                Ok(response) => {
                    tracing::warn!(node = %node.id, status = response.status, "node failed a read");
                    self.health.mark_down(&node.id);
                    avoid.fail(node.id.clone());
                    failed = true;
                }
                Err(error) => {
                    tracing::warn!(node = %node.id, %error, "node unreachable for a read");
                    self.health.mark_down(&node.id);
                    avoid.fail(node.id.clone());
                    failed = true;
                }
            }
        }
        Ok((!failed).then_some(bodies))
    }

    /// Relay a request to one node and return its answer as it is: used where only a
    /// node can word Meilisearch's answer exactly (an error for a malformed query, an
    /// index Miroir does not know).
    pub(crate) async fn ask_one_node(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let part = App::as_node_request(request);
        let response = self.ask_any_node(runtime, &part).await?;
        let mut out = Response::json_bytes(response.status, response.body.clone());
        if let Some(stripped) =
            crate::strip::strip_body(crate::strip::Relayed::Document, &response.body)
        {
            out.body = stripped.into();
        }
        Ok(out)
    }
}

/// The error for a read some shards of which no reachable node holds.
pub(crate) fn uncovered(shards: &[u32]) -> ApiError {
    ApiError::shard_unavailable(format!(
        "No reachable node holds shard(s) {} of this index.",
        shards
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Prefix a query's error the way Meilisearch's multi-search does.
fn inside_query(position: usize, mut error: ApiError) -> ApiError {
    error.message = format!("Inside `.queries[{position}]`: {}", error.message);
    error
}

impl App {
    /// `POST /multi-search` without `federation`: every query is a search of its own,
    /// answered in order with its `indexUid`.
    pub(crate) async fn multi_search(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&request.body) else {
            return self.ask_one_node(runtime, request).await;
        };
        let Some(Value::Array(queries)) = body.remove("queries") else {
            return self.ask_one_node(runtime, request).await;
        };
        if let Some(federation) = body.get("federation").filter(|f| !f.is_null()) {
            if body.len() > 1 {
                // A member Meilisearch does not know: a node words the error.
                return self.ask_one_node(runtime, request).await;
            }
            return self
                .federated_search(runtime, request, federation, &queries)
                .await;
        }
        let mut results = Vec::with_capacity(queries.len());
        for (position, query) in queries.into_iter().enumerate() {
            let Value::Object(mut query) = query else {
                return self.ask_one_node(runtime, request).await;
            };
            let Some(index) = query
                .get("indexUid")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                return self.ask_one_node(runtime, request).await;
            };
            if query.contains_key("federationOptions") {
                return self.ask_one_node(runtime, request).await;
            }
            query.remove("indexUid");
            let sub = ClientRequest {
                method: Method::POST,
                path: format!("/indexes/{}/search", super::writes::urlencode(&index)),
                query: None,
                headers: request.headers.clone(),
                body: serde_json::to_vec(&Value::Object(query))
                    .map_err(|e| ApiError::internal(e.to_string()))?
                    .into(),
            };
            let response = self
                .search(runtime, &sub, &index)
                .await
                .map_err(|e| inside_query(position, e))?;
            let parsed: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
            if response.status != 200 {
                let field = |name: &str| {
                    parsed
                        .get(name)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                let error_type = match field("type").as_str() {
                    "auth" => crate::error::ErrorType::Auth,
                    "internal" => crate::error::ErrorType::Internal,
                    "system" => crate::error::ErrorType::System,
                    _ => crate::error::ErrorType::InvalidRequest,
                };
                return Err(inside_query(
                    position,
                    ApiError::new(response.status, field("code"), error_type, field("message")),
                ));
            }
            let mut with_index = Map::new();
            with_index.insert("indexUid".to_owned(), Value::String(index));
            if let Value::Object(fields) = parsed {
                with_index.extend(fields);
            }
            results.push(Value::Object(with_index));
        }
        Ok(Response::json(
            200,
            &serde_json::json!({ "results": results }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn get_search_parameters_are_rewritten_for_nodes() {
        let pairs = parse_query(
            "q=dune&offset=10&limit=5&filter=genre%20%3D%20drama&showRankingScore=false",
        );
        let planned = get_params_as_body(&pairs).unwrap();
        let search_plan = plan(&planned).unwrap();
        let node = node_body(&planned, &search_plan, None);
        let query = node_query_string(&pairs, &node, Some("_miroir_shard IN [1]"));
        assert_eq!(
            parse_query(&query),
            vec![
                ("q".to_owned(), "dune".to_owned()),
                ("offset".to_owned(), "0".to_owned()),
                ("limit".to_owned(), "15".to_owned()),
                ("showRankingScore".to_owned(), "true".to_owned()),
                ("showRankingScoreDetails".to_owned(), "true".to_owned()),
                (
                    "filter".to_owned(),
                    "(genre = drama) AND _miroir_shard IN [1]".to_owned()
                ),
            ]
        );
        assert!(!search_plan.show_ranking_score);
        assert_eq!(node.get("q"), None);
    }

    #[test]
    fn unparsable_get_windows_are_left_to_a_node() {
        assert_eq!(
            get_params_as_body(&parse_query("limit=ten")),
            Err(NeedsNodeValidation)
        );
    }
}
