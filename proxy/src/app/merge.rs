//! The bridge between the proxy's search plan and the merger crate, and the per-index
//! settings the merge needs (`pagination.maxTotalHits`, `faceting`).

use http::Method;
use miroir_merger::{FacetOrder, FacetSettings, Pagination as MergePagination, SearchRequest};
use serde_json::Value;

use super::App;
use crate::error::ApiError;
use crate::fanout::{NodeRequest, NodeResponse};
use crate::runtime::Runtime;
use crate::search_plan::{Pagination, SearchPlan};

/// The settings of an index that change how answers are merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSettings {
    /// `pagination.maxTotalHits`.
    pub max_total_hits: usize,
    /// `faceting`.
    pub facets: FacetSettings,
    /// `distinctAttribute`.
    pub distinct_attribute: Option<String>,
}

impl Default for MergeSettings {
    fn default() -> Self {
        MergeSettings {
            max_total_hits: 1000,
            facets: FacetSettings::default(),
            distinct_attribute: None,
        }
    }
}

impl MergeSettings {
    /// Read them from a `GET /indexes/{uid}/settings` body.
    pub fn from_settings(settings: &Value) -> Self {
        let mut merged = MergeSettings::default();
        if let Some(max) = settings
            .pointer("/pagination/maxTotalHits")
            .and_then(Value::as_u64)
        {
            merged.max_total_hits = max as usize;
        }
        if let Some(max) = settings
            .pointer("/faceting/maxValuesPerFacet")
            .and_then(Value::as_u64)
        {
            merged.facets.max_values_per_facet = max as usize;
        }
        if let Some(orders) = settings
            .pointer("/faceting/sortFacetValuesBy")
            .and_then(Value::as_object)
        {
            merged.facets.sort_facet_values_by = orders
                .iter()
                .map(|(facet, order)| {
                    let order = if order.as_str() == Some("count") {
                        FacetOrder::Count
                    } else {
                        FacetOrder::Alpha
                    };
                    (facet.clone(), order)
                })
                .collect();
        }
        merged.distinct_attribute = settings
            .get("distinctAttribute")
            .and_then(Value::as_str)
            .map(str::to_owned);
        merged
    }
}

/// The distinct attribute in effect for a query (the query's own, else the index's),
/// and whether the proxy must add it to `attributesToRetrieve` so that the merge can
/// compare hits across nodes (then it is removed from the answer).
pub(crate) fn distinct_in_effect(
    query_distinct: Option<&str>,
    settings: &MergeSettings,
    attributes_to_retrieve: Option<&[String]>,
) -> (Option<String>, Option<String>) {
    let distinct = query_distinct
        .map(str::to_owned)
        .or_else(|| settings.distinct_attribute.clone());
    let extra = match (&distinct, attributes_to_retrieve) {
        (Some(attribute), Some(fields)) if !fields.iter().any(|f| f == "*" || f == attribute) => {
            Some(attribute.clone())
        }
        _ => None,
    };
    (distinct, extra)
}

/// The client's window in the merger's terms.
pub(crate) fn merger_pagination(pagination: Pagination) -> MergePagination {
    match pagination {
        Pagination::Offset { offset, limit } => MergePagination::OffsetLimit {
            offset: offset as usize,
            limit: limit as usize,
        },
        Pagination::Page {
            page,
            hits_per_page,
        } => MergePagination::Page {
            page: page as usize,
            hits_per_page: hits_per_page as usize,
        },
    }
}

/// Merge node search answers into the client's answer.
pub(crate) fn merge_search(
    plan: &SearchPlan,
    settings: &MergeSettings,
    distinct: (Option<String>, Option<String>),
    bodies: &[NodeResponse],
) -> Result<Vec<u8>, ApiError> {
    let request = SearchRequest {
        pagination: merger_pagination(plan.pagination),
        max_total_hits: settings.max_total_hits,
        show_ranking_score: plan.show_ranking_score,
        show_ranking_score_details: plan.show_ranking_score_details,
        facets: settings.facets.clone(),
        // Meilisearch 1.50 gives every search a time-ordered UUID.
        request_uid: Some(uuid::Uuid::now_v7().to_string()),
        distinct: distinct.0,
        drop_attributes: distinct.1.into_iter().collect(),
    };
    let slices: Vec<&[u8]> = bodies.iter().map(|b| b.body.as_ref()).collect();
    miroir_merger::merge_search(&slices, &request).map_err(|error| {
        ApiError::internal(format!("Miroir could not merge the node answers: {error}"))
    })
}

impl App {
    /// The merge settings of an index, read from one node and cached until the next
    /// settings write through Miroir.
    pub(crate) async fn merge_settings(
        &self,
        runtime: &Runtime,
        index: &str,
    ) -> Result<MergeSettings, ApiError> {
        if let Some(cached) = self.settings_cache_get(index) {
            return Ok(cached);
        }
        let mut request = NodeRequest::new(
            Method::GET,
            format!("/indexes/{}/settings", super::writes::urlencode(index)),
        );
        if let Some(auth) = runtime.node_authorization() {
            request = request.header("Authorization", auth);
        }
        let response = self.ask_any_node(runtime, &request).await?;
        if !response.is_success() {
            return Err(super::node_error(&response));
        }
        let settings: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        let merged = MergeSettings::from_settings(&settings);
        self.settings_cache_put(index, merged.clone());
        Ok(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_settings_are_read_from_index_settings() {
        let settings = json!({
            "pagination": {"maxTotalHits": 50},
            "faceting": {"maxValuesPerFacet": 10, "sortFacetValuesBy": {"*": "alpha", "genre": "count"}},
        });
        let merged = MergeSettings::from_settings(&settings);
        assert_eq!(merged.max_total_hits, 50);
        assert_eq!(merged.facets.max_values_per_facet, 10);
        assert_eq!(
            merged.facets.sort_facet_values_by,
            vec![
                ("*".to_owned(), FacetOrder::Alpha),
                ("genre".to_owned(), FacetOrder::Count)
            ]
        );
        assert_eq!(
            MergeSettings::from_settings(&Value::Null),
            MergeSettings::default()
        );
    }
}
