//! Processes the harness starts (Meilisearch nodes, nginx, Miroir) and what they cost:
//! CPU seconds and peak resident memory read from `/proc/<pid>/stat` and `status`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use http::{Method, StatusCode};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::client::TargetClient;
use crate::error::BenchError;

/// CPU time of one process, in clock ticks, and its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatLine {
    /// Parent process id.
    pub ppid: u32,
    /// `utime + stime`, in clock ticks.
    pub cpu_ticks: u64,
}

/// Reads the parent and `utime + stime` out of a `/proc/<pid>/stat` line. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted from the last
/// `)`.
pub fn parse_stat(line: &str) -> Option<StatLine> {
    let after_name = &line[line.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state (field 3) is index 0, so field n is index n - 3.
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(StatLine {
        ppid,
        cpu_ticks: utime + stime,
    })
}

/// Peak resident set size (`VmHWM`, KiB) from `/proc/<pid>/status`.
pub fn parse_peak_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// Clock ticks per second of `/proc` CPU times.
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf reads a constant of the running system and has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100)
}

/// `pid` and all its descendants alive now.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(stat) = std::fs::read_to_string(entry.path().join("stat"))
                .ok()
                .and_then(|s| parse_stat(&s))
            {
                parents.push((child, stat.ppid));
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree
}

/// CPU ticks and peak RSS of a process and its descendants, summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// `utime + stime` over the tree, in clock ticks.
    pub cpu_ticks: u64,
    /// Sum of the `VmHWM` of the tree, KiB.
    pub peak_rss_kib: u64,
}

/// Reads the usage of `pid` and its descendants now.
pub fn usage(pid: u32) -> Usage {
    usage_of(&process_tree(pid))
}

/// Reads the usage of these processes now, summed.
pub fn usage_of(pids: &[u32]) -> Usage {
    let mut total = Usage::default();
    for &member in pids {
        let dir = PathBuf::from(format!("/proc/{member}"));
        if let Some(stat) = std::fs::read_to_string(dir.join("stat"))
            .ok()
            .and_then(|s| parse_stat(&s))
        {
            total.cpu_ticks += stat.cpu_ticks;
        }
        if let Some(kib) = std::fs::read_to_string(dir.join("status"))
            .ok()
            .and_then(|s| parse_peak_rss_kib(&s))
        {
            total.peak_rss_kib += kib;
        }
    }
    total
}

/// One line describing the machine: CPU model, cores, memory, kernel.
pub fn machine_description() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|r| r.split_whitespace().next())
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or(0.0, |kib| kib as f64 / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {cores} cores available, {memory_gib:.0} GiB RAM, Linux {}",
        kernel.trim()
    )
}

/// A free TCP port on 127.0.0.1 (the OS picks it; it is released before use, so another
/// process could take it in between: acceptable for a benchmark).
///
/// # Errors
/// [`BenchError::Io`] when no port can be bound.
pub fn free_port() -> Result<u16, BenchError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(BenchError::io("binding a free port"))?;
    Ok(listener
        .local_addr()
        .map_err(BenchError::io("reading a bound port"))?
        .port())
}

/// Finds a program: a path as given, or a name looked up in `PATH` (and `/usr/sbin`,
/// where Debian puts nginx).
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return path.is_file().then_some(path);
    }
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path_var)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A process started by the harness, stopped (SIGTERM, then SIGKILL) when dropped, with
/// its temporary directory (database, config, logs) removed after it.
#[derive(Debug)]
pub struct ManagedProcess {
    /// `meilisearch`, `nginx` or `miroir`.
    pub role: String,
    /// Where it serves.
    pub url: String,
    child: Child,
    dir: TempDir,
}

impl ManagedProcess {
    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// The log file its stdout and stderr go to.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("log.txt")
    }

    /// Its temporary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn log_tail(&self) -> String {
        tail_of(&self.log_path())
    }

    /// Stops it: [`stop_signal`] (SIGTERM, SIGINT for Miroir), then SIGKILL after 5 s.
    pub async fn stop(mut self) {
        terminate(&self.child, &self.role);
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// The signal that stops a process of this role promptly. Miroir is a Pingora server:
/// SIGTERM starts a graceful shutdown that keeps serving for Pingora's grace period
/// (longer than the 5 s [`ManagedProcess::stop`] waits), SIGINT stops it at once.
/// nginx and Meilisearch stop promptly on SIGTERM (nginx's master takes its workers
/// down with it).
pub fn stop_signal(role: &str) -> i32 {
    if role == "miroir" {
        libc::SIGINT
    } else {
        libc::SIGTERM
    }
}

fn terminate(child: &Child, role: &str) {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a pid of our own child and a valid signal number.
        unsafe {
            libc::kill(pid, stop_signal(role));
        }
    }
}

