//! Configuration reload on `SIGHUP`: a valid file takes effect, a file that does not
//! validate or that would move shards is refused and the running configuration stays.

mod common;

use std::time::{Duration, Instant};

use common::*;
use miroir_tests::{Miroir, MiroirOptions};
use serde_json::{json, Value};

/// A search whose body weighs about 2 KB (a long query): it changes nothing, so it can
/// probe the body limit as often as needed.
async fn post_big(miroir: &Miroir) -> (u16, Value) {
    http(
        reqwest::Method::POST,
        format!("{}/indexes/movies/search", miroir.url()),
        Some(json!({"q": "star ".repeat(400), "limit": 1})),
    )
    .await
}

/// Wait (at most 20 s) until Miroir's log holds `needle` `count` times.
async fn logged(miroir: &Miroir, needle: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while miroir.log().matches(needle).count() < count {
        assert!(
            Instant::now() < deadline,
            "`{needle}` not logged {count} time(s): {}",
            miroir.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_a_valid_file_and_keeps_the_running_one_otherwise() {
    let (_fleet, miroir) = fleet_and_miroir(1).await;
    load_corpus(&miroir.url()).await;
    let original = std::fs::read_to_string(miroir.config_path()).expect("config");
    let every: Vec<u64> = (1..=60).collect();

    // A valid file: the body limit drops to 1 KiB.
    let limited = format!("{original}limits:\n  max_body_bytes: 1024\n");
    std::fs::write(miroir.config_path(), &limited).expect("write");
    miroir.send_sighup();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, answer) = post_big(&miroir).await;
        if status == 413 {
            assert_eq!(answer["code"], json!("payload_too_large"), "{answer}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new limit never applied: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A file that does not validate: refused, the limit stays.
    std::fs::write(miroir.config_path(), "nodes: [").expect("write");
    miroir.send_sighup();
    logged(&miroir, "configuration reload refused", 1).await;
    assert_eq!(post_big(&miroir).await.0, 413);
    assert_eq!(all_ids(&miroir.url()).await, every);

    // A file that would move shards (two copies instead of one, and a larger limit):
    // refused as a whole, so reads stay complete and the limit stays.
    let moved = format!(
        "{}limits:\n  max_body_bytes: 1048576\n",
        original.replace("replication_factor: 1", "replication_factor: 2")
    );
    assert_ne!(moved, original);
    std::fs::write(miroir.config_path(), &moved).expect("write");
    miroir.send_sighup();
    logged(&miroir, "configuration reload refused", 2).await;
    assert!(
        miroir.log().contains("replication_factor 1 -> 2"),
        "{}",
        miroir.log()
    );
    assert_eq!(post_big(&miroir).await.0, 413);
    assert_eq!(all_ids(&miroir.url()).await, every);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_that_would_move_shards_under_indexes_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let store = dir.path().join("tasks.db");
    let options = MiroirOptions {
        master_key: Some(KEY.into()),
        task_store: Some(store.clone()),
        ..MiroirOptions::default()
    };
    let (fleet, miroir) = fleet_with(3, options.clone()).await;
    load_corpus(&miroir.url()).await;
    drop(miroir);
    // The same nodes with two copies of each shard: the documents are not where the
    // new placement would look for them.
    let moved = MiroirOptions {
        replication_factor: 2,
        ..options
    };
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let config = dir.path().join("moved.yaml");
    std::fs::write(
        &config,
        miroir_tests::miroir::config_yaml(listen, None, &fleet.urls(), &moved, &store),
    )
    .expect("config");
    let bin = miroir_tests::miroir::miroir_bin().expect("miroir binary");
    let refused = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("miroir refuses to start instead of serving")
    .expect("miroir runs");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("the configuration changes where shards live (replication_factor 1 -> 2) while 1 index(es) exist"),
        "{stderr}"
    );
    // On request it starts and serves (on another port if another test took this one).
    for attempt in 0..3 {
        let listen = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port");
        std::fs::write(
            &config,
            miroir_tests::miroir::config_yaml(listen, None, &fleet.urls(), &moved, &store),
        )
        .expect("config");
        let mut accepted = tokio::process::Command::new(&bin)
            .arg("--config")
            .arg(&config)
            .arg("--allow-placement-change")
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("miroir starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = reqwest::get(format!("http://{listen}/health")).await {
                assert_eq!(response.status().as_u16(), 200);
                tokio::time::sleep(Duration::from_millis(200)).await;
                if accepted.try_wait().expect("status").is_none() {
                    return;
                }
                break;
            }
            if accepted.try_wait().expect("status").is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "miroir never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!("attempt {attempt}: miroir exited (port taken?), trying another port");
    }
    panic!("miroir --allow-placement-change never kept serving");
}
