//! The Helm chart in `helm/miroir` renders Miroir configurations that validate, and
//! refuses the values that cannot work. Needs the `helm` binary: `HELM_BIN`, `helm` on
//! the PATH, or the copy `scripts/setup.sh` puts in `target/tools`; without it every test
//! here says so loudly and checks nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds conf/")
        .to_path_buf()
}

fn helm() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HELM_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let on_path = Command::new("helm").arg("version").output();
    if on_path.is_ok_and(|out| out.status.success()) {
        return Some(PathBuf::from("helm"));
    }
    let tools = workspace().join("target/tools/helm-linux/package/bin/helm");
    tools.is_file().then_some(tools)
}

fn skipped(test: &str) -> bool {
    if helm().is_some() {
        return false;
    }
    eprintln!(
        "!!! SKIPPED {test}: no helm binary (set HELM_BIN, put helm on the PATH, or run scripts/setup.sh) !!!"
    );
    true
}

const KEYS: &str = "keys.masterKey=master-key-0123456789,keys.nodeMasterKey=node-key-0123456789,keys.adminKey=admin-key-0123456789";

/// `helm template` with `--set` values: the rendered manifests, or helm's error text.
fn render(sets: &[&str]) -> Result<String, String> {
    let mut command = Command::new(helm().expect("helm"));
    command
        .arg("template")
        .arg("rel")
        .arg(workspace().join("helm/miroir"))
        .args(["--namespace", "search"]);
    for set in sets {
        command.args(["--set", set]);
    }
    let out = command.output().expect("helm runs");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).expect("utf-8"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The Miroir configuration in the rendered ConfigMap.
fn miroir_yaml(manifests: &str) -> String {
    for document in serde_yaml::Deserializer::from_str(manifests) {
        let value: serde_yaml::Value =
            serde::Deserialize::deserialize(document).expect("rendered YAML parses");
        if value["kind"] == "ConfigMap" {
            return value["data"]["miroir.yaml"]
                .as_str()
                .expect("miroir.yaml")
                .to_owned();
        }
    }
    panic!("no ConfigMap rendered");
}

fn env(name: &str) -> Result<String, std::env::VarError> {
    match name {
        "MIROIR_MASTER_KEY" => Ok("master-key-0123456789".into()),
        "MEILI_MASTER_KEY" => Ok("node-key-0123456789".into()),
        "MIROIR_ADMIN_KEY" => Ok("admin-key-0123456789".into()),
        "MIROIR_REDIS_URL" => Ok("redis://redis.search.svc:6379/0".into()),
        _ => Err(std::env::VarError::NotPresent),
    }
}

fn kinds(manifests: &str) -> Vec<String> {
    serde_yaml::Deserializer::from_str(manifests)
        .map(|document| {
            let value: serde_yaml::Value =
                serde::Deserialize::deserialize(document).expect("rendered YAML parses");
            format!(
                "{} {}",
                value["kind"].as_str().unwrap_or("?"),
                value["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

#[test]
fn the_chart_lints() {
    if skipped("the_chart_lints") {
        return;
    }
    let out = Command::new(helm().expect("helm"))
        .arg("lint")
        .arg(workspace().join("helm/miroir"))
        .args(["--set", KEYS])
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn default_values_render_three_nodes_with_two_copies() {
    if skipped("default_values_render_three_nodes_with_two_copies") {
        return;
    }
    let manifests = render(&[KEYS]).expect("renders");
    assert_eq!(
        kinds(&manifests),
        [
            "Secret rel-miroir-keys",
            "ConfigMap rel-miroir",
            "Service rel-meili",
            "Service rel-miroir",
            "StatefulSet rel-meili",
            "StatefulSet rel-miroir",
        ]
    );
    let config = miroir_conf::load_str_with_env(&miroir_yaml(&manifests), &env)
        .expect("the rendered configuration validates");
    let urls: Vec<String> = config.nodes.iter().map(|n| n.url.to_string()).collect();
    assert_eq!(
        urls,
        [
            "http://rel-meili-0.rel-meili.search.svc:7700",
            "http://rel-meili-1.rel-meili.search.svc:7700",
            "http://rel-meili-2.rel-meili.search.svc:7700",
        ]
    );
    assert_eq!(config.replication_factor(), 2);
    assert_eq!(config.default_shards, 64);
    assert_eq!(
        config.admin_listen,
        Some("0.0.0.0:7710".parse().expect("address"))
    );
    assert_eq!(
        config.task_store,
        miroir_conf::TaskStore::Sqlite {
            path: "/var/lib/miroir/tasks.db".into()
        }
    );
}

#[test]
fn external_nodes_in_two_groups_with_redis_and_two_proxies() {
    if skipped("external_nodes_in_two_groups_with_redis_and_two_proxies") {
        return;
    }
    let manifests = render(&[
        "keys.existingSecret=miroir-keys",
        "meilisearch.enabled=false",
        "replicas=2",
        "replicationFactor=1",
        "taskStore.redis.enabled=true",
        "taskStore.redis.urlSecret=redis-url",
        "serviceMonitor.enabled=true",
        "externalNodes[0].id=a1",
        "externalNodes[0].url=http://10.0.1.1:7700",
        "externalNodes[0].group=a",
        "externalNodes[1].id=b1",
        "externalNodes[1].url=http://10.0.2.1:7700",
        "externalNodes[1].group=b",
    ])
    .expect("renders");
    assert_eq!(
        kinds(&manifests),
        [
            "ConfigMap rel-miroir",
            "Service rel-miroir",
            "StatefulSet rel-miroir",
            "ServiceMonitor rel-miroir",
        ]
    );
    let config = miroir_conf::load_str_with_env(&miroir_yaml(&manifests), &env)
        .expect("the rendered configuration validates");
    let groups: Vec<(String, String)> = config
        .nodes
        .iter()
        .map(|n| (n.id.to_string(), n.group.to_string()))
        .collect();
    assert_eq!(
        groups,
        [
            ("a1".to_owned(), "a".to_owned()),
            ("b1".to_owned(), "b".to_owned())
        ]
    );
    assert!(matches!(
        config.task_store,
        miroir_conf::TaskStore::Redis { .. }
    ));
}

#[test]
fn values_that_cannot_work_are_refused_with_a_reason() {
    if skipped("values_that_cannot_work_are_refused_with_a_reason") {
        return;
    }
    let cases: [(&[&str], &str); 3] = [
        (
            &[],
            "keys.masterKey, keys.nodeMasterKey and keys.adminKey must each be at least 16 bytes (or set keys.existingSecret)",
        ),
        (
            &[KEYS, "replicas=2"],
            "replicas > 1 needs taskStore.redis.enabled: SQLite is one Miroir's registry",
        ),
        (
            &[KEYS, "meilisearch.enabled=false"],
            "set meilisearch.enabled or list externalNodes",
        ),
    ];
    for (sets, reason) in cases {
        let error = render(sets).expect_err("refused");
        assert!(error.contains(reason), "{sets:?}: {error}");
    }
}
