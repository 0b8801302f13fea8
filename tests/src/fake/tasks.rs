//! The task and batch model of the fake node: what each write enqueues, the details
//! Meilisearch 1.50 reports per task type (before, after success and after failure), the
//! JSON views of tasks and batches, and the `/tasks` and `/batches` query filters.

use std::collections::BTreeMap;

use miroir_fake_engine::{Document, MeiliError};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::error::{self, ApiResult};

/// Task status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskStatus {
    /// Waiting for the worker.
    Enqueued,
    /// Being processed.
    Processing,
    /// Done.
    Succeeded,
    /// Failed with an error.
    Failed,
    /// Canceled by a `taskCancelation` task.
    Canceled,
}

impl TaskStatus {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Enqueued => "enqueued",
            TaskStatus::Processing => "processing",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Canceled => "canceled",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "enqueued" => TaskStatus::Enqueued,
            "processing" => TaskStatus::Processing,
            "succeeded" => TaskStatus::Succeeded,
            "failed" => TaskStatus::Failed,
            "canceled" => TaskStatus::Canceled,
            _ => return None,
        })
    }

    /// Whether the task reached a final state.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Canceled
        )
    }
}

/// Task types of Meilisearch 1.50, in its order.
pub const TASK_TYPES: &[&str] = &[
    "documentAdditionOrUpdate",
    "documentEdition",
    "documentDeletion",
    "settingsUpdate",
    "indexCreation",
    "indexDeletion",
    "indexUpdate",
    "indexSwap",
    "taskCancelation",
    "taskDeletion",
    "dumpCreation",
    "snapshotCreation",
    "export",
    "upgradeDatabase",
    "indexCompaction",
    "networkTopologyChange",
    "dsrUpdate",
    "dsrClear",
];

/// One swap of `POST /swap-indexes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Swap {
    /// The two index uids.
    pub indexes: [String; 2],
    /// Rename the first index to the second instead of swapping.
    pub rename: bool,
}

/// What a task does, with its payload.
#[derive(Debug, Clone)]
pub enum Operation {
    /// `POST`/`PUT /indexes/{uid}/documents`.
    DocumentAddition {
        /// Parsed documents.
        documents: Vec<Document>,
        /// `primaryKey` query parameter.
        primary_key: Option<String>,
        /// `POST` replaces documents; `PUT` merges into existing ones.
        replace: bool,
    },
    /// Deletion by ids (`DELETE .../documents/{id}`, `delete-batch`).
    DocumentDeletion {
        /// Primary key strings.
        ids: Vec<String>,
    },
    /// `POST .../documents/delete` with a filter.
    DocumentDeletionByFilter {
        /// The filter as sent.
        filter: Value,
    },
    /// `DELETE .../documents`.
    DocumentClear,
    /// Settings update or reset.
    SettingsUpdate {
        /// A settings patch object (`null` resets a setting).
        patch: Map<String, Value>,
    },
    /// `POST /indexes`.
    IndexCreation {
        /// Primary key.
        primary_key: Option<String>,
    },
    /// `PATCH /indexes/{uid}`.
    IndexUpdate {
        /// New primary key.
        primary_key: Option<String>,
        /// New uid (rename).
        new_uid: Option<String>,
    },
    /// `DELETE /indexes/{uid}`.
    IndexDeletion,
    /// `POST /swap-indexes`.
    IndexSwap {
        /// The swaps.
        swaps: Vec<Swap>,
    },
    /// `POST /tasks/cancel`.
    TaskCancelation {
        /// Uids matched by the query when the task was registered.
        matched: Vec<u32>,
    },
    /// `DELETE /tasks`.
    TaskDeletion {
        /// Uids matched by the query when the task was registered.
        matched: Vec<u32>,
    },
    /// `POST /dumps`.
    DumpCreation,
    /// `POST /snapshots`.
    SnapshotCreation,
    /// `POST /indexes/{uid}/compact`.
    IndexCompaction,
}

