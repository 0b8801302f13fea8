//! Task queries: Meilisearch's `GET /tasks`, `POST /tasks/cancel` and `DELETE /tasks`
//! filters, their parsing from the query string, and the paging rules.
//!
//! The semantics follow Meilisearch 1.50: list filters are unions inside one parameter
//! and intersections across parameters, `*` means "any", date bounds are strict,
//! `from` is an inclusive starting uid in the direction of travel, newest first unless
//! `reverse=true`, `total` ignores `from` and `limit`, and `next` is the uid to pass as
//! `from` for the following page.

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, Time};

use crate::task::{TaskKind, TaskRecord, TaskStatus};

/// `limit` when the query does not give one.
pub const DEFAULT_TASK_LIMIT: u32 = 20;

/// Which tasks a query selects. `None` in a field means "no restriction".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskFilter {
    /// Tasks with one of these uids.
    pub uids: Option<Vec<u32>>,
    /// Tasks processed in one of these batches.
    pub batch_uids: Option<Vec<u32>>,
    /// Tasks with one of these statuses.
    pub statuses: Option<Vec<TaskStatus>>,
    /// Tasks of one of these types.
    pub types: Option<Vec<TaskKind>>,
    /// Tasks on one of these indexes (global tasks never match).
    pub index_uids: Option<Vec<String>>,
    /// Tasks canceled by one of these `taskCancelation` tasks.
    pub canceled_by: Option<Vec<u32>>,
    /// Tasks enqueued strictly before this date.
    pub before_enqueued_at: Option<OffsetDateTime>,
    /// Tasks enqueued strictly after this date.
    pub after_enqueued_at: Option<OffsetDateTime>,
    /// Tasks started strictly before this date (never-started tasks never match).
    pub before_started_at: Option<OffsetDateTime>,
    /// Tasks started strictly after this date (never-started tasks never match).
    pub after_started_at: Option<OffsetDateTime>,
    /// Tasks finished strictly before this date (unfinished tasks never match).
    pub before_finished_at: Option<OffsetDateTime>,
    /// Tasks finished strictly after this date (unfinished tasks never match).
    pub after_finished_at: Option<OffsetDateTime>,
}

/// A `GET /tasks` query: a filter plus paging.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskQuery {
    /// Which tasks.
    pub filter: TaskFilter,
    /// At most this many results. Default [`DEFAULT_TASK_LIMIT`].
    pub limit: u32,
    /// Start at this uid (inclusive): at or below it newest first, at or above it with
    /// `reverse`.
    pub from: Option<u32>,
    /// Oldest first instead of newest first.
    pub reverse: bool,
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery {
            filter: TaskFilter::default(),
            limit: DEFAULT_TASK_LIMIT,
            from: None,
            reverse: false,
        }
    }
}

impl TaskQuery {
    /// Every task the filter matches, newest first, in one page: what
    /// `POST /tasks/cancel` and `DELETE /tasks` act on.
    pub fn unbounded(filter: TaskFilter) -> TaskQuery {
        TaskQuery {
            filter,
            limit: u32::MAX,
            from: None,
            reverse: false,
        }
    }

    /// Parse the query string of `GET /tasks` (already percent-decoded pairs). A key
    /// given twice keeps its last value. Errors are Meilisearch's, for the first
    /// offending parameter.
    pub fn from_query_pairs(pairs: &[(String, String)]) -> Result<TaskQuery, TaskQueryError> {
        let mut query = TaskQuery::default();
        for (key, value) in last_value_wins(pairs) {
            let Some(param) = Param::from_name(key).filter(|p| LIST_PARAMS.contains(p)) else {
                return Err(TaskQueryError::unknown_parameter(key, LIST_PARAMS));
            };
            match param {
                Param::Limit => query.limit = parse_u32(param, value)?,
                Param::From => query.from = Some(parse_u32(param, value)?),
                Param::Reverse => query.reverse = parse_bool(param, value)?,
                _ => apply_filter_param(&mut query.filter, param, value)?,
            }
        }
        Ok(query)
    }
}

/// The route a filter-only query string belongs to; it words `missing_task_filters`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskFilterAction {
    /// `POST /tasks/cancel`.
    Cancel,
    /// `DELETE /tasks`.
    Delete,
}

