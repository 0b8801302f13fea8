//! The Redis backend (through `fred`): one server shared by several proxies and
//! control planes.
//!
//! Key layout, every key starting with the configured prefix `P` (default `miroir:`):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `P` `task_uid` | string (integer) | how many task uids were handed out (`INCR`) |
//! | `P` `task:{uid}` | string | the task record (JSON) |
//! | `P` `task_facts` | hash `uid → JSON` | the filterable fields of every task |
//! | `P` `tasks_unfinished` | set of uids | tasks still enqueued or processing |
//! | `P` `indexes` | hash `uid → JSON` | index metadata |
//! | `P` `kv:{key}` | hash `value`, `version` | the versioned key/value |
//! | `P` `lease:{name}` | string with expiry | the lease holder |
//!
//! Writes touching several keys run as one Lua script, so readers never see a task
//! record without its facts. Listing reads every task's facts (one `HGETALL`), filters
//! and pages them here, then fetches the page's records (one `MGET`).

use std::collections::HashMap;
use std::time::Duration;

use fred::prelude::{
    Builder, Client, ClientLike, Config, HashesInterface, KeysInterface, LuaInterface,
    ReconnectPolicy, SetsInterface, Value,
};

use crate::query::{select_page, TaskFacts, TaskQuery};
use crate::{IndexMeta, Store, StoreError, TaskPage, TaskRecord};

/// How long connecting may take before [`RedisStore::connect`] fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one command may wait (for a reconnection included) before it fails, so a
/// lost server turns into errors instead of requests that hang.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// How many tasks one delete script removes; bounds the time the server is blocked.
const DELETE_CHUNK: usize = 1_000;

const PUT_TASK: &str = r"
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] == '1' then
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('SREM', KEYS[3], ARGV[1])
end
return 1
";

/// KEYS: facts hash, unfinished set, then one task key per uid of ARGV (same order).
const DELETE_TASKS: &str = r"
local deleted = 0
for i = 1, #ARGV do
  deleted = deleted + redis.call('DEL', KEYS[i + 2])
  redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('SREM', KEYS[2], ARGV[i])
end
return deleted
";

const CAS_KV: &str = r"
local current = redis.call('HGET', KEYS[1], 'version')
if ARGV[1] == '' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'value', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 1
";

const ACQUIRE_LEASE: &str = r"
local current = redis.call('GET', KEYS[1])
if (not current) or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
";

const RENEW_LEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

const RELEASE_LEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";

/// The Redis store. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    client: Client,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: only the prefix is shown.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisStore {
    /// Connect to `url` (`redis://[user:password@]host:port[/db]`) and use keys starting
    /// with `prefix`. After the first connection, a lost server is reconnected to in
    /// the background; commands fail after 10 s meanwhile.
    ///
    /// # Errors
    /// The URL is invalid, asks for TLS (`rediss://`: this build has no TLS client), or
    /// the server cannot be reached within 5 s.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<RedisStore, StoreError> {
        if uses_tls(url) {
            // Without a TLS feature the client would silently connect in clear text.
            return Err(StoreError::Unsupported(
                "TLS Redis URLs (rediss://) are not supported by this build".to_owned(),
            ));
        }
        let config = Config::from_url(url)?;
        let client = Builder::from_config(config)
            .with_connection_config(|connection| {
                connection.connection_timeout = CONNECT_TIMEOUT;
                connection.internal_command_timeout = CONNECT_TIMEOUT;
            })
            .with_performance_config(|performance| {
                performance.default_command_timeout = COMMAND_TIMEOUT;
            })
            // Unlimited attempts, 100 ms doubling up to 5 s between them.
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
            .build()?;
        client.init().await?;
        Ok(RedisStore {
            client,
            prefix: prefix.into(),
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    fn task_key(&self, uid: u32) -> String {
        format!("{}task:{uid}", self.prefix)
    }

    fn facts_key(&self) -> String {
        self.key("task_facts")
    }

    fn unfinished_key(&self) -> String {
        self.key("tasks_unfinished")
    }

    fn indexes_key(&self) -> String {
        self.key("indexes")
    }

    /// The records of these uids, in the same order; deleted ones are skipped.
    async fn fetch_tasks(&self, uids: &[u32]) -> Result<Vec<TaskRecord>, StoreError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = uids.iter().map(|uid| self.task_key(*uid)).collect();
        let values: Vec<Value> = self.client.mget(keys).await?;
        values
            .into_iter()
            .filter(|value| !value.is_null())
            .map(|value| decode_json(&value))
            .collect()
    }

    /// The facts of every task, or of the listed uids only.
    async fn load_facts(&self, uids: Option<&[u32]>) -> Result<Vec<TaskFacts>, StoreError> {
        let raw: Vec<Value> = match uids {
            None => {
                let all: HashMap<String, Value> = self.client.hgetall(self.facts_key()).await?;
                all.into_values().collect()
            }
            Some([]) => Vec::new(),
            Some(uids) => {
                let fields: Vec<String> = uids.iter().map(u32::to_string).collect();
                self.client.hmget(self.facts_key(), fields).await?
            }
        };
        raw.iter()
            .filter(|value| !value.is_null())
            .map(decode_json)
            .collect()
    }
}

