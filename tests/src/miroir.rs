//! Running the real `miroir` binary in front of a [`Fleet`] for end-to-end tests.
//!
//! The binary is the one `cargo test --workspace` builds (`target/<profile>/miroir`,
//! found next to the test executable), or the one named by `MIROIR_BIN`. Each instance
//! gets its own configuration file and SQLite task store in a temporary directory and
//! a free port on 127.0.0.1, and is killed when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::fleet::Fleet;

/// Environment variable naming a `miroir` binary to test instead of the built one.
pub const MIROIR_BIN_ENV: &str = "MIROIR_BIN";

/// Miroir could not be started.
#[derive(Debug, thiserror::Error)]
#[error("miroir: {0}")]
pub struct MiroirError(pub String);

/// How Miroir is configured over the fleet.
#[derive(Debug, Clone)]
pub struct MiroirOptions {
    /// Shards of a new index.
    pub shards: u32,
    /// Nodes per group holding each shard.
    pub replication_factor: u32,
    /// Number of replica groups; nodes are dealt to groups in order (node i goes to
    /// group i % groups).
    pub groups: usize,
    /// The master key, shared by Miroir's clients and the nodes.
    pub master_key: Option<String>,
    /// `limits.max_body_bytes` (Miroir's default when `None`).
    pub max_body_bytes: Option<u64>,
    /// `limits.max_tasks` (Miroir's default when `None`).
    pub max_tasks: Option<u64>,
    /// `health_check` settings as `(interval, timeout, unhealthy_threshold,
    /// healthy_threshold)`, e.g. `("100ms", "50ms", 2, 2)` (Miroir's defaults when `None`).
    pub health_check: Option<(&'static str, &'static str, u32, u32)>,
    /// The SQLite task store file (a fresh one in Miroir's temporary directory when
    /// `None`): give the same file to a second Miroir to test a restart.
    pub task_store: Option<PathBuf>,
    /// `keys.admin_key`; when set, Miroir also gets an admin listener
    /// ([`Miroir::admin_url`]).
    pub admin_key: Option<String>,
}

impl Default for MiroirOptions {
    fn default() -> Self {
        MiroirOptions {
            shards: 16,
            replication_factor: 1,
            groups: 1,
            master_key: None,
            max_body_bytes: None,
            max_tasks: None,
            health_check: None,
            task_store: None,
            admin_key: None,
        }
    }
}

/// A running `miroir` process.
pub struct Miroir {
    child: Child,
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    _dir: tempfile::TempDir,
    config_path: PathBuf,
}

/// The `miroir` binary under test.
pub fn miroir_bin() -> Result<PathBuf, MiroirError> {
    if let Some(path) = std::env::var_os(MIROIR_BIN_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    // Test executables live in target/<profile>/deps; binaries in target/<profile>.
    let exe = std::env::current_exe().map_err(|e| MiroirError(e.to_string()))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| MiroirError("test executable has no target directory".to_owned()))?;
    let candidate = profile_dir.join("miroir");
    if candidate.exists() {
        Ok(candidate)
    } else {
        Err(MiroirError(format!(
            "no miroir binary at {}: run the tests with `cargo test --workspace` (which builds it) or set {MIROIR_BIN_ENV}",
            candidate.display()
        )))
    }
}