impl Operation {
    /// The task type.
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::DocumentAddition { .. } => "documentAdditionOrUpdate",
            Operation::DocumentDeletion { .. }
            | Operation::DocumentDeletionByFilter { .. }
            | Operation::DocumentClear => "documentDeletion",
            Operation::SettingsUpdate { .. } => "settingsUpdate",
            Operation::IndexCreation { .. } => "indexCreation",
            Operation::IndexUpdate { .. } => "indexUpdate",
            Operation::IndexDeletion => "indexDeletion",
            Operation::IndexSwap { .. } => "indexSwap",
            Operation::TaskCancelation { .. } => "taskCancelation",
            Operation::TaskDeletion { .. } => "taskDeletion",
            Operation::DumpCreation => "dumpCreation",
            Operation::SnapshotCreation => "snapshotCreation",
            Operation::IndexCompaction => "indexCompaction",
        }
    }
}

/// Task details as Meilisearch keeps them (rendered by [`Details::to_json`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    /// Document addition.
    DocumentAddition {
        /// Documents in the payload.
        received: u64,
        /// Documents indexed (unknown until processed).
        indexed: Option<u64>,
    },
    /// Deletion by ids.
    DocumentDeletion {
        /// Ids given.
        provided_ids: u64,
        /// Documents deleted.
        deleted: Option<u64>,
    },
    /// Deletion by filter.
    DocumentDeletionByFilter {
        /// The filter, JSON-encoded.
        original_filter: String,
        /// Documents deleted.
        deleted: Option<u64>,
    },
    /// Clear or index deletion.
    ClearAll {
        /// Documents deleted.
        deleted: Option<u64>,
    },
    /// Settings.
    Settings(Map<String, Value>),
    /// Index creation or update.
    IndexInfo {
        /// Primary key.
        primary_key: Option<String>,
        /// Old uid when renaming.
        old_uid: Option<String>,
        /// New uid when renaming.
        new_uid: Option<String>,
    },
    /// Index swap.
    IndexSwap(Vec<Swap>),
    /// Task cancelation.
    TaskCancelation {
        /// Tasks matched.
        matched: u64,
        /// Tasks canceled.
        canceled: Option<u64>,
        /// `?` + the query string.
        original_filter: String,
    },
    /// Task deletion.
    TaskDeletion {
        /// Tasks matched.
        matched: u64,
        /// Tasks deleted.
        deleted: Option<u64>,
        /// `?` + the query string.
        original_filter: String,
    },
    /// Dump creation: the dump's uid once it is written.
    Dump {
        /// `YYYYMMDD-HHMMSSmmm`.
        dump_uid: Option<String>,
    },
    /// A task Meilisearch shows without `details` (snapshot creation).
    Absent,
    /// Index compaction: the index's size before and after, once done.
    IndexCompaction {
        /// Size before, in bytes.
        pre: Option<u64>,
        /// Size after, in bytes.
        post: Option<u64>,
    },
}

impl Details {
    /// Details of a task when it is registered.
    pub fn initial(op: &Operation, original_filter: Option<&str>) -> Details {
        let filter = original_filter.unwrap_or_default().to_owned();
        match op {
            Operation::DocumentAddition { documents, .. } => Details::DocumentAddition {
                received: documents.len() as u64,
                indexed: None,
            },
            Operation::DocumentDeletion { ids } => Details::DocumentDeletion {
                provided_ids: ids.len() as u64,
                deleted: None,
            },
            Operation::DocumentDeletionByFilter { filter } => Details::DocumentDeletionByFilter {
                original_filter: filter.to_string(),
                deleted: None,
            },
            Operation::DocumentClear | Operation::IndexDeletion => {
                Details::ClearAll { deleted: None }
            }
            Operation::SettingsUpdate { patch } => Details::Settings(patch.clone()),
            Operation::IndexCreation { primary_key } => Details::IndexInfo {
                primary_key: primary_key.clone(),
                old_uid: None,
                new_uid: None,
            },
            Operation::IndexUpdate {
                primary_key,
                new_uid,
            } => Details::IndexInfo {
                primary_key: primary_key.clone(),
                old_uid: None,
                new_uid: new_uid.clone(),
            },
            Operation::IndexSwap { swaps } => Details::IndexSwap(swaps.clone()),
            Operation::TaskCancelation { matched } => Details::TaskCancelation {
                matched: matched.len() as u64,
                canceled: None,
                original_filter: filter,
            },
            Operation::TaskDeletion { matched } => Details::TaskDeletion {
                matched: matched.len() as u64,
                deleted: None,
                original_filter: filter,
            },
            Operation::DumpCreation => Details::Dump { dump_uid: None },
            Operation::SnapshotCreation => Details::Absent,
            Operation::IndexCompaction => Details::IndexCompaction {
                pre: None,
                post: None,
            },
        }
    }

