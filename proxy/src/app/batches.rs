//! `GET /batches` and `GET /batches/{uid}` from Miroir's task registry.
//!
//! Miroir gives every task a batch of its own once the task leaves `enqueued` (its
//! `batchUid` is its own uid), so a Miroir batch is one task rendered as Meilisearch's
//! `BatchView` ([`miroir_store::TaskRecord::to_batch_view_json`]). Enqueued tasks have
//! no batch and are never listed.
//!
//! The list takes exactly the query parameters and errors of `GET /tasks`, as
//! Meilisearch's does, with Meilisearch's batch semantics: `uids` selects the batches
//! of those tasks, `canceledBy` the batch of each succeeded `taskCancelation` given
//! (nothing at all when none is), `statuses=enqueued` matches no batch, and a
//! processing batch has no enqueue or finish date to filter on yet.

use miroir_store::{TaskFilter, TaskKind, TaskQuery, TaskStatus};
use serde_json::{json, Value};

use super::tasks::store_error;
use super::App;
use crate::error::{ApiError, ErrorType};
use crate::http::{ClientRequest, Response};
use crate::runtime::Runtime;

/// Meilisearch's error for a batch uid that is not an integer.
fn invalid_batch_uid(uid: &str) -> ApiError {
    ApiError::invalid(
        "invalid_batch_uids",
        format!("Batch uid `{uid}` is invalid. It should only contain numeric characters."),
    )
}

/// Meilisearch's error for an unknown batch.
fn batch_not_found(uid: u32) -> ApiError {
    ApiError::new(
        404,
        "batch_not_found",
        ErrorType::InvalidRequest,
        format!("Batch `{uid}` not found."),
    )
}

/// Turn a task filter read from a `/batches` query into the filter of the tasks whose
/// batches it selects. `cancelation_batches` are the batches of the succeeded
/// cancelations named by `canceledBy` (`None` when the parameter was not given).
/// Returns `None` when no batch can match.
pub(crate) fn batch_filter(
    mut filter: TaskFilter,
    cancelation_batches: Option<Vec<u32>>,
) -> Option<TaskFilter> {
    // Only tasks that left `enqueued` have a batch. A batch still processing has no
    // enqueue date (Meilisearch records it when the batch finishes) and no finish date.
    let enqueue_bounds = filter.after_enqueued_at.is_some() || filter.before_enqueued_at.is_some();
    let with_batch: Vec<TaskStatus> = TaskStatus::ALL
        .into_iter()
        .filter(|s| *s != TaskStatus::Enqueued)
        .filter(|s| !(enqueue_bounds && *s == TaskStatus::Processing))
        .collect();
    filter.statuses = Some(match filter.statuses.take() {
        Some(asked) => asked
            .into_iter()
            .filter(|s| with_batch.contains(s))
            .collect(),
        None => with_batch,
    });
    // `canceledBy` names the cancelations' own batches, not the canceled tasks'.
    filter.canceled_by = None;
    if let Some(batches) = cancelation_batches {
        if batches.is_empty() {
            return None;
        }
        filter.batch_uids = Some(match filter.batch_uids.take() {
            Some(asked) => asked.into_iter().filter(|b| batches.contains(b)).collect(),
            None => batches,
        });
    }
    Some(filter)
}

impl App {
    /// `GET /batches`.
    pub(crate) async fn list_batches(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let (access, query) = self.read_task_list(runtime, request).await?;
        let store = self.store().await?;
        let cancelation_batches = match &query.filter.canceled_by {
            None => None,
            Some(uids) => {
                let mut batches = Vec::new();
                for uid in uids {
                    let Some(task) = store.get_task(*uid).await.map_err(store_error)? else {
                        continue;
                    };
                    if task.kind == TaskKind::TaskCancelation
                        && task.status == TaskStatus::Succeeded
                    {
                        batches.extend(task.batch_uid);
                    }
                }
                Some(batches)
            }
        };
        // Meilisearch echoes the limit it read one more than, saturating at `u32::MAX`.
        let echoed_limit = query.limit.saturating_add(1) - 1;
        let empty =
            json!({"results": [], "total": 0, "limit": echoed_limit, "from": null, "next": null});
        let Some(filter) = batch_filter(query.filter.clone(), cancelation_batches) else {
            return Ok(Response::json(200, &empty));
        };
        let page = self
            .visible_tasks(&TaskQuery { filter, ..query }, &access)
            .await?;
        let results: Vec<Value> = page
            .results
            .iter()
            .filter_map(|task| task.to_batch_view_json())
            .collect();
        Ok(Response::json(
            200,
            &json!({"results": results, "total": page.total, "limit": page.limit, "from": page.from, "next": page.next}),
        ))
    }

