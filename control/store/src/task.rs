//! Miroir's task records and their Meilisearch wire shapes.
//!
//! A [`TaskRecord`] is one cluster-wide task: the integer uid clients see, the state
//! aggregated from the node tasks it is made of, and the list of those node tasks.
//! [`TaskRecord::to_view_json`] and [`TaskRecord::to_summary_json`] render it exactly
//! as Meilisearch renders a task (`GET /tasks/{uid}`) and an accepted write (`202`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// The status of a task, spelled as Meilisearch spells it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Accepted, not started yet.
    Enqueued,
    /// Being processed.
    Processing,
    /// Finished without error.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Canceled by a `taskCancelation` task.
    Canceled,
}

impl TaskStatus {
    /// Every status, in the order Meilisearch lists them in its error messages.
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::Enqueued,
        TaskStatus::Processing,
        TaskStatus::Succeeded,
        TaskStatus::Failed,
        TaskStatus::Canceled,
    ];

    /// The wire name (`enqueued`, `processing`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Enqueued => "enqueued",
            TaskStatus::Processing => "processing",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Canceled => "canceled",
        }
    }

    /// `true` once the task can no longer change: succeeded, failed or canceled.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Canceled
        )
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown status or task type; it carries the rejected text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownName(pub String);

impl FromStr for TaskStatus {
    type Err = UnknownName;

    /// Case-insensitive, as Meilisearch parses the `statuses` query parameter.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskStatus::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// The type of a task: every task type of Meilisearch 1.50, spelled as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaskKind {
    /// `documentAdditionOrUpdate`.
    DocumentAdditionOrUpdate,
    /// `documentEdition` (edit documents with a function).
    DocumentEdition,
    /// `documentDeletion` (by ids, by filter, or all documents).
    DocumentDeletion,
    /// `settingsUpdate`.
    SettingsUpdate,
    /// `indexCreation`.
    IndexCreation,
    /// `indexDeletion`.
    IndexDeletion,
    /// `indexUpdate` (primary key or rename).
    IndexUpdate,
    /// `indexSwap`.
    IndexSwap,
    /// `taskCancelation`.
    TaskCancelation,
    /// `taskDeletion`.
    TaskDeletion,
    /// `dumpCreation`.
    DumpCreation,
    /// `snapshotCreation`.
    SnapshotCreation,
    /// `export` (to a remote instance).
    Export,
    /// `upgradeDatabase`.
    UpgradeDatabase,
    /// `indexCompaction`.
    IndexCompaction,
    /// `networkTopologyChange`.
    NetworkTopologyChange,
    /// `dsrUpdate` (dynamic search rules).
    DsrUpdate,
    /// `dsrClear` (dynamic search rules).
    DsrClear,
}

impl TaskKind {
    /// Every task type, in the order Meilisearch lists them in its error messages.
    pub const ALL: [TaskKind; 18] = [
        TaskKind::DocumentAdditionOrUpdate,
        TaskKind::DocumentEdition,
        TaskKind::DocumentDeletion,
        TaskKind::SettingsUpdate,
        TaskKind::IndexCreation,
        TaskKind::IndexDeletion,
        TaskKind::IndexUpdate,
        TaskKind::IndexSwap,
        TaskKind::TaskCancelation,
        TaskKind::TaskDeletion,
        TaskKind::DumpCreation,
        TaskKind::SnapshotCreation,
        TaskKind::Export,
        TaskKind::UpgradeDatabase,
        TaskKind::IndexCompaction,
        TaskKind::NetworkTopologyChange,
        TaskKind::DsrUpdate,
        TaskKind::DsrClear,
    ];