fn uses_tls(url: &str) -> bool {
    let scheme = url
        .split("://")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    scheme.starts_with("rediss") || scheme.starts_with("valkeys")
}

fn decode_json<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, StoreError> {
    let bytes = value
        .as_bytes()
        .ok_or_else(|| StoreError::Corrupt(format!("expected a JSON string, got {value:?}")))?;
    Ok(serde_json::from_slice(bytes)?)
}

fn ttl_millis(ttl: Duration) -> String {
    // PX needs a positive integer.
    ttl.as_millis().clamp(1, i64::MAX as u128).to_string()
}

#[async_trait::async_trait]
impl Store for RedisStore {
    async fn next_task_uid(&self) -> Result<u32, StoreError> {
        let handed_out: i64 = self.client.incr(self.key("task_uid")).await?;
        u32::try_from(handed_out - 1).map_err(|_| StoreError::TaskUidsExhausted)
    }

    async fn put_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        let record = serde_json::to_string(task)?;
        let facts = serde_json::to_string(&TaskFacts::from_record(task))?;
        let unfinished = if task.status.is_finished() { "0" } else { "1" };
        let _: i64 = self
            .client
            .eval(
                PUT_TASK,
                vec![
                    self.task_key(task.uid),
                    self.facts_key(),
                    self.unfinished_key(),
                ],
                vec![task.uid.to_string(), record, facts, unfinished.to_owned()],
            )
            .await?;
        Ok(())
    }

    async fn get_task(&self, uid: u32) -> Result<Option<TaskRecord>, StoreError> {
        let value: Value = self.client.get(self.task_key(uid)).await?;
        if value.is_null() {
            return Ok(None);
        }
        decode_json(&value).map(Some)
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage, StoreError> {
        let facts = self.load_facts(query.filter.uids.as_deref()).await?;
        let matching: Vec<u32> = facts
            .iter()
            .filter(|facts| facts.matches(&query.filter))
            .map(|facts| facts.uid)
            .collect();
        let selection = select_page(matching, query);
        let results = self.fetch_tasks(&selection.uids).await?;
        Ok(TaskPage {
            from: results.first().map(|task| task.uid),
            results,
            total: selection.total,
            limit: selection.limit,
            next: selection.next,
        })
    }

    async fn delete_tasks(&self, uids: &[u32]) -> Result<u64, StoreError> {
        let mut deleted = 0u64;
        for chunk in uids.chunks(DELETE_CHUNK) {
            let mut keys = vec![self.facts_key(), self.unfinished_key()];
            keys.extend(chunk.iter().map(|uid| self.task_key(*uid)));
            let args: Vec<String> = chunk.iter().map(u32::to_string).collect();
            let count: i64 = self.client.eval(DELETE_TASKS, keys, args).await?;
            deleted += u64::try_from(count).unwrap_or(0);
        }
        Ok(deleted)
    }

    async fn unfinished_tasks(&self) -> Result<Vec<TaskRecord>, StoreError> {
        let members: Vec<String> = self.client.smembers(self.unfinished_key()).await?;
        let mut uids = members
            .iter()
            .map(|member| {
                member
                    .parse::<u32>()
                    .map_err(|_| StoreError::Corrupt(format!("unfinished task uid `{member}`")))
            })
            .collect::<Result<Vec<u32>, _>>()?;
        uids.sort_unstable();
        self.fetch_tasks(&uids).await
    }

    async fn put_index(&self, index: &IndexMeta) -> Result<(), StoreError> {
        let record = serde_json::to_string(index)?;
        let _: i64 = self
            .client
            .hset(self.indexes_key(), (index.uid.as_str(), record))
            .await?;
        Ok(())
    }

    async fn create_index(&self, index: &IndexMeta) -> Result<bool, StoreError> {
        let record = serde_json::to_string(index)?;
        let inserted: bool = self
            .client
            .hsetnx(self.indexes_key(), index.uid.as_str(), record)
            .await?;
        Ok(inserted)
    }

    async fn get_index(&self, uid: &str) -> Result<Option<IndexMeta>, StoreError> {
        let value: Value = self.client.hget(self.indexes_key(), uid).await?;
        if value.is_null() {
            return Ok(None);
        }
        decode_json(&value).map(Some)
    }

    async fn list_indexes(&self) -> Result<Vec<IndexMeta>, StoreError> {
        let all: HashMap<String, Value> = self.client.hgetall(self.indexes_key()).await?;
        let mut indexes = all
            .values()
            .map(decode_json::<IndexMeta>)
            .collect::<Result<Vec<_>, _>>()?;
        indexes.sort_by(|a, b| a.uid.cmp(&b.uid));
        Ok(indexes)
    }

    async fn delete_index(&self, uid: &str) -> Result<bool, StoreError> {
        let removed: i64 = self.client.hdel(self.indexes_key(), uid).await?;
        Ok(removed == 1)
    }

    async fn get_kv(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, StoreError> {
        let fields: Vec<Value> = self
            .client
            .hmget(self.key(&format!("kv:{key}")), vec!["value", "version"])
            .await?;
        let (Some(value), Some(version)) = (fields.first(), fields.get(1)) else {
            return Err(StoreError::Corrupt(
                "HMGET answered fewer than two fields".into(),
            ));
        };
        if value.is_null() {
            return Ok(None);
        }
        let version = version
            .as_bytes()
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("kv `{key}` has no valid version")))?;
        let bytes = value
            .as_bytes()
            .ok_or_else(|| StoreError::Corrupt(format!("kv `{key}` holds {value:?}")))?;
        Ok(Some((bytes.to_vec(), version)))
    }

    async fn cas_kv(
        &self,
        key: &str,
        expected_version: Option<u64>,
        value: &[u8],
    ) -> Result<bool, StoreError> {
        let expected = expected_version.map(|v| v.to_string()).unwrap_or_default();
        let args = vec![
            Value::from(expected),
            Value::Bytes(fred::bytes::Bytes::copy_from_slice(value)),
        ];
        let written: i64 = self
            .client
            .eval(CAS_KV, vec![self.key(&format!("kv:{key}"))], args)
            .await?;
        Ok(written == 1)
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let taken: i64 = self
            .client
            .eval(
                ACQUIRE_LEASE,
                vec![self.key(&format!("lease:{name}"))],
                vec![holder.to_owned(), ttl_millis(ttl)],
            )
            .await?;
        Ok(taken == 1)
    }

    async fn renew_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let renewed: i64 = self
            .client
            .eval(
                RENEW_LEASE,
                vec![self.key(&format!("lease:{name}"))],
                vec![holder.to_owned(), ttl_millis(ttl)],
            )
            .await?;
        Ok(renewed == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let released: i64 = self
            .client
            .eval(
                RELEASE_LEASE,
                vec![self.key(&format!("lease:{name}"))],
                vec![holder.to_owned()],
            )
            .await?;
        Ok(released == 1)
    }

    async fn lease_holder(&self, name: &str) -> Result<Option<String>, StoreError> {
        let holder: Option<String> = self.client.get(self.key(&format!("lease:{name}"))).await?;
        Ok(holder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tls_urls_are_refused_before_connecting() {
        match RedisStore::connect("rediss://secret@example.invalid:6380", "p:").await {
            Err(StoreError::Unsupported(message)) => assert_eq!(
                message,
                "TLS Redis URLs (rediss://) are not supported by this build"
            ),
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[test]
    fn plain_urls_do_not_count_as_tls() {
        assert!(!uses_tls("redis://127.0.0.1:6379"));
        assert!(!uses_tls("redis-sentinel://h:26379"));
        assert!(uses_tls("REDISS://h:6380"));
        assert!(uses_tls("rediss-sentinel://h:26379"));
    }
}
