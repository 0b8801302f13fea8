//! Miroir's task registry as clients see it: one integer task uid per write, answered
//! in Meilisearch's shapes, with the status aggregated from the node tasks behind it.

use http::Method;
use miroir_store::{NodeTask, TaskFilter, TaskKind, TaskPage, TaskQuery, TaskRecord, TaskStatus};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::App;
use crate::aggregate::{aggregate, NodeTaskView};
use crate::auth::{self, Action};
use crate::error::ApiError;
use crate::fanout::NodeRequest;
use crate::http::{ClientRequest, Response};
use crate::runtime::Runtime;

/// Count fields of task details that Miroir recomputes for the whole fleet instead of
/// copying one node's.
const COUNT_FIELDS: &[&str] = &["indexedDocuments", "deletedDocuments", "editedDocuments"];

/// Size fields of task details (index compaction) that Miroir sums over the nodes.
const SIZE_FIELDS: &[&str] = &["preCompactionSize", "postCompactionSize"];

fn status_name(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Enqueued => "enqueued",
        TaskStatus::Processing => "processing",
        TaskStatus::Succeeded => "succeeded",
        TaskStatus::Failed => "failed",
        TaskStatus::Canceled => "canceled",
    }
}

fn status_from_name(name: &str) -> TaskStatus {
    match name {
        "processing" => TaskStatus::Processing,
        "succeeded" => TaskStatus::Succeeded,
        "failed" => TaskStatus::Failed,
        "canceled" => TaskStatus::Canceled,
        _ => TaskStatus::Enqueued,
    }
}

fn is_finished(status: TaskStatus) -> bool {
    matches!(
        status,
        TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Canceled
    )
}

/// What the client sees in the 202 of a write: Meilisearch's summarized task.
/// Meilisearch answers every accepted write with status `enqueued`, even a task that
/// is already known to fail; the failure shows in `GET /tasks/{uid}`.
pub fn accepted(record: &TaskRecord) -> Response {
    let mut summary = record.to_summary_json();
    if let Some(status) = summary.get_mut("status") {
        *status = Value::from("enqueued");
    }
    Response::json(202, &summary)
}

impl App {
    /// Register a task whose node tasks were enqueued. `enqueued_at` is when Miroir
    /// started enqueuing them, so no node starts a task before it was enqueued.
    pub(crate) async fn register_task(
        &self,
        index_uid: Option<String>,
        kind: TaskKind,
        details: Option<Value>,
        node_tasks: Vec<NodeTask>,
        custom_metadata: Option<String>,
        enqueued_at: OffsetDateTime,
    ) -> Result<TaskRecord, ApiError> {
        let uid = self
            .store()
            .await?
            .next_task_uid()
            .await
            .map_err(store_error)?;
        let record = TaskRecord {
            uid,
            batch_uid: None,
            index_uid,
            status: TaskStatus::Enqueued,
            kind,
            canceled_by: None,
            details,
            error: None,
            enqueued_at,
            started_at: None,
            finished_at: None,
            custom_metadata,
            node_tasks,
        };
        self.store()
            .await?
            .put_task(&record)
            .await
            .map_err(store_error)?;
        self.trim_task_queue(record.uid).await;
        Ok(record)
    }

    /// Meilisearch keeps at most 1,000,000 tasks: once its queue holds that many, it
    /// deletes its oldest finished tasks (at most 100,000) with a `taskDeletion` task of
    /// its own, filtered `?beforeEnqueuedAt=...&statuses=succeeded,failed,canceled`.
    /// Miroir's registry does the same at `limits.max_tasks`, checked after the task
    /// `newest` was registered. The count is taken only when the uids say the limit may
    /// be reached, and then once per thousandth of the limit. A failure is logged: the
    /// task that was just registered stands.
    async fn trim_task_queue(&self, newest: u32) {
        let max = self.runtime().max_tasks;
        let uid = u64::from(newest);
        if uid + 1 < max || uid % (max / 1000).max(1) != 0 {
            return;
        }
        if let Err(error) = self.delete_oldest_tasks(max).await {
            tracing::warn!(%error, "could not trim the task registry");
        }
    }