    /// The wire name (`documentAdditionOrUpdate`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::DocumentAdditionOrUpdate => "documentAdditionOrUpdate",
            TaskKind::DocumentEdition => "documentEdition",
            TaskKind::DocumentDeletion => "documentDeletion",
            TaskKind::SettingsUpdate => "settingsUpdate",
            TaskKind::IndexCreation => "indexCreation",
            TaskKind::IndexDeletion => "indexDeletion",
            TaskKind::IndexUpdate => "indexUpdate",
            TaskKind::IndexSwap => "indexSwap",
            TaskKind::TaskCancelation => "taskCancelation",
            TaskKind::TaskDeletion => "taskDeletion",
            TaskKind::DumpCreation => "dumpCreation",
            TaskKind::SnapshotCreation => "snapshotCreation",
            TaskKind::Export => "export",
            TaskKind::UpgradeDatabase => "upgradeDatabase",
            TaskKind::IndexCompaction => "indexCompaction",
            TaskKind::NetworkTopologyChange => "networkTopologyChange",
            TaskKind::DsrUpdate => "dsrUpdate",
            TaskKind::DsrClear => "dsrClear",
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = UnknownName;

    /// Case-insensitive, as Meilisearch parses the `types` query parameter.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// One task on one node that is part of a Miroir task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeTask {
    /// The node's id in the topology.
    pub node: String,
    /// The task uid the node answered with.
    pub task_uid: u64,
    /// The node task's last known status.
    pub status: TaskStatus,
    /// How long the node took, from its `startedAt` to its `finishedAt`, in
    /// nanoseconds; known once the node task finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_nanos: Option<u64>,
}

/// One Miroir task: Meilisearch's task view plus the node tasks it aggregates.
///
/// Dates are kept as given; the wire renderings print them in UTC, as Meilisearch does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRecord {
    /// The cluster-wide task uid, from [`crate::Store::next_task_uid`].
    pub uid: u32,
    /// The batch that processed the task, once it started.
    pub batch_uid: Option<u32>,
    /// The index the task works on; `None` for global tasks (dumps, swaps, ...).
    pub index_uid: Option<String>,
    /// The aggregated status.
    pub status: TaskStatus,
    /// The task type.
    pub kind: TaskKind,
    /// The uid of the `taskCancelation` task that canceled this one.
    pub canceled_by: Option<u32>,
    /// Type-specific details, in Meilisearch's `details` shape.
    pub details: Option<Value>,
    /// The error of a failed task, in Meilisearch's `{message, code, type, link}` shape.
    pub error: Option<Value>,
    /// When the task was accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub enqueued_at: OffsetDateTime,
    /// When processing started.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub started_at: Option<OffsetDateTime>,
    /// When the task finished.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub finished_at: Option<OffsetDateTime>,
    /// The client's `customMetadata`, echoed back as given.
    #[serde(default)]
    pub custom_metadata: Option<String>,
    /// The node tasks this task is made of.
    #[serde(default)]
    pub node_tasks: Vec<NodeTask>,
}

impl TaskRecord {
    /// A freshly enqueued task with no details, no error and no node task yet.
    pub fn enqueued(
        uid: u32,
        kind: TaskKind,
        index_uid: Option<String>,
        enqueued_at: OffsetDateTime,
    ) -> TaskRecord {
        TaskRecord {
            uid,
            batch_uid: None,
            index_uid,
            status: TaskStatus::Enqueued,
            kind,
            canceled_by: None,
            details: None,
            error: None,
            enqueued_at,
            started_at: None,
            finished_at: None,
            custom_metadata: None,
            node_tasks: Vec::new(),
        }
    }

    /// The processing time, `finished_at - started_at`, when both are known.
    pub fn duration(&self) -> Option<Duration> {
        Some(self.finished_at? - self.started_at?)
    }

