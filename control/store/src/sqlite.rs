//! The SQLite backend: one file in WAL mode, for a single proxy (or several processes on
//! one machine).
//!
//! Every call runs on Tokio's blocking pool (`spawn_blocking`) against one connection
//! behind a mutex; processes sharing the file serialize on SQLite's own lock, waiting
//! up to [`BUSY_TIMEOUT`]. The schema is created or migrated when the file is opened,
//! inside one immediate transaction, and its version is kept in `schema_version`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, TransactionBehavior};

use crate::query::{fetch_count, nanos, split_page, TaskFilter, TaskQuery};
use crate::{IndexMeta, Store, StoreError, TaskPage, TaskRecord, TaskStatus};

/// How long a call waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema version this build writes and reads.
const SCHEMA_VERSION: i64 = 1;

/// Version 1: the uid counter, tasks with their filterable columns, index metadata,
/// the versioned key/value and the leases.
const MIGRATION_1: &str = "
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('task_uid', 0);

CREATE TABLE tasks (
    uid         INTEGER PRIMARY KEY,
    batch_uid   INTEGER,
    index_uid   TEXT,
    status      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    canceled_by INTEGER,
    enqueued_at INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    record      TEXT NOT NULL
);
CREATE INDEX tasks_by_status ON tasks (status);
CREATE INDEX tasks_by_index_uid ON tasks (index_uid);

CREATE TABLE indexes (
    uid    TEXT PRIMARY KEY,
    record TEXT NOT NULL
);

CREATE TABLE kv (
    key     TEXT PRIMARY KEY,
    value   BLOB NOT NULL,
    version INTEGER NOT NULL
);

CREATE TABLE leases (
    name          TEXT PRIMARY KEY,
    holder        TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
";

/// The SQLite store. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Open (or create) the database file, switch it to WAL, and create or migrate its
    /// schema. The file's directory is created when missing.
    ///
    /// # Errors
    /// The file cannot be created or opened, or was written by a newer schema.
    pub async fn open(path: impl Into<PathBuf>) -> Result<SqliteStore, StoreError> {
        let path = path.into();
        let for_open = path.clone();
        let connection = tokio::task::spawn_blocking(move || open_blocking(&for_open))
            .await
            .map_err(|e| StoreError::Blocking(e.to_string()))??;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `work` on the blocking pool with the connection.
    async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier call cannot leave the connection half-written: every
            // multi-statement change runs in a transaction that rolls back on drop.
            let mut guard = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Blocking(e.to_string()))?
    }
}

fn open_blocking(path: &Path) -> Result<Connection, StoreError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers run while a writer commits. FULL sync makes a handed-out task
    // uid survive a power cut, so it is never handed out twice.
    connection.query_row("PRAGMA journal_mode = WAL", [], |row| {
        row.get::<_, String>(0)
    })?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    migrate(&mut connection)?;
    Ok(connection)
}