impl TaskFilter {
    /// Parse the query string of `POST /tasks/cancel` or `DELETE /tasks`: the filters of
    /// `GET /tasks` without `limit`, `from` and `reverse`. At least one filter must be
    /// given (`statuses=*` counts), otherwise `missing_task_filters`.
    pub fn from_query_pairs(
        pairs: &[(String, String)],
        action: TaskFilterAction,
    ) -> Result<TaskFilter, TaskQueryError> {
        let mut filter = TaskFilter::default();
        let mut any_given = false;
        for (key, value) in last_value_wins(pairs) {
            let Some(param) = Param::from_name(key).filter(|p| FILTER_PARAMS.contains(p)) else {
                return Err(TaskQueryError::unknown_parameter(key, FILTER_PARAMS));
            };
            apply_filter_param(&mut filter, param, value)?;
            any_given = true;
        }
        if !any_given {
            return Err(TaskQueryError::missing_task_filters(action));
        }
        Ok(filter)
    }

    /// Whether a task passes every restriction of the filter.
    pub fn matches(&self, task: &TaskRecord) -> bool {
        TaskFacts::from_record(task).matches(self)
    }
}

/// One page of `GET /tasks`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskPage {
    /// The tasks of the page, in the query's order.
    pub results: Vec<TaskRecord>,
    /// How many tasks match the filter, ignoring `from` and `limit`.
    pub total: u64,
    /// The query's limit, as Meilisearch echoes it.
    pub limit: u32,
    /// The uid of the first result; `None` when the page is empty.
    pub from: Option<u32>,
    /// The `from` of the next page; `None` on the last page.
    pub next: Option<u32>,
}

impl TaskPage {
    /// The page as Meilisearch's `GET /tasks` body:
    /// `{results, total, limit, from, next}` with each result a task view.
    pub fn to_json(&self) -> Value {
        let results: Vec<Value> = self.results.iter().map(TaskRecord::to_view_json).collect();
        let mut body = serde_json::Map::new();
        body.insert("results".into(), Value::Array(results));
        body.insert("total".into(), self.total.into());
        body.insert("limit".into(), self.limit.into());
        body.insert("from".into(), self.from.into());
        body.insert("next".into(), self.next.into());
        Value::Object(body)
    }
}

/// A rejected task query, in Meilisearch's error shape. Every such error answers
/// `400 Bad Request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct TaskQueryError {
    /// Human-readable explanation, Meilisearch's wording.
    pub message: String,
    /// The error code (`invalid_task_statuses`, `missing_task_filters`, ...).
    pub code: String,
    /// The error type; always `invalid_request`.
    #[serde(rename = "type")]
    pub error_type: String,
    /// The documentation link for the code.
    pub link: String,
}

impl TaskQueryError {
    /// The HTTP status of every task query error.
    pub const HTTP_STATUS: u16 = 400;

    fn new(code: &str, message: String) -> TaskQueryError {
        TaskQueryError {
            message,
            code: code.to_owned(),
            error_type: "invalid_request".to_owned(),
            link: format!("https://docs.meilisearch.com/errors#{code}"),
        }
    }

    /// The error as its JSON body `{message, code, type, link}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "message": self.message,
            "code": self.code,
            "type": self.error_type,
            "link": self.link,
        })
    }

    fn invalid_value(param: Param, index: Option<usize>, reason: String) -> TaskQueryError {
        let location = match index {
            Some(i) => format!("{}[{i}]", param.name()),
            None => param.name().to_owned(),
        };
        TaskQueryError::new(
            param.error_code(),
            format!("Invalid value in parameter `{location}`: {reason}"),
        )
    }

    fn unknown_parameter(key: &str, accepted: &[Param]) -> TaskQueryError {
        let names: Vec<&str> = accepted.iter().map(|p| p.name()).collect();
        let listed: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
        TaskQueryError::new(
            "bad_request",
            format!(
                "Unknown parameter `{key}`: {}expected one of {}",
                did_you_mean(key, &names),
                listed.join(", ")
            ),
        )
    }

    fn missing_task_filters(action: TaskFilterAction) -> TaskQueryError {
        let verb = match action {
            TaskFilterAction::Cancel => "cancel",
            TaskFilterAction::Delete => "delete",
        };
        TaskQueryError::new(
            "missing_task_filters",
            format!(
                "Query parameters to filter the tasks to {verb} are missing. Available query \
                 parameters are: `uids`, `indexUids`, `statuses`, `types`, `canceledBy`, \
                 `beforeEnqueuedAt`, `afterEnqueuedAt`, `beforeStartedAt`, `afterStartedAt`, \
                 `beforeFinishedAt`, `afterFinishedAt`."
            ),
        )
    }
}

/// The query parameters of the task routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    Limit,
    From,
    Reverse,
    BatchUids,
    Uids,
    CanceledBy,
    Types,
    Statuses,
    IndexUids,
    AfterEnqueuedAt,
    BeforeEnqueuedAt,
    AfterStartedAt,
    BeforeStartedAt,
    AfterFinishedAt,
    BeforeFinishedAt,
}