    /// The details of a failed or canceled task: counters that were unknown become 0.
    pub fn to_failed(&self) -> Details {
        let mut details = self.clone();
        match &mut details {
            Details::DocumentAddition { indexed, .. } => *indexed = Some(0),
            Details::DocumentDeletion { deleted, .. }
            | Details::DocumentDeletionByFilter { deleted, .. }
            | Details::ClearAll { deleted } => *deleted = Some(0),
            Details::TaskCancelation { canceled, .. } => *canceled = Some(0),
            Details::TaskDeletion { deleted, .. } => *deleted = Some(0),
            Details::Settings(_)
            | Details::IndexInfo { .. }
            | Details::IndexSwap(_)
            | Details::Dump { .. }
            | Details::Absent
            | Details::IndexCompaction { .. } => {}
        }
        details
    }

    /// The JSON object Meilisearch shows, keys in its order.
    pub fn to_json(&self) -> Value {
        match self {
            Details::DocumentAddition { received, indexed } => {
                json!({ "receivedDocuments": received, "indexedDocuments": indexed })
            }
            Details::DocumentDeletion {
                provided_ids,
                deleted,
            } => json!({
                "providedIds": provided_ids,
                "deletedDocuments": deleted,
                "originalFilter": null,
            }),
            Details::DocumentDeletionByFilter {
                original_filter,
                deleted,
            } => json!({
                "providedIds": 0,
                "deletedDocuments": deleted,
                "originalFilter": original_filter,
            }),
            Details::ClearAll { deleted } => json!({ "deletedDocuments": deleted }),
            Details::Dump { dump_uid } => json!({ "dumpUid": dump_uid }),
            Details::Absent => Value::Null,
            Details::Settings(settings) => Value::Object(settings.clone()),
            Details::IndexInfo {
                primary_key,
                old_uid,
                new_uid,
            } => {
                let mut map = Map::new();
                map.insert("primaryKey".into(), json!(primary_key));
                if let Some(old) = old_uid {
                    map.insert("oldIndexUid".into(), json!(old));
                }
                if let Some(new) = new_uid {
                    map.insert("newIndexUid".into(), json!(new));
                }
                Value::Object(map)
            }
            Details::IndexSwap(swaps) => json!({
                "swaps": swaps
                    .iter()
                    .map(|s| json!({ "indexes": s.indexes, "rename": s.rename }))
                    .collect::<Vec<_>>(),
            }),
            Details::TaskCancelation {
                matched,
                canceled,
                original_filter,
            } => json!({
                "matchedTasks": matched,
                "canceledTasks": canceled,
                "originalFilter": original_filter,
            }),
            Details::TaskDeletion {
                matched,
                deleted,
                original_filter,
            } => json!({
                "matchedTasks": matched,
                "deletedTasks": deleted,
                "originalFilter": original_filter,
            }),
            Details::IndexCompaction { pre, post } => {
                let mut map = Map::new();
                if let Some(pre) = pre {
                    map.insert("preCompactionSize".into(), json!(human_size(*pre)));
                }
                if let Some(post) = post {
                    map.insert("postCompactionSize".into(), json!(human_size(*post)));
                }
                Value::Object(map)
            }
        }
    }
}

