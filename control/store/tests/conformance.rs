//! The store conformance suite: every case runs once against SQLite (a temp file) and
//! once against a real Redis server (`REDIS_URL`, default `redis://127.0.0.1:6379`).
//!
//! Each Redis case uses its own random key prefix and deletes its keys afterwards,
//! even when it fails. An unreachable Redis server fails the Redis cases: they never
//! pass without running.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fred::prelude::{Builder, ClientLike, Config, LuaInterface};
use miroir_store::{
    IndexMeta, NodeTask, Store, StoreConfig, TaskFilter, TaskKind, TaskQuery, TaskRecord,
    TaskStatus,
};
use time::macros::datetime;
use time::OffsetDateTime;

/// Where one case's data lives; [`Fixture::open`] may be called several times to get
/// independent handles on the same data (a restart, or a second process).
#[derive(Clone)]
enum Fixture {
    Sqlite {
        _dir: Arc<tempfile::TempDir>,
        path: PathBuf,
    },
    Redis {
        url: String,
        prefix: String,
    },
}

impl Fixture {
    fn config(&self) -> StoreConfig {
        match self {
            Fixture::Sqlite { path, .. } => StoreConfig::Sqlite { path: path.clone() },
            Fixture::Redis { url, prefix } => StoreConfig::Redis {
                url: url.clone(),
                prefix: prefix.clone(),
            },
        }
    }

    async fn open(&self) -> Arc<dyn Store> {
        match miroir_store::open(&self.config()).await {
            Ok(store) => store,
            Err(error) => match self {
                Fixture::Redis { url, .. } => panic!(
                    "Redis is unreachable at {url}: {error}. The Redis conformance tests need \
                     a running server: start one there or point REDIS_URL at one."
                ),
                Fixture::Sqlite { path, .. } => {
                    panic!("cannot open SQLite at {}: {error}", path.display())
                }
            },
        }
    }
}

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A prefix no other run or case shares.
fn unique_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos();
    format!(
        "miroir-test:{}:{nanos}:{}:",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Delete every key under `prefix` (the prefix has no glob characters).
async fn purge_redis(url: &str, prefix: &str) -> Result<(), String> {
    let config = Config::from_url(url).map_err(|e| e.to_string())?;
    let client = Builder::from_config(config)
        .build()
        .map_err(|e| e.to_string())?;
    client.init().await.map_err(|e| e.to_string())?;
    let purged: Result<i64, _> = client
        .eval(
            "local keys = redis.call('KEYS', ARGV[1]) \
             for _, key in ipairs(keys) do redis.call('DEL', key) end \
             return #keys",
            Vec::<String>::new(),
            vec![format!("{prefix}*")],
        )
        .await;
    let _ = client.quit().await;
    purged.map(drop).map_err(|e| e.to_string())
}

async fn run_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("store.sqlite");
    case(Fixture::Sqlite {
        _dir: Arc::new(dir),
        path,
    })
    .await;
}

async fn run_redis<F, Fut>(case: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let url = redis_url();
    let prefix = unique_prefix();
    let fixture = Fixture::Redis {
        url: url.clone(),
        prefix: prefix.clone(),
    };
    // Run the case as its own task so that its panic comes back here and the keys are
    // removed before the failure is reported.
    let outcome = tokio::spawn(case(fixture)).await;
    let purged = purge_redis(&url, &prefix).await;
    if let Err(error) = outcome {
        // The case's own failure is the one worth reporting.
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("the case did not complete: {error}"),
        }
    }
    if let Err(error) = purged {
        panic!("cannot delete the test keys under `{prefix}`: {error}");
    }
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::run_sqlite(crate::cases::$case).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::run_redis(crate::cases::$case).await;
                }
            )*
        }
    };
}