/// `GET /tasks` parameters, in the order Meilisearch lists them.
const LIST_PARAMS: &[Param] = &[
    Param::Limit,
    Param::From,
    Param::Reverse,
    Param::BatchUids,
    Param::Uids,
    Param::CanceledBy,
    Param::Types,
    Param::Statuses,
    Param::IndexUids,
    Param::AfterEnqueuedAt,
    Param::BeforeEnqueuedAt,
    Param::AfterStartedAt,
    Param::BeforeStartedAt,
    Param::AfterFinishedAt,
    Param::BeforeFinishedAt,
];

/// Cancel and delete parameters, in the order Meilisearch lists them.
const FILTER_PARAMS: &[Param] = &[
    Param::Uids,
    Param::BatchUids,
    Param::CanceledBy,
    Param::Types,
    Param::Statuses,
    Param::IndexUids,
    Param::AfterEnqueuedAt,
    Param::BeforeEnqueuedAt,
    Param::AfterStartedAt,
    Param::BeforeStartedAt,
    Param::AfterFinishedAt,
    Param::BeforeFinishedAt,
];

impl Param {
    fn name(self) -> &'static str {
        match self {
            Param::Limit => "limit",
            Param::From => "from",
            Param::Reverse => "reverse",
            Param::BatchUids => "batchUids",
            Param::Uids => "uids",
            Param::CanceledBy => "canceledBy",
            Param::Types => "types",
            Param::Statuses => "statuses",
            Param::IndexUids => "indexUids",
            Param::AfterEnqueuedAt => "afterEnqueuedAt",
            Param::BeforeEnqueuedAt => "beforeEnqueuedAt",
            Param::AfterStartedAt => "afterStartedAt",
            Param::BeforeStartedAt => "beforeStartedAt",
            Param::AfterFinishedAt => "afterFinishedAt",
            Param::BeforeFinishedAt => "beforeFinishedAt",
        }
    }

    fn from_name(name: &str) -> Option<Param> {
        LIST_PARAMS.iter().copied().find(|p| p.name() == name)
    }

    fn error_code(self) -> &'static str {
        match self {
            Param::Limit => "invalid_task_limit",
            Param::From => "invalid_task_from",
            Param::Reverse => "invalid_task_reverse",
            Param::BatchUids => "invalid_batch_uids",
            Param::Uids => "invalid_task_uids",
            Param::CanceledBy => "invalid_task_canceled_by",
            Param::Types => "invalid_task_types",
            Param::Statuses => "invalid_task_statuses",
            Param::IndexUids => "invalid_index_uid",
            Param::AfterEnqueuedAt => "invalid_task_after_enqueued_at",
            Param::BeforeEnqueuedAt => "invalid_task_before_enqueued_at",
            Param::AfterStartedAt => "invalid_task_after_started_at",
            Param::BeforeStartedAt => "invalid_task_before_started_at",
            Param::AfterFinishedAt => "invalid_task_after_finished_at",
            Param::BeforeFinishedAt => "invalid_task_before_finished_at",
        }
    }
}

/// The pairs with duplicate keys collapsed: each key at its first position, holding its
/// last value (a query string decoded into a map behaves this way).
fn last_value_wins(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match out.iter_mut().find(|(k, _)| *k == key.as_str()) {
            Some(slot) => slot.1 = value.as_str(),
            None => out.push((key.as_str(), value.as_str())),
        }
    }
    out
}

fn parse_u32(param: Param, value: &str) -> Result<u32, TaskQueryError> {
    value
        .parse::<u32>()
        .map_err(|_| TaskQueryError::invalid_value(param, None, not_a_positive_integer(value)))
}

fn not_a_positive_integer(value: &str) -> String {
    format!("could not parse `{value}` as a positive integer")
}

fn parse_bool(param: Param, value: &str) -> Result<bool, TaskQueryError> {
    value.parse::<bool>().map_err(|_| {
        TaskQueryError::invalid_value(
            param,
            None,
            format!("could not parse `{value}` as a boolean, expected either `true` or `false`"),
        )
    })
}

/// A comma-separated list where `*` anywhere means "any" (`None`). Empty items are
/// skipped; an error names the item's position when the list has several items.
fn parse_list<T>(
    param: Param,
    value: &str,
    parse_item: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<Vec<T>>, TaskQueryError> {
    let items: Vec<&str> = value.split(',').filter(|item| !item.is_empty()).collect();
    let several = items.len() > 1;
    let mut star = false;
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if *item == "*" {
            star = true;
            continue;
        }
        match parse_item(item) {
            Ok(v) => parsed.push(v),
            Err(reason) => {
                return Err(TaskQueryError::invalid_value(
                    param,
                    several.then_some(i),
                    reason,
                ))
            }
        }
    }
    Ok(if star { None } else { Some(parsed) })
}