/// Bring the schema to [`SCHEMA_VERSION`]. The immediate transaction makes two
/// processes opening a fresh file at once migrate it exactly once.
fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let found: Option<i64> = tx
        .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
        .optional()?;
    let found = found.unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 1 {
        tx.execute_batch(MIGRATION_1)?;
    }
    if found < SCHEMA_VERSION {
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [SCHEMA_VERSION],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// A list as one JSON parameter, read back with `json_each`: one placeholder whatever
/// the list's length.
fn json_list<T: serde::Serialize>(items: &[T]) -> Result<SqlValue, StoreError> {
    Ok(SqlValue::Text(serde_json::to_string(items)?))
}

/// The `WHERE` clause of a filter and its parameters.
fn filter_sql(filter: &TaskFilter) -> Result<(String, Vec<SqlValue>), StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    let mut member = |column: &str, list: SqlValue, clauses: &mut Vec<String>| {
        values.push(list);
        clauses.push(format!(
            "{column} IN (SELECT value FROM json_each(?{}))",
            values.len()
        ));
    };
    if let Some(uids) = &filter.uids {
        member("uid", json_list(uids)?, &mut clauses);
    }
    if let Some(batches) = &filter.batch_uids {
        member("batch_uid", json_list(batches)?, &mut clauses);
    }
    if let Some(statuses) = &filter.statuses {
        member("status", json_list(statuses)?, &mut clauses);
    }
    if let Some(types) = &filter.types {
        member("kind", json_list(types)?, &mut clauses);
    }
    if let Some(indexes) = &filter.index_uids {
        member("index_uid", json_list(indexes)?, &mut clauses);
    }
    if let Some(cancelers) = &filter.canceled_by {
        member("canceled_by", json_list(cancelers)?, &mut clauses);
    }
    let bounds = [
        ("enqueued_at", ">", filter.after_enqueued_at),
        ("enqueued_at", "<", filter.before_enqueued_at),
        ("started_at", ">", filter.after_started_at),
        ("started_at", "<", filter.before_started_at),
        ("finished_at", ">", filter.after_finished_at),
        ("finished_at", "<", filter.before_finished_at),
    ];
    for (column, op, bound) in bounds {
        if let Some(date) = bound {
            values.push(SqlValue::Integer(nanos(date)));
            // A NULL date (not started, not finished) never compares true.
            clauses.push(format!("{column} {op} ?{}", values.len()));
        }
    }
    let sql = if clauses.is_empty() {
        "1".to_owned()
    } else {
        clauses.join(" AND ")
    };
    Ok((sql, values))
}

fn decode_task(json: &str) -> Result<TaskRecord, StoreError> {
    Ok(serde_json::from_str(json)?)
}

