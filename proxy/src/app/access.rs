//! Authentication of the routes Miroir answers itself: the client's bearer token is
//! judged with Meilisearch's rules ([`crate::auth`]), the API key it names being read
//! from a node (`GET /keys/{key}` with the node master key) and cached briefly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::Method;
use serde_json::Value;
use time::OffsetDateTime;

use super::App;
use crate::auth::{self, Access, Action, KeyDescription};
use crate::error::ApiError;
use crate::fanout::NodeRequest;
use crate::http::ClientRequest;
use crate::runtime::Runtime;

/// How long a key read from a node is trusted. A key deleted on the nodes by another
/// Miroir (or directly) keeps working here at most this long; keys written through this
/// Miroir are forgotten at once.
const KEY_TTL: Duration = Duration::from_secs(1);

/// Most keys remembered at once: bounds the memory a client cycling through random
/// tokens can take. When full, the cache is emptied.
const KEY_CACHE_CAPACITY: usize = 1024;

/// Bearer tokens recently resolved on a node: the key they name, or `None` for an
/// unknown key.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<String, (Instant, Option<KeyDescription>)>>,
}

impl KeyCache {
    fn get(&self, token: &str) -> Option<Option<KeyDescription>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(token)
            .filter(|(read_at, _)| read_at.elapsed() < KEY_TTL)
            .map(|(_, key)| key.clone())
    }

    fn put(&self, token: &str, key: Option<KeyDescription>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= KEY_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(token.to_owned(), (Instant::now(), key));
    }

    /// Forget every key (one was created, updated or deleted).
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl App {
    /// Judge a client's credentials for `action` on a route Miroir answers itself, as
    /// Meilisearch would, and say what the client may see.
    ///
    /// The master key is the nodes' (`keys.node_master_key`, else `keys.master_key`):
    /// clients authenticate exactly as on the nodes. Without one, every client gets
    /// [`Access::all`] (a malformed `Authorization` header is still refused, as
    /// Meilisearch refuses it).
    ///
    /// Errors: `401 missing_authorization_header`, `403 invalid_api_key`, and
    /// `503 miroir_shard_unavailable` when no node can say whether a key exists.
    pub(crate) async fn authorize_local(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        action: Action,
    ) -> Result<Access, ApiError> {
        let token = auth::bearer_token(request.header("authorization"))?;
        let Some(master_key) = runtime.node_master_key.as_deref() else {
            return Ok(Access::all());
        };
        let Some(token) = token else {
            return Err(auth::missing_authorization_header());
        };
        if token == master_key {
            return Ok(Access::all());
        }
        // Tenant tokens are refused here like any string that is not an API key:
        // Meilisearch accepts them on search routes only.
        if !auth::may_be_api_key(token) {
            return Err(auth::invalid_api_key());
        }
        match self.resolve_key(runtime, token).await? {
            Some(key) => key.access(action, OffsetDateTime::now_utc()),
            None => Err(auth::invalid_api_key()),
        }
    }

    /// Forget the keys read from nodes: a key was created, updated or deleted.
    pub(crate) fn forget_keys(&self) {
        self.keys.clear();
    }

    /// The API key `token` names, read from the first node that answers (cached for
    /// [`KEY_TTL`]); `None` when the nodes do not know it.
    async fn resolve_key(
        &self,
        runtime: &Runtime,
        token: &str,
    ) -> Result<Option<KeyDescription>, ApiError> {
        if let Some(known) = self.keys.get(token) {
            return Ok(known);
        }
        let mut request = NodeRequest::new(Method::GET, format!("/keys/{token}"));
        if let Some(authorization) = runtime.node_authorization() {
            request = request.header("Authorization", authorization);
        }
        let answer = self
            .ask_any_node(runtime, &request)
            .await
            .map_err(|error| {
                ApiError::shard_unavailable(format!(
                    "Cannot check the API key: no node answered `GET /keys`: {}",
                    error.message
                ))
            })?;
        let key = match answer.status {
            200 => serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .as_ref()
                .and_then(KeyDescription::from_json)
                // A uid also finds a key on `/keys/{uid}`; only the key string itself
                // authenticates.
                .filter(|key| key.key == token),
            404 => None,
            status => {
                return Err(ApiError::shard_unavailable(format!(
                    "Cannot check the API key: a node answered `GET /keys` with status {status}."
                )))
            }
        };
        self.keys.put(token, key.clone());
        Ok(key)
    }
}