/// The YAML configuration of a Miroir over `urls`.
pub fn config_yaml(
    listen: SocketAddr,
    admin: Option<SocketAddr>,
    urls: &[String],
    options: &MiroirOptions,
    store: &Path,
) -> String {
    let mut yaml = format!("listen: \"{listen}\"\n");
    if let Some(admin) = admin {
        yaml.push_str(&format!("admin_listen: \"{admin}\"\n"));
    }
    yaml.push_str("nodes:\n");
    for (i, url) in urls.iter().enumerate() {
        let group = i % options.groups.max(1);
        yaml.push_str(&format!(
            "  - {{ id: n{i}, url: \"{url}\", group: g{group} }}\n"
        ));
    }
    yaml.push_str(&format!(
        "shards: {}\nreplication_factor: {}\n",
        options.shards, options.replication_factor
    ));
    if options.master_key.is_some() || options.admin_key.is_some() {
        yaml.push_str("keys:\n");
    }
    if let Some(key) = &options.master_key {
        yaml.push_str(&format!("  master_key: \"{key}\"\n"));
    }
    if let Some(key) = &options.admin_key {
        yaml.push_str(&format!("  admin_key: \"{key}\"\n"));
    }
    yaml.push_str(&format!(
        "task_store:\n  sqlite:\n    path: \"{}\"\n",
        store.display()
    ));
    if options.max_body_bytes.is_some() || options.max_tasks.is_some() {
        yaml.push_str("limits:\n");
    }
    if let Some(limit) = options.max_body_bytes {
        yaml.push_str(&format!("  max_body_bytes: {limit}\n"));
    }
    if let Some(limit) = options.max_tasks {
        yaml.push_str(&format!("  max_tasks: {limit}\n"));
    }
    if let Some((interval, timeout, unhealthy, healthy)) = options.health_check {
        yaml.push_str(&format!(
            "health_check:\n  interval: {interval}\n  timeout: {timeout}\n  unhealthy_threshold: {unhealthy}\n  healthy_threshold: {healthy}\n"
        ));
    }
    yaml.push_str("timeouts:\n  connect: 1s\n  node_request: 10s\n  request: 20s\n");
    yaml
}

fn free_port() -> Result<SocketAddr, MiroirError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| MiroirError(e.to_string()))?;
    listener
        .local_addr()
        .map_err(|e| MiroirError(e.to_string()))
}

impl Miroir {
    /// Start Miroir over every node of `fleet` and wait until it answers `/health`.
    pub async fn start(fleet: &Fleet, options: MiroirOptions) -> Result<Miroir, MiroirError> {
        let bin = miroir_bin()?;
        let mut dir = tempfile::tempdir().map_err(|e| MiroirError(e.to_string()))?;
        // The port is free when picked, but another test's Miroir can take it before
        // this one binds it; then this one exits and the other answers `/health`. A
        // child that is gone once `/health` answers is started again on another port.
        let mut attempt = 0;
        loop {
            let addr = free_port()?;
            let admin_addr = match options.admin_key {
                Some(_) => Some(free_port()?),
                None => None,
            };
            let config_path = dir.path().join("miroir.yaml");
            let store = options
                .task_store
                .clone()
                .unwrap_or_else(|| dir.path().join("tasks.db"));
            std::fs::write(
                &config_path,
                config_yaml(addr, admin_addr, &fleet.urls(), &options, &store),
            )
            .map_err(|e| MiroirError(e.to_string()))?;
            let log = std::fs::File::create(dir.path().join("miroir.log"))
                .map_err(|e| MiroirError(e.to_string()))?;
            let child = Command::new(&bin)
                .arg("--config")
                .arg(&config_path)
                .env("MIROIR_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| MiroirError(format!("cannot start {}: {e}", bin.display())))?;
            let mut miroir = Miroir {
                child,
                addr,
                admin_addr,
                _dir: dir,
                config_path,
            };
            miroir.wait_healthy(Duration::from_secs(20)).await?;
            tokio::time::sleep(Duration::from_millis(200)).await;
            match miroir.child.try_wait() {
                Ok(Some(_)) if attempt < 5 => {
                    attempt += 1;
                    dir = miroir._dir;
                }
                _ => return Ok(miroir),
            }
        }
    }

    async fn wait_healthy(&self, within: Duration) -> Result<(), MiroirError> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(response) = client.get(format!("{}/health", self.url())).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(MiroirError(format!(
                    "miroir did not answer /health within {within:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The admin listener's base URL, when [`MiroirOptions::admin_key`] was set.
    pub fn admin_url(&self) -> Option<String> {
        self.admin_addr.map(|addr| format!("http://{addr}"))
    }

    /// Its configuration file (rewrite it and send SIGHUP to test reloads).
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// What Miroir logged so far (warnings and errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("miroir.log")).unwrap_or_default()
    }

    /// Send `SIGHUP`: Miroir re-reads [`Miroir::config_path`].
    pub fn send_sighup(&self) {
        let pid = self.pid().expect("miroir is running");
        let status = std::process::Command::new("kill")
            .arg("-HUP")
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -HUP {pid} failed");
    }

    /// The process id, for signals.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}
