//! `miroir --check`: every example configuration validates, a broken one is refused
//! with readable messages and a non-zero exit.

use std::path::Path;
use std::process::Command;

fn miroir() -> Command {
    Command::new(env!("CARGO_BIN_EXE_miroir"))
}

/// The environment variables the examples read their secrets from.
const EXAMPLE_ENV: &[(&str, &str)] = &[
    ("MIROIR_MASTER_KEY", "example-master-key-0123456789"),
    ("MEILI_MASTER_KEY", "example-node-key-0123456789"),
    ("MIROIR_ADMIN_KEY", "example-admin-key-0123456789"),
    ("MIROIR_REDIS_URL", "redis://127.0.0.1:6379"),
];

#[test]
fn every_example_configuration_is_valid() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).expect("examples folder") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let output = miroir()
            .arg("--check")
            .arg(&path)
            .envs(EXAMPLE_ENV.iter().copied())
            .output()
            .expect("runs");
        assert!(
            output.status.success(),
            "{} is refused:\n{}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("{}: configuration is valid\n", path.display())
        );
        checked += 1;
    }
    assert!(
        checked >= 4,
        "expected the four example configurations, found {checked}"
    );
}

#[test]
fn a_broken_configuration_is_refused_with_every_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken.yaml");
    std::fs::write(
        &path,
        "nodes:\n  - { id: n1, url: \"http://127.0.0.1:7701\" }\n  - { id: n1, url: \"ftp://x\" }\nreplication_factor: 3\n",
    )
    .expect("write");
    let output = miroir().arg("--check").arg(&path).output().expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!("{}: configuration is invalid:\n", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("nodes[1].id"), "{stderr}");
    assert!(stderr.contains("nodes[1].url"), "{stderr}");
    assert!(stderr.contains("replication_factor"), "{stderr}");
}