    async fn delete_oldest_tasks(&self, max: u64) -> Result<(), ApiError> {
        let store = self.store().await?;
        let all = TaskQuery {
            limit: 0,
            ..TaskQuery::default()
        };
        if store.list_tasks(&all).await.map_err(store_error)?.total < max {
            return Ok(());
        }
        let finished = TaskQuery {
            filter: TaskFilter {
                statuses: Some(vec![
                    TaskStatus::Succeeded,
                    TaskStatus::Failed,
                    TaskStatus::Canceled,
                ]),
                ..TaskFilter::default()
            },
            limit: 100_000,
            from: None,
            reverse: true,
        };
        let oldest = store
            .list_tasks(&finished)
            .await
            .map_err(store_error)?
            .results;
        // Fewer than two: deleting would only delete the deletion tasks themselves.
        let Some(newest) = oldest.last().filter(|_| oldest.len() >= 2) else {
            tracing::warn!("the task registry is full, but no finished task can be deleted yet");
            return Ok(());
        };
        let before = newest.enqueued_at + time::Duration::nanoseconds(1);
        let uids: Vec<u32> = oldest.iter().map(|task| task.uid).collect();
        tracing::info!(
            tasks = uids.len(),
            "the task registry is full: deleting the oldest finished tasks"
        );
        let filter = format!(
            "?beforeEnqueuedAt={}&statuses=succeeded,failed,canceled",
            before
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| ApiError::internal(e.to_string()))?
        );
        self.delete_as_task(uids.len(), &uids, filter)
            .await
            .map(drop)
    }

    /// Register a task that failed before any node was asked, as Meilisearch fails a
    /// task whose payload it cannot index (no primary key, an invalid document id).
    pub(crate) async fn register_failed_task(
        &self,
        index_uid: Option<String>,
        kind: TaskKind,
        details: Option<Value>,
        error: &ApiError,
        custom_metadata: Option<String>,
    ) -> Result<TaskRecord, ApiError> {
        let now = OffsetDateTime::now_utc();
        let uid = self
            .store()
            .await?
            .next_task_uid()
            .await
            .map_err(store_error)?;
        let record = TaskRecord {
            uid,
            batch_uid: Some(uid),
            index_uid,
            status: TaskStatus::Failed,
            kind,
            canceled_by: None,
            details,
            error: Some(error.to_json()),
            enqueued_at: now,
            started_at: Some(now),
            finished_at: Some(now),
            custom_metadata,
            node_tasks: Vec::new(),
        };
        self.store()
            .await?
            .put_task(&record)
            .await
            .map_err(store_error)?;
        self.trim_task_queue(record.uid).await;
        Ok(record)
    }

    /// Bring an unfinished task up to date from its nodes and persist the result.
    pub(crate) async fn refresh_task(
        &self,
        runtime: &Runtime,
        record: &mut TaskRecord,
    ) -> Result<(), ApiError> {
        if is_finished(record.status) || record.node_tasks.is_empty() {
            return Ok(());
        }
        let requests = record
            .node_tasks
            .iter()
            .filter_map(|task| {
                let node = runtime.nodes.get(task.node.as_str())?;
                let mut request =
                    NodeRequest::new(Method::GET, format!("/tasks/{}", task.task_uid));
                if let Some(auth) = runtime.node_authorization() {
                    request = request.header("Authorization", auth);
                }
                Some((node.address.clone(), request))
            })
            .collect();
        let answers = self.fanout.scatter(requests, runtime.limits).await;
        let mut views: Vec<(String, NodeTaskView)> = Vec::new();
        for (node, answer) in answers {
            let Ok(response) = answer else { continue };
            if !response.is_success() {
                continue;
            }
            let Ok(body) = serde_json::from_slice::<Value>(&response.body) else {
                continue;
            };
            if let Some(view) = NodeTaskView::from_json(&body) {
                views.push((node.id.to_string(), view));
            }
        }
        // A node that did not answer keeps its last known status; it counts as not
        // finished, so the task stays unfinished until every node reports.
        let mut all: Vec<NodeTaskView> = Vec::with_capacity(record.node_tasks.len());
        let mut details: Vec<Value> = Vec::new();
        for task in &mut record.node_tasks {
            match views.iter().find(|(node, _)| *node == task.node) {
                Some((_, view)) => {
                    task.status = status_from_name(&view.status);
                    task.duration_nanos = match (view.started_at, view.finished_at) {
                        (Some(start), Some(end)) => {
                            u64::try_from((end - start).whole_nanoseconds()).ok()
                        }
                        _ => None,
                    };
                    if let Some(d) = &view.details {
                        details.push(d.clone());
                    }
                    all.push(view.clone());
                }
                None => all.push(NodeTaskView {
                    status: if is_finished(task.status) {
                        "processing".to_owned()
                    } else {
                        status_name(task.status).to_owned()
                    },
                    started_at: None,
                    finished_at: None,
                    error: None,
                    details: None,
                }),
            }
        }
        let summary = aggregate(&all);
        record.status = status_from_name(summary.status);
        record.started_at = summary.started_at.or(record.started_at);
        record.finished_at = summary.finished_at;
        record.error = summary.error;
        if record.status != TaskStatus::Enqueued && record.batch_uid.is_none() {
            record.batch_uid = Some(record.uid);
        }
        if !is_finished(record.status) && record.details.is_none() {
            // While they wait, the node tasks of a broadcast carry the same details
            // (the request's), which Meilisearch already shows.
            record.details = merge_details(None, &details, runtime, record.status);
        }
        if is_finished(record.status) {
            record.details = merge_details(record.details.take(), &details, runtime, record.status);
            if record.status != TaskStatus::Canceled {
                // The task finished before its nodes could cancel it.
                record.canceled_by = None;
            }
            if record.kind == TaskKind::TaskCancelation {
                self.settle_cancelation(runtime, record).await?;
            }
            if record.kind == TaskKind::IndexCreation && record.status == TaskStatus::Failed {
                // The index did not exist on the nodes that created it: a creation that
                // failed somewhere is undone everywhere.
                let created: Vec<String> = record
                    .node_tasks
                    .iter()
                    .filter(|task| task.status == TaskStatus::Succeeded)
                    .map(|task| task.node.clone())
                    .collect();
                if let (false, Some(uid)) = (created.is_empty(), record.index_uid.clone()) {
                    self.undo_creation(runtime, &uid, &created).await;
                }
            }
        }
        self.store()
            .await?
            .put_task(record)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// `GET /tasks/{uid}`.
    pub(crate) async fn get_task(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        uid: &str,
    ) -> Result<Response, ApiError> {
        let access = self
            .authorize_local(runtime, request, Action::TasksGet)
            .await?;
        let Ok(uid) = uid.parse::<u32>() else {
            return Err(ApiError::invalid(
                "invalid_task_uids",
                format!("Task uid `{uid}` is invalid. It should only contain numeric characters."),
            ));
        };
        let mut record = self
            .store()
            .await?
            .get_task(uid)
            .await
            .map_err(store_error)?
            // A task the key may not see does not exist for it, as on Meilisearch.
            .filter(|task| access.sees_task(task.index_uid.as_deref(), task.kind))
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "task_not_found",
                    crate::error::ErrorType::InvalidRequest,
                    format!("Task `{uid}` not found."),
                )
            })?;
        self.refresh_task(runtime, &mut record).await?;
        Ok(Response::json(200, &record.to_view_json()))
    }

    /// One page of the tasks matching `query` that `access` may see, paged as
    /// Meilisearch pages for a key restricted to some indexes.
    pub(crate) async fn visible_tasks(
        &self,
        query: &TaskQuery,
        access: &crate::auth::Access,
    ) -> Result<miroir_store::TaskPage, ApiError> {
        Ok(if access.all_indexes() {
            self.store()
                .await?
                .list_tasks(query)
                .await
                .map_err(store_error)?
        } else {
            // Meilisearch pages first and hides afterwards: the page is the first
            // `limit + 1` matching tasks, less those the key may not see, and `total`
            // counts every matching task.
            let mut window = query.clone();
            window.limit = query.limit.saturating_add(1);
            let window = self
                .store()
                .await?
                .list_tasks(&window)
                .await
                .map_err(store_error)?;
            let (results, next) = auth::visible_page(
                window.results,
                query.limit,
                |task| access.sees_task(task.index_uid.as_deref(), task.kind),
                |task| task.uid,
            );
            TaskPage {
                from: results.first().map(|task| task.uid),
                results,
                total: window.total,
                limit: query.limit,
                next,
            }
        })
    }

    /// The start of a task or batch listing: the caller's access (`tasks.get`), the
    /// query, and every unfinished task brought up to date from its nodes, so that
    /// status filters (and batches, which exist once a task started) see the fleet's
    /// real state.
    pub(crate) async fn read_task_list(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
    ) -> Result<(crate::auth::Access, TaskQuery), ApiError> {
        let access = self
            .authorize_local(runtime, request, Action::TasksGet)
            .await?;
        let query =
            TaskQuery::from_query_pairs(&request.query_pairs()).map_err(task_query_error)?;
        for mut record in self
            .store()
            .await?
            .unfinished_tasks()
            .await
            .map_err(store_error)?
        {
            self.refresh_task(runtime, &mut record).await?;
        }
        Ok((access, query))
    }

    /// `GET /tasks`.
    pub(crate) async fn list_tasks(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
    ) -> Result<Response, ApiError> {
        let (access, query) = self.read_task_list(runtime, request).await?;
        let page = self.visible_tasks(&query, &access).await?;
        let results: Vec<Value> = page.results.iter().map(TaskRecord::to_view_json).collect();
        Ok(Response::json(
            200,
            &json!({"results": results, "total": page.total, "limit": page.limit, "from": page.from, "next": page.next}),
        ))
    }
}

