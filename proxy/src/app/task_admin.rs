//! `POST /tasks/cancel` and `DELETE /tasks` over Miroir's task registry.
//!
//! Deletion works on Miroir's registry alone (the finished tasks matching the filter
//! are forgotten). Cancelation cancels the node tasks behind every unfinished matching
//! Miroir task, records the cancelation as one Miroir task whose node tasks are the
//! nodes' own cancelations, and marks the matched tasks `canceledBy` it; a matched task
//! that finishes before its nodes cancel it keeps its own status and loses the mark.

use std::collections::BTreeMap;

use http::Method;
use miroir_store::{TaskFilter, TaskFilterAction, TaskKind, TaskQuery, TaskRecord, TaskStatus};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::tasks::store_error;
use super::App;
use crate::auth::Action;
use crate::error::ApiError;
use crate::fanout::{NodeAddress, NodeRequest};
use crate::http::{ClientRequest, Response};
use crate::runtime::Runtime;

fn filter_error(error: miroir_store::TaskQueryError) -> ApiError {
    let json = error.to_json();
    let field = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    ApiError::invalid(field("code"), field("message"))
}

fn original_filter(request: &ClientRequest) -> String {
    format!("?{}", request.query.as_deref().unwrap_or_default())
}

impl App {
    /// The tasks a cancelation or deletion acts on: those matching the query string
    /// that the client's key may see. The key is judged before the query string is
    /// read, as Meilisearch does.
    async fn matching_tasks(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        action: TaskFilterAction,
    ) -> Result<Vec<TaskRecord>, ApiError> {
        let needed = match action {
            TaskFilterAction::Cancel => Action::TasksCancel,
            TaskFilterAction::Delete => Action::TasksDelete,
        };
        let access = self.authorize_local(runtime, request, needed).await?;
        let filter =
            TaskFilter::from_query_pairs(&request.query_pairs(), action).map_err(filter_error)?;
        let page = self
            .store()
            .await?
            .list_tasks(&TaskQuery::unbounded(filter))
            .await
            .map_err(store_error)?;
        Ok(page
            .results
            .into_iter()
            .filter(|task| access.sees_task(task.index_uid.as_deref(), task.kind))
            .collect())
    }

    /// `DELETE /tasks`: forget the finished tasks matching the filter.
    pub(crate) async fn delete_tasks(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let matched = self
            .matching_tasks(runtime, request, TaskFilterAction::Delete)
            .await?;
        let deletable: Vec<u32> = matched
            .iter()
            .filter(|task| task.status.is_finished())
            .map(|task| task.uid)
            .collect();
        let record = self
            .delete_as_task(matched.len(), &deletable, original_filter(request))
            .await?;
        Ok(answered_200(&record))
    }

    /// Delete the tasks `uids` from the registry and record the deletion as a finished
    /// `taskDeletion` task with Meilisearch's details (`matched` tasks matched the
    /// filter `original_filter`).
    pub(crate) async fn delete_as_task(
        &self,
        matched: usize,
        uids: &[u32],
        original_filter: String,
    ) -> Result<TaskRecord, ApiError> {
        let store = self.store().await?;
        let now = OffsetDateTime::now_utc();
        let uid = store.next_task_uid().await.map_err(store_error)?;
        let deleted = store.delete_tasks(uids).await.map_err(store_error)?;
        let mut record = TaskRecord::enqueued(uid, TaskKind::TaskDeletion, None, now);
        record.batch_uid = Some(uid);
        record.status = TaskStatus::Succeeded;
        record.started_at = Some(now);
        record.finished_at = Some(OffsetDateTime::now_utc());
        record.details = Some(json!({
            "matchedTasks": matched,
            "deletedTasks": deleted,
            "originalFilter": original_filter,
        }));
        store.put_task(&record).await.map_err(store_error)?;
        Ok(record)
    }