conformance!(
    uids_start_at_zero_and_increase_by_one,
    uids_are_unique_and_dense_under_concurrent_allocation,
    put_then_get_returns_the_same_task,
    put_replaces_the_task_with_the_same_uid,
    get_of_an_unknown_uid_is_none,
    data_survives_reopening,
    list_is_newest_first_by_default,
    list_reverse_is_oldest_first,
    list_default_limit_is_twenty,
    list_pages_newest_first_with_from_and_next,
    list_pages_oldest_first_with_from_and_next,
    list_total_ignores_from_and_limit,
    list_limit_zero_returns_no_result_but_a_next,
    list_from_beyond_every_uid_starts_at_the_newest,
    filter_by_uids,
    filter_by_batch_uids,
    filter_by_statuses,
    filter_by_types,
    filter_by_index_uids_never_matches_global_tasks,
    filter_by_canceled_by,
    enqueued_at_bounds_are_strict,
    started_at_bounds_skip_tasks_not_started,
    finished_at_bounds_skip_unfinished_tasks,
    filters_combine_as_an_intersection,
    an_empty_list_filter_matches_nothing,
    delete_tasks_counts_only_existing_tasks,
    deleted_tasks_leave_lists_and_unfinished,
    unfinished_tasks_are_enqueued_or_processing_oldest_first,
    index_meta_put_get_list_delete,
    create_index_keeps_the_first_definition,
    kv_first_write_needs_no_expected_version,
    kv_write_with_a_stale_version_is_refused,
    kv_holds_binary_values,
    kv_only_one_concurrent_writer_wins,
    lease_is_exclusive_while_held,
    lease_can_be_taken_after_release,
    lease_expires_after_its_ttl,
    lease_renewal_belongs_to_the_holder,
);

mod cases {
    use super::*;

    const BASE: OffsetDateTime = datetime!(2024-01-01 00:00 UTC);

    /// A task enqueued `uid` minutes after [`BASE`].
    fn task(uid: u32) -> TaskRecord {
        TaskRecord::enqueued(
            uid,
            TaskKind::DocumentAdditionOrUpdate,
            Some("movies".into()),
            BASE + time::Duration::minutes(i64::from(uid)),
        )
    }

    /// A task that started one second and finished two seconds after it was enqueued.
    fn finished(uid: u32, status: TaskStatus) -> TaskRecord {
        let mut t = task(uid);
        t.status = status;
        t.batch_uid = Some(uid);
        t.started_at = Some(t.enqueued_at + time::Duration::seconds(1));
        t.finished_at = Some(t.enqueued_at + time::Duration::seconds(2));
        t
    }

    async fn put_all(store: &Arc<dyn Store>, tasks: &[TaskRecord]) {
        for t in tasks {
            store.put_task(t).await.expect("put_task");
        }
    }

    async fn put_tasks(store: &Arc<dyn Store>, uids: std::ops::Range<u32>) {
        for uid in uids {
            store.put_task(&task(uid)).await.expect("put_task");
        }
    }

    async fn uids_of(store: &Arc<dyn Store>, query: TaskQuery) -> Vec<u32> {
        let page = store.list_tasks(&query).await.expect("list_tasks");
        page.results.iter().map(|t| t.uid).collect()
    }

    fn filtered(filter: TaskFilter) -> TaskQuery {
        TaskQuery {
            filter,
            ..TaskQuery::default()
        }
    }

    fn index(uid: &str, shards: u32) -> IndexMeta {
        IndexMeta {
            uid: uid.into(),
            primary_key: Some("id".into()),
            shards,
            created_at: BASE,
            updated_at: BASE,
        }
    }

    pub async fn uids_start_at_zero_and_increase_by_one(fx: Fixture) {
        let store = fx.open().await;
        let mut uids = Vec::new();
        for _ in 0..3 {
            uids.push(store.next_task_uid().await.expect("next_task_uid"));
        }
        assert_eq!(uids, vec![0, 1, 2]);
    }

    pub async fn uids_are_unique_and_dense_under_concurrent_allocation(fx: Fixture) {
        // Two handles: as two processes sharing the store would.
        let handles = [fx.open().await, fx.open().await];
        let mut workers = Vec::new();
        for worker in 0..8 {
            let store = Arc::clone(&handles[worker % 2]);
            workers.push(tokio::spawn(async move {
                let mut got = Vec::with_capacity(50);
                for _ in 0..50 {
                    got.push(store.next_task_uid().await.expect("next_task_uid"));
                }
                got
            }));
        }
        let mut all = Vec::new();
        for worker in workers {
            let got = worker.await.expect("worker completes");
            assert!(
                got.windows(2).all(|pair| pair[0] < pair[1]),
                "each caller sees strictly increasing uids: {got:?}"
            );
            all.extend(got);
        }
        all.sort_unstable();
        assert_eq!(all, (0..400).collect::<Vec<u32>>());
    }

