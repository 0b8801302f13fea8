//! Client credentials on the routes Miroir answers itself (the task registry, batches):
//! Meilisearch 1.50's rules, applied by Miroir because no node sees these requests.
//!
//! The rules, as Meilisearch applies them on `GET /tasks`, `GET /tasks/{uid}`,
//! `POST /tasks/cancel`, `DELETE /tasks` and `GET /batches...`:
//!
//! - An `Authorization` header that is not `Bearer <token>` is refused even on a node
//!   without a master key (`Bearer` alone: `invalid_api_key`; anything else:
//!   `missing_authorization_header`).
//! - Without a master key every such route is open. With one, a missing header is
//!   `401 missing_authorization_header`; the master key opens everything; an API key
//!   must exist, not be expired, grant the route's action (`tasks.get`, `tasks.cancel`,
//!   `tasks.delete`, or `tasks.*`, `*`, and `*.get` for reads) on at least one index
//!   pattern; anything else, tenant tokens included, is `403 invalid_api_key`.
//! - A key restricted to some index patterns only sees the tasks of one index that
//!   its patterns match: tasks without an index (dumps, swaps, task cancelations and
//!   deletions, snapshots) are hidden, and cancel/delete only act on visible tasks.
//!
//! Everything here is pure; [`crate::app`] resolves a bearer token to a
//! [`KeyDescription`] by asking a node.

use miroir_store::TaskKind;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{ApiError, ErrorType};

/// An action a Miroir-answered route requires, as API keys name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `tasks.get`: `GET /tasks`, `GET /tasks/{uid}`, `GET /batches`, `GET /batches/{uid}`.
    TasksGet,
    /// `tasks.cancel`: `POST /tasks/cancel`.
    TasksCancel,
    /// `tasks.delete`: `DELETE /tasks`.
    TasksDelete,
}

impl Action {
    /// The action's name in a key's `actions`.
    pub fn name(self) -> &'static str {
        match self {
            Action::TasksGet => "tasks.get",
            Action::TasksCancel => "tasks.cancel",
            Action::TasksDelete => "tasks.delete",
        }
    }

    /// Whether `granted`, one entry of a key's `actions`, grants this action: the
    /// action itself, its family wildcard (`tasks.*`), `*`, or `*.get` for reads.
    pub fn granted_by(self, granted: &str) -> bool {
        match granted {
            "*" | "tasks.*" => true,
            "*.get" => self == Action::TasksGet,
            other => other == self.name(),
        }
    }
}

/// `401 missing_authorization_header`, Meilisearch's wording.
pub fn missing_authorization_header() -> ApiError {
    ApiError::new(
        401,
        "missing_authorization_header",
        ErrorType::Auth,
        "The Authorization header is missing. It must use the bearer authorization method.",
    )
}

/// `403 invalid_api_key`, Meilisearch's wording for every refused key or token.
pub fn invalid_api_key() -> ApiError {
    ApiError::new(
        403,
        "invalid_api_key",
        ErrorType::Auth,
        "The provided API key is invalid.",
    )
}

/// The bearer token of a request: `Ok(None)` without an `Authorization` header.
///
/// Meilisearch splits the header at its first space: the scheme must be exactly
/// `Bearer` (otherwise `missing_authorization_header`) and must be followed by a space
/// (otherwise `invalid_api_key`); the token is the rest, possibly empty. A header value
/// that is not visible ASCII reads as empty, hence a missing header.
pub fn bearer_token(header: Option<&str>) -> Result<Option<&str>, ApiError> {
    let Some(value) = header else {
        return Ok(None);
    };
    let visible = value.chars().all(|c| c == '\t' || (' '..='~').contains(&c));
    let value = if visible { value } else { "" };
    let mut parts = value.splitn(2, ' ');
    match parts.next() {
        Some("Bearer") => match parts.next() {
            Some(token) => Ok(Some(token)),
            None => Err(invalid_api_key()),
        },
        _ => Err(missing_authorization_header()),
    }
}

