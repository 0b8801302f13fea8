//! What `load_str` accepts, what it fills in, and exactly what it reports.

use std::env::VarError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use miroir_conf::{load_file_with_env, load_str_with_env, ConfigError, RuntimeConfig, TaskStore};

fn no_env(_: &str) -> Result<String, VarError> {
    Err(VarError::NotPresent)
}

fn load(yaml: &str) -> Result<RuntimeConfig, String> {
    load_str_with_env(yaml, &no_env).map_err(|errors| errors.to_string())
}

fn load_err(yaml: &str) -> String {
    match load(yaml) {
        Ok(config) => panic!("expected problems, got {config:?}"),
        Err(text) => text,
    }
}

const ONE_NODE: &str = "nodes:\n  - { id: n1, url: \"http://127.0.0.1:7701\" }\n";

#[test]
fn a_broken_file_reports_every_problem_with_its_path_in_file_order() {
    let yaml = r#"
listen: "localhost"
admin_listen: 127.0.0.1:7710
nodes:
  - { id: n1, url: "http://10.0.0.1:7700", group: a }
  - { id: n2, url: "ftp://10.0.0.2:7700", group: a }
  - { id: n1, url: "http://10.0.0.3:7700", group: b }
  - { id: "n 4", url: "http://10.0.0.1:7700", group: b }
  - { id: n5, url: "http://10.0.0.5:7700", group: b }
shards: 0
replication_factor: 3
keys:
  master_key: short
  master_key_env: MIROIR_MASTER_KEY
  node_master_key_env: MEILI_MASTER_KEY
task_store:
  redis: {}
health_check:
  interval: 5
  timeout: 10s
timeouts:
  connect: 20s
  node_request: 10s
  request: 5s
limits:
  fan_out_concurrency: 0
  max_tasks: 1
"#;
    assert_eq!(
        load_err(yaml),
        [
            r#"listen: "localhost" is not a socket address; write IP:PORT, e.g. "127.0.0.1:7700" or "0.0.0.0:7700" (host names are not resolved here)"#,
            r#"nodes[1].url: "ftp://10.0.0.2:7700" is not a node URL: the scheme must be http:// or https://; write it as http://HOST:PORT, e.g. "http://10.0.0.5:7700""#,
            r#"nodes[2].id: duplicate node id "n1" (also at nodes[0]); node ids must be unique"#,
            r#"nodes[3].id: "n 4" contains ' '; a node id may use only ASCII letters, digits, '-', '_' and '.'"#,
            r#"nodes[3].url: http://10.0.0.1:7700 is also the url of nodes[0]; each entry must be a different Meilisearch node"#,
            r#"shards: 0 is out of range; use a value from 1 to 65536"#,
            r#"replication_factor: 3 is larger than group "a" which has 1 node; add nodes to the group or lower replication_factor"#,
            r#"replication_factor: 3 is larger than group "b" which has 1 node; add nodes to the group or lower replication_factor"#,
            r#"keys.master_key: set either keys.master_key or keys.master_key_env, not both"#,
            r#"keys.node_master_key_env: environment variable MEILI_MASTER_KEY is not set; export it or write the value in keys.node_master_key"#,
            r#"keys.admin_key: admin_listen is set, so the admin API needs a key; set keys.admin_key or keys.admin_key_env"#,
            r#"task_store.redis: has no url; set task_store.redis.url or task_store.redis.url_env"#,
            r#"health_check.interval: "5" is not a duration; write an integer followed by a unit (ms, s, m or h), e.g. "500ms", "5s" or "1m30s""#,
            r#"timeouts.connect: 20s is longer than timeouts.node_request (10s); connecting is part of a node request, so shorten connect or lengthen node_request"#,
            r#"timeouts.node_request: 10s is longer than timeouts.request (5s); the overall deadline would cut every slow node request short, so shorten node_request or lengthen request"#,
            r#"limits.fan_out_concurrency: 0 is out of range; use a value from 1 to 4096"#,
            r#"limits.max_tasks: 1 is out of range; use a value from 2 to 4294967295"#,
        ]
        .join("\n")
    );
}

#[test]
fn an_unknown_field_is_reported_with_serdes_message_and_position() {
    let yaml = "nodes:\n  - id: n1\n    url: http://127.0.0.1:7701\n    grup: a\n";
    assert_eq!(
        load_err(yaml),
        "nodes[0]: unknown field `grup`, expected one of `id`, `url`, `group` at line 4 column 5"
    );
}

#[test]
fn an_unknown_top_level_field_is_reported() {
    let yaml = format!("{ONE_NODE}shard: 8\n");
    assert!(
        load_err(&yaml).starts_with(
            "unknown field `shard`, expected one of `listen`, `admin_listen`, `nodes`, `shards`"
        ),
        "{}",
        load_err(&yaml)
    );
}

#[test]
fn a_wrong_type_is_reported_with_its_position() {
    let yaml = format!("{ONE_NODE}shards: many\n");
    assert_eq!(
        load_err(&yaml),
        "shards: invalid type: string \"many\", expected i64 at line 3 column 9"
    );
}