fn now_millis() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// A lease duration in whole milliseconds, at least 1.
fn ttl_millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn next_task_uid(&self) -> Result<u32, StoreError> {
        self.call(|conn| {
            // One statement: SQLite's write lock makes it atomic across processes.
            let value: i64 = conn.query_row(
                "UPDATE counters SET value = value + 1 WHERE name = 'task_uid' RETURNING value",
                [],
                |row| row.get(0),
            )?;
            u32::try_from(value - 1).map_err(|_| StoreError::TaskUidsExhausted)
        })
        .await
    }

    async fn put_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        let record = serde_json::to_string(task)?;
        let task = task.clone();
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO tasks (uid, batch_uid, index_uid, status, kind, canceled_by,
                                    enqueued_at, started_at, finished_at, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (uid) DO UPDATE SET
                    batch_uid = excluded.batch_uid, index_uid = excluded.index_uid,
                    status = excluded.status, kind = excluded.kind,
                    canceled_by = excluded.canceled_by, enqueued_at = excluded.enqueued_at,
                    started_at = excluded.started_at, finished_at = excluded.finished_at,
                    record = excluded.record",
                params![
                    task.uid,
                    task.batch_uid,
                    task.index_uid,
                    task.status.as_str(),
                    task.kind.as_str(),
                    task.canceled_by,
                    nanos(task.enqueued_at),
                    task.started_at.map(nanos),
                    task.finished_at.map(nanos),
                    record,
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn get_task(&self, uid: u32) -> Result<Option<TaskRecord>, StoreError> {
        self.call(move |conn| {
            let json: Option<String> = conn
                .query_row("SELECT record FROM tasks WHERE uid = ?1", [uid], |row| {
                    row.get(0)
                })
                .optional()?;
            json.as_deref().map(decode_task).transpose()
        })
        .await
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage, StoreError> {
        let query = query.clone();
        self.call(move |conn| {
            let (where_sql, mut values) = filter_sql(&query.filter)?;
            // Count and page in one read transaction, so they see the same tasks.
            let tx = conn.transaction()?;
            let total: i64 = tx.query_row(
                &format!("SELECT COUNT(*) FROM tasks WHERE {where_sql}"),
                params_from_iter(values.iter()),
                |row| row.get(0),
            )?;
            let mut page_sql = format!("SELECT record FROM tasks WHERE {where_sql}");
            if let Some(from) = query.from {
                values.push(SqlValue::Integer(i64::from(from)));
                let op = if query.reverse { ">=" } else { "<=" };
                page_sql.push_str(&format!(" AND uid {op} ?{}", values.len()));
            }
            values.push(SqlValue::Integer(i64::from(fetch_count(query.limit))));
            let order = if query.reverse { "ASC" } else { "DESC" };
            page_sql.push_str(&format!(" ORDER BY uid {order} LIMIT ?{}", values.len()));
            let mut statement = tx.prepare(&page_sql)?;
            let mut results = statement
                .query_map(params_from_iter(values.iter()), |row| {
                    row.get::<_, String>(0)
                })?
                .map(|json| decode_task(&json?))
                .collect::<Result<Vec<TaskRecord>, StoreError>>()?;
            let selection = split_page(
                results.iter().map(|task| task.uid).collect(),
                query.limit,
                u64::try_from(total).unwrap_or(0),
            );
            results.truncate(selection.uids.len());
            Ok(TaskPage {
                from: results.first().map(|task| task.uid),
                results,
                total: selection.total,
                limit: selection.limit,
                next: selection.next,
            })
        })
        .await
    }

    async fn delete_tasks(&self, uids: &[u32]) -> Result<u64, StoreError> {
        let list = json_list(uids)?;
        self.call(move |conn| {
            let deleted = conn.execute(
                "DELETE FROM tasks WHERE uid IN (SELECT value FROM json_each(?1))",
                [list],
            )?;
            Ok(deleted as u64)
        })
        .await
    }

    async fn unfinished_tasks(&self) -> Result<Vec<TaskRecord>, StoreError> {
        self.call(|conn| {
            let mut statement =
                conn.prepare("SELECT record FROM tasks WHERE status IN (?1, ?2) ORDER BY uid ASC")?;
            let tasks = statement
                .query_map(
                    [
                        TaskStatus::Enqueued.as_str(),
                        TaskStatus::Processing.as_str(),
                    ],
                    |row| row.get::<_, String>(0),
                )?
                .map(|json| decode_task(&json?))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(tasks)
        })
        .await
    }

    async fn put_index(&self, index: &IndexMeta) -> Result<(), StoreError> {
        let uid = index.uid.clone();
        let record = serde_json::to_string(index)?;
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO indexes (uid, record) VALUES (?1, ?2)
                 ON CONFLICT (uid) DO UPDATE SET record = excluded.record",
                params![uid, record],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_index(&self, index: &IndexMeta) -> Result<bool, StoreError> {
        let uid = index.uid.clone();
        let record = serde_json::to_string(index)?;
        self.call(move |conn| {
            let inserted = conn.execute(
                "INSERT INTO indexes (uid, record) VALUES (?1, ?2) ON CONFLICT (uid) DO NOTHING",
                params![uid, record],
            )?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn get_index(&self, uid: &str) -> Result<Option<IndexMeta>, StoreError> {
        let uid = uid.to_owned();
        self.call(move |conn| {
            let json: Option<String> = conn
                .query_row("SELECT record FROM indexes WHERE uid = ?1", [uid], |row| {
                    row.get(0)
                })
                .optional()?;
            Ok(json
                .map(|json| serde_json::from_str::<IndexMeta>(&json))
                .transpose()?)
        })
        .await
    }

    async fn list_indexes(&self) -> Result<Vec<IndexMeta>, StoreError> {
        self.call(|conn| {
            let mut statement = conn.prepare("SELECT record FROM indexes ORDER BY uid ASC")?;
            let indexes = statement
                .query_map([], |row| row.get::<_, String>(0))?
                .map(|json| Ok(serde_json::from_str::<IndexMeta>(&json?)?))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(indexes)
        })
        .await
    }

    async fn delete_index(&self, uid: &str) -> Result<bool, StoreError> {
        let uid = uid.to_owned();
        self.call(move |conn| Ok(conn.execute("DELETE FROM indexes WHERE uid = ?1", [uid])? == 1))
            .await
    }

    async fn get_kv(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        let key = key.to_owned();
        self.call(move |conn| {
            let row: Option<(Vec<u8>, i64)> = conn
                .query_row(
                    "SELECT value, version FROM kv WHERE key = ?1",
                    [key],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            row.map(|(value, version)| {
                u64::try_from(version)
                    .map(|version| (value, version))
                    .map_err(|_| StoreError::Corrupt(format!("negative kv version {version}")))
            })
            .transpose()
        })
        .await
    }

    async fn cas_kv(
        &self,
        key: &str,
        expected_version: Option<u64>,
        value: &[u8],
    ) -> Result<bool, StoreError> {
        let key = key.to_owned();
        let value = value.to_vec();
        self.call(move |conn| {
            let changed = match expected_version {
                None => conn.execute(
                    "INSERT INTO kv (key, value, version) VALUES (?1, ?2, 1)
                     ON CONFLICT (key) DO NOTHING",
                    params![key, value],
                )?,
                Some(expected) => {
                    // A version beyond i64 cannot be stored, so it cannot match.
                    let Ok(expected) = i64::try_from(expected) else {
                        return Ok(false);
                    };
                    conn.execute(
                        "UPDATE kv SET value = ?2, version = version + 1
                         WHERE key = ?1 AND version = ?3",
                        params![key, value, expected],
                    )?
                }
            };
            Ok(changed == 1)
        })
        .await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.call(move |conn| {
            let now = now_millis();
            let changed = conn.execute(
                "INSERT INTO leases (name, holder, expires_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET
                    holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
                 WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ?4",
                params![name, holder, now.saturating_add(ttl_millis(ttl)), now],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn renew_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.call(move |conn| {
            let now = now_millis();
            let changed = conn.execute(
                "UPDATE leases SET expires_at_ms = ?3
                 WHERE name = ?1 AND holder = ?2 AND expires_at_ms > ?4",
                params![name, holder, now.saturating_add(ttl_millis(ttl)), now],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.call(move |conn| {
            let changed = conn.execute(
                "DELETE FROM leases WHERE name = ?1 AND holder = ?2 AND expires_at_ms > ?3",
                params![name, holder, now_millis()],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn lease_holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.call(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT holder FROM leases WHERE name = ?1 AND expires_at_ms > ?2",
                    params![name, now_millis()],
                    |row| row.get(0),
                )
                .optional()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fresh_file_gets_the_current_schema_version() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("nested/store.sqlite");
        let store = SqliteStore::open(&path).await.expect("opens");
        let version: i64 = store
            .call(|conn| {
                Ok(conn.query_row("SELECT version FROM schema_version", [], |row| row.get(0))?)
            })
            .await
            .expect("reads the version");
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[tokio::test]
    async fn the_file_is_in_wal_mode() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = SqliteStore::open(dir.path().join("s.sqlite"))
            .await
            .expect("opens");
        let mode: String = store
            .call(|conn| Ok(conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?))
            .await
            .expect("reads the journal mode");
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn a_file_from_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("s.sqlite");
        let store = SqliteStore::open(&path).await.expect("opens");
        store
            .call(|conn| {
                conn.execute("UPDATE schema_version SET version = 99", [])?;
                Ok(())
            })
            .await
            .expect("bumps the version");
        drop(store);
        match SqliteStore::open(&path).await {
            Err(StoreError::SchemaTooNew { found, supported }) => {
                assert_eq!((found, supported), (99, SCHEMA_VERSION));
            }
            other => panic!("expected SchemaTooNew, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn reopening_does_not_reset_the_uid_counter() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("s.sqlite");
        let first = SqliteStore::open(&path).await.expect("opens");
        assert_eq!(first.next_task_uid().await.expect("allocates"), 0);
        drop(first);
        let second = SqliteStore::open(&path).await.expect("reopens");
        assert_eq!(second.next_task_uid().await.expect("allocates"), 1);
    }

    #[tokio::test]
    async fn uids_beyond_u32_are_refused() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = SqliteStore::open(dir.path().join("s.sqlite"))
            .await
            .expect("opens");
        store
            .call(|conn| {
                conn.execute(
                    "UPDATE counters SET value = ?1 WHERE name = 'task_uid'",
                    [i64::from(u32::MAX)],
                )?;
                Ok(())
            })
            .await
            .expect("moves the counter");
        assert_eq!(store.next_task_uid().await.expect("the last uid"), u32::MAX);
        assert!(matches!(
            store.next_task_uid().await,
            Err(StoreError::TaskUidsExhausted)
        ));
    }
}