/// Whether `token` can be an API key at all: Meilisearch derives every key as the hex
/// HMAC-SHA256 of its uid, 64 lowercase hex digits. Anything else (a uid, a tenant
/// token, a typo) is refused without asking a node.
pub fn may_be_api_key(token: &str) -> bool {
    token.len() == 64
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An API key as a node describes it in `GET /keys/{key}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDescription {
    /// The key string.
    pub key: String,
    /// Granted actions.
    pub actions: Vec<String>,
    /// Index patterns: `*`, an exact uid, or a prefix ending with `*`.
    pub indexes: Vec<String>,
    /// When the key stops working; `None`: never.
    pub expires_at: Option<OffsetDateTime>,
}

impl KeyDescription {
    /// Read a node's key object. `None` when a field is missing or malformed.
    pub fn from_json(value: &Value) -> Option<KeyDescription> {
        let strings = |name: &str| -> Option<Vec<String>> {
            value
                .get(name)?
                .as_array()?
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        let expires_at = match value.get("expiresAt")? {
            Value::Null => None,
            Value::String(date) => Some(OffsetDateTime::parse(date, &Rfc3339).ok()?),
            _ => return None,
        };
        Some(KeyDescription {
            key: value.get("key")?.as_str()?.to_owned(),
            actions: strings("actions")?,
            indexes: strings("indexes")?,
            expires_at,
        })
    }

    /// What the key may do for `action` at `now`: `invalid_api_key` when it is expired,
    /// does not grant the action, or has no index pattern to grant it on.
    pub fn access(&self, action: Action, now: OffsetDateTime) -> Result<Access, ApiError> {
        let expired = self.expires_at.is_some_and(|at| now >= at);
        let granted = self.actions.iter().any(|a| action.granted_by(a));
        if expired || !granted || self.indexes.is_empty() {
            return Err(invalid_api_key());
        }
        Ok(Access::restricted_to(self.indexes.clone()))
    }
}

/// What an authenticated client may see on a Miroir-answered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The key's index patterns; `None`: every index (master key, `*`, no master key).
    patterns: Option<Vec<String>>,
}

impl Access {
    /// Every index and every task: the master key, a key on `*`, or no master key.
    pub fn all() -> Access {
        Access { patterns: None }
    }

    /// Only the indexes matching `patterns` (`*` among them means every index).
    pub fn restricted_to(patterns: Vec<String>) -> Access {
        if patterns.iter().any(|p| p == "*") {
            Access::all()
        } else {
            Access {
                patterns: Some(patterns),
            }
        }
    }

    /// Whether every index is allowed (nothing needs hiding).
    pub fn all_indexes(&self) -> bool {
        self.patterns.is_none()
    }

    /// The allowed index patterns; `None`: every index.
    pub fn patterns(&self) -> Option<&[String]> {
        self.patterns.as_deref()
    }

    /// Whether the index `uid` is allowed.
    pub fn allows_index(&self, uid: &str) -> bool {
        match &self.patterns {
            None => true,
            Some(patterns) => patterns.iter().any(|p| pattern_matches(p, uid)),
        }
    }

    /// Whether a task of `kind` on `index_uid` is visible: with a restricted key, only
    /// the tasks of the kinds that belong to exactly one index, on an allowed index.
    ///
    /// Batches: Meilisearch shows a restricted key the batches holding a task of an
    /// allowed index and no task of a kind that spans several or no indexes. A Miroir
    /// batch holds exactly one task, so it is visible exactly when its task is; list
    /// them with [`visible_page`] like tasks.
    pub fn sees_task(&self, index_uid: Option<&str>, kind: TaskKind) -> bool {
        self.all_indexes()
            || (related_to_one_index(kind) && index_uid.is_some_and(|uid| self.allows_index(uid)))
    }
}

/// Index pattern matching as API keys do it: a pattern ending with `*` matches every
/// uid with that prefix (`*` alone matches all), any other pattern matches itself.
pub fn pattern_matches(pattern: &str, uid: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => uid.starts_with(prefix),
        None => pattern == uid,
    }
}

/// The task kinds that belong to exactly one index. Meilisearch hides every other kind
/// from a key restricted to some indexes (a swap touches several, a dump none).
pub fn related_to_one_index(kind: TaskKind) -> bool {
    match kind {
        TaskKind::DocumentAdditionOrUpdate
        | TaskKind::DocumentEdition
        | TaskKind::DocumentDeletion
        | TaskKind::SettingsUpdate
        | TaskKind::IndexCreation
        | TaskKind::IndexDeletion
        | TaskKind::IndexUpdate
        | TaskKind::IndexCompaction
        | TaskKind::DsrUpdate
        | TaskKind::DsrClear => true,
        TaskKind::IndexSwap
        | TaskKind::TaskCancelation
        | TaskKind::TaskDeletion
        | TaskKind::DumpCreation
        | TaskKind::SnapshotCreation
        | TaskKind::Export
        | TaskKind::UpgradeDatabase
        | TaskKind::NetworkTopologyChange => false,
    }
}

/// One page of a listing for a restricted key, the way Meilisearch builds it: the
/// listing is cut to `limit + 1` items *before* the hidden ones are removed, so a page
/// may hold fewer than `limit` visible items, and `next` is set only when all
/// `limit + 1` were visible (its last one is then the next page's `from`).
///
/// `window` is the first `limit + 1` items of the unrestricted listing, in order.
/// Returns the visible items of the page and `next`. `total` is left to the caller:
/// Meilisearch counts it before hiding anything.
pub fn visible_page<T>(
    window: Vec<T>,
    limit: u32,
    visible: impl Fn(&T) -> bool,
    uid: impl Fn(&T) -> u32,
) -> (Vec<T>, Option<u32>) {
    let fetched = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut page: Vec<T> = window.into_iter().take(fetched).filter(visible).collect();
    let next = if page.len() == fetched {
        page.pop().map(|item| uid(&item))
    } else {
        None
    };
    (page, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_authorization_header_is_read_like_meilisearch() {
        assert_eq!(bearer_token(None), Ok(None));
        assert_eq!(bearer_token(Some("Bearer abc")), Ok(Some("abc")));
        assert_eq!(bearer_token(Some("Bearer ")), Ok(Some("")));
        assert_eq!(bearer_token(Some("Bearer a b")), Ok(Some("a b")));
        assert_eq!(bearer_token(Some("Bearer")), Err(invalid_api_key()));
        assert_eq!(
            bearer_token(Some("bearer abc")),
            Err(missing_authorization_header())
        );
        assert_eq!(
            bearer_token(Some("Basic abc")),
            Err(missing_authorization_header())
        );
        assert_eq!(
            bearer_token(Some("Bearer é")),
            Err(missing_authorization_header())
        );
    }

    #[test]
    fn errors_are_meilisearch_auth_errors() {
        assert_eq!(
            missing_authorization_header().to_json(),
            json!({
                "message": "The Authorization header is missing. It must use the bearer authorization method.",
                "code": "missing_authorization_header",
                "type": "auth",
                "link": "https://docs.meilisearch.com/errors#missing_authorization_header"
            })
        );
        assert_eq!(invalid_api_key().status, 403);
    }

    #[test]
    fn only_derived_key_shapes_are_looked_up() {
        assert!(may_be_api_key(&"ab12".repeat(16)));
        assert!(!may_be_api_key(&"AB12".repeat(16)));
        assert!(!may_be_api_key("11111111-2222-3333-4444-555555555555"));
        assert!(!may_be_api_key(""));
        assert!(!may_be_api_key("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
    }

    #[test]
    fn actions_grant_their_route_their_family_and_the_wildcards() {
        for action in [Action::TasksGet, Action::TasksCancel, Action::TasksDelete] {
            assert!(action.granted_by(action.name()));
            assert!(action.granted_by("tasks.*"));
            assert!(action.granted_by("*"));
            assert!(!action.granted_by("search"));
            assert!(!action.granted_by("tasks.compact"));
        }
        assert!(Action::TasksGet.granted_by("*.get"));
        assert!(!Action::TasksDelete.granted_by("*.get"));
        assert!(!Action::TasksDelete.granted_by("tasks.get"));
        assert!(!Action::TasksCancel.granted_by("tasks.delete"));
    }

    fn key(actions: &[&str], indexes: &[&str], expires_at: Value) -> KeyDescription {
        KeyDescription::from_json(&json!({
            "name": null, "description": null, "key": "k", "uid": "u",
            "actions": actions, "indexes": indexes, "expiresAt": expires_at,
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"
        }))
        .expect("a node's key object")
    }

    #[test]
    fn keys_are_refused_when_expired_lacking_the_action_or_any_index() {
        let now = OffsetDateTime::parse("2026-06-01T00:00:00Z", &Rfc3339).unwrap();
        let reader = key(&["tasks.get"], &["movies*"], Value::Null);
        assert_eq!(
            reader.access(Action::TasksGet, now),
            Ok(Access::restricted_to(vec!["movies*".to_owned()]))
        );
        assert_eq!(
            reader.access(Action::TasksDelete, now),
            Err(invalid_api_key())
        );
        let expired = key(&["*"], &["*"], json!("2026-05-31T23:59:59Z"));
        assert_eq!(
            expired.access(Action::TasksGet, now),
            Err(invalid_api_key())
        );
        let expiring_now = key(&["*"], &["*"], json!("2026-06-01T00:00:00Z"));
        assert_eq!(
            expiring_now.access(Action::TasksGet, now),
            Err(invalid_api_key())
        );
        let valid = key(&["*"], &["*"], json!("2026-06-01T00:00:01Z"));
        assert_eq!(valid.access(Action::TasksGet, now), Ok(Access::all()));
        let nowhere = key(&["*"], &[], Value::Null);
        assert_eq!(
            nowhere.access(Action::TasksGet, now),
            Err(invalid_api_key())
        );
        assert_eq!(KeyDescription::from_json(&json!({"key": "k"})), None);
    }

    #[test]
    fn restricted_keys_see_only_single_index_tasks_on_their_indexes() {
        let access = Access::restricted_to(vec!["movies*".to_owned(), "books".to_owned()]);
        assert!(!access.all_indexes());
        assert!(access.allows_index("movies"));
        assert!(access.allows_index("movies_2024"));
        assert!(access.allows_index("books"));
        assert!(!access.allows_index("books2"));
        assert!(access.sees_task(Some("movies"), TaskKind::DocumentAdditionOrUpdate));
        assert!(!access.sees_task(Some("comics"), TaskKind::IndexCreation));
        assert!(!access.sees_task(None, TaskKind::DumpCreation));
        assert!(!access.sees_task(None, TaskKind::TaskDeletion));
        assert!(!access.sees_task(None, TaskKind::IndexSwap));
        let all = Access::restricted_to(vec!["movies".to_owned(), "*".to_owned()]);
        assert!(all.all_indexes());
        assert!(all.sees_task(None, TaskKind::DumpCreation));
    }

    #[test]
    fn pages_are_cut_before_hidden_items_are_removed() {
        // Newest first: 9..0, even uids visible.
        let window: Vec<u32> = (0..10).rev().collect();
        let even = |uid: &u32| uid % 2 == 0;
        assert_eq!(
            visible_page(window.clone(), 3, even, |u| *u),
            (vec![8, 6], None),
            "4 fetched, 2 visible: no next page"
        );
        assert_eq!(
            visible_page(window.clone(), 3, |_| true, |u| *u),
            (vec![9, 8, 7], Some(6))
        );
        assert_eq!(visible_page(window, 0, |_| true, |u| *u), (vec![], Some(9)));
    }
}
