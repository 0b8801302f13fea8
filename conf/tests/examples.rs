//! Every file in `conf/examples/` is a valid configuration.

use std::collections::HashMap;
use std::env::VarError;
use std::path::PathBuf;

use miroir_conf::load_file_with_env;

/// The environment the examples document: the variables they reference, set.
fn example_env(name: &str) -> Result<String, VarError> {
    let env: HashMap<&str, &str> = HashMap::from([
        ("MIROIR_MASTER_KEY", "example-master-key-0123456789"),
        ("MEILI_MASTER_KEY", "example-node-key-0123456789"),
        ("MIROIR_ADMIN_KEY", "example-admin-key-0123456789"),
        ("MIROIR_REDIS_URL", "redis://:secret@redis.internal:6379/0"),
    ]);
    env.get(name)
        .map(|value| (*value).to_owned())
        .ok_or(VarError::NotPresent)
}

fn example_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conf/examples exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_validates() {
    let files = example_files();
    assert!(
        files.len() >= 4,
        "expected the four documented examples, found {files:?}"
    );
    for file in files {
        if let Err(errors) = load_file_with_env(&file, &example_env) {
            panic!("{} is invalid:\n{errors}", file.display());
        }
    }
}

#[test]
fn the_documented_examples_are_present() {
    let names: Vec<String> = example_files()
        .iter()
        .map(|path| {
            path.file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for name in [
        "redis-store.yaml",
        "single-node.yaml",
        "three-nodes-rf1.yaml",
        "two-groups-rf2.yaml",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "missing {name} in {names:?}"
        );
    }
}

#[test]
fn two_groups_example_has_two_groups_of_three_with_rf_2() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let config = load_file_with_env(dir.join("two-groups-rf2.yaml"), &example_env).expect("valid");
    let groups: Vec<(&str, usize)> = config
        .topology
        .groups()
        .iter()
        .map(|group| (&*group.name, group.nodes.len()))
        .collect();
    assert_eq!(groups, vec![("zone-a", 3), ("zone-b", 3)]);
    assert_eq!(config.replication_factor(), 2);
    assert_eq!(config.default_shards, 128);
}
