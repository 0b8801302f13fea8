//! API keys and request authorization of the fake node, following Meilisearch 1.50:
//! keys derived from their uid with HMAC-SHA256 under the master key, the four default
//! keys, action and index restrictions, expiry, and tenant tokens (JWT signed with an
//! API key, carrying `searchRules`, `apiKeyUid` and an optional `exp`).

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sha2::Sha256;
use time::OffsetDateTime;

use super::error::{self, ApiError};
use super::tasks::rfc3339;

/// Every action name Meilisearch 1.50 accepts, in its order.
pub const ACTIONS: &[&str] = &[
    "*",
    "search",
    "documents.*",
    "documents.add",
    "documents.get",
    "documents.delete",
    "indexes.*",
    "indexes.create",
    "indexes.get",
    "indexes.update",
    "indexes.delete",
    "indexes.swap",
    "tasks.*",
    "tasks.cancel",
    "tasks.delete",
    "tasks.get",
    "settings.*",
    "settings.get",
    "settings.update",
    "stats.*",
    "stats.get",
    "metrics.*",
    "metrics.get",
    "dumps.*",
    "dumps.create",
    "snapshots.*",
    "snapshots.create",
    "version",
    "keys.create",
    "keys.get",
    "keys.update",
    "keys.delete",
    "experimental.get",
    "experimental.update",
    "export",
    "network.get",
    "network.update",
    "chatCompletions",
    "chats.*",
    "chats.get",
    "chats.delete",
    "chatsSettings.*",
    "chatsSettings.get",
    "chatsSettings.update",
    "*.get",
    "webhooks.get",
    "webhooks.update",
    "webhooks.delete",
    "webhooks.create",
    "webhooks.*",
    "indexes.compact",
    "fields.post",
    "tasks.compact",
    "dynamicSearchRules.get",
    "dynamicSearchRules.create",
    "dynamicSearchRules.update",
    "dynamicSearchRules.delete",
    "dynamicSearchRules.*",
];

/// An API key.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    /// Uuid, hyphenated lowercase.
    pub uid: String,
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Granted actions.
    pub actions: Vec<String>,
    /// Index patterns (`*`, exact uid, or prefix ending with `*`).
    pub indexes: Vec<String>,
    /// Expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last update time.
    pub updated_at: OffsetDateTime,
}