impl Drop for ManagedProcess {
    fn drop(&mut self) {
        // The stop signal first: nginx's master takes its workers down with it on SIGTERM but not
        // on SIGKILL. kill_on_drop sends SIGKILL afterwards to whatever is left.
        terminate(&self.child, &self.role);
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn tail_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(15);
    if lines.is_empty() {
        format!("(log {} is empty)", path.display())
    } else {
        format!(
            "last lines of {}:\n{}",
            path.display(),
            lines[start..].join("\n")
        )
    }
}

fn spawn_logged(
    program: &Path,
    args: &[String],
    dir: &TempDir,
    role: &str,
) -> Result<Child, BenchError> {
    let log = std::fs::File::create(dir.path().join("log.txt"))
        .map_err(BenchError::io(format!("creating the log of {role}")))?;
    let log_err = log
        .try_clone()
        .map_err(BenchError::io(format!("duplicating the log of {role}")))?;
    Command::new(program)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .kill_on_drop(true)
        .spawn()
        .map_err(BenchError::io(format!("starting {}", program.display())))
}

/// Waits until `GET /health` answers 200, the process dies, or `within` passes.
async fn wait_healthy(process: &mut ManagedProcess, within: Duration) -> Result<(), BenchError> {
    let client = TargetClient::new(&process.url, None, 1, Duration::from_secs(2))?;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Ok(Some(status)) = process.child.try_wait() {
            return Err(BenchError::NotServing {
                program: process.role.clone(),
                url: process.url.clone(),
                why: format!("it exited with {status}; {}", process.log_tail()),
            });
        }
        if let Ok(answer) = client.send(Method::GET, "/health", None).await {
            if answer.status == StatusCode::OK {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(BenchError::NotServing {
                program: process.role.clone(),
                url: process.url.clone(),
                why: format!(
                    "GET /health did not answer 200 within {within:?}; {}",
                    process.log_tail()
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn temp_dir(role: &str) -> Result<TempDir, BenchError> {
    tempfile::Builder::new()
        .prefix(&format!("miroir-bench-{role}-"))
        .tempdir()
        .map_err(BenchError::io(format!(
            "creating a temporary directory for {role}"
        )))
}

/// Starts a Meilisearch node from `binary` on a free port with a fresh database.
///
/// # Errors
/// [`BenchError::MissingProgram`] when the binary does not exist,
/// [`BenchError::NotServing`] when it does not answer `/health` within 60 s.
pub async fn spawn_meilisearch(
    binary: &str,
    master_key: Option<&str>,
) -> Result<ManagedProcess, BenchError> {
    let program = find_program(binary).ok_or_else(|| {
        BenchError::MissingProgram(format!(
            "Meilisearch binary `{binary}` not found: set MEILI_BIN or pass --meili-bin"
        ))
    })?;
    let dir = temp_dir("meilisearch")?;
    let port = free_port()?;
    let mut args = vec![
        "--db-path".to_owned(),
        dir.path().join("data.ms").display().to_string(),
        "--http-addr".to_owned(),
        format!("127.0.0.1:{port}"),
        "--no-analytics".to_owned(),
    ];
    if let Some(key) = master_key {
        args.extend(["--master-key".to_owned(), key.to_owned()]);
    }
    let child = spawn_logged(&program, &args, &dir, "meilisearch")?;
    let mut process = ManagedProcess {
        role: "meilisearch".to_owned(),
        url: format!("http://127.0.0.1:{port}"),
        child,
        dir,
    };
    wait_healthy(&mut process, Duration::from_secs(60)).await?;
    Ok(process)
}

/// The nginx configuration of a plain reverse proxy to `upstream` (`host:port`) with
/// upstream keep-alive, listening on `listen_port`, everything under `prefix`.
pub fn nginx_config(prefix: &Path, listen_port: u16, upstream: &str, workers: usize) -> String {
    let p = prefix.display();
    format!(
        "worker_processes {workers};
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    client_max_body_size 512m;
    upstream meilisearch {{
        server {upstream};
        keepalive 256;
    }}
    server {{
        listen 127.0.0.1:{listen_port};
        location / {{
            proxy_pass http://meilisearch;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $host;
        }}
    }}
}}
"
    )
}

/// Starts nginx in front of `upstream_url` on a free port, with a generated config and a
/// temporary prefix, in the foreground (`daemon off`).
///
/// # Errors
/// [`BenchError::MissingProgram`] when nginx is not installed,
/// [`BenchError::NotServing`] when it does not answer within 10 s.
pub async fn spawn_nginx(
    binary: &str,
    upstream_url: &str,
    workers: usize,
) -> Result<ManagedProcess, BenchError> {
    let program = find_program(binary).ok_or_else(|| {
        BenchError::MissingProgram(format!(
            "nginx (`{binary}`) is not installed: install it with `apt-get install -y nginx`, or pass --nginx-bin PATH"
        ))
    })?;
    let upstream = upstream_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let dir = temp_dir("nginx")?;
    let port = free_port()?;
    let config_path = dir.path().join("nginx.conf");
    std::fs::write(
        &config_path,
        nginx_config(dir.path(), port, &upstream, workers),
    )
    .map_err(BenchError::io("writing nginx.conf"))?;
    let args = vec![
        "-p".to_owned(),
        dir.path().display().to_string(),
        "-c".to_owned(),
        config_path.display().to_string(),
        "-g".to_owned(),
        "daemon off;".to_owned(),
    ];
    let child = spawn_logged(&program, &args, &dir, "nginx")?;
    let mut process = ManagedProcess {
        role: "nginx".to_owned(),
        url: format!("http://127.0.0.1:{port}"),
        child,
        dir,
    };
    // nginx answers /health by proxying it, so this also proves the upstream path works.
    wait_healthy(&mut process, Duration::from_secs(10)).await?;
    Ok(process)
}

/// Renders Miroir's configuration. With a template, `{{listen}}`, `{{master_key}}`,
/// `{{node_count}}` and `{{node_N}}` (the URL of node N, from 0) are replaced; without
/// one, the harness writes one group of all nodes with RF 1.
pub fn miroir_config(
    template: Option<&str>,
    listen: &str,
    master_key: &str,
    nodes: &[String],
) -> String {
    match template {
        Some(template) => {
            let mut text = template
                .replace("{{listen}}", listen)
                .replace("{{master_key}}", master_key)
                .replace("{{node_count}}", &nodes.len().to_string());
            for (i, url) in nodes.iter().enumerate() {
                text = text.replace(&format!("{{{{node_{i}}}}}"), url);
            }
            text
        }
        None => {
            // The schema of docs/configuration.md; the task store defaults to a SQLite
            // file in Miroir's working directory, the harness's temporary directory.
            let mut text = format!(
                "# Generated by miroir-bench.\nlisten: \"{listen}\"\nreplication_factor: 1\nkeys:\n  master_key: \"{master_key}\"\n  node_master_key: \"{master_key}\"\nnodes:\n"
            );
            for (i, url) in nodes.iter().enumerate() {
                text.push_str(&format!(
                    "  - id: node-{i}\n    url: \"{url}\"\n    group: g0\n"
                ));
            }
            text
        }
    }
}

/// Starts Miroir over `nodes` on a free port: writes the config, validates it with
/// `miroir --check`, starts `miroir --config FILE` and waits for `/health`.
///
/// # Errors
/// [`BenchError::MissingProgram`] when the binary does not exist or rejects the config,
/// [`BenchError::NotServing`] when it does not serve within 20 s.
pub async fn spawn_miroir(
    binary: &str,
    template: Option<&str>,
    master_key: &str,
    nodes: &[String],
) -> Result<ManagedProcess, BenchError> {
    let program = find_program(binary).ok_or_else(|| {
        BenchError::MissingProgram(format!(
            "the Miroir binary `{binary}` was not found: build it (cargo build --release -p miroir-proxy) and pass --miroir-bin PATH or set MIROIR_BIN"
        ))
    })?;
    let dir = temp_dir("miroir")?;
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let config_path = dir.path().join("miroir.yaml");
    std::fs::write(
        &config_path,
        miroir_config(template, &listen, master_key, nodes),
    )
    .map_err(BenchError::io("writing miroir.yaml"))?;
    let check = Command::new(&program)
        .arg("--check")
        .arg(&config_path)
        .output()
        .await
        .map_err(BenchError::io(format!(
            "running {} --check",
            program.display()
        )))?;
    if !check.status.success() {
        return Err(BenchError::MissingProgram(format!(
            "`{} --check {}` rejected the generated configuration (pass --miroir-config-template to supply one): {}{}",
            program.display(),
            config_path.display(),
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        )));
    }
    let args = vec!["--config".to_owned(), config_path.display().to_string()];
    let child = spawn_logged(&program, &args, &dir, "miroir")?;
    let mut process = ManagedProcess {
        role: "miroir".to_owned(),
        url: format!("http://{listen}"),
        child,
        dir,
    };
    wait_healthy(&mut process, Duration::from_secs(20)).await?;
    // The directory must outlive the process: it holds the config SIGHUP re-reads.
    Ok(process)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_awkward_command_names_parse() {
        let line = "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 3 4 20 0 8 0 1000 123456 789 18446744073709551615";
        assert_eq!(
            parse_stat(line),
            Some(StatLine {
                ppid: 17,
                cpu_ticks: 325
            })
        );
        assert_eq!(parse_stat("4242 (short) S 1"), None);
    }

    #[test]
    fn peak_rss_is_read_from_vmhwm() {
        let status =
            "Name:\tmeilisearch\nVmPeak:\t  900000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t  100000 kB\n";
        assert_eq!(parse_peak_rss_kib(status), Some(153_600));
        assert_eq!(parse_peak_rss_kib("Name:\tkthread\n"), None);
    }

    #[test]
    fn this_process_is_its_own_tree_root_and_uses_cpu() {
        let me = std::process::id();
        assert_eq!(process_tree(me)[0], me);
        assert!(usage(me).peak_rss_kib > 0);
    }

    #[test]
    fn miroir_is_stopped_with_sigint_the_others_with_sigterm() {
        assert_eq!(stop_signal("miroir"), libc::SIGINT);
        assert_eq!(stop_signal("meilisearch"), libc::SIGTERM);
        assert_eq!(stop_signal("nginx"), libc::SIGTERM);
    }

    #[test]
    fn the_nginx_config_proxies_with_upstream_keepalive() {
        let config = nginx_config(Path::new("/tmp/x"), 8080, "127.0.0.1:7700", 2);
        assert!(config.contains("worker_processes 2;\n"));
        assert!(config.contains("        server 127.0.0.1:7700;\n        keepalive 256;\n"));
        assert!(config.contains("listen 127.0.0.1:8080;"));
        assert!(config.contains("proxy_set_header Connection \"\";"));
        assert!(config.contains("pid /tmp/x/nginx.pid;"));
    }

    #[test]
    fn the_generated_miroir_config_puts_every_node_in_one_group() {
        let nodes = vec![
            "http://127.0.0.1:1".to_owned(),
            "http://127.0.0.1:2".to_owned(),
        ];
        assert_eq!(
            miroir_config(None, "127.0.0.1:9", "0123456789abcdef", &nodes),
            "\
# Generated by miroir-bench.
listen: \"127.0.0.1:9\"
replication_factor: 1
keys:
  master_key: \"0123456789abcdef\"
  node_master_key: \"0123456789abcdef\"
nodes:
  - id: node-0
    url: \"http://127.0.0.1:1\"
    group: g0
  - id: node-1
    url: \"http://127.0.0.1:2\"
    group: g0
"
        );
    }

    #[test]
    fn the_generated_miroir_config_passes_miroirs_own_validation() {
        let nodes: Vec<String> = (1..=3)
            .map(|port| format!("http://127.0.0.1:{port}"))
            .collect();
        let yaml = miroir_config(
            None,
            "127.0.0.1:9",
            "miroir-bench-master-key-0123456789",
            &nodes,
        );
        // The same validator as `miroir --check`, with an empty environment: the file
        // must not depend on any variable.
        let config =
            miroir_conf::load_str_with_env(&yaml, &|_| Err(std::env::VarError::NotPresent))
                .unwrap_or_else(|errors| panic!("{errors}\n{yaml}"));
        assert_eq!(config.listen.to_string(), "127.0.0.1:9");
        assert_eq!(config.nodes.len(), 3);
        assert_eq!(config.replication_factor(), 1);
        assert_eq!(config.topology.groups().len(), 1);
        assert!(matches!(
            config.task_store,
            miroir_conf::TaskStore::Sqlite { .. }
        ));
    }

    #[test]
    fn miroir_templates_get_the_listen_address_key_and_node_urls() {
        let nodes = vec![
            "http://127.0.0.1:1".to_owned(),
            "http://127.0.0.1:2".to_owned(),
        ];
        let text = miroir_config(
            Some("listen: {{listen}}\nkey: {{master_key}}\nn: {{node_count}}\na: {{node_0}}\nb: {{node_1}}\n"),
            "127.0.0.1:9",
            "k",
            &nodes,
        );
        assert_eq!(
            text,
            "listen: 127.0.0.1:9\nkey: k\nn: 2\na: http://127.0.0.1:1\nb: http://127.0.0.1:2\n"
        );
    }
}