/// A byte count as Meilisearch prints sizes in task details: in the largest decimal
/// or binary unit not above it (`KB`, `KiB`, `MB`, `MiB`, ...), the value printed in
/// full (`3.4609375 KiB`), bytes below 1000 as `B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 12] = [
        ("EiB", 1 << 60),
        ("EB", 1_000_000_000_000_000_000),
        ("PiB", 1 << 50),
        ("PB", 1_000_000_000_000_000),
        ("TiB", 1 << 40),
        ("TB", 1_000_000_000_000),
        ("GiB", 1 << 30),
        ("GB", 1_000_000_000),
        ("MiB", 1 << 20),
        ("MB", 1_000_000),
        ("KiB", 1 << 10),
        ("KB", 1_000),
    ];
    match UNITS.iter().find(|(_, size)| bytes >= *size) {
        Some((unit, size)) => format!("{} {unit}", bytes as f64 / *size as f64),
        None => format!("{bytes} B"),
    }
}

/// One task of the log.
#[derive(Debug, Clone)]
pub struct Task {
    /// Task uid.
    pub uid: u32,
    /// Batch that processed it.
    pub batch_uid: Option<u32>,
    /// Target index.
    pub index_uid: Option<String>,
    /// Status.
    pub status: TaskStatus,
    /// What to do (payload dropped once finished).
    pub op: Operation,
    /// Task type, kept separately because the payload is dropped.
    pub kind: &'static str,
    /// Details.
    pub details: Details,
    /// Error of a failed task.
    pub error: Option<MeiliError>,
    /// Uid of the cancelation task that canceled it.
    pub canceled_by: Option<u32>,
    /// Registration time.
    pub enqueued_at: OffsetDateTime,
    /// Processing start.
    pub started_at: Option<OffsetDateTime>,
    /// Processing end.
    pub finished_at: Option<OffsetDateTime>,
}

/// RFC 3339 as Meilisearch prints it (nanoseconds, trailing zeros trimmed, `Z`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .expect("UTC timestamps within years 0..=9999 always format as RFC 3339")
}

fn rfc3339_opt(t: Option<OffsetDateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(rfc3339(t)))
}

/// ISO 8601 duration as Meilisearch prints it: `PT0.001234S`, `PT2S`, `P1DT3.5S`.
pub fn iso_duration(duration: Duration) -> Value {
    if duration.is_negative() {
        return Value::Null;
    }
    let day = Duration::DAY.whole_seconds();
    let total = duration.whole_seconds();
    let days = total / day;
    let secs = total - days * day;
    let nanos = duration.subsec_nanoseconds();
    let mut out = String::from("P");
    if days != 0 {
        out.push_str(&format!("{days}D"));
    }
    if secs != 0 || nanos != 0 || days == 0 {
        if nanos == 0 {
            out.push_str(&format!("T{secs}S"));
        } else if nanos % 1_000_000 == 0 {
            out.push_str(&format!("T{secs}.{:03}S", nanos / 1_000_000));
        } else if nanos % 1_000 == 0 {
            out.push_str(&format!("T{secs}.{:06}S", nanos / 1_000));
        } else {
            out.push_str(&format!("T{secs}.{nanos:09}S"));
        }
    }
    Value::String(out)
}

impl Task {
    /// The summarized view answered with 202 when a task is registered.
    pub fn summary(&self) -> Value {
        json!({
            "taskUid": self.uid,
            "indexUid": self.index_uid,
            "status": self.status.as_str(),
            "type": self.kind,
            "enqueuedAt": rfc3339(self.enqueued_at),
        })
    }

    /// The full view of `GET /tasks/{uid}`.
    pub fn view(&self) -> Value {
        let duration = match (self.started_at, self.finished_at) {
            (Some(start), Some(end)) => iso_duration(end - start),
            _ => Value::Null,
        };
        let mut view = json!({
            "uid": self.uid,
            "batchUid": self.batch_uid,
            "indexUid": self.index_uid,
            "status": self.status.as_str(),
            "type": self.kind,
            "canceledBy": self.canceled_by,
            "details": self.details.to_json(),
            "error": self.error.as_ref().map(MeiliError::to_json),
            "duration": duration,
            "enqueuedAt": rfc3339(self.enqueued_at),
            "startedAt": rfc3339_opt(self.started_at),
            "finishedAt": rfc3339_opt(self.finished_at),
        });
        if self.details == Details::Absent {
            // Meilisearch leaves the member out for tasks without details.
            if let Value::Object(members) = &mut view {
                members.shift_remove("details");
            }
        }
        view
    }
}