#[test]
fn an_empty_file_reports_the_missing_nodes() {
    let expected = r#"nodes: no nodes are configured; add at least one, e.g. `- { id: n1, url: "http://127.0.0.1:7701" }`"#;
    assert_eq!(load_err(""), expected);
    assert_eq!(load_err("# nothing yet\n"), expected);
    assert_eq!(load_err("nodes: []\n"), expected);
}

#[test]
fn defaults_fill_every_optional_field() {
    let config = load(ONE_NODE).expect("valid");
    assert_eq!(
        config.listen,
        "127.0.0.1:7700".parse::<SocketAddr>().expect("addr")
    );
    assert_eq!(config.admin_listen, None);
    assert_eq!(config.default_shards, 64);
    assert_eq!(config.replication_factor(), 1);
    assert_eq!(config.keys.master_key, None);
    assert_eq!(config.keys.node_master_key, None);
    assert_eq!(config.keys.admin_key, None);
    assert_eq!(
        config.task_store,
        TaskStore::Sqlite {
            path: PathBuf::from("./miroir-tasks.db")
        }
    );
    assert_eq!(config.health_check.interval, Duration::from_secs(5));
    assert_eq!(config.health_check.timeout, Duration::from_secs(2));
    assert_eq!(config.health_check.unhealthy_threshold, 3);
    assert_eq!(config.health_check.healthy_threshold, 2);
    assert_eq!(config.limits.max_tasks, 1_000_000);
    assert_eq!(config.timeouts.connect, Duration::from_secs(1));
    assert_eq!(config.timeouts.node_request, Duration::from_secs(10));
    assert_eq!(config.timeouts.request, Duration::from_secs(30));
    assert_eq!(config.limits.max_body_bytes, 104_857_600);
    assert_eq!(config.limits.fan_out_concurrency, 64);
}

#[test]
fn nodes_without_a_group_share_the_default_group() {
    let config = load(
        "nodes:\n  - { id: n1, url: \"http://10.0.0.1:7700\" }\n  - { id: n2, url: \"http://10.0.0.2:7700\" }\n",
    )
    .expect("valid");
    let groups = config.topology.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(&*groups[0].name, "default");
    assert_eq!(
        groups[0]
            .nodes
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["n1", "n2"]
    );
}

#[test]
fn numeric_groups_and_ids_are_read_as_their_decimal_text() {
    let config =
        load("nodes:\n  - { id: 7, url: \"http://10.0.0.1:7700\", group: 1 }\n").expect("valid");
    assert_eq!(config.nodes[0].id.as_str(), "7");
    assert_eq!(&*config.nodes[0].group, "1");
}

#[test]
fn groups_keep_the_order_in_which_they_first_appear() {
    let config = load(
        "nodes:\n  - { id: b1, url: \"http://10.0.0.1:7700\", group: b }\n  - { id: a1, url: \"http://10.0.0.2:7700\", group: a }\n  - { id: b2, url: \"http://10.0.0.3:7700\", group: b }\n",
    )
    .expect("valid");
    let names: Vec<&str> = config.topology.groups().iter().map(|g| &*g.name).collect();
    assert_eq!(names, ["b", "a"]);
}

#[test]
fn node_urls_are_normalised() {
    let config =
        load("nodes:\n  - { id: n1, url: \"HTTP://Meili.Internal:7700/\" }\n").expect("valid");
    assert_eq!(
        config.nodes[0].url.to_string(),
        "http://meili.internal:7700"
    );
}

#[test]
fn keys_come_from_the_environment_when_named() {
    let env = |name: &str| match name {
        "MK" => Ok("client-master-key-0123".to_owned()),
        "NK" => Ok("node-key".to_owned()),
        _ => Err(VarError::NotPresent),
    };
    let yaml = format!("{ONE_NODE}keys:\n  master_key_env: MK\n  node_master_key_env: NK\n");
    let config = load_str_with_env(&yaml, &env).expect("valid");
    assert_eq!(
        config.keys.master_key.as_ref().map(|k| k.expose()),
        Some("client-master-key-0123")
    );
    assert_eq!(
        config.keys.node_master_key.as_ref().map(|k| k.expose()),
        Some("node-key")
    );
}

#[test]
fn an_empty_environment_variable_is_a_problem() {
    let env = |_: &str| Ok(String::new());
    let yaml = format!("{ONE_NODE}keys:\n  master_key_env: MK\n");
    let errors = load_str_with_env(&yaml, &env).expect_err("invalid");
    assert_eq!(
        errors.to_string(),
        "keys.master_key_env: environment variable MK is set but empty; give it a value or write the value in keys.master_key"
    );
}

#[test]
fn a_short_master_key_from_the_environment_is_reported_on_the_env_field() {
    let env = |_: &str| Ok("tiny".to_owned());
    let yaml = format!("{ONE_NODE}keys:\n  master_key_env: MK\n");
    let errors = load_str_with_env(&yaml, &env).expect_err("invalid");
    assert_eq!(
        errors.to_string(),
        "keys.master_key_env: the value of environment variable MK is 4 bytes long; use a key of at least 16 bytes, as Meilisearch requires of a master key in production"
    );
}

