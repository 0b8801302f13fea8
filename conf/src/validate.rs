//! From the file as written ([`FileConfig`]) to the runtime view ([`RuntimeConfig`]):
//! defaults, environment variables and every check, with all problems collected before
//! failing.
//!
//! Each check knows its field path and says what to do. Checks that depend on another
//! field (a timeout against its interval, a group's size against the replication
//! factor) run only when that field is itself valid, so one mistake is reported once.

use std::collections::HashMap;
use std::env::VarError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::duration::{parse_duration, HumanDuration};
use crate::error::{ConfigError, ConfigErrors};
use crate::file::{FileConfig, FileTaskStore};
use crate::node_url::NodeUrl;
use crate::runtime::{
    defaults, HealthCheck, Keys, Limits, Node, RuntimeConfig, Secret, TaskStore, Timeouts,
};
use crate::topology::{NodeId, ReplicaGroup, Topology};

/// Longest node id or group name, bytes. Ids travel in headers, metrics labels and
/// store keys; the bound keeps them readable there.
pub const MAX_NAME_BYTES: usize = 64;

/// Largest `limits.fan_out_concurrency`. Beyond this a single request could hold
/// thousands of sockets.
pub const MAX_FAN_OUT_CONCURRENCY: i64 = 4096;

/// How environment variables are read: `std::env::var` in production, a map in tests.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Result<String, VarError>;

/// Collects problems in the order they are found.
struct Problems(Vec<ConfigError>);

impl Problems {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError::Invalid {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// Check `file` and compile it, reading referenced environment variables with `env`.
///
/// # Errors
/// Every problem found, in file order.
pub fn compile(file: FileConfig, env: EnvLookup<'_>) -> Result<RuntimeConfig, ConfigErrors> {
    let mut problems = Problems(Vec::new());
    let p = &mut problems;

    let listen = socket_addr(
        p,
        "listen",
        file.listen.as_deref().unwrap_or(defaults::LISTEN),
    );
    let admin_listen = file
        .admin_listen
        .as_deref()
        .and_then(|text| socket_addr(p, "admin_listen", text));
    if let (Some(listen), Some(admin)) = (listen, admin_listen) {
        if listen == admin {
            p.push(
                "admin_listen",
                format!("{admin} is also the listen address; give the admin API its own port"),
            );
        }
    }

    let nodes = nodes(p, &file);
    let default_shards = int_in_range(
        p,
        "shards",
        file.shards,
        defaults::SHARDS,
        1,
        defaults::MAX_SHARDS,
    );
    let rf_in_range = match file.replication_factor {
        None => Some(defaults::REPLICATION_FACTOR),
        Some(rf) if rf >= 1 => usize::try_from(rf).ok(),
        Some(_) => None,
    };
    if rf_in_range.is_none() {
        p.push(
            "replication_factor",
            format!(
                "{} is out of range; use 1 or more (and at most the node count of the smallest group)",
                file.replication_factor.unwrap_or_default()
            ),
        );
    }
    let rf = rf_in_range.unwrap_or(defaults::REPLICATION_FACTOR);
    let groups = groups(&nodes);
    if rf_in_range.is_some() {
        for group in &groups {
            if group.nodes.len() < rf {
                let count = group.nodes.len();
                let noun = if count == 1 { "node" } else { "nodes" };
                p.push(
                    "replication_factor",
                    format!(
                        "{rf} is larger than group {:?} which has {count} {noun}; add nodes to the group or lower replication_factor",
                        &*group.name
                    ),
                );
            }
        }
    }

    let keys = keys(p, &file, env, admin_listen.is_some());
    let task_store = task_store(p, file.task_store.as_ref(), env);
    let health_check = health_check(p, &file);
    let timeouts = timeouts(p, &file);
    let limits = Limits {
        max_body_bytes: int_in_range(
            p,
            "limits.max_body_bytes",
            file.limits.max_body_bytes,
            defaults::MAX_BODY_BYTES,
            1,
            i64::MAX as u64,
        ),
        fan_out_concurrency: int_in_range(
            p,
            "limits.fan_out_concurrency",
            file.limits.fan_out_concurrency,
            defaults::FAN_OUT_CONCURRENCY,
            1,
            MAX_FAN_OUT_CONCURRENCY as usize,
        ),
        max_tasks: int_in_range(
            p,
            "limits.max_tasks",
            file.limits.max_tasks,
            defaults::MAX_TASKS,
            2,
            u64::from(u32::MAX),
        ),
    };

    if !problems.0.is_empty() {
        return Err(ConfigErrors::new(problems.0));
    }
    let topology = match Topology::new(groups, rf) {
        Ok(topology) => topology,
        // The checks above cover every rule of `Topology::new`; this arm keeps a
        // future divergence a reported problem rather than a panic.
        Err(error) => {
            return Err(ConfigError::Invalid {
                path: "nodes".into(),
                message: error.to_string(),
            }
            .into())
        }
    };
    Ok(RuntimeConfig {
        listen: listen.expect("a listen address that failed to parse was reported above"),
        admin_listen,
        nodes,
        topology,
        default_shards,
        keys,
        task_store,
        health_check,
        timeouts,
        limits,
    })
}

fn socket_addr(p: &mut Problems, path: &str, text: &str) -> Option<SocketAddr> {
    match text.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            p.push(
                path,
                format!(
                    "{text:?} is not a socket address; write IP:PORT, e.g. \"127.0.0.1:7700\" or \"0.0.0.0:7700\" (host names are not resolved here)"
                ),
            );
            None
        }
    }
}

