//! The fleet harness: N Meilisearch nodes for an end-to-end test, real processes when
//! the environment variable `MEILI_BIN` names a Meilisearch binary, in-process fake
//! nodes otherwise. Every node sits behind a [`FrontDoor`] so the same fault switches
//! (delay, forced failures, dropped connections, stop, restart on the same port) work on
//! both backends.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use crate::fake::{FakeNode, FakeNodeHandle, FakeNodeOptions};
use crate::fault::{FaultSwitches, FrontDoor, HarnessError, Upstream};

/// Environment variable naming the Meilisearch binary for the real backend.
pub const MEILI_BIN_ENV: &str = "MEILI_BIN";

/// Which kind of node a fleet runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// In-process fake nodes (`crate::fake`).
    Fake,
    /// Real Meilisearch processes.
    Meilisearch,
}

impl Backend {
    /// The backend selected by the environment: real when `MEILI_BIN` is set and non-empty.
    pub fn from_env() -> Backend {
        match meili_bin_from_env() {
            Some(_) => Backend::Meilisearch,
            None => Backend::Fake,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Backend::Fake => "fake",
            Backend::Meilisearch => "meilisearch",
        }
    }
}

fn meili_bin_from_env() -> Option<PathBuf> {
    std::env::var_os(MEILI_BIN_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// How to start a fleet.
#[derive(Debug, Clone, Default)]
pub struct FleetOptions {
    /// Master key of every node (`None`: no authentication).
    pub master_key: Option<String>,
    /// Meilisearch binary; `None` reads `MEILI_BIN`, and uses the fake when unset.
    pub meili_bin: Option<PathBuf>,
}

impl FleetOptions {
    fn binary(&self) -> Option<PathBuf> {
        self.meili_bin.clone().or_else(meili_bin_from_env)
    }
}

/// A real Meilisearch process behind a front door.
pub struct RealNode {
    bin: PathBuf,
    dir: tempfile::TempDir,
    meili_addr: SocketAddr,
    master_key: Option<String>,
    child: Mutex<Option<Child>>,
    door: FrontDoor,
}

fn free_port() -> Result<SocketAddr, HarnessError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let listener =
        std::net::TcpListener::bind(addr).map_err(|source| HarnessError::Bind { addr, source })?;
    listener
        .local_addr()
        .map_err(|source| HarnessError::Bind { addr, source })
}

impl RealNode {
    async fn start(bin: &Path, master_key: Option<String>) -> Result<RealNode, HarnessError> {
        let dir =
            tempfile::tempdir().map_err(|e| HarnessError::Process(format!("temp dir: {e}")))?;
        // The port is free when picked but another process can take it before
        // Meilisearch binds it (several suites start nodes at once): try another one.
        let mut attempt = 0;
        let (meili_addr, child) = loop {
            let addr = free_port()?;
            match spawn(bin, dir.path(), addr, master_key.as_deref()).await {
                Ok(child) => break (addr, child),
                Err(HarnessError::Process(log))
                    if attempt < 5 && log.contains("Address already in use") =>
                {
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        };
        let door = FrontDoor::open(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Upstream::Forward(meili_addr),
        )
        .await?;
        Ok(RealNode {
            bin: bin.to_owned(),
            dir,
            meili_addr,
            master_key,
            child: Mutex::new(Some(child)),
            door,
        })
    }

    async fn stop(&self) {
        self.door.stop().await;
        if let Some(mut child) = self.child.lock().await.take() {
            let _ = child.kill().await;
        }
    }

    async fn restart(&self) -> Result<(), HarnessError> {
        let mut child = self.child.lock().await;
        if child.is_none() {
            *child = Some(
                spawn(
                    &self.bin,
                    self.dir.path(),
                    self.meili_addr,
                    self.master_key.as_deref(),
                )
                .await?,
            );
        }
        drop(child);
        self.door.restart().await
    }
}

async fn spawn(
    bin: &Path,
    dir: &Path,
    addr: SocketAddr,
    master_key: Option<&str>,
) -> Result<Child, HarnessError> {
    let log_path = dir.join("meilisearch.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| HarnessError::Process(format!("log file {}: {e}", log_path.display())))?;
    let log_err = log
        .try_clone()
        .map_err(|e| HarnessError::Process(format!("log file: {e}")))?;
    let mut command = Command::new(bin);
    command
        .current_dir(dir) // keeps dumps/, snapshots/ and any config.toml lookup inside the temp dir
        .arg("--db-path")
        .arg(dir.join("data.ms"))
        .arg("--http-addr")
        .arg(addr.to_string())
        .args([
            "--no-analytics",
            "--env",
            "development",
            "--max-indexing-threads",
            "1",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .kill_on_drop(true);
    if let Some(key) = master_key {
        command.arg("--master-key").arg(key);
    }
    let mut child = command
        .spawn()
        .map_err(|e| HarnessError::Process(format!("cannot run {}: {e}", bin.display())))?;
    let client = reqwest::Client::new();
    let health = format!("http://{addr}/health");
    for _ in 0..300 {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(HarnessError::Process(format!(
                "exited with {status} before becoming healthy:\n{log}"
            )));
        }
        if let Ok(response) = client.get(&health).send().await {
            if response.status().is_success() {
                return Ok(child);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill().await;
    Err(HarnessError::Process(format!(
        "{} did not answer {health} within 30 s",
        bin.display()
    )))
}

/// One node of a fleet: fake or real, with the same controls.
pub enum TestNode {
    /// In-process fake node.
    Fake(FakeNodeHandle),
    /// Real Meilisearch process.
    Real(Box<RealNode>),
}

impl TestNode {
    /// Which backend this node runs.
    pub fn backend(&self) -> Backend {
        match self {
            TestNode::Fake(_) => Backend::Fake,
            TestNode::Real(_) => Backend::Meilisearch,
        }
    }

    /// The address clients use (the front door).
    pub fn addr(&self) -> SocketAddr {
        match self {
            TestNode::Fake(node) => node.addr(),
            TestNode::Real(node) => node.door.addr(),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The master key, if any.
    pub fn master_key(&self) -> Option<&str> {
        match self {
            TestNode::Fake(node) => node.master_key(),
            TestNode::Real(node) => node.master_key.as_deref(),
        }
    }

    fn switches(&self) -> &FaultSwitches {
        match self {
            TestNode::Fake(node) => node.faults(),
            TestNode::Real(node) => node.door.switches(),
        }
    }

    /// Add latency before every answer.
    pub fn set_delay(&self, delay: Duration) {
        self.switches().set_delay(delay);
    }

    /// Requests this node received so far, `GET /health` left out.
    pub fn requests(&self) -> u64 {
        self.switches().requests()
    }

    /// Answer every request with `status` and an internal error (`None`: back to normal).
    pub fn fail_with(&self, status: Option<u16>) {
        self.switches().fail_with(status);
    }

    /// Accept connections and close them without answering.
    pub fn drop_connections(&self, on: bool) {
        self.switches().drop_connections(on);
    }

    /// Slow task processing down. Only the fake node supports it: a real Meilisearch
    /// cannot be told to process tasks slowly.
    pub fn set_task_delay(&self, delay: Duration) -> Result<(), HarnessError> {
        match self {
            TestNode::Fake(node) => {
                node.set_task_delay(delay);
                Ok(())
            }
            TestNode::Real(_) => Err(HarnessError::Unsupported(
                "meilisearch",
                "task processing speed cannot be controlled",
            )),
        }
    }

    /// Stop the node: connections are refused (a real node's process is killed).
    pub async fn stop(&self) {
        match self {
            TestNode::Fake(node) => node.stop().await,
            TestNode::Real(node) => node.stop().await,
        }
    }

    /// Start the node again on the same port with the same data.
    pub async fn restart(&self) -> Result<(), HarnessError> {
        match self {
            TestNode::Fake(node) => node.restart().await,
            TestNode::Real(node) => node.restart().await,
        }
    }
}

/// Start one node outside a fleet, on the backend the environment selects.
pub async fn start_node(options: &FleetOptions) -> Result<TestNode, HarnessError> {
    match options.binary() {
        Some(bin) => Ok(TestNode::Real(Box::new(
            RealNode::start(&bin, options.master_key.clone()).await?,
        ))),
        None => Ok(TestNode::Fake(
            FakeNode::start(FakeNodeOptions {
                master_key: options.master_key.clone(),
                ..FakeNodeOptions::default()
            })
            .await?,
        )),
    }
}

/// N nodes started together.
pub struct Fleet {
    backend: Backend,
    nodes: Vec<TestNode>,
}

impl Fleet {
    /// Start `n` nodes and say loudly on stderr which backend runs them.
    pub async fn start(n: usize, options: FleetOptions) -> Result<Fleet, HarnessError> {
        let backend = if options.binary().is_some() {
            Backend::Meilisearch
        } else {
            Backend::Fake
        };
        match (&backend, options.binary()) {
            (Backend::Meilisearch, Some(bin)) => loud(&format!(
                "=== miroir-tests: fleet of {n} REAL Meilisearch node(s) from {} ===",
                bin.display()
            )),
            _ => loud(&format!(
                "=== miroir-tests: fleet of {n} FAKE node(s) (set {MEILI_BIN_ENV} to run real Meilisearch) ==="
            )),
        }
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            nodes.push(start_node(&options).await?);
        }
        Ok(Fleet { backend, nodes })
    }

    /// The backend of every node.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The backend's name, `fake` or `meilisearch`.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// The nodes.
    pub fn nodes(&self) -> &[TestNode] {
        &self.nodes
    }

    /// Node `i`. Panics when out of range, like slice indexing.
    pub fn node(&self, i: usize) -> &TestNode {
        &self.nodes[i]
    }

    /// Base URLs of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(TestNode::url).collect()
    }
}

/// Print a loud notice that a test was skipped, and why.
pub fn skip_notice(test: &str, reason: &str) {
    loud(&format!("!!! SKIPPED {test}: {reason} !!!"));
}

/// Write straight to the process's stderr: the test harness captures `eprintln!` of
/// passing tests, and these notices must be seen.
fn loud(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