/// One batch. The fake processes one task per batch, except a cancelation, whose batch
/// also holds the tasks it canceled (as in Meilisearch).
#[derive(Debug, Clone)]
pub struct Batch {
    /// Batch uid.
    pub uid: u32,
    /// Uids of its tasks.
    pub tasks: Vec<u32>,
    /// Processing start.
    pub started_at: OffsetDateTime,
    /// Processing end.
    pub finished_at: Option<OffsetDateTime>,
    /// Why the batch holds what it holds.
    pub strategy: String,
}

impl Batch {
    /// The view of `GET /batches/{uid}`, computed from its tasks.
    pub fn view(&self, tasks: &BTreeMap<u32, Task>) -> Value {
        let members: Vec<&Task> = self.tasks.iter().filter_map(|uid| tasks.get(uid)).collect();
        let mut status: BTreeMap<TaskStatus, u32> = BTreeMap::new();
        let mut types: BTreeMap<usize, u32> = BTreeMap::new();
        let mut index_uids: BTreeMap<String, u32> = BTreeMap::new();
        for task in &members {
            *status.entry(task.status).or_default() += 1;
            let kind_rank = TASK_TYPES
                .iter()
                .position(|k| *k == task.kind)
                .unwrap_or(usize::MAX);
            *types.entry(kind_rank).or_default() += 1;
            if let Some(index) = &task.index_uid {
                *index_uids.entry(index.clone()).or_default() += 1;
            }
        }
        let details = members.first().map_or(json!({}), |t| t.details.to_json());
        let duration = self
            .finished_at
            .map_or(Value::Null, |end| iso_duration(end - self.started_at));
        json!({
            "uid": self.uid,
            "progress": null,
            "details": details,
            "stats": {
                "totalNbTasks": members.len(),
                "status": status.iter().map(|(s, n)| (s.as_str().to_owned(), json!(n))).collect::<Map<_, _>>(),
                "types": types.iter().map(|(k, n)| (TASK_TYPES.get(*k).copied().unwrap_or("unknown").to_owned(), json!(n))).collect::<Map<_, _>>(),
                "indexUids": index_uids.into_iter().map(|(k, n)| (k, json!(n))).collect::<Map<_, _>>(),
            },
            "duration": duration,
            "startedAt": rfc3339(self.started_at),
            "finishedAt": rfc3339_opt(self.finished_at),
            "batchStrategy": self.strategy,
        })
    }
}

/// Filters shared by `GET /tasks`, `POST /tasks/cancel`, `DELETE /tasks` and `/batches`.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// `uids`.
    pub uids: Option<Vec<u32>>,
    /// `batchUids`.
    pub batch_uids: Option<Vec<u32>>,
    /// `canceledBy`.
    pub canceled_by: Option<Vec<u32>>,
    /// `types`.
    pub types: Option<Vec<String>>,
    /// `statuses`.
    pub statuses: Option<Vec<TaskStatus>>,
    /// `indexUids`.
    pub index_uids: Option<Vec<String>>,
    /// `afterEnqueuedAt` etc.: (field, after?, instant).
    pub dates: Vec<(DateField, bool, OffsetDateTime)>,
    /// `limit` (listing only).
    pub limit: u32,
    /// `from` (listing only).
    pub from: Option<u32>,
    /// `reverse` (listing only).
    pub reverse: bool,
}

/// Which timestamp a date filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateField {
    /// `enqueuedAt`.
    Enqueued,
    /// `startedAt`.
    Started,
    /// `finishedAt`.
    Finished,
}