/// Check a node id or a group name; `what` is "node id" or "group name".
fn name_problem(name: &str, what: &str) -> Option<String> {
    if name.is_empty() {
        return Some(format!(
            "the {what} is empty; use letters, digits, '-', '_' or '.'"
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "the {what} is {} bytes long; use at most {MAX_NAME_BYTES}",
            name.len()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Some(format!(
            "{name:?} contains {bad:?}; a {what} may use only ASCII letters, digits, '-', '_' and '.'"
        ));
    }
    None
}

/// Check every node entry and return the ones that are fully valid.
fn nodes(p: &mut Problems, file: &FileConfig) -> Vec<Node> {
    if file.nodes.is_empty() {
        p.push(
            "nodes",
            "no nodes are configured; add at least one, e.g. `- { id: n1, url: \"http://127.0.0.1:7701\" }`",
        );
    }
    let mut first_with_id: HashMap<&str, usize> = HashMap::new();
    let mut first_with_url: HashMap<NodeUrl, usize> = HashMap::new();
    let mut valid = Vec::with_capacity(file.nodes.len());
    for (index, entry) in file.nodes.iter().enumerate() {
        let mut ok = true;
        if let Some(problem) = name_problem(&entry.id, "node id") {
            p.push(format!("nodes[{index}].id"), problem);
            ok = false;
        } else if let Some(first) = first_with_id.get(entry.id.as_str()) {
            p.push(
                format!("nodes[{index}].id"),
                format!(
                    "duplicate node id {:?} (also at nodes[{first}]); node ids must be unique",
                    entry.id
                ),
            );
            ok = false;
        } else {
            first_with_id.insert(&entry.id, index);
        }
        let url = match NodeUrl::parse(&entry.url) {
            Ok(url) => {
                if let Some(first) = first_with_url.get(&url) {
                    p.push(
                        format!("nodes[{index}].url"),
                        format!(
                            "{url} is also the url of nodes[{first}]; each entry must be a different Meilisearch node"
                        ),
                    );
                    ok = false;
                } else {
                    first_with_url.insert(url.clone(), index);
                }
                Some(url)
            }
            Err(error) => {
                p.push(format!("nodes[{index}].url"), error.to_string());
                None
            }
        };
        let group = entry.group.as_deref().unwrap_or(defaults::GROUP);
        if let Some(problem) = name_problem(group, "group name") {
            p.push(format!("nodes[{index}].group"), problem);
            ok = false;
        }
        if let (true, Some(url)) = (ok, url) {
            valid.push(Node {
                id: NodeId::new(entry.id.as_str()),
                url,
                group: Arc::from(group),
            });
        }
    }
    valid
}

/// Groups in order of first appearance, each with its nodes in file order.
fn groups(nodes: &[Node]) -> Vec<ReplicaGroup> {
    let mut groups: Vec<ReplicaGroup> = Vec::new();
    for node in nodes {
        match groups.iter_mut().find(|group| group.name == node.group) {
            Some(group) => group.nodes.push(node.id.clone()),
            None => groups.push(ReplicaGroup {
                name: node.group.clone(),
                nodes: vec![node.id.clone()],
            }),
        }
    }
    groups
}

fn int_in_range<T>(
    p: &mut Problems,
    path: &str,
    value: Option<i64>,
    default: T,
    min: T,
    max: T,
) -> T
where
    T: Copy + TryFrom<i64> + PartialOrd + std::fmt::Display,
{
    let Some(value) = value else {
        return default;
    };
    match T::try_from(value) {
        Ok(typed) if typed >= min && typed <= max => typed,
        _ => {
            p.push(
                path,
                format!("{value} is out of range; use a value from {min} to {max}"),
            );
            default
        }
    }
}

fn duration(
    p: &mut Problems,
    path: &str,
    value: Option<&str>,
    default: Duration,
) -> Option<Duration> {
    let Some(text) = value else {
        return Some(default);
    };
    match parse_duration(text) {
        Ok(Duration::ZERO) => {
            p.push(path, "must be longer than 0s");
            None
        }
        Ok(duration) => Some(duration),
        Err(error) => {
            p.push(path, error.to_string());
            None
        }
    }
}

/// Report `shorter` longer than `longer` (both valid) with `advice`.
fn ordered(
    p: &mut Problems,
    shorter: (&str, Option<Duration>),
    longer: (&str, Option<Duration>),
    advice: &str,
) {
    if let ((path, Some(short)), (longer_path, Some(long))) = (shorter, longer) {
        if short > long {
            p.push(
                path,
                format!(
                    "{} is longer than {longer_path} ({}); {advice}",
                    HumanDuration(short),
                    HumanDuration(long)
                ),
            );
        }
    }
}

fn health_check(p: &mut Problems, file: &FileConfig) -> HealthCheck {
    let section = &file.health_check;
    let interval = duration(
        p,
        "health_check.interval",
        section.interval.as_deref(),
        defaults::HEALTH_INTERVAL,
    );
    let timeout = duration(
        p,
        "health_check.timeout",
        section.timeout.as_deref(),
        defaults::HEALTH_TIMEOUT,
    );
    ordered(
        p,
        ("health_check.timeout", timeout),
        ("health_check.interval", interval),
        "a check must end before the next one starts, so shorten the timeout or lengthen the interval",
    );
    HealthCheck {
        interval: interval.unwrap_or(defaults::HEALTH_INTERVAL),
        timeout: timeout.unwrap_or(defaults::HEALTH_TIMEOUT),
        unhealthy_threshold: int_in_range(
            p,
            "health_check.unhealthy_threshold",
            section.unhealthy_threshold,
            defaults::UNHEALTHY_THRESHOLD,
            1,
            1000,
        ),
        healthy_threshold: int_in_range(
            p,
            "health_check.healthy_threshold",
            section.healthy_threshold,
            defaults::HEALTHY_THRESHOLD,
            1,
            1000,
        ),
    }
}

fn timeouts(p: &mut Problems, file: &FileConfig) -> Timeouts {
    let section = &file.timeouts;
    let connect = duration(
        p,
        "timeouts.connect",
        section.connect.as_deref(),
        defaults::CONNECT_TIMEOUT,
    );
    let node_request = duration(
        p,
        "timeouts.node_request",
        section.node_request.as_deref(),
        defaults::NODE_REQUEST_TIMEOUT,
    );
    let request = duration(
        p,
        "timeouts.request",
        section.request.as_deref(),
        defaults::REQUEST_TIMEOUT,
    );
    ordered(
        p,
        ("timeouts.connect", connect),
        ("timeouts.node_request", node_request),
        "connecting is part of a node request, so shorten connect or lengthen node_request",
    );
    ordered(
        p,
        ("timeouts.node_request", node_request),
        ("timeouts.request", request),
        "the overall deadline would cut every slow node request short, so shorten node_request or lengthen request",
    );
    Timeouts {
        connect: connect.unwrap_or(defaults::CONNECT_TIMEOUT),
        node_request: node_request.unwrap_or(defaults::NODE_REQUEST_TIMEOUT),
        request: request.unwrap_or(defaults::REQUEST_TIMEOUT),
    }
}

/// Where a secret comes from: the literal field, or the variable named by `<field>_env`.
struct SecretSource<'a> {
    /// The literal field's path, e.g. `keys.master_key`.
    path: &'a str,
    literal: Option<&'a str>,
    env_name: Option<&'a str>,
}

/// The field a resolved secret came from, to attach later problems to it.
struct Origin {
    /// The field's path (the literal field or its `_env` twin).
    path: String,
    /// How a message names the value: "the value" or "the value of environment variable X".
    what: String,
}

/// Resolve a secret; `None` when neither field is set or on a reported problem.
fn secret(
    p: &mut Problems,
    source: SecretSource<'_>,
    env: EnvLookup<'_>,
) -> Option<(Secret, Origin)> {
    let path = source.path;
    let env_path = format!("{path}_env");
    match (source.literal, source.env_name) {
        (None, None) => None,
        (Some(_), Some(_)) => {
            p.push(path, format!("set either {path} or {env_path}, not both"));
            None
        }
        (Some(""), None) => {
            p.push(path, "is empty; write the value, or remove the field");
            None
        }
        (Some(value), None) => Some((
            Secret::new(value),
            Origin {
                path: path.to_owned(),
                what: "the value".to_owned(),
            },
        )),
        (None, Some("")) => {
            p.push(
                env_path,
                "names no environment variable; write the variable's name, e.g. MIROIR_MASTER_KEY",
            );
            None
        }
        (None, Some(name)) => match env(name) {
            Ok(value) if value.is_empty() => {
                p.push(
                    env_path,
                    format!("environment variable {name} is set but empty; give it a value or write the value in {path}"),
                );
                None
            }
            Ok(value) => Some((
                Secret::new(value),
                Origin {
                    path: env_path,
                    what: format!("the value of environment variable {name}"),
                },
            )),
            Err(VarError::NotPresent) => {
                p.push(
                    env_path,
                    format!("environment variable {name} is not set; export it or write the value in {path}"),
                );
                None
            }
            Err(VarError::NotUnicode(_)) => {
                p.push(
                    env_path,
                    format!("environment variable {name} is not valid UTF-8"),
                );
                None
            }
        },
    }
}

/// Resolve a key and, for `min_bytes`, check its length.
fn key(
    p: &mut Problems,
    source: SecretSource<'_>,
    env: EnvLookup<'_>,
    min_bytes: Option<usize>,
) -> Option<Secret> {
    let (key, origin) = secret(p, source, env)?;
    if let Some(min) = min_bytes {
        let len = key.expose().len();
        if len < min {
            p.push(
                origin.path,
                format!("{} is {len} bytes long; use a key of at least {min} bytes, as Meilisearch requires of a master key in production", origin.what),
            );
            return None;
        }
    }
    Some(key)
}

fn keys(p: &mut Problems, file: &FileConfig, env: EnvLookup<'_>, admin_api: bool) -> Keys {
    let section = &file.keys;
    let master_key = key(
        p,
        SecretSource {
            path: "keys.master_key",
            literal: section.master_key.as_deref(),
            env_name: section.master_key_env.as_deref(),
        },
        env,
        Some(defaults::MIN_KEY_BYTES),
    );
    let node_master_key = key(
        p,
        SecretSource {
            path: "keys.node_master_key",
            literal: section.node_master_key.as_deref(),
            env_name: section.node_master_key_env.as_deref(),
        },
        env,
        None,
    );
    let admin_configured = section.admin_key.is_some() || section.admin_key_env.is_some();
    let admin_key = key(
        p,
        SecretSource {
            path: "keys.admin_key",
            literal: section.admin_key.as_deref(),
            env_name: section.admin_key_env.as_deref(),
        },
        env,
        Some(defaults::MIN_KEY_BYTES),
    );
    if admin_api && !admin_configured {
        p.push(
            "keys.admin_key",
            "admin_listen is set, so the admin API needs a key; set keys.admin_key or keys.admin_key_env",
        );
    }
    Keys {
        master_key,
        node_master_key,
        admin_key,
    }
}

fn task_store(p: &mut Problems, store: Option<&FileTaskStore>, env: EnvLookup<'_>) -> TaskStore {
    let fallback = || TaskStore::Sqlite {
        path: PathBuf::from(defaults::SQLITE_PATH),
    };
    let Some(store) = store else {
        return fallback();
    };
    match (&store.sqlite, &store.redis) {
        (None, None) => {
            p.push(
                "task_store",
                "names no store; write `sqlite: { path: ./miroir-tasks.db }` or `redis: { url: redis://HOST:PORT }`",
            );
            fallback()
        }
        (Some(_), Some(_)) => {
            p.push("task_store", "names both sqlite and redis; keep one");
            fallback()
        }
        (Some(sqlite), None) => match sqlite.path.as_deref() {
            Some("") => {
                p.push(
                    "task_store.sqlite.path",
                    "is empty; write a file path, e.g. ./miroir-tasks.db",
                );
                fallback()
            }
            path => TaskStore::Sqlite {
                path: PathBuf::from(path.unwrap_or(defaults::SQLITE_PATH)),
            },
        },
        (None, Some(redis)) => {
            if redis.url.is_none() && redis.url_env.is_none() {
                p.push(
                    "task_store.redis",
                    "has no url; set task_store.redis.url or task_store.redis.url_env",
                );
                return fallback();
            }
            let source = SecretSource {
                path: "task_store.redis.url",
                literal: redis.url.as_deref(),
                env_name: redis.url_env.as_deref(),
            };
            let Some((url, origin)) = secret(p, source, env) else {
                return fallback();
            };
            let lower = url.expose().to_ascii_lowercase();
            let scheme_ok = ["redis://", "rediss://"]
                .iter()
                .any(|scheme| lower.len() > scheme.len() && lower.starts_with(scheme));
            if !scheme_ok {
                // The URL may carry a password, so it is not echoed.
                p.push(
                    origin.path,
                    format!(
                        "{} is not a Redis URL; write redis://HOST:PORT (or rediss:// for TLS)",
                        origin.what
                    ),
                );
                return fallback();
            }
            TaskStore::Redis { url }
        }
    }
}