fn parse_uid_item(item: &str) -> Result<u32, String> {
    item.parse::<u32>()
        .map_err(|_| not_a_positive_integer(item))
}

fn parse_status_item(item: &str) -> Result<TaskStatus, String> {
    item.parse::<TaskStatus>().map_err(|_| {
        let all: Vec<String> = TaskStatus::ALL.iter().map(|s| format!("`{s}`")).collect();
        format!(
            "`{item}` is not a valid task status. Available statuses are {}.",
            all.join(", ")
        )
    })
}

fn parse_kind_item(item: &str) -> Result<TaskKind, String> {
    item.parse::<TaskKind>().map_err(|_| {
        let all: Vec<String> = TaskKind::ALL.iter().map(|k| format!("`{k}`")).collect();
        format!(
            "`{item}` is not a valid task type. Available types are {}.",
            all.join(", ")
        )
    })
}

/// Index uids as Meilisearch accepts them: ASCII alphanumerics, `-` and `_`, 1 to 400
/// bytes (the message says 512: it is Meilisearch's).
fn parse_index_uid_item(item: &str) -> Result<String, String> {
    let valid = !item.is_empty()
        && item.len() <= 400
        && item
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(item.to_owned())
    } else {
        Err(format!(
            "`{item}` is not a valid index uid. Index uid can be an integer or a string \
             containing only alphanumeric characters, hyphens (-) and underscores (_), and \
             can not be more than 512 bytes."
        ))
    }
}

/// Which side of a date bound a parameter is: a bare `YYYY-MM-DD` means midnight for
/// a "before" bound and the next midnight for an "after" bound, so that
/// `afterEnqueuedAt=2024-01-01` excludes the whole of that day.
#[derive(Clone, Copy)]
enum BoundSide {
    Before,
    After,
}

/// A date bound: `*` is no bound, else RFC 3339 or `YYYY-MM-DD` (UTC).
fn parse_date_bound(
    param: Param,
    value: &str,
    side: BoundSide,
) -> Result<Option<OffsetDateTime>, TaskQueryError> {
    if value == "*" {
        return Ok(None);
    }
    if let Ok(date_time) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(Some(date_time));
    }
    let day_format = format_description!("[year]-[month]-[day]");
    if let Ok(day) = Date::parse(value, day_format) {
        let midnight = day.with_time(Time::MIDNIGHT).assume_utc();
        return Ok(Some(match side {
            BoundSide::Before => midnight,
            BoundSide::After => midnight.checked_add(Duration::days(1)).unwrap_or(midnight),
        }));
    }
    Err(TaskQueryError::invalid_value(
        param,
        None,
        format!(
            "`{value}` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 \
             date-time format."
        ),
    ))
}

fn apply_filter_param(
    filter: &mut TaskFilter,
    param: Param,
    value: &str,
) -> Result<(), TaskQueryError> {
    use BoundSide::{After, Before};
    match param {
        Param::Uids => filter.uids = parse_list(param, value, parse_uid_item)?,
        Param::BatchUids => filter.batch_uids = parse_list(param, value, parse_uid_item)?,
        Param::CanceledBy => filter.canceled_by = parse_list(param, value, parse_uid_item)?,
        Param::Types => filter.types = parse_list(param, value, parse_kind_item)?,
        Param::Statuses => filter.statuses = parse_list(param, value, parse_status_item)?,
        Param::IndexUids => filter.index_uids = parse_list(param, value, parse_index_uid_item)?,
        Param::AfterEnqueuedAt => filter.after_enqueued_at = parse_date_bound(param, value, After)?,
        Param::BeforeEnqueuedAt => {
            filter.before_enqueued_at = parse_date_bound(param, value, Before)?
        }
        Param::AfterStartedAt => filter.after_started_at = parse_date_bound(param, value, After)?,
        Param::BeforeStartedAt => {
            filter.before_started_at = parse_date_bound(param, value, Before)?
        }
        Param::AfterFinishedAt => filter.after_finished_at = parse_date_bound(param, value, After)?,
        Param::BeforeFinishedAt => {
            filter.before_finished_at = parse_date_bound(param, value, Before)?
        }
        // Paging parameters are handled by the caller; reaching here is a routing slip.
        Param::Limit | Param::From | Param::Reverse => {
            return Err(TaskQueryError::unknown_parameter(
                param.name(),
                FILTER_PARAMS,
            ))
        }
    }
    Ok(())
}