    /// `POST /tasks/cancel`: cancel the node tasks of every unfinished matching task.
    pub(crate) async fn cancel_tasks(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let matched = self
            .matching_tasks(runtime, request, TaskFilterAction::Cancel)
            .await?;
        let enqueued_at = OffsetDateTime::now_utc();
        let cancelable: Vec<TaskRecord> = matched
            .iter()
            .filter(|t| !t.status.is_finished())
            .cloned()
            .collect();
        let mut per_node: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for task in &cancelable {
            for node_task in task.node_tasks.iter().filter(|n| !n.status.is_finished()) {
                per_node
                    .entry(node_task.node.clone())
                    .or_default()
                    .push(node_task.task_uid);
            }
        }
        let parts: Vec<(NodeAddress, NodeRequest)> = per_node
            .iter()
            .filter_map(|(node, uids)| {
                let address = runtime.nodes.get(node.as_str())?.address.clone();
                let list: Vec<String> = uids.iter().map(u64::to_string).collect();
                let mut part = NodeRequest::new(
                    Method::POST,
                    format!("/tasks/cancel?uids={}", list.join(",")),
                );
                if let Some(auth) = runtime.node_authorization() {
                    part = part.header("Authorization", auth);
                }
                Some((address, part))
            })
            .collect();
        let (_, node_tasks, _) = self.send_parts(runtime, parts).await?;
        let details = json!({
            "matchedTasks": matched.len(),
            "canceledTasks": null,
            "originalFilter": original_filter(request),
        });
        let nothing_to_cancel = node_tasks.is_empty();
        let mut record = self
            .register_task(
                None,
                TaskKind::TaskCancelation,
                Some(details),
                node_tasks,
                None,
                enqueued_at,
            )
            .await?;
        let store = self.store().await?;
        for mut task in cancelable {
            task.canceled_by = Some(record.uid);
            store.put_task(&task).await.map_err(store_error)?;
        }
        let list = serde_json::to_vec(&matched.iter().map(|t| t.uid).collect::<Vec<u32>>())
            .map_err(|e| ApiError::internal(e.to_string()))?;
        store
            .cas_kv(&cancelation_key(record.uid), None, &list)
            .await
            .map_err(store_error)?;
        if nothing_to_cancel {
            // No node task to wait for: the cancelation is done.
            let now = OffsetDateTime::now_utc();
            record.status = TaskStatus::Succeeded;
            record.batch_uid = Some(record.uid);
            record.started_at = Some(now);
            record.finished_at = Some(now);
            if let Some(Value::Object(details)) = record.details.as_mut() {
                details.insert("canceledTasks".to_owned(), Value::from(0u64));
            }
            store.put_task(&record).await.map_err(store_error)?;
        }
        Ok(answered_200(&record))
    }

    /// Once a cancelation finished: count the matched tasks that ended canceled.
    pub(crate) async fn settle_cancelation(
        &self,
        runtime: &Runtime,
        record: &mut TaskRecord,
    ) -> Result<(), ApiError> {
        let store = self.store().await?;
        let Some((bytes, _)) = store
            .get_kv(&cancelation_key(record.uid))
            .await
            .map_err(store_error)?
        else {
            return Ok(());
        };
        let uids: Vec<u32> = serde_json::from_slice(&bytes).unwrap_or_default();
        let mut canceled = 0u64;
        for uid in uids {
            if let Some(mut task) = store.get_task(uid).await.map_err(store_error)? {
                // Boxed: refreshing a task may settle a cancelation, which refreshes tasks.
                Box::pin(self.refresh_task(runtime, &mut task)).await?;
                if task.status == TaskStatus::Canceled && task.canceled_by == Some(record.uid) {
                    canceled += 1;
                }
            }
        }
        if let Some(Value::Object(details)) = record.details.as_mut() {
            details.insert("canceledTasks".to_owned(), Value::from(canceled));
        }
        Ok(())
    }
}

/// Meilisearch answers task cancelation and deletion with 200 (not 202), with the
/// summarized task.
fn answered_200(record: &TaskRecord) -> Response {
    let mut response = super::tasks::accepted(record);
    response.status = 200;
    response
}

/// Where the uids matched by a cancelation are kept until it finishes.
fn cancelation_key(uid: u32) -> String {
    format!("cancelation:{uid}")
}
