//! Aggregating the node tasks behind one Miroir task into one Meilisearch task status.
//!
//! A Miroir task is `succeeded` only when every node task behind it succeeded; it is
//! `failed` as soon as one failed (with that node's error, unchanged); `canceled` when
//! one was canceled and none failed; `processing` once any node started or finished;
//! `enqueued` before that. Start is the earliest node start, finish the latest node
//! finish, so the reported duration covers the whole fleet's work.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The state of one node task, as read from the node's `GET /tasks/{uid}`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeTaskView {
    /// `enqueued`, `processing`, `succeeded`, `failed` or `canceled`.
    pub status: String,
    /// When the node started it.
    pub started_at: Option<OffsetDateTime>,
    /// When the node finished it.
    pub finished_at: Option<OffsetDateTime>,
    /// The node's error object, for a failed task.
    pub error: Option<Value>,
    /// The node's details object.
    pub details: Option<Value>,
}

impl NodeTaskView {
    /// Read the fields Miroir needs from a node's task JSON.
    pub fn from_json(task: &Value) -> Option<Self> {
        let date = |name: &str| {
            task.get(name)
                .and_then(Value::as_str)
                .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        };
        Some(NodeTaskView {
            status: task.get("status")?.as_str()?.to_owned(),
            started_at: date("startedAt"),
            finished_at: date("finishedAt"),
            error: task.get("error").filter(|e| !e.is_null()).cloned(),
            details: task.get("details").filter(|d| !d.is_null()).cloned(),
        })
    }

    fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed" | "canceled")
    }
}

/// The aggregated state of a Miroir task.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// The Meilisearch status.
    pub status: &'static str,
    /// Earliest start among the nodes.
    pub started_at: Option<OffsetDateTime>,
    /// Latest finish, once every node finished.
    pub finished_at: Option<OffsetDateTime>,
    /// The first node error, for a failed task.
    pub error: Option<Value>,
}

/// Hide Miroir's attribute from a node's task error message.
fn scrub_error(mut error: Value) -> Value {
    if let Some(Value::String(message)) = error.get_mut("message") {
        *message = crate::strip::scrub_message(message);
    }
    error
}

/// Aggregate node task views (in node order) into one status.
pub fn aggregate(views: &[NodeTaskView]) -> Aggregate {
    let all_finished = !views.is_empty() && views.iter().all(NodeTaskView::is_finished);
    let failed = views.iter().find(|v| v.status == "failed");
    let canceled = views.iter().any(|v| v.status == "canceled");
    let started = views.iter().any(|v| v.status != "enqueued");
    let status = if failed.is_some() && all_finished {
        "failed"
    } else if canceled && all_finished {
        "canceled"
    } else if all_finished {
        "succeeded"
    } else if started {
        "processing"
    } else {
        "enqueued"
    };
    let started_at = if started {
        views.iter().filter_map(|v| v.started_at).min()
    } else {
        None
    };
    let finished_at = if all_finished {
        views.iter().filter_map(|v| v.finished_at).max()
    } else {
        None
    };
    Aggregate {
        status,
        started_at,
        finished_at,
        error: if status == "failed" {
            failed.and_then(|v| v.error.clone()).map(scrub_error)
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view(status: &str, started: Option<&str>, finished: Option<&str>) -> NodeTaskView {
        NodeTaskView::from_json(&json!({
            "status": status,
            "startedAt": started,
            "finishedAt": finished,
            "error": if status == "failed" { json!({"code": "index_already_exists"}) } else { Value::Null },
        }))
        .unwrap()
    }

    #[test]
    fn all_succeeded_is_succeeded_with_fleet_wide_duration() {
        let a = view(
            "succeeded",
            Some("2026-01-01T00:00:01Z"),
            Some("2026-01-01T00:00:02Z"),
        );
        let b = view(
            "succeeded",
            Some("2026-01-01T00:00:00.5Z"),
            Some("2026-01-01T00:00:03Z"),
        );
        let result = aggregate(&[a, b]);
        assert_eq!(result.status, "succeeded");
        assert_eq!(
            result.started_at,
            OffsetDateTime::parse("2026-01-01T00:00:00.5Z", &Rfc3339).ok()
        );
        assert_eq!(
            result.finished_at,
            OffsetDateTime::parse("2026-01-01T00:00:03Z", &Rfc3339).ok()
        );
    }

    #[test]
    fn one_node_still_working_keeps_the_task_processing() {
        let a = view(
            "succeeded",
            Some("2026-01-01T00:00:01Z"),
            Some("2026-01-01T00:00:02Z"),
        );
        let b = view("enqueued", None, None);
        let result = aggregate(&[a, b]);
        assert_eq!(result.status, "processing");
        assert_eq!(result.finished_at, None);
    }

    #[test]
    fn nothing_started_is_enqueued() {
        assert_eq!(
            aggregate(&[view("enqueued", None, None), view("enqueued", None, None)]).status,
            "enqueued"
        );
    }

    #[test]
    fn a_failed_node_fails_the_task_with_its_error_once_all_finished() {
        let a = view(
            "succeeded",
            Some("2026-01-01T00:00:01Z"),
            Some("2026-01-01T00:00:02Z"),
        );
        let b = view(
            "failed",
            Some("2026-01-01T00:00:01Z"),
            Some("2026-01-01T00:00:02Z"),
        );
        let result = aggregate(&[a.clone(), b.clone()]);
        assert_eq!(result.status, "failed");
        assert_eq!(result.error, Some(json!({"code": "index_already_exists"})));
        let still_running = aggregate(&[b, view("processing", Some("2026-01-01T00:00:01Z"), None)]);
        assert_eq!(still_running.status, "processing");
    }
}