/// "did you mean `x`? " when exactly one accepted name is within a typo budget that
/// grows with the length of what was received; empty otherwise.
fn did_you_mean(received: &str, accepted: &[&str]) -> String {
    let budget = match received.len() {
        0..=3 => return String::new(),
        4..=7 => 1,
        8..=12 => 2,
        13..=17 => 3,
        18..=24 => 4,
        _ => 5,
    };
    accepted
        .iter()
        .map(|name| (name, edit_distance(received, name)))
        .filter(|(_, distance)| *distance <= budget)
        .min_by_key(|(_, distance)| *distance)
        .map(|(name, _)| format!("did you mean `{name}`? "))
        .unwrap_or_default()
}

/// Damerau–Levenshtein distance (insertions, deletions, substitutions and
/// transpositions of adjacent characters, with unrestricted edits between them).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let infinity = n + m;
    // Row/column 0 of the textbook matrix hold `infinity`; indices are shifted by one.
    let mut d = vec![vec![0usize; m + 2]; n + 2];
    d[0][0] = infinity;
    for i in 0..=n {
        d[i + 1][0] = infinity;
        d[i + 1][1] = i;
    }
    for j in 0..=m {
        d[0][j + 1] = infinity;
        d[1][j + 1] = j;
    }
    let mut last_row_of: std::collections::HashMap<char, usize> = Default::default();
    for i in 1..=n {
        let mut last_match_col = 0;
        for j in 1..=m {
            let i1 = last_row_of.get(&b[j - 1]).copied().unwrap_or(0);
            let j1 = last_match_col;
            let cost = if a[i - 1] == b[j - 1] {
                last_match_col = j;
                0
            } else {
                1
            };
            d[i + 1][j + 1] = (d[i][j] + cost)
                .min(d[i + 1][j] + 1)
                .min(d[i][j + 1] + 1)
                .min(d[i1][j1] + (i - i1 - 1) + 1 + (j - j1 - 1));
        }
        last_row_of.insert(a[i - 1], i);
    }
    d[n + 1][m + 1]
}

/// A date as signed nanoseconds since the Unix epoch, saturated to `i64` (years
/// 1677–2262 are exact). Both backends compare dates in this form.
pub(crate) fn nanos(date: OffsetDateTime) -> i64 {
    let n = date.unix_timestamp_nanos();
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

/// The filterable fields of a task, compact enough to scan in bulk.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TaskFacts {
    #[serde(rename = "u")]
    pub uid: u32,
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    pub batch_uid: Option<u32>,
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub index_uid: Option<String>,
    #[serde(rename = "s")]
    pub status: TaskStatus,
    #[serde(rename = "k")]
    pub kind: TaskKind,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub canceled_by: Option<u32>,
    #[serde(rename = "e")]
    pub enqueued_at: i64,
    #[serde(rename = "st", default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

impl TaskFacts {
    pub(crate) fn from_record(task: &TaskRecord) -> TaskFacts {
        TaskFacts {
            uid: task.uid,
            batch_uid: task.batch_uid,
            index_uid: task.index_uid.clone(),
            status: task.status,
            kind: task.kind,
            canceled_by: task.canceled_by,
            enqueued_at: nanos(task.enqueued_at),
            started_at: task.started_at.map(nanos),
            finished_at: task.finished_at.map(nanos),
        }
    }

    pub(crate) fn matches(&self, filter: &TaskFilter) -> bool {
        fn listed<T: PartialEq>(list: &Option<Vec<T>>, value: Option<&T>) -> bool {
            match list {
                None => true,
                Some(list) => value.is_some_and(|v| list.contains(v)),
            }
        }
        fn within(
            value: Option<i64>,
            after: Option<OffsetDateTime>,
            before: Option<OffsetDateTime>,
        ) -> bool {
            if after.is_none() && before.is_none() {
                return true;
            }
            let Some(value) = value else { return false };
            after.is_none_or(|after| value > nanos(after))
                && before.is_none_or(|before| value < nanos(before))
        }
        listed(&filter.uids, Some(&self.uid))
            && listed(&filter.batch_uids, self.batch_uid.as_ref())
            && listed(&filter.statuses, Some(&self.status))
            && listed(&filter.types, Some(&self.kind))
            && listed(&filter.index_uids, self.index_uid.as_ref())
            && listed(&filter.canceled_by, self.canceled_by.as_ref())
            && within(
                Some(self.enqueued_at),
                filter.after_enqueued_at,
                filter.before_enqueued_at,
            )
            && within(
                self.started_at,
                filter.after_started_at,
                filter.before_started_at,
            )
            && within(
                self.finished_at,
                filter.after_finished_at,
                filter.before_finished_at,
            )
    }
}

/// The uids of one page, chosen from every matching uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageSelection {
    /// Every match, ignoring `from` and `limit`.
    pub total: u64,
    /// The page's uids in the query's order.
    pub uids: Vec<u32>,
    /// The first uid after the page, if any.
    pub next: Option<u32>,
    /// The limit to report.
    pub limit: u32,
}