/// Fleet-wide details once a task finished: one node's details, with document counts
/// recomputed from every node's report.
fn merge_details(
    current: Option<Value>,
    nodes: &[Value],
    runtime: &Runtime,
    status: TaskStatus,
) -> Option<Value> {
    let mut merged = match current {
        Some(Value::Object(map)) => map,
        _ => match nodes.first() {
            Some(Value::Object(map)) => map.clone(),
            _ => return None,
        },
    };
    // Details copied while the task waited can lack what only the outcome tells (a
    // dump's `dumpUid` is null until the dump exists): the node fills those in.
    if let Some(Value::Object(node)) = nodes.first() {
        for (key, value) in node {
            if !value.is_null() && merged.get(key).is_none_or(Value::is_null) {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    // Every document lives on RF nodes in each group: the fleet's count is the sum of
    // the node counts divided by the number of copies.
    let copies = (runtime.replication_factor * runtime.groups.len().max(1)) as u64;
    for field in COUNT_FIELDS {
        let reported: Vec<u64> = nodes
            .iter()
            .filter_map(|d| d.get(*field))
            .filter_map(Value::as_u64)
            .collect();
        if reported.is_empty() {
            continue;
        }
        let value = if *field == "indexedDocuments" && status == TaskStatus::Succeeded {
            // Each document the client sent was indexed on every owner.
            merged
                .get("receivedDocuments")
                .cloned()
                .unwrap_or(Value::from(reported.iter().sum::<u64>() / copies.max(1)))
        } else if matches!(status, TaskStatus::Failed | TaskStatus::Canceled) {
            Value::from(0u64)
        } else {
            Value::from(reported.iter().sum::<u64>() / copies.max(1))
        };
        merged.insert((*field).to_owned(), value);
    }
    // Each node compacted its own copy of the index: the fleet's sizes are the sums. A
    // compaction that did not succeed everywhere has no sizes, as on Meilisearch.
    for field in SIZE_FIELDS {
        match super::sizes::sum_sizes(field, nodes) {
            Some(total) if status == TaskStatus::Succeeded => {
                merged.insert((*field).to_owned(), Value::String(total));
            }
            _ => {
                merged.remove(*field);
            }
        }
    }
    if let Some(filterable) = merged.get_mut("filterableAttributes") {
        crate::strip::strip_filterable_attributes(filterable);
    }
    Some(Value::Object(merged))
}

/// A store failure is Miroir's own internal error.
pub(crate) fn store_error(error: miroir_store::StoreError) -> ApiError {
    ApiError::internal(format!("The task store failed: {error}"))
}

pub(crate) fn task_query_error(error: miroir_store::TaskQueryError) -> ApiError {
    let json = error.to_json();
    let field = |name: &str| {
        json.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    ApiError::invalid(field("code"), field("message"))
}