const DATE_PARAMS: &[(&str, DateField, bool, &str)] = &[
    (
        "afterEnqueuedAt",
        DateField::Enqueued,
        true,
        "invalid_task_after_enqueued_at",
    ),
    (
        "beforeEnqueuedAt",
        DateField::Enqueued,
        false,
        "invalid_task_before_enqueued_at",
    ),
    (
        "afterStartedAt",
        DateField::Started,
        true,
        "invalid_task_after_started_at",
    ),
    (
        "beforeStartedAt",
        DateField::Started,
        false,
        "invalid_task_before_started_at",
    ),
    (
        "afterFinishedAt",
        DateField::Finished,
        true,
        "invalid_task_after_finished_at",
    ),
    (
        "beforeFinishedAt",
        DateField::Finished,
        false,
        "invalid_task_before_finished_at",
    ),
];

/// Which route a task query is parsed for (their accepted parameters differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryRoute {
    /// `GET /tasks`.
    ListTasks,
    /// `GET /batches`.
    ListBatches,
    /// `POST /tasks/cancel` or `DELETE /tasks`.
    CancelOrDelete,
}

impl TaskQuery {
    /// Parse a raw query string.
    pub fn parse(raw: Option<&str>, route: QueryRoute) -> ApiResult<TaskQuery> {
        let listing = route != QueryRoute::CancelOrDelete;
        let mut query = TaskQuery {
            limit: 20,
            ..TaskQuery::default()
        };
        let mut expected: Vec<&str> = Vec::new();
        if listing {
            expected.extend(["limit", "from", "reverse"]);
        }
        // Meilisearch lists `batchUids` first when listing, `uids` first otherwise.
        if listing {
            expected.extend(["batchUids", "uids"]);
        } else {
            expected.extend(["uids", "batchUids"]);
        }
        expected.extend(["canceledBy", "types", "statuses", "indexUids"]);
        expected.extend(DATE_PARAMS.iter().map(|p| p.0));
        // `/batches` reports its parameter errors with the task codes, as Meilisearch does.
        let (uid_code, limit_code, from_code) = (
            "invalid_task_uids",
            "invalid_task_limit",
            "invalid_task_from",
        );
        for (name, value) in form_pairs(raw.unwrap_or_default()) {
            let value = value.as_str();
            match name.as_str() {
                "limit" if listing => {
                    query.limit = value
                        .parse()
                        .map_err(|_| error::not_a_positive_integer(limit_code, "limit", value))?
                }
                "from" if listing => {
                    query.from = Some(
                        value
                            .parse()
                            .map_err(|_| error::not_a_positive_integer(from_code, "from", value))?,
                    )
                }
                "reverse" if listing => {
                    query.reverse = match value {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(error::bad(
                                "invalid_task_reverse",
                                format!("Invalid value in parameter `reverse`: could not parse `{value}` as a boolean, expected either `true` or `false`"),
                            ))
                        }
                    }
                }
                "uids" => query.uids = parse_uid_list(value, "uids", uid_code)?,
                "batchUids" => {
                    query.batch_uids = parse_uid_list(value, "batchUids", "invalid_batch_uids")?
                }
                "canceledBy" => {
                    query.canceled_by =
                        parse_uid_list(value, "canceledBy", "invalid_task_canceled_by")?
                }
                "types" => {
                    query.types = star_list(value, |t| {
                        if TASK_TYPES.contains(&t) {
                            Ok(t.to_owned())
                        } else {
                            Err(error::bad(
                                "invalid_task_types",
                                format!(
                                    "Invalid value in parameter `types`: `{t}` is not a valid task type. Available types are {}.",
                                    TASK_TYPES.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                                ),
                            ))
                        }
                    })?
                }
                "statuses" => {
                    query.statuses = star_list(value, |s| {
                        TaskStatus::parse(s).ok_or_else(|| {
                            error::bad(
                                "invalid_task_statuses",
                                format!("Invalid value in parameter `statuses`: `{s}` is not a valid task status. Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`."),
                            )
                        })
                    })?
                }
                "indexUids" => {
                    query.index_uids = star_list(value, |uid| {
                        if error::is_valid_index_uid(uid) {
                            Ok(uid.to_owned())
                        } else {
                            Err(error::bad(
                                "invalid_index_uid",
                                format!("Invalid value in parameter `indexUids`: {}", error::index_uid_format_message(uid)),
                            ))
                        }
                    })?
                }
                other => match DATE_PARAMS.iter().find(|p| p.0 == other) {
                    Some(&(param, field, after, code)) => {
                        let instant = parse_date(value).ok_or_else(|| {
                            error::bad(
                                code,
                                format!("Invalid value in parameter `{param}`: `{value}` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format."),
                            )
                        })?;
                        query.dates.push((field, after, instant));
                    }
                    None => return Err(error::unknown_parameter(other, &expected)),
                },
            }
        }
        Ok(query)
    }

    /// Whether any filter was given (cancel and delete require one).
    pub fn has_filters(&self) -> bool {
        self.uids.is_some()
            || self.batch_uids.is_some()
            || self.canceled_by.is_some()
            || self.types.is_some()
            || self.statuses.is_some()
            || self.index_uids.is_some()
            || !self.dates.is_empty()
    }

    /// Whether `task` passes every filter.
    pub fn matches(&self, task: &Task) -> bool {
        fn within<T: PartialEq>(list: &Option<Vec<T>>, value: Option<&T>) -> bool {
            match list {
                None => true,
                Some(list) => value.is_some_and(|v| list.contains(v)),
            }
        }
        within(&self.uids, Some(&task.uid))
            && within(&self.batch_uids, task.batch_uid.as_ref())
            && within(&self.canceled_by, task.canceled_by.as_ref())
            && within(&self.types, Some(&task.kind.to_owned()))
            && within(&self.statuses, Some(&task.status))
            && match &self.index_uids {
                None => true,
                Some(list) => task_indexes(task).iter().any(|i| list.contains(i)),
            }
            && self.dates.iter().all(|&(field, after, instant)| {
                let at = match field {
                    DateField::Enqueued => Some(task.enqueued_at),
                    DateField::Started => task.started_at,
                    DateField::Finished => task.finished_at,
                };
                match at {
                    Some(at) if after => at > instant,
                    Some(at) => at < instant,
                    None => false,
                }
            })
    }
}