    /// The task as Meilisearch's `TaskView` (`GET /tasks/{uid}`, items of `GET /tasks`):
    /// keys in Meilisearch's order, `details` and `customMetadata` only when present,
    /// `error`, `duration`, `startedAt` and `finishedAt` always present (`null` when
    /// unknown), dates in RFC 3339 UTC, `duration` in ISO 8601.
    pub fn to_view_json(&self) -> Value {
        let mut view = Map::new();
        view.insert("uid".into(), self.uid.into());
        view.insert("batchUid".into(), self.batch_uid.into());
        view.insert("indexUid".into(), self.index_uid.clone().into());
        view.insert("status".into(), self.status.as_str().into());
        view.insert("type".into(), self.kind.as_str().into());
        view.insert("canceledBy".into(), self.canceled_by.into());
        if let Some(details) = &self.details {
            view.insert("details".into(), details.clone());
        }
        view.insert("error".into(), self.error.clone().unwrap_or(Value::Null));
        view.insert(
            "duration".into(),
            self.duration()
                .and_then(format_iso8601_duration)
                .map_or(Value::Null, Value::String),
        );
        view.insert("enqueuedAt".into(), format_date(self.enqueued_at).into());
        view.insert("startedAt".into(), self.started_at.map(format_date).into());
        view.insert(
            "finishedAt".into(),
            self.finished_at.map(format_date).into(),
        );
        if let Some(metadata) = &self.custom_metadata {
            view.insert("customMetadata".into(), metadata.clone().into());
        }
        Value::Object(view)
    }

    /// The task as Meilisearch's `SummarizedTaskView`, the body of an accepted write:
    /// `taskUid`, `indexUid`, `status`, `type`, `enqueuedAt`, and `customMetadata` only
    /// when present.
    pub fn to_summary_json(&self) -> Value {
        let mut summary = Map::new();
        summary.insert("taskUid".into(), self.uid.into());
        summary.insert("indexUid".into(), self.index_uid.clone().into());
        summary.insert("status".into(), self.status.as_str().into());
        summary.insert("type".into(), self.kind.as_str().into());
        summary.insert("enqueuedAt".into(), format_date(self.enqueued_at).into());
        if let Some(metadata) = &self.custom_metadata {
            summary.insert("customMetadata".into(), metadata.clone().into());
        }
        Value::Object(summary)
    }
}

impl TaskRecord {
    /// The wording of `batchStrategy` in a Miroir batch: why the batch holds exactly
    /// this task. Miroir does not group tasks; each node batches its own node tasks.
    pub fn batch_strategy(&self) -> String {
        format!(
            "Miroir gives every task a batch of its own: this batch holds task {} of type `{}` \
             only (each node batches its share of the work independently).",
            self.uid,
            self.kind.as_str()
        )
    }

    /// The task's batch as Meilisearch's `BatchView` (`GET /batches/{uid}`, items of
    /// `GET /batches`), or `None` while the task has no batch (it is still enqueued).
    ///
    /// A Miroir batch is one task: `uid` is the task's `batchUid`, `details` are the
    /// task's details (`{}` when it has none), `stats` count this one task by status,
    /// type and index, `progress` is `null` (Miroir does not see the nodes' progress
    /// steps), and `duration`, `startedAt` and `finishedAt` are the task's. Once finished,
    /// `stats.progressTrace` lists each node task's processing time
    /// (``"node `n1` > task 12": "9.46ms"``). The other node-level statistics Meilisearch
    /// adds to `stats` (`writeChannelCongestion`, `internalDatabaseSizes`,
    /// `embedderRequests`) describe one node's storage engine and are left out, as
    /// Meilisearch leaves them out when it has none.
    pub fn to_batch_view_json(&self) -> Option<Value> {
        let uid = self.batch_uid?;
        let mut status = Map::new();
        status.insert(self.status.as_str().into(), 1u32.into());
        let mut types = Map::new();
        types.insert(self.kind.as_str().into(), 1u32.into());
        let mut index_uids = Map::new();
        if let Some(index) = &self.index_uid {
            index_uids.insert(index.clone(), 1u32.into());
        }
        let mut stats = Map::new();
        stats.insert("totalNbTasks".into(), 1u32.into());
        stats.insert("status".into(), Value::Object(status));
        stats.insert("types".into(), Value::Object(types));
        stats.insert("indexUids".into(), Value::Object(index_uids));
        // Where the time went: each node's own processing time, like Meilisearch's
        // trace of its processing steps, written once the batch finished.
        let trace: Map<String, Value> = self
            .node_tasks
            .iter()
            .filter_map(|task| {
                let nanos = task.duration_nanos?;
                Some((
                    format!("node `{}` > task {}", task.node, task.task_uid),
                    format!("{:.2?}", std::time::Duration::from_nanos(nanos)).into(),
                ))
            })
            .collect();
        if self.status.is_finished() && !trace.is_empty() {
            stats.insert("progressTrace".into(), Value::Object(trace));
        }

        let mut view = Map::new();
        view.insert("uid".into(), uid.into());
        view.insert("progress".into(), Value::Null);
        view.insert(
            "details".into(),
            self.details
                .clone()
                .unwrap_or_else(|| Value::Object(Map::new())),
        );
        view.insert("stats".into(), Value::Object(stats));
        view.insert(
            "duration".into(),
            self.duration()
                .and_then(format_iso8601_duration)
                .map_or(Value::Null, Value::String),
        );
        // A batch always has a start. A task leaves `enqueued` when a node started it, so
        // its start is known; the enqueue date stands in should a node not report one.
        let started_at = self.started_at.unwrap_or(self.enqueued_at);
        view.insert("startedAt".into(), format_date(started_at).into());
        view.insert(
            "finishedAt".into(),
            self.finished_at.map(format_date).into(),
        );
        view.insert("batchStrategy".into(), self.batch_strategy().into());
        Some(Value::Object(view))
    }
}