/// The key string of `uid` under `master_key`: hex of HMAC-SHA256(master key, uid).
pub fn derive_key(uid: &str, master_key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(master_key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(uid.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl ApiKey {
    /// The JSON view (with the derived key).
    pub fn view(&self, master_key: &str) -> Value {
        json!({
            "name": self.name,
            "description": self.description,
            "key": derive_key(&self.uid, master_key),
            "uid": self.uid,
            "actions": self.actions,
            "indexes": self.indexes,
            "expiresAt": self.expires_at.map(rfc3339),
            "createdAt": rfc3339(self.created_at),
            "updatedAt": rfc3339(self.updated_at),
        })
    }

    fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Whether the key grants `action`.
    pub fn grants(&self, action: &str) -> bool {
        self.actions
            .iter()
            .any(|granted| action_covers(granted, action))
    }

    /// Whether the key may touch `index`.
    pub fn allows_index(&self, index: &str) -> bool {
        self.indexes
            .iter()
            .any(|pattern| pattern_matches(pattern, index))
    }
}

/// Whether the granted action name covers the requested one.
fn action_covers(granted: &str, action: &str) -> bool {
    if granted == "*" || granted == action {
        return true;
    }
    if granted == "*.get" {
        return is_read_action(action);
    }
    match granted.strip_suffix(".*") {
        Some(family) => action.split_once('.').is_some_and(|(f, _)| f == family),
        None => false,
    }
}

fn is_read_action(action: &str) -> bool {
    matches!(action, "search" | "version" | "export")
        || (action.ends_with(".get") && action != "keys.get")
}

/// Index pattern matching: `*`, exact, or a prefix ending with `*`.
pub fn pattern_matches(pattern: &str, index: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => index.starts_with(prefix),
        None => pattern == index,
    }
}

/// The four keys Meilisearch creates at first start with a master key, in creation order.
pub fn default_keys(now: OffsetDateTime) -> Vec<ApiKey> {
    let key = |name: &str, description: &str, actions: &[&str], offset_ns: i64| ApiKey {
        uid: uuid::Uuid::new_v4().hyphenated().to_string(),
        name: Some(name.to_owned()),
        description: Some(description.to_owned()),
        actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        indexes: vec!["*".to_owned()],
        expires_at: None,
        // Meilisearch creates them one after the other; distinct times keep its order.
        created_at: now + time::Duration::nanoseconds(offset_ns),
        updated_at: now + time::Duration::nanoseconds(offset_ns),
    };
    vec![
        key("Default Chat API Key", "Use it to chat and search from the frontend", &["chatCompletions", "search"], 0),
        key(
            "Default Read-Only Admin API Key",
            "Use it to read information across the whole database. Caution! Do not expose this key on a public frontend",
            &["*.get", "keys.get"],
            1,
        ),
        key(
            "Default Admin API Key",
            "Use it for anything that is not a search operation. Caution! Do not expose it on a public frontend",
            &["*"],
            2,
        ),
        key("Default Search API Key", "Use it to search from the frontend", &["search"], 3),
    ]
}

/// What a successful authentication allows beyond the route itself.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    /// Index patterns of the key (`None`: every index, e.g. the master key).
    pub key_indexes: Option<Vec<String>>,
    /// Search rules of a tenant token, by index pattern: a filter or null.
    pub tenant_rules: Option<Map<String, Value>>,
}

impl Grant {
    /// Whether the key may access every index (the master key, or a key on `*`).
    pub fn all_indexes(&self) -> bool {
        self.key_indexes
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| p == "*"))
            && self
                .tenant_rules
                .as_ref()
                .is_none_or(|rules| rules.contains_key("*"))
    }

    /// Whether `index` may be seen with this grant.
    pub fn allows_index(&self, index: &str) -> bool {
        self.key_indexes
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| pattern_matches(p, index)))
            && self
                .tenant_rules
                .as_ref()
                .is_none_or(|rules| rules.keys().any(|p| pattern_matches(p, index)))
    }

    /// The tenant-token filter for `index`, from the most specific matching rule.
    pub fn tenant_filter(&self, index: &str) -> Option<Value> {
        let rules = self.tenant_rules.as_ref()?;
        rules
            .iter()
            .filter(|(pattern, _)| pattern_matches(pattern, index))
            .max_by_key(|(pattern, _)| (!pattern.ends_with('*'), pattern.len()))
            .and_then(|(_, rule)| rule.get("filter").cloned())
            .filter(|f| !f.is_null())
    }
}

/// Search rules of a tenant token: index pattern → rule object (or null).
type SearchRules = Map<String, Value>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    search_rules: Value,
    exp: Option<i64>,
    api_key_uid: String,
}

/// The token of an `Authorization` header (`None` without a header). A header that
/// is not `Bearer <token>` is refused whether or not the node has a master key.
fn bearer_token(authorization: Option<&str>) -> Result<Option<&str>, ApiError> {
    match authorization {
        None => Ok(None),
        Some(header) => {
            let mut parts = header.splitn(2, ' ');
            match parts.next() {
                Some("Bearer") => match parts.next() {
                    Some(token) => Ok(Some(token)),
                    None => Err(error::invalid_api_key("The provided API key is invalid.")),
                },
                _ => Err(error::missing_authorization_header()),
            }
        }
    }
}