/// Every index a task touches (swaps touch several, without an `indexUid`).
pub fn task_indexes(task: &Task) -> Vec<String> {
    match (&task.index_uid, &task.op) {
        (Some(uid), _) => vec![uid.clone()],
        (None, Operation::IndexSwap { swaps }) => swaps
            .iter()
            .flat_map(|s| s.indexes.iter().cloned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Split `a=b&c=d`, percent-decoding names and values.
pub fn form_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

fn star_list<T>(
    value: &str,
    mut parse: impl FnMut(&str) -> ApiResult<T>,
) -> ApiResult<Option<Vec<T>>> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.contains(&"*") {
        return Ok(None);
    }
    items
        .into_iter()
        .map(&mut parse)
        .collect::<ApiResult<Vec<T>>>()
        .map(Some)
}

fn parse_uid_list(value: &str, param: &str, code: &str) -> ApiResult<Option<Vec<u32>>> {
    star_list(value, |item| {
        item.parse::<u32>()
            .map_err(|_| error::not_a_positive_integer(code, param, item))
    })
}

fn parse_date(value: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Some(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &format)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

/// Whether tasks of type `kind` belong to exactly one index. Meilisearch hides the
/// other kinds from keys restricted to some indexes and from `indexUids` filters.
pub fn related_to_one_index(kind: &str) -> bool {
    matches!(
        kind,
        "documentAdditionOrUpdate"
            | "documentEdition"
            | "documentDeletion"
            | "settingsUpdate"
            | "indexCreation"
            | "indexDeletion"
            | "indexUpdate"
            | "indexCompaction"
            | "dsrUpdate"
            | "dsrClear"
    )
}

/// Page through `items` like [`paginate`], but the way Meilisearch lists tasks for a
/// restricted key: `total` counts every item, the first `limit + 1` items after `from`
/// are taken, the ones not `visible` are dropped, and `next` is set only when all
/// `limit + 1` were visible.
pub fn paginate_then_hide<T>(
    mut items: Vec<(u32, T)>,
    query: &TaskQuery,
    visible: impl Fn(&T) -> bool,
    view: impl Fn(&T) -> Value,
) -> Value {
    let total = items.len();
    if query.reverse {
        items.sort_by_key(|(uid, _)| *uid);
    } else {
        items.sort_by_key(|(uid, _)| std::cmp::Reverse(*uid));
    }
    let fetched = query.limit.saturating_add(1) as usize;
    let mut page: Vec<&(u32, T)> = items
        .iter()
        .filter(|(uid, _)| match query.from {
            None => true,
            Some(from) if query.reverse => *uid >= from,
            Some(from) => *uid <= from,
        })
        .take(fetched)
        .filter(|(_, item)| visible(item))
        .collect();
    let next = if page.len() == fetched {
        page.pop().map(|(uid, _)| *uid)
    } else {
        None
    };
    json!({
        "results": page.iter().map(|(_, t)| view(t)).collect::<Vec<_>>(),
        "total": total,
        "limit": query.limit,
        "from": page.first().map(|(uid, _)| *uid),
        "next": next,
    })
}

/// Page through `items` (sorted by descending uid unless `reverse`) with `from` and
/// `limit`, answering `{"results","total","limit","from","next"}`.
pub fn paginate<T>(
    mut items: Vec<(u32, T)>,
    query: &TaskQuery,
    view: impl Fn(&T) -> Value,
) -> Value {
    let total = items.len();
    if query.reverse {
        items.sort_by_key(|(uid, _)| *uid);
    } else {
        items.sort_by_key(|(uid, _)| std::cmp::Reverse(*uid));
    }
    let start = match query.from {
        None => 0,
        Some(from) => items
            .iter()
            .position(|(uid, _)| {
                if query.reverse {
                    *uid >= from
                } else {
                    *uid <= from
                }
            })
            .unwrap_or(items.len()),
    };
    let limit = query.limit as usize;
    let page = &items[start..];
    let shown = &page[..page.len().min(limit)];
    let next = page.get(limit).map(|(uid, _)| *uid);
    json!({
        "results": shown.iter().map(|(_, t)| view(t)).collect::<Vec<_>>(),
        "total": total,
        "limit": query.limit,
        "from": shown.first().map(|(uid, _)| *uid),
        "next": next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_with_the_shortest_exact_fraction() {
        assert_eq!(
            iso_duration(Duration::nanoseconds(1_234_000)),
            json!("PT0.001234S")
        );
        assert_eq!(
            iso_duration(Duration::milliseconds(1500)),
            json!("PT1.500S")
        );
        assert_eq!(iso_duration(Duration::seconds(2)), json!("PT2S"));
        assert_eq!(
            iso_duration(Duration::nanoseconds(647_968_947)),
            json!("PT0.647968947S")
        );
        assert_eq!(iso_duration(Duration::ZERO), json!("PT0S"));
        assert_eq!(
            iso_duration(Duration::DAY + Duration::seconds(3)),
            json!("P1DT3S")
        );
        assert_eq!(iso_duration(Duration::DAY), json!("P1D"));
    }

    #[test]
    fn timestamps_trim_trailing_zeros_of_the_fraction() {
        let t = time::macros::datetime!(2026-11-23 08:52:33.651172360 UTC);
        assert_eq!(rfc3339(t), "2026-11-23T08:52:33.65117236Z");
    }

    #[test]
    fn unknown_task_query_parameters_are_rejected_with_the_expected_list() {
        let err =
            TaskQuery::parse(Some("foo=1"), QueryRoute::ListTasks).expect_err("unknown parameter");
        assert_eq!(err.0.message, "Unknown parameter `foo`: expected one of `limit`, `from`, `reverse`, `batchUids`, `uids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`");
    }

    #[test]
    fn a_star_in_a_list_filter_means_no_filter() {
        let query = TaskQuery::parse(Some("statuses=*,failed"), QueryRoute::ListTasks)
            .expect("valid query");
        assert_eq!(query.statuses, None);
    }

    #[test]
    fn percent_encoded_values_are_decoded() {
        assert_eq!(
            form_pairs("q=a%20b+c&x"),
            vec![("q".into(), "a b c".into()), ("x".into(), "".into())]
        );
    }
}