#[test]
fn a_short_literal_admin_key_is_reported() {
    let yaml = format!("{ONE_NODE}keys:\n  admin_key: tiny\n");
    assert_eq!(
        load_err(&yaml),
        "keys.admin_key: the value is 4 bytes long; use a key of at least 16 bytes, as Meilisearch requires of a master key in production"
    );
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let yaml = format!("{ONE_NODE}keys:\n  master_key: super-secret-master-key\n");
    let config = load(&yaml).expect("valid");
    let debug = format!("{config:?}");
    assert!(!debug.contains("super-secret-master-key"));
    assert!(debug.contains("Secret(<redacted>)"));
}

#[test]
fn the_redis_store_takes_its_url_from_the_environment() {
    let env = |_: &str| Ok("rediss://:pw@cache:6380/1".to_owned());
    let yaml = format!("{ONE_NODE}task_store:\n  redis:\n    url_env: REDIS\n");
    let config = load_str_with_env(&yaml, &env).expect("valid");
    match config.task_store {
        TaskStore::Redis { url } => assert_eq!(url.expose(), "rediss://:pw@cache:6380/1"),
        other => panic!("expected redis, got {other:?}"),
    }
}

#[test]
fn a_non_redis_url_is_reported_without_echoing_it() {
    let yaml = format!("{ONE_NODE}task_store:\n  redis:\n    url: \"http://:pw@cache:6379\"\n");
    assert_eq!(
        load_err(&yaml),
        "task_store.redis.url: the value is not a Redis URL; write redis://HOST:PORT (or rediss:// for TLS)"
    );
}

#[test]
fn a_task_store_must_name_exactly_one_backend() {
    let both =
        format!("{ONE_NODE}task_store:\n  sqlite: {{}}\n  redis: {{ url: \"redis://r:6379\" }}\n");
    assert_eq!(
        load_err(&both),
        "task_store: names both sqlite and redis; keep one"
    );
    let none = format!("{ONE_NODE}task_store: {{}}\n");
    assert_eq!(
        load_err(&none),
        "task_store: names no store; write `sqlite: { path: ./miroir-tasks.db }` or `redis: { url: redis://HOST:PORT }`"
    );
}

#[test]
fn an_sqlite_store_without_a_path_uses_the_default_file() {
    let yaml = format!("{ONE_NODE}task_store:\n  sqlite: {{}}\n");
    assert_eq!(
        load(&yaml).expect("valid").task_store,
        TaskStore::Sqlite {
            path: PathBuf::from("./miroir-tasks.db")
        }
    );
}

#[test]
fn a_health_check_timeout_longer_than_its_interval_is_reported() {
    let yaml = format!("{ONE_NODE}health_check:\n  interval: 1s\n  timeout: 1500ms\n");
    assert_eq!(
        load_err(&yaml),
        "health_check.timeout: 1s500ms is longer than health_check.interval (1s); a check must end before the next one starts, so shorten the timeout or lengthen the interval"
    );
}

#[test]
fn zero_durations_and_thresholds_are_reported() {
    let yaml = format!("{ONE_NODE}health_check:\n  interval: 0s\n  healthy_threshold: 0\n");
    assert_eq!(
        load_err(&yaml),
        "health_check.interval: must be longer than 0s\nhealth_check.healthy_threshold: 0 is out of range; use a value from 1 to 1000"
    );
}

#[test]
fn admin_listen_must_differ_from_listen() {
    let yaml = format!("{ONE_NODE}listen: 0.0.0.0:7700\nadmin_listen: 0.0.0.0:7700\nkeys:\n  admin_key: admin-key-0123456789\n");
    assert_eq!(
        load_err(&yaml),
        "admin_listen: 0.0.0.0:7700 is also the listen address; give the admin API its own port"
    );
}

#[test]
fn replication_factor_below_one_is_out_of_range() {
    let yaml = format!("{ONE_NODE}replication_factor: 0\n");
    assert_eq!(
        load_err(&yaml),
        "replication_factor: 0 is out of range; use 1 or more (and at most the node count of the smallest group)"
    );
}

#[test]
fn shards_accept_the_whole_documented_range() {
    assert_eq!(
        load(&format!("{ONE_NODE}shards: 1\n"))
            .expect("valid")
            .default_shards,
        1
    );
    assert_eq!(
        load(&format!("{ONE_NODE}shards: 65536\n"))
            .expect("valid")
            .default_shards,
        65536
    );
    assert_eq!(
        load_err(&format!("{ONE_NODE}shards: 65537\n")),
        "shards: 65537 is out of range; use a value from 1 to 65536"
    );
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let errors = load_file_with_env("/nonexistent/miroir.yaml", &no_env).expect_err("missing");
    assert!(
        matches!(&errors.errors()[0], ConfigError::Read { file, .. } if file == "/nonexistent/miroir.yaml")
    );
    assert!(errors
        .to_string()
        .starts_with("/nonexistent/miroir.yaml: cannot read the configuration file: "));
}