    pub async fn put_then_get_returns_the_same_task(fx: Fixture) {
        let store = fx.open().await;
        let mut t = finished(7, TaskStatus::Failed);
        t.details = Some(serde_json::json!({"receivedDocuments": 3, "indexedDocuments": 0}));
        t.error = Some(serde_json::json!({
            "message": "boom", "code": "internal", "type": "internal",
            "link": "https://docs.meilisearch.com/errors#internal"
        }));
        t.custom_metadata = Some("batch-1".into());
        t.canceled_by = None;
        t.node_tasks = vec![
            NodeTask {
                node: "n1".into(),
                task_uid: 40,
                status: TaskStatus::Succeeded,
                duration_nanos: Some(1_500),
            },
            NodeTask {
                node: "n2".into(),
                task_uid: u64::MAX,
                status: TaskStatus::Failed,
                duration_nanos: None,
            },
        ];
        store.put_task(&t).await.expect("put_task");
        assert_eq!(store.get_task(7).await.expect("get_task"), Some(t));
    }

    pub async fn put_replaces_the_task_with_the_same_uid(fx: Fixture) {
        let store = fx.open().await;
        store.put_task(&task(3)).await.expect("put_task");
        let done = finished(3, TaskStatus::Succeeded);
        store.put_task(&done).await.expect("put_task again");
        assert_eq!(store.get_task(3).await.expect("get_task"), Some(done));
        let page = store
            .list_tasks(&TaskQuery::default())
            .await
            .expect("list_tasks");
        assert_eq!(page.total, 1);
    }

    pub async fn get_of_an_unknown_uid_is_none(fx: Fixture) {
        let store = fx.open().await;
        assert_eq!(store.get_task(42).await.expect("get_task"), None);
    }

    pub async fn data_survives_reopening(fx: Fixture) {
        let first = fx.open().await;
        assert_eq!(first.next_task_uid().await.expect("uid"), 0);
        first.put_task(&task(0)).await.expect("put_task");
        first
            .put_index(&index("movies", 8))
            .await
            .expect("put_index");
        assert!(first.cas_kv("epoch", None, b"1").await.expect("cas_kv"));
        drop(first);

        let second = fx.open().await;
        assert_eq!(second.next_task_uid().await.expect("uid"), 1);
        assert_eq!(second.get_task(0).await.expect("get_task"), Some(task(0)));
        assert_eq!(
            second.get_index("movies").await.expect("get_index"),
            Some(index("movies", 8))
        );
        assert_eq!(
            second.get_kv("epoch").await.expect("get_kv"),
            Some((b"1".to_vec(), 1))
        );
    }