/// Check the `Authorization` header for `action` on `index` (None for routes that are not
/// about one index). `master_key` None means the node is open: every route except the
/// key routes is allowed.
pub fn authorize(
    master_key: Option<&str>,
    keys: &[ApiKey],
    authorization: Option<&str>,
    action: &str,
    index: Option<&str>,
    now: OffsetDateTime,
) -> Result<Grant, ApiError> {
    let is_keys_action = action.starts_with("keys.");
    let token = bearer_token(authorization)?;
    let Some(master_key) = master_key else {
        return if is_keys_action {
            Err(error::missing_master_key())
        } else {
            Ok(Grant::default())
        };
    };
    let Some(token) = token else {
        return Err(error::missing_authorization_header());
    };
    if token == master_key {
        return Ok(Grant::default());
    }
    let invalid = || error::invalid_api_key("The provided API key is invalid.");

    // Tenant tokens are only accepted for search (and chat) actions.
    let mut tenant_rules = None;
    let mut key_uid = None;
    if action == "search" || action == "chatCompletions" {
        if let Some((uid, rules)) = tenant_token(token, master_key, keys, now)? {
            key_uid = Some(uid);
            tenant_rules = Some(rules);
        }
    }
    let key = match key_uid {
        Some(uid) => keys.iter().find(|k| k.uid == uid).ok_or_else(invalid)?,
        None => keys
            .iter()
            .find(|k| derive_key(&k.uid, master_key) == token)
            .ok_or_else(invalid)?,
    };
    // A key on no index grants nothing, anywhere.
    if key.is_expired(now) || key.indexes.is_empty() {
        return Err(invalid());
    }
    let grant = Grant {
        key_indexes: Some(key.indexes.clone()),
        tenant_rules,
    };
    if let Some(index) = index {
        if let Some(rules) = &grant.tenant_rules {
            if !rules.keys().any(|p| pattern_matches(p, index)) {
                let mut allowed: Vec<&String> = rules.keys().collect();
                allowed.sort();
                return Err(error::invalid_api_key(format!(
                    "The provided tenant token cannot acces the index `{index}`, allowed indexes are {allowed:?}."
                )));
            }
        }
        if !key.allows_index(index) {
            if grant.tenant_rules.is_some() {
                return Err(error::invalid_api_key(format!(
                    "The API key used to generate this tenant token cannot acces the index `{index}`."
                )));
            }
            let mut allowed = key.indexes.clone();
            allowed.sort();
            return Err(error::invalid_api_key(format!(
                "The API key cannot acces the index `{index}`, authorized indexes are {allowed:?}."
            )));
        }
    }
    if key.grants(action) {
        Ok(grant)
    } else {
        Err(invalid())
    }
}

/// Decode a tenant token. `Ok(None)`: not a tenant token (or an invalid one), the caller
/// then treats the string as an API key, as Meilisearch does.
fn tenant_token(
    token: &str,
    master_key: &str,
    keys: &[ApiKey],
    now: OffsetDateTime,
) -> Result<Option<(String, SearchRules)>, ApiError> {
    let Ok(unverified) = jsonwebtoken::dangerous::insecure_decode::<Claims>(token) else {
        return Ok(None);
    };
    let uid = unverified.claims.api_key_uid;
    if !keys.iter().any(|k| k.uid == uid) {
        return Err(error::invalid_api_key("The provided API key is invalid."));
    }
    let secret = derive_key(&uid, master_key);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = match jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    ) {
        Ok(data) => data,
        Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidToken) => {
            return Ok(None)
        }
        Err(e) => {
            return Err(error::invalid_api_key(format!(
                "Could not decode tenant token, {e}."
            )))
        }
    };
    if let Some(exp) = data.claims.exp {
        let now = now.unix_timestamp();
        if now > exp {
            return Err(error::invalid_api_key(format!(
                "Tenant token expired. Was valid up to `{exp}` and we're now `{now}`."
            )));
        }
    }
    let rules = match data.claims.search_rules {
        Value::Array(list) => list
            .into_iter()
            .filter_map(|v| v.as_str().map(|s| (s.to_owned(), Value::Null)))
            .collect(),
        Value::Object(map) => map,
        _ => {
            return Err(error::invalid_api_key(
                "The provided tenant token is invalid.",
            ))
        }
    };
    Ok(Some((uid, rules)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_hex_hmac_sha256_of_the_uid_under_the_master_key() {
        // Observed on Meilisearch 1.50 with master key `masterKeyForProbe1234`.
        assert_eq!(
            derive_key(
                "11111111-2222-3333-4444-555555555555",
                "masterKeyForProbe1234"
            ),
            "a03602d6e16adda9d584579621ca67ce17a56b04a8ab3d526e5c3cbffa4ded03"
        );
    }

    #[test]
    fn family_wildcards_cover_their_members_only() {
        assert!(action_covers("documents.*", "documents.add"));
        assert!(!action_covers("documents.*", "indexes.get"));
        assert!(action_covers("*.get", "tasks.get"));
        assert!(action_covers("*.get", "search"));
        assert!(!action_covers("*.get", "keys.get"));
        assert!(!action_covers("search", "documents.get"));
    }

    #[test]
    fn index_patterns_match_exact_uids_and_prefixes() {
        assert!(pattern_matches("*", "movies"));
        assert!(pattern_matches("mov*", "movies"));
        assert!(!pattern_matches("movies", "movies2"));
    }
}