    /// `GET /batches/{uid}`.
    pub(crate) async fn get_batch(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        uid: &str,
    ) -> Result<Response, ApiError> {
        let access = self
            .authorize_local(runtime, request, crate::auth::Action::TasksGet)
            .await?;
        let uid: u32 = uid.parse().map_err(|_| invalid_batch_uid(uid))?;
        // A batch's uid is the uid of its only task.
        let store = self.store().await?;
        // A batch the key may not see does not exist for it.
        let Some(mut task) = store
            .get_task(uid)
            .await
            .map_err(store_error)?
            .filter(|task| access.sees_task(task.index_uid.as_deref(), task.kind))
        else {
            return Err(batch_not_found(uid));
        };
        self.refresh_task(runtime, &mut task).await?;
        match task.to_batch_view_json() {
            Some(view) if task.batch_uid == Some(uid) => Ok(Response::json(200, &view)),
            _ => Err(batch_not_found(uid)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITH_BATCH: [TaskStatus; 4] = [
        TaskStatus::Processing,
        TaskStatus::Succeeded,
        TaskStatus::Failed,
        TaskStatus::Canceled,
    ];

    #[test]
    fn only_tasks_that_left_enqueued_are_batches() {
        let filter = batch_filter(TaskFilter::default(), None).expect("matches batches");
        assert_eq!(filter.statuses, Some(WITH_BATCH.to_vec()));
        let asked = TaskFilter {
            statuses: Some(vec![TaskStatus::Enqueued]),
            ..TaskFilter::default()
        };
        assert_eq!(
            batch_filter(asked, None).expect("a filter").statuses,
            Some(vec![])
        );
    }

    #[test]
    fn enqueue_dates_never_match_a_processing_batch() {
        let asked = TaskFilter {
            after_enqueued_at: Some(time::OffsetDateTime::UNIX_EPOCH),
            ..TaskFilter::default()
        };
        assert_eq!(
            batch_filter(asked, None).expect("a filter").statuses,
            Some(WITH_BATCH[1..].to_vec())
        );
    }

    #[test]
    fn canceled_by_selects_the_cancelation_batches() {
        let asked = TaskFilter {
            canceled_by: Some(vec![7, 9]),
            batch_uids: Some(vec![7, 8]),
            ..TaskFilter::default()
        };
        let filter = batch_filter(asked, Some(vec![7, 9])).expect("a filter");
        assert_eq!(filter.canceled_by, None);
        assert_eq!(filter.batch_uids, Some(vec![7]));
    }

    #[test]
    fn canceled_by_without_a_succeeded_cancelation_matches_nothing() {
        let asked = TaskFilter {
            canceled_by: Some(vec![3]),
            ..TaskFilter::default()
        };
        assert_eq!(batch_filter(asked, Some(vec![])), None);
    }

    #[test]
    fn batch_errors_are_meilisearch_errors() {
        assert_eq!(
            invalid_batch_uid("abc").to_json(),
            json!({
                "message": "Batch uid `abc` is invalid. It should only contain numeric characters.",
                "code": "invalid_batch_uids",
                "type": "invalid_request",
                "link": "https://docs.meilisearch.com/errors#invalid_batch_uids"
            })
        );
        let missing = batch_not_found(42);
        assert_eq!(missing.status, 404);
        assert_eq!(missing.message, "Batch `42` not found.");
        assert_eq!(missing.code, "batch_not_found");
    }
}