/// How many rows to read for one page: one more than the limit, to learn whether a
/// next page exists (saturating, as Meilisearch does, which makes it report a limit of
/// `u32::MAX - 1` when asked for `u32::MAX`).
pub(crate) fn fetch_count(limit: u32) -> u32 {
    limit.saturating_add(1)
}

/// Split rows read with [`fetch_count`] into the page and its `next`.
pub(crate) fn split_page(mut uids: Vec<u32>, limit: u32, total: u64) -> PageSelection {
    let fetch = fetch_count(limit);
    let next = if uids.len() == fetch as usize {
        uids.pop()
    } else {
        None
    };
    PageSelection {
        total,
        uids,
        next,
        limit: fetch - 1,
    }
}

/// Choose a page from every matching uid (any order), applying `from`, `reverse` and
/// `limit` the way `GET /tasks` does.
pub(crate) fn select_page(mut matching: Vec<u32>, query: &TaskQuery) -> PageSelection {
    let total = matching.len() as u64;
    if query.reverse {
        matching.sort_unstable();
    } else {
        matching.sort_unstable_by(|a, b| b.cmp(a));
    }
    let window: Vec<u32> = matching
        .into_iter()
        .filter(|uid| match query.from {
            None => true,
            Some(from) if query.reverse => *uid >= from,
            Some(from) => *uid <= from,
        })
        .take(fetch_count(query.limit) as usize)
        .collect();
    split_page(window, query.limit, total)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn list_error(list: &[(&str, &str)]) -> TaskQueryError {
        TaskQuery::from_query_pairs(&pairs(list)).expect_err("the query is invalid")
    }

    #[test]
    fn empty_query_string_is_the_default_query() {
        assert_eq!(
            TaskQuery::from_query_pairs(&[]),
            Ok(TaskQuery {
                filter: TaskFilter::default(),
                limit: 20,
                from: None,
                reverse: false
            })
        );
    }

    #[test]
    fn every_list_parameter_is_parsed() {
        let query = TaskQuery::from_query_pairs(&pairs(&[
            ("limit", "5"),
            ("from", "12"),
            ("reverse", "true"),
            ("uids", "1,2"),
            ("batchUids", "3"),
            ("canceledBy", "4"),
            ("types", "indexCreation,DUMPCREATION"),
            ("statuses", "failed"),
            ("indexUids", "movies,books"),
            ("afterEnqueuedAt", "2024-01-01"),
            ("beforeEnqueuedAt", "2024-01-01"),
            ("afterStartedAt", "2024-01-02T03:04:05.5Z"),
            ("beforeStartedAt", "2024-01-02T03:04:05+02:00"),
            ("afterFinishedAt", "*"),
            ("beforeFinishedAt", "2030-12-31"),
        ]))
        .expect("a valid query");
        assert_eq!(
            query,
            TaskQuery {
                filter: TaskFilter {
                    uids: Some(vec![1, 2]),
                    batch_uids: Some(vec![3]),
                    statuses: Some(vec![TaskStatus::Failed]),
                    types: Some(vec![TaskKind::IndexCreation, TaskKind::DumpCreation]),
                    index_uids: Some(vec!["movies".into(), "books".into()]),
                    canceled_by: Some(vec![4]),
                    after_enqueued_at: Some(datetime!(2024-01-02 00:00 UTC)),
                    before_enqueued_at: Some(datetime!(2024-01-01 00:00 UTC)),
                    after_started_at: Some(datetime!(2024-01-02 03:04:05.5 UTC)),
                    before_started_at: Some(datetime!(2024-01-02 03:04:05 +02:00)),
                    after_finished_at: None,
                    before_finished_at: Some(datetime!(2030-12-31 00:00 UTC)),
                },
                limit: 5,
                from: Some(12),
                reverse: true,
            }
        );
    }

    #[test]
    fn star_in_a_list_means_no_restriction() {
        let query = TaskQuery::from_query_pairs(&pairs(&[("statuses", "failed,*")]))
            .expect("a valid query");
        assert_eq!(query.filter.statuses, None);
    }

    #[test]
    fn empty_list_items_are_skipped_and_an_empty_list_matches_nothing() {
        let query = TaskQuery::from_query_pairs(&pairs(&[("uids", ",1,,2,"), ("types", "")]))
            .expect("a valid query");
        assert_eq!(query.filter.uids, Some(vec![1, 2]));
        assert_eq!(query.filter.types, Some(vec![]));
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let query = TaskQuery::from_query_pairs(&pairs(&[("limit", "doggo"), ("limit", "3")]))
            .expect("a valid query");
        assert_eq!(query.limit, 3);
    }

    #[test]
    fn bad_uid_names_the_parameter() {
        assert_eq!(
            list_error(&[("uids", "doggo")]).to_json(),
            serde_json::json!({
                "message": "Invalid value in parameter `uids`: could not parse `doggo` as a positive integer",
                "code": "invalid_task_uids",
                "type": "invalid_request",
                "link": "https://docs.meilisearch.com/errors#invalid_task_uids"
            })
        );
    }

    #[test]
    fn bad_item_of_a_longer_list_names_its_position() {
        assert_eq!(
            list_error(&[("uids", "1,dogo")]).message,
            "Invalid value in parameter `uids[1]`: could not parse `dogo` as a positive integer"
        );
    }

    #[test]
    fn bad_status_lists_every_status() {
        let error = list_error(&[("statuses", "doggo")]);
        assert_eq!(error.code, "invalid_task_statuses");
        assert_eq!(
            error.message,
            "Invalid value in parameter `statuses`: `doggo` is not a valid task status. \
             Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`."
        );
    }

    #[test]
    fn bad_type_lists_every_type() {
        let error = list_error(&[("types", "doggo")]);
        assert_eq!(error.code, "invalid_task_types");
        assert_eq!(
            error.message,
            "Invalid value in parameter `types`: `doggo` is not a valid task type. Available \
             types are `documentAdditionOrUpdate`, `documentEdition`, `documentDeletion`, \
             `settingsUpdate`, `indexCreation`, `indexDeletion`, `indexUpdate`, `indexSwap`, \
             `taskCancelation`, `taskDeletion`, `dumpCreation`, `snapshotCreation`, `export`, \
             `upgradeDatabase`, `indexCompaction`, `networkTopologyChange`, `dsrUpdate`, \
             `dsrClear`."
        );
    }

    #[test]
    fn bad_index_uid_is_invalid_index_uid() {
        let error = list_error(&[("indexUids", "the good doggo")]);
        assert_eq!(error.code, "invalid_index_uid");
        assert_eq!(
            error.message,
            "Invalid value in parameter `indexUids`: `the good doggo` is not a valid index \
             uid. Index uid can be an integer or a string containing only alphanumeric \
             characters, hyphens (-) and underscores (_), and can not be more than 512 bytes."
        );
    }

    #[test]
    fn bad_batch_uid_is_invalid_batch_uids() {
        assert_eq!(list_error(&[("batchUids", "x")]).code, "invalid_batch_uids");
    }

    #[test]
    fn bad_canceled_by_is_invalid_task_canceled_by() {
        assert_eq!(
            list_error(&[("canceledBy", "x")]).code,
            "invalid_task_canceled_by"
        );
    }

    #[test]
    fn bad_limit_from_and_reverse_have_their_own_codes() {
        let limit = list_error(&[("limit", "doggo")]);
        assert_eq!(limit.code, "invalid_task_limit");
        assert_eq!(
            limit.message,
            "Invalid value in parameter `limit`: could not parse `doggo` as a positive integer"
        );
        assert_eq!(list_error(&[("limit", "-1")]).code, "invalid_task_limit");
        assert_eq!(list_error(&[("from", "*")]).code, "invalid_task_from");
        let reverse = list_error(&[("reverse", "*")]);
        assert_eq!(reverse.code, "invalid_task_reverse");
        assert_eq!(
            reverse.message,
            "Invalid value in parameter `reverse`: could not parse `*` as a boolean, expected \
             either `true` or `false`"
        );
    }

    #[test]
    fn bad_dates_have_one_code_per_parameter() {
        let cases = [
            ("afterEnqueuedAt", "invalid_task_after_enqueued_at"),
            ("beforeEnqueuedAt", "invalid_task_before_enqueued_at"),
            ("afterStartedAt", "invalid_task_after_started_at"),
            ("beforeStartedAt", "invalid_task_before_started_at"),
            ("afterFinishedAt", "invalid_task_after_finished_at"),
            ("beforeFinishedAt", "invalid_task_before_finished_at"),
        ];
        for (param, code) in cases {
            let error = list_error(&[(param, "doggo")]);
            assert_eq!(error.code, code);
            assert_eq!(
                error.message,
                format!(
                    "Invalid value in parameter `{param}`: `doggo` is an invalid date-time. It \
                     should follow the YYYY-MM-DD or RFC 3339 date-time format."
                )
            );
        }
    }

    #[test]
    fn unknown_parameter_lists_the_accepted_ones_and_suggests_a_near_name() {
        let error = list_error(&[("statuse", "failed")]);
        assert_eq!(error.code, "bad_request");
        assert_eq!(
            error.message,
            "Unknown parameter `statuse`: did you mean `statuses`? expected one of `limit`, \
             `from`, `reverse`, `batchUids`, `uids`, `canceledBy`, `types`, `statuses`, \
             `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, \
             `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`"
        );
    }

    #[test]
    fn cancel_and_delete_reject_paging_parameters() {
        let error =
            TaskFilter::from_query_pairs(&pairs(&[("limit", "doggo")]), TaskFilterAction::Delete)
                .expect_err("limit is not a filter");
        assert_eq!(
            error.to_json(),
            serde_json::json!({
                "message": "Unknown parameter `limit`: expected one of `uids`, `batchUids`, \
                    `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, \
                    `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, \
                    `afterFinishedAt`, `beforeFinishedAt`",
                "code": "bad_request",
                "type": "invalid_request",
                "link": "https://docs.meilisearch.com/errors#bad_request"
            })
        );
    }

    #[test]
    fn cancel_without_filters_is_missing_task_filters() {
        let error = TaskFilter::from_query_pairs(&[], TaskFilterAction::Cancel)
            .expect_err("a filter is required");
        assert_eq!(
            error.to_json(),
            serde_json::json!({
                "message": "Query parameters to filter the tasks to cancel are missing. \
                    Available query parameters are: `uids`, `indexUids`, `statuses`, `types`, \
                    `canceledBy`, `beforeEnqueuedAt`, `afterEnqueuedAt`, `beforeStartedAt`, \
                    `afterStartedAt`, `beforeFinishedAt`, `afterFinishedAt`.",
                "code": "missing_task_filters",
                "type": "invalid_request",
                "link": "https://docs.meilisearch.com/errors#missing_task_filters"
            })
        );
    }

    #[test]
    fn delete_without_filters_names_deletion() {
        let error = TaskFilter::from_query_pairs(&[], TaskFilterAction::Delete)
            .expect_err("a filter is required");
        assert!(error
            .message
            .starts_with("Query parameters to filter the tasks to delete are missing."));
    }

    #[test]
    fn a_star_counts_as_a_given_filter() {
        assert_eq!(
            TaskFilter::from_query_pairs(&pairs(&[("statuses", "*")]), TaskFilterAction::Delete),
            Ok(TaskFilter::default())
        );
    }

    #[test]
    fn after_day_bound_starts_at_the_next_midnight() {
        let filter = TaskFilter::from_query_pairs(
            &pairs(&[
                ("afterFinishedAt", "2024-02-28"),
                ("beforeFinishedAt", "2024-02-28"),
            ]),
            TaskFilterAction::Delete,
        )
        .expect("valid dates");
        assert_eq!(
            filter.after_finished_at,
            Some(datetime!(2024-02-29 00:00 UTC))
        );
        assert_eq!(
            filter.before_finished_at,
            Some(datetime!(2024-02-28 00:00 UTC))
        );
    }

    #[test]
    fn edit_distance_counts_transpositions_as_one_edit() {
        assert_eq!(edit_distance("stauts", "status"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ca", "abc"), 2);
    }

    #[test]
    fn page_selection_newest_first_with_next() {
        let query = TaskQuery {
            limit: 2,
            ..TaskQuery::default()
        };
        assert_eq!(
            select_page(vec![1, 4, 2, 3], &query),
            PageSelection {
                total: 4,
                uids: vec![4, 3],
                next: Some(2),
                limit: 2
            }
        );
    }

    #[test]
    fn page_selection_from_is_inclusive_in_both_directions() {
        let down = TaskQuery {
            limit: 10,
            from: Some(2),
            ..TaskQuery::default()
        };
        assert_eq!(select_page(vec![1, 2, 3], &down).uids, vec![2, 1]);
        let up = TaskQuery {
            reverse: true,
            ..down
        };
        assert_eq!(select_page(vec![1, 2, 3], &up).uids, vec![2, 3]);
    }

    #[test]
    fn page_selection_with_limit_zero_points_next_at_the_first_match() {
        let query = TaskQuery {
            limit: 0,
            ..TaskQuery::default()
        };
        assert_eq!(
            select_page(vec![5, 6], &query),
            PageSelection {
                total: 2,
                uids: vec![],
                next: Some(6),
                limit: 0
            }
        );
    }

    #[test]
    fn page_json_has_meilisearch_keys_in_order() {
        let page = TaskPage {
            results: vec![],
            total: 0,
            limit: 20,
            from: None,
            next: None,
        };
        assert_eq!(
            serde_json::to_string(&page.to_json()).expect("serializes"),
            r#"{"results":[],"total":0,"limit":20,"from":null,"next":null}"#
        );
    }
}