    pub async fn list_is_newest_first_by_default(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..4).await;
        assert_eq!(
            uids_of(&store, TaskQuery::default()).await,
            vec![3, 2, 1, 0]
        );
    }

    pub async fn list_reverse_is_oldest_first(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..4).await;
        let query = TaskQuery {
            reverse: true,
            ..TaskQuery::default()
        };
        assert_eq!(uids_of(&store, query).await, vec![0, 1, 2, 3]);
    }

    pub async fn list_default_limit_is_twenty(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..25).await;
        let page = store
            .list_tasks(&TaskQuery::default())
            .await
            .expect("list_tasks");
        assert_eq!(page.results.len(), 20);
        assert_eq!(
            (page.total, page.limit, page.from, page.next),
            (25, 20, Some(24), Some(4))
        );
    }

    pub async fn list_pages_newest_first_with_from_and_next(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..7).await;
        let mut pages = Vec::new();
        let mut from = None;
        loop {
            let query = TaskQuery {
                limit: 3,
                from,
                ..TaskQuery::default()
            };
            let page = store.list_tasks(&query).await.expect("list_tasks");
            let uids: Vec<u32> = page.results.iter().map(|t| t.uid).collect();
            pages.push((uids, page.from, page.next));
            match page.next {
                Some(next) => from = Some(next),
                None => break,
            }
        }
        assert_eq!(
            pages,
            vec![
                (vec![6, 5, 4], Some(6), Some(3)),
                (vec![3, 2, 1], Some(3), Some(0)),
                (vec![0], Some(0), None),
            ]
        );
    }

    pub async fn list_pages_oldest_first_with_from_and_next(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..5).await;
        let first = store
            .list_tasks(&TaskQuery {
                limit: 2,
                reverse: true,
                ..TaskQuery::default()
            })
            .await
            .expect("list_tasks");
        assert_eq!(
            (
                first.results.iter().map(|t| t.uid).collect::<Vec<_>>(),
                first.next
            ),
            (vec![0, 1], Some(2))
        );
        let second = store
            .list_tasks(&TaskQuery {
                limit: 2,
                reverse: true,
                from: first.next,
                ..TaskQuery::default()
            })
            .await
            .expect("list_tasks");
        assert_eq!(
            (
                second.results.iter().map(|t| t.uid).collect::<Vec<_>>(),
                second.next
            ),
            (vec![2, 3], Some(4))
        );
    }

    pub async fn list_total_ignores_from_and_limit(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..10).await;
        let page = store
            .list_tasks(&TaskQuery {
                limit: 2,
                from: Some(4),
                ..TaskQuery::default()
            })
            .await
            .expect("list_tasks");
        assert_eq!(
            page.results.iter().map(|t| t.uid).collect::<Vec<_>>(),
            vec![4, 3]
        );
        assert_eq!(page.total, 10);
    }

    pub async fn list_limit_zero_returns_no_result_but_a_next(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..3).await;
        let page = store
            .list_tasks(&TaskQuery {
                limit: 0,
                ..TaskQuery::default()
            })
            .await
            .expect("list_tasks");
        assert_eq!(
            (
                page.results.len(),
                page.total,
                page.limit,
                page.from,
                page.next
            ),
            (0, 3, 0, None, Some(2))
        );
    }

    pub async fn list_from_beyond_every_uid_starts_at_the_newest(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..3).await;
        let query = TaskQuery {
            from: Some(1_000),
            ..TaskQuery::default()
        };
        assert_eq!(uids_of(&store, query).await, vec![2, 1, 0]);
    }

    pub async fn filter_by_uids(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..5).await;
        let query = filtered(TaskFilter {
            uids: Some(vec![1, 3, 99]),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, query).await, vec![3, 1]);
    }

    pub async fn filter_by_batch_uids(fx: Fixture) {
        let store = fx.open().await;
        put_all(
            &store,
            &[
                task(0),
                finished(1, TaskStatus::Succeeded),
                finished(2, TaskStatus::Succeeded),
            ],
        )
        .await;
        let query = filtered(TaskFilter {
            batch_uids: Some(vec![2]),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, query).await, vec![2]);
    }

    pub async fn filter_by_statuses(fx: Fixture) {
        let store = fx.open().await;
        let mut processing = task(1);
        processing.status = TaskStatus::Processing;
        put_all(
            &store,
            &[
                task(0),
                processing,
                finished(2, TaskStatus::Succeeded),
                finished(3, TaskStatus::Failed),
                finished(4, TaskStatus::Canceled),
            ],
        )
        .await;
        let query = filtered(TaskFilter {
            statuses: Some(vec![TaskStatus::Enqueued, TaskStatus::Failed]),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, query).await, vec![3, 0]);
    }

    pub async fn filter_by_types(fx: Fixture) {
        let store = fx.open().await;
        let mut settings = task(1);
        settings.kind = TaskKind::SettingsUpdate;
        let mut dump = task(2);
        dump.kind = TaskKind::DumpCreation;
        dump.index_uid = None;
        put_all(&store, &[task(0), settings, dump]).await;
        let query = filtered(TaskFilter {
            types: Some(vec![TaskKind::DumpCreation, TaskKind::SettingsUpdate]),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, query).await, vec![2, 1]);
    }

    pub async fn filter_by_index_uids_never_matches_global_tasks(fx: Fixture) {
        let store = fx.open().await;
        let mut books = task(1);
        books.index_uid = Some("books".into());
        let mut global = task(2);
        global.kind = TaskKind::SnapshotCreation;
        global.index_uid = None;
        put_all(&store, &[task(0), books, global]).await;
        let query = filtered(TaskFilter {
            index_uids: Some(vec!["movies".into(), "books".into()]),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, query).await, vec![1, 0]);
    }

    pub async fn filter_by_canceled_by(fx: Fixture) {
        let store = fx.open().await;
        let mut a = finished(0, TaskStatus::Canceled);
        a.canceled_by = Some(5);
        let mut b = finished(1, TaskStatus::Canceled);
        b.canceled_by = Some(6);
        put_all(&store, &[a, b, task(2)]).await;
        let query = filtered(TaskFilter {
            canceled_by: Some(vec![5]),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, query).await, vec![0]);
        let none = filtered(TaskFilter {
            canceled_by: Some(vec![9]),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, none).await, Vec::<u32>::new());
    }

    pub async fn enqueued_at_bounds_are_strict(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..5).await;
        // Task 1 is enqueued at BASE+1min, task 3 at BASE+3min: both bounds exclude them.
        let query = filtered(TaskFilter {
            after_enqueued_at: Some(BASE + time::Duration::minutes(1)),
            before_enqueued_at: Some(BASE + time::Duration::minutes(3)),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, query).await, vec![2]);
        let one_nanosecond_earlier = filtered(TaskFilter {
            after_enqueued_at: Some(
                BASE + time::Duration::minutes(1) - time::Duration::nanoseconds(1),
            ),
            ..TaskFilter::default()
        });
        assert_eq!(
            uids_of(&store, one_nanosecond_earlier).await,
            vec![4, 3, 2, 1]
        );
    }

    pub async fn started_at_bounds_skip_tasks_not_started(fx: Fixture) {
        let store = fx.open().await;
        put_all(
            &store,
            &[task(0), finished(1, TaskStatus::Succeeded), task(2)],
        )
        .await;
        let after = filtered(TaskFilter {
            after_started_at: Some(BASE),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, after).await, vec![1]);
        let before = filtered(TaskFilter {
            before_started_at: Some(BASE + time::Duration::days(1)),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, before).await, vec![1]);
    }

    pub async fn finished_at_bounds_skip_unfinished_tasks(fx: Fixture) {
        let store = fx.open().await;
        put_all(
            &store,
            &[
                task(0),
                finished(1, TaskStatus::Succeeded),
                finished(2, TaskStatus::Failed),
            ],
        )
        .await;
        // Task 1 finished at BASE+1min+2s, task 2 at BASE+2min+2s.
        let query = filtered(TaskFilter {
            before_finished_at: Some(BASE + time::Duration::minutes(2)),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, query).await, vec![1]);
        let after = filtered(TaskFilter {
            after_finished_at: Some(BASE + time::Duration::minutes(1) + time::Duration::seconds(2)),
            ..TaskFilter::default()
        });
        assert_eq!(uids_of(&store, after).await, vec![2]);
    }

    pub async fn filters_combine_as_an_intersection(fx: Fixture) {
        let store = fx.open().await;
        let mut books = finished(2, TaskStatus::Succeeded);
        books.index_uid = Some("books".into());
        put_all(
            &store,
            &[
                task(0),
                finished(1, TaskStatus::Succeeded),
                books,
                finished(3, TaskStatus::Failed),
            ],
        )
        .await;
        let query = filtered(TaskFilter {
            statuses: Some(vec![TaskStatus::Succeeded]),
            index_uids: Some(vec!["movies".into()]),
            ..TaskFilter::default()
        });
        let page = store.list_tasks(&query).await.expect("list_tasks");
        assert_eq!(
            page.results.iter().map(|t| t.uid).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(page.total, 1);
    }

    pub async fn an_empty_list_filter_matches_nothing(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..3).await;
        let query = filtered(TaskFilter {
            statuses: Some(vec![]),
            ..TaskFilter::default()
        });
        let page = store.list_tasks(&query).await.expect("list_tasks");
        assert_eq!((page.results.len(), page.total, page.next), (0, 0, None));
    }

    pub async fn delete_tasks_counts_only_existing_tasks(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..4).await;
        assert_eq!(
            store.delete_tasks(&[1, 2, 77]).await.expect("delete_tasks"),
            2
        );
        assert_eq!(store.delete_tasks(&[]).await.expect("delete_tasks"), 0);
        assert_eq!(store.get_task(1).await.expect("get_task"), None);
        assert_eq!(uids_of(&store, TaskQuery::default()).await, vec![3, 0]);
    }

    pub async fn deleted_tasks_leave_lists_and_unfinished(fx: Fixture) {
        let store = fx.open().await;
        put_tasks(&store, 0..3).await;
        store.delete_tasks(&[0, 1, 2]).await.expect("delete_tasks");
        let page = store
            .list_tasks(&TaskQuery::default())
            .await
            .expect("list_tasks");
        assert_eq!((page.results.len(), page.total), (0, 0));
        assert_eq!(store.unfinished_tasks().await.expect("unfinished"), vec![]);
    }

    pub async fn unfinished_tasks_are_enqueued_or_processing_oldest_first(fx: Fixture) {
        let store = fx.open().await;
        let mut processing = task(3);
        processing.status = TaskStatus::Processing;
        put_all(
            &store,
            &[
                processing.clone(),
                finished(0, TaskStatus::Succeeded),
                task(2),
                finished(1, TaskStatus::Canceled),
            ],
        )
        .await;
        let unfinished = store.unfinished_tasks().await.expect("unfinished");
        assert_eq!(unfinished, vec![task(2), processing]);

        store
            .put_task(&finished(2, TaskStatus::Succeeded))
            .await
            .expect("put_task");
        let unfinished = store.unfinished_tasks().await.expect("unfinished");
        assert_eq!(
            unfinished.iter().map(|t| t.uid).collect::<Vec<_>>(),
            vec![3]
        );
    }

    pub async fn index_meta_put_get_list_delete(fx: Fixture) {
        let store = fx.open().await;
        store
            .put_index(&index("movies", 64))
            .await
            .expect("put_index");
        store
            .put_index(&index("books", 8))
            .await
            .expect("put_index");
        let mut renamed_key = index("books", 8);
        renamed_key.primary_key = Some("isbn".into());
        renamed_key.updated_at = BASE + time::Duration::hours(1);
        store
            .put_index(&renamed_key)
            .await
            .expect("put_index again");

        assert_eq!(
            store.get_index("books").await.expect("get_index"),
            Some(renamed_key.clone())
        );
        assert_eq!(
            store.list_indexes().await.expect("list_indexes"),
            vec![renamed_key, index("movies", 64)]
        );
        assert!(store.delete_index("movies").await.expect("delete_index"));
        assert!(!store.delete_index("movies").await.expect("delete_index"));
        assert_eq!(store.get_index("movies").await.expect("get_index"), None);
    }

    pub async fn create_index_keeps_the_first_definition(fx: Fixture) {
        let store = fx.open().await;
        assert!(store
            .create_index(&index("movies", 64))
            .await
            .expect("create"));
        assert!(!store
            .create_index(&index("movies", 4))
            .await
            .expect("create"));
        assert_eq!(
            store.get_index("movies").await.expect("get_index"),
            Some(index("movies", 64))
        );
    }

    pub async fn kv_first_write_needs_no_expected_version(fx: Fixture) {
        let store = fx.open().await;
        assert_eq!(store.get_kv("topology").await.expect("get_kv"), None);
        assert!(!store
            .cas_kv("topology", Some(1), b"a")
            .await
            .expect("cas_kv"));
        assert!(store.cas_kv("topology", None, b"a").await.expect("cas_kv"));
        assert!(!store.cas_kv("topology", None, b"b").await.expect("cas_kv"));
        assert_eq!(
            store.get_kv("topology").await.expect("get_kv"),
            Some((b"a".to_vec(), 1))
        );
    }

    pub async fn kv_write_with_a_stale_version_is_refused(fx: Fixture) {
        let store = fx.open().await;
        assert!(store.cas_kv("k", None, b"v1").await.expect("cas_kv"));
        assert!(store.cas_kv("k", Some(1), b"v2").await.expect("cas_kv"));
        assert!(!store.cas_kv("k", Some(1), b"v3").await.expect("cas_kv"));
        assert_eq!(
            store.get_kv("k").await.expect("get_kv"),
            Some((b"v2".to_vec(), 2))
        );
    }

    pub async fn kv_holds_binary_values(fx: Fixture) {
        let store = fx.open().await;
        let value: Vec<u8> = (0..=255u8).collect();
        assert!(store.cas_kv("bin", None, &value).await.expect("cas_kv"));
        assert_eq!(store.get_kv("bin").await.expect("get_kv"), Some((value, 1)));
    }

    pub async fn kv_only_one_concurrent_writer_wins(fx: Fixture) {
        let handles = [fx.open().await, fx.open().await];
        assert!(handles[0]
            .cas_kv("leader", None, b"0")
            .await
            .expect("cas_kv"));
        let mut writers = Vec::new();
        for writer in 0..8u8 {
            let store = Arc::clone(&handles[usize::from(writer) % 2]);
            writers.push(tokio::spawn(async move {
                store
                    .cas_kv("leader", Some(1), &[writer])
                    .await
                    .expect("cas_kv")
            }));
        }
        let mut winners = 0;
        for writer in writers {
            if writer.await.expect("writer completes") {
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
        let (_, version) = handles[1]
            .get_kv("leader")
            .await
            .expect("get_kv")
            .expect("the key exists");
        assert_eq!(version, 2);
    }

    pub async fn lease_is_exclusive_while_held(fx: Fixture) {
        let store = fx.open().await;
        let ttl = Duration::from_secs(60);
        assert!(store
            .acquire_lease("rebalance", "a", ttl)
            .await
            .expect("acquire"));
        assert!(!store
            .acquire_lease("rebalance", "b", ttl)
            .await
            .expect("acquire"));
        assert!(
            store
                .acquire_lease("rebalance", "a", ttl)
                .await
                .expect("acquire"),
            "the holder may acquire again"
        );
        assert!(!store
            .release_lease("rebalance", "b")
            .await
            .expect("release"));
        assert_eq!(
            store.lease_holder("rebalance").await.expect("holder"),
            Some("a".to_owned())
        );
    }

    pub async fn lease_can_be_taken_after_release(fx: Fixture) {
        let store = fx.open().await;
        let ttl = Duration::from_secs(60);
        assert!(store.acquire_lease("l", "a", ttl).await.expect("acquire"));
        assert!(store.release_lease("l", "a").await.expect("release"));
        assert_eq!(store.lease_holder("l").await.expect("holder"), None);
        assert!(store.acquire_lease("l", "b", ttl).await.expect("acquire"));
        assert_eq!(
            store.lease_holder("l").await.expect("holder"),
            Some("b".to_owned())
        );
    }

    pub async fn lease_expires_after_its_ttl(fx: Fixture) {
        let store = fx.open().await;
        assert!(store
            .acquire_lease("l", "a", Duration::from_millis(50))
            .await
            .expect("acquire"));
        // Far longer than the TTL: only the outcome is asserted, never the timing.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(store.lease_holder("l").await.expect("holder"), None);
        assert!(!store
            .renew_lease("l", "a", Duration::from_secs(60))
            .await
            .expect("renew"));
        assert!(store
            .acquire_lease("l", "b", Duration::from_secs(60))
            .await
            .expect("acquire"));
    }

    pub async fn lease_renewal_belongs_to_the_holder(fx: Fixture) {
        let store = fx.open().await;
        let ttl = Duration::from_secs(60);
        assert!(!store.renew_lease("l", "a", ttl).await.expect("renew"));
        assert!(store.acquire_lease("l", "a", ttl).await.expect("acquire"));
        assert!(store.renew_lease("l", "a", ttl).await.expect("renew"));
        assert!(!store.renew_lease("l", "b", ttl).await.expect("renew"));
        assert_eq!(
            store.lease_holder("l").await.expect("holder"),
            Some("a".to_owned())
        );
    }
}