/// A date as Meilisearch prints it: RFC 3339 in UTC, fractional seconds only when
/// non-zero and without trailing zeros (`2024-08-08T09:01:13.348471Z`).
pub fn format_date(date: OffsetDateTime) -> String {
    date.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        // Formatting a UTC date with a four-digit year cannot fail; a year beyond 9999
        // has no RFC 3339 form, and the debug form is the honest fallback.
        .unwrap_or_else(|_| format!("{date}"))
}

/// A duration in Meilisearch's ISO 8601 form: `P{days}D` when at least one day, then
/// `T{seconds}S` with 3, 6 or 9 fractional digits (the fewest that are exact), and
/// `None` for a negative duration, which ISO 8601 cannot express.
///
/// Examples: `PT0S`, `PT0.012S`, `PT0.012345S`, `PT1.000000001S`, `PT2.500S`, `P1D`,
/// `P2DT1.500S`.
pub fn format_iso8601_duration(duration: Duration) -> Option<String> {
    if duration.is_negative() {
        return None;
    }
    const SECONDS_PER_DAY: i64 = 86_400;
    let total_seconds = duration.whole_seconds();
    let days = total_seconds / SECONDS_PER_DAY;
    let seconds = total_seconds % SECONDS_PER_DAY;
    let nanos = duration.subsec_nanoseconds();
    let mut out = String::from("P");
    if days != 0 {
        out.push_str(&format!("{days}D"));
    }
    if seconds != 0 || nanos != 0 || days == 0 {
        let fraction = if nanos == 0 {
            String::new()
        } else if nanos % 1_000_000 == 0 {
            format!(".{:03}", nanos / 1_000_000)
        } else if nanos % 1_000 == 0 {
            format!(".{:06}", nanos / 1_000)
        } else {
            format!(".{nanos:09}")
        };
        out.push_str(&format!("T{seconds}{fraction}S"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn finished_task() -> TaskRecord {
        TaskRecord {
            uid: 144,
            batch_uid: Some(12),
            index_uid: Some("movies".into()),
            status: TaskStatus::Succeeded,
            kind: TaskKind::DocumentAdditionOrUpdate,
            canceled_by: None,
            details: Some(json!({"receivedDocuments": 2, "indexedDocuments": 2})),
            error: None,
            enqueued_at: datetime!(2024-08-08 09:01:13.348471 UTC),
            started_at: Some(datetime!(2024-08-08 09:01:13.349442 UTC)),
            finished_at: Some(datetime!(2024-08-08 09:01:13.358772 UTC)),
            custom_metadata: None,
            node_tasks: vec![NodeTask {
                node: "n1".into(),
                task_uid: 7,
                status: TaskStatus::Succeeded,
                duration_nanos: Some(9_330_000),
            }],
        }
    }

    #[test]
    fn view_of_a_finished_task_matches_meilisearch_key_order_and_formats() {
        let view = finished_task().to_view_json();
        assert_eq!(
            serde_json::to_string(&view).expect("a JSON value serializes"),
            concat!(
                r#"{"uid":144,"batchUid":12,"indexUid":"movies","status":"succeeded","#,
                r#""type":"documentAdditionOrUpdate","canceledBy":null,"#,
                r#""details":{"receivedDocuments":2,"indexedDocuments":2},"error":null,"#,
                r#""duration":"PT0.009330S","enqueuedAt":"2024-08-08T09:01:13.348471Z","#,
                r#""startedAt":"2024-08-08T09:01:13.349442Z","#,
                r#""finishedAt":"2024-08-08T09:01:13.358772Z"}"#
            )
        );
    }

    #[test]
    fn view_of_an_enqueued_task_has_nulls_and_no_details_key() {
        let task = TaskRecord::enqueued(
            0,
            TaskKind::DumpCreation,
            None,
            datetime!(2021-01-01 09:39:00 UTC),
        );
        assert_eq!(
            task.to_view_json(),
            json!({
                "uid": 0, "batchUid": null, "indexUid": null, "status": "enqueued",
                "type": "dumpCreation", "canceledBy": null, "error": null, "duration": null,
                "enqueuedAt": "2021-01-01T09:39:00Z", "startedAt": null, "finishedAt": null
            })
        );
    }

    #[test]
    fn view_includes_custom_metadata_last_when_present() {
        let mut task = finished_task();
        task.custom_metadata = Some("import-42".into());
        let view = task.to_view_json();
        let keys: Vec<&str> = view
            .as_object()
            .expect("a view is an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.last(), Some(&"customMetadata"));
        assert_eq!(view["customMetadata"], json!("import-42"));
    }

    #[test]
    fn view_prints_dates_in_utc() {
        let mut task = finished_task();
        task.enqueued_at = datetime!(2024-08-08 11:01:13.5 +02:00);
        assert_eq!(
            task.to_view_json()["enqueuedAt"],
            json!("2024-08-08T09:01:13.5Z")
        );
    }

    #[test]
    fn batch_view_of_a_finished_task_has_meilisearch_keys_in_order() {
        let view = finished_task()
            .to_batch_view_json()
            .expect("a finished task has a batch");
        assert_eq!(
            serde_json::to_string(&view).expect("a JSON value serializes"),
            concat!(
                r#"{"uid":12,"progress":null,"#,
                r#""details":{"receivedDocuments":2,"indexedDocuments":2},"#,
                r#""stats":{"totalNbTasks":1,"status":{"succeeded":1},"#,
                r#""types":{"documentAdditionOrUpdate":1},"indexUids":{"movies":1},"#,
                r#""progressTrace":{"node `n1` > task 7":"9.33ms"}},"#,
                r#""duration":"PT0.009330S","startedAt":"2024-08-08T09:01:13.349442Z","#,
                r#""finishedAt":"2024-08-08T09:01:13.358772Z","#,
                r#""batchStrategy":"Miroir gives every task a batch of its own: this batch "#,
                r#"holds task 144 of type `documentAdditionOrUpdate` only (each node batches "#,
                r#"its share of the work independently)."}"#
            )
        );
    }

    #[test]
    fn enqueued_task_has_no_batch() {
        let task = TaskRecord::enqueued(
            0,
            TaskKind::DumpCreation,
            None,
            datetime!(2021-01-01 09:39:00 UTC),
        );
        assert_eq!(task.to_batch_view_json(), None);
    }

    #[test]
    fn batch_of_a_global_processing_task_has_no_index_and_no_end() {
        let mut task = TaskRecord::enqueued(
            5,
            TaskKind::DumpCreation,
            None,
            datetime!(2021-01-01 09:39:00 UTC),
        );
        task.status = TaskStatus::Processing;
        task.batch_uid = Some(5);
        task.started_at = Some(datetime!(2021-01-01 09:39:01 UTC));
        assert_eq!(
            task.to_batch_view_json(),
            Some(serde_json::json!({
                "uid": 5, "progress": null, "details": {},
                "stats": {"totalNbTasks": 1, "status": {"processing": 1},
                          "types": {"dumpCreation": 1}, "indexUids": {}},
                "duration": null, "startedAt": "2021-01-01T09:39:01Z", "finishedAt": null,
                "batchStrategy": task.batch_strategy()
            }))
        );
    }

    #[test]
    fn summary_has_exactly_meilisearch_keys() {
        let task = TaskRecord::enqueued(
            147,
            TaskKind::TaskCancelation,
            None,
            datetime!(2024-08-08 17:05:55.791772 UTC),
        );
        assert_eq!(
            serde_json::to_string(&task.to_summary_json()).expect("a JSON value serializes"),
            r#"{"taskUid":147,"indexUid":null,"status":"enqueued","type":"taskCancelation","enqueuedAt":"2024-08-08T17:05:55.791772Z"}"#
        );
    }

    #[test]
    fn summary_ends_with_custom_metadata_when_present() {
        let mut task = TaskRecord::enqueued(
            3,
            TaskKind::SettingsUpdate,
            Some("movies".into()),
            datetime!(2024-01-01 00:00:00 UTC),
        );
        task.custom_metadata = Some("m".into());
        assert_eq!(
            serde_json::to_string(&task.to_summary_json()).expect("a JSON value serializes"),
            r#"{"taskUid":3,"indexUid":"movies","status":"enqueued","type":"settingsUpdate","enqueuedAt":"2024-01-01T00:00:00Z","customMetadata":"m"}"#
        );
    }

    #[test]
    fn durations_use_the_fewest_exact_fraction_digits_of_three_six_or_nine() {
        let cases = [
            (Duration::ZERO, "PT0S"),
            (Duration::seconds(1), "PT1S"),
            (Duration::milliseconds(12), "PT0.012S"),
            (Duration::microseconds(12_345), "PT0.012345S"),
            (Duration::nanoseconds(1_000_000_001), "PT1.000000001S"),
            (Duration::milliseconds(2_500), "PT2.500S"),
            (Duration::days(1), "P1D"),
            (
                Duration::days(2) + Duration::milliseconds(1_500),
                "P2DT1.500S",
            ),
        ];
        for (duration, expected) in cases {
            assert_eq!(
                format_iso8601_duration(duration).as_deref(),
                Some(expected),
                "{duration:?}"
            );
        }
    }

    #[test]
    fn negative_duration_is_null() {
        let mut task = finished_task();
        task.finished_at = Some(datetime!(2024-08-08 09:00:00 UTC));
        assert_eq!(task.to_view_json()["duration"], Value::Null);
    }

    #[test]
    fn status_and_kind_wire_names_match_serde_names() {
        for status in TaskStatus::ALL {
            assert_eq!(
                serde_json::to_value(status).expect("serializes"),
                json!(status.as_str())
            );
        }
        for kind in TaskKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).expect("serializes"),
                json!(kind.as_str())
            );
        }
    }

    #[test]
    fn status_and_kind_parse_case_insensitively() {
        assert_eq!("SUCCEEDED".parse::<TaskStatus>(), Ok(TaskStatus::Succeeded));
        assert_eq!(
            "documentadditionorupdate".parse::<TaskKind>(),
            Ok(TaskKind::DocumentAdditionOrUpdate)
        );
        assert_eq!(
            "dog".parse::<TaskKind>(),
            Err(UnknownName("dog".to_owned()))
        );
    }

    #[test]
    fn record_round_trips_through_its_storage_json() {
        let task = finished_task();
        let json = serde_json::to_string(&task).expect("serializes");
        let back: TaskRecord = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, task);
    }
}
