//! Targets (given by URL or started by the harness) and the scenarios run against them
//! side by side.
//!
//! Fairness: targets are measured in turns within one run. The measured time of each
//! target is cut into `rounds` slices; every round gives each target one slice, and the
//! order of the targets rotates from round to round, so a slow drift of the machine
//! (another build starting, the page cache filling) weighs on every target alike.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::client::TargetClient;
use crate::dataset::DatasetSpec;
use crate::error::BenchError;
use crate::load::{run_loop, LoadMode, PreparedRequest, RequestCursor};
use crate::meili;
use crate::procs::{self, ManagedProcess, Usage};
use crate::queries::{QueryGenerator, QueryMix};
use crate::relay::SlowRelay;
use crate::report::{KindResult, ProcessResult, RunReport, TargetResult};
use crate::schedule::{Recorder, RunLimits};
use crate::stats::{percentile_curve, LatencySummary};

/// `--target NAME=URL`: an already running Meilisearch-compatible endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// Name in the report.
    pub name: String,
    /// Base URL.
    pub url: String,
}

fn split_named<'a>(what: &'static str, given: &'a str) -> Result<(&'a str, &'a str), BenchError> {
    let invalid = |why: &str| BenchError::InvalidSpec {
        what,
        given: given.to_owned(),
        why: why.to_owned(),
    };
    let (name, value) = given
        .split_once('=')
        .ok_or_else(|| invalid("expected NAME=VALUE"))?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid("the name must be letters, digits, `-` or `_`"));
    }
    Ok((name, value))
}

impl std::str::FromStr for TargetSpec {
    type Err = BenchError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let (name, url) = split_named("--target", given)?;
        crate::client::parse_base_url(url)?;
        Ok(Self {
            name: name.to_owned(),
            url: url.to_owned(),
        })
    }
}

/// What `--spawn NAME=KIND` starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnKind {
    /// `meili`: one Meilisearch node.
    Meili,
    /// `slow-meili`: one node behind the delaying relay.
    SlowMeili,
    /// `nginx:OTHER`: nginx proxying to target OTHER (declared before) or to a URL.
    Nginx {
        /// Target name or URL.
        upstream: String,
    },
    /// `miroir:N`: N nodes and Miroir over them.
    Miroir {
        /// Number of nodes.
        nodes: usize,
        /// `miroir-slow:N`: the first node sits behind the delaying relay.
        slow_first: bool,
    },
}

/// `--spawn NAME=KIND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnSpec {
    /// Name in the report.
    pub name: String,
    /// What to start.
    pub kind: SpawnKind,
}

impl std::str::FromStr for SpawnSpec {
    type Err = BenchError;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let (name, kind) = split_named("--spawn", given)?;
        let invalid = |why: String| BenchError::InvalidSpec {
            what: "--spawn",
            given: given.to_owned(),
            why,
        };
        let nodes = |n: &str| -> Result<usize, BenchError> {
            n.parse::<usize>()
                .ok()
                .filter(|n| (1..=16).contains(n))
                .ok_or_else(|| invalid(format!("`{n}` is not a node count from 1 to 16")))
        };
        let kind =
            match kind.split_once(':') {
                None if kind == "meili" => SpawnKind::Meili,
                None if kind == "slow-meili" => SpawnKind::SlowMeili,
                Some(("nginx", upstream)) if !upstream.is_empty() => SpawnKind::Nginx {
                    upstream: upstream.to_owned(),
                },
                Some(("miroir", n)) => SpawnKind::Miroir {
                    nodes: nodes(n)?,
                    slow_first: false,
                },
                Some(("miroir-slow", n)) => SpawnKind::Miroir {
                    nodes: nodes(n)?,
                    slow_first: true,
                },
                _ => return Err(invalid(
                    "expected meili, slow-meili, nginx:TARGET_OR_URL, miroir:N or miroir-slow:N"
                        .to_owned(),
                )),
            };
        Ok(Self {
            name: name.to_owned(),
            kind,
        })
    }
}

/// Where the programs the harness starts live, and how they are set up.
#[derive(Debug, Clone)]
pub struct Programs {
    /// Meilisearch binary (`MEILI_BIN`).
    pub meili_bin: String,
    /// nginx binary.
    pub nginx_bin: String,
    /// nginx worker processes.
    pub nginx_workers: usize,
    /// Miroir binary.
    pub miroir_bin: String,
    /// Optional Miroir configuration template (see [`procs::miroir_config`]).
    pub miroir_template: Option<String>,
    /// Master key of every started node and of Miroir.
    pub master_key: String,
    /// API key sent to `--target` endpoints.
    pub api_key: Option<String>,
    /// Answers delayed per 10 requests by a relay.
    pub slow_per_ten: usize,
    /// How long a relay holds a delayed answer.
    pub slow_delay: Duration,
    /// Seed of the relays' choices.
    pub seed: u64,
}

/// One endpoint under load.
#[derive(Debug)]
pub struct Target {
    /// Name in the report.
    pub name: String,
    /// Client with its connection pool.
    pub client: TargetClient,
    /// Processes started for it: (role, pid).
    pub processes: Vec<(String, u32)>,
    /// The target whose data this one serves (nginx in front of another target's node):
    /// loading it again would only repeat the work.
    pub shares_data_with: Option<String>,
    /// The relay of a slow node, if it has one.
    pub relay: Option<Arc<SlowRelay>>,
}

/// The targets of a run and everything started for them; dropping it stops them.
#[derive(Debug, Default)]
pub struct Fleet {
    /// Targets in the order given (`--target` first, then `--spawn`).
    pub targets: Vec<Target>,
    owned: Vec<ManagedProcess>,
    relays: Vec<Arc<SlowRelay>>,
}

impl Fleet {
    /// Stops everything the harness started.
    pub async fn stop(mut self) {
        self.relays.clear();
        for process in self.owned.drain(..).rev() {
            process.stop().await;
        }
    }

    async fn node(
        &mut self,
        programs: &Programs,
        slow: bool,
    ) -> Result<(String, u32, Option<Arc<SlowRelay>>), BenchError> {
        let node =
            procs::spawn_meilisearch(&programs.meili_bin, Some(&programs.master_key)).await?;
        let (url, pid) = (node.url.clone(), node.pid());
        self.owned.push(node);
        if !slow {
            return Ok((url, pid, None));
        }
        let relay = Arc::new(
            SlowRelay::start(
                &url,
                programs.slow_delay,
                programs.slow_per_ten,
                10,
                programs.seed,
            )
            .await?,
        );
        self.relays.push(relay.clone());
        Ok((relay.url.clone(), pid, Some(relay)))
    }

    /// Connects to the `--target`s and starts the `--spawn`s.
    ///
    /// # Errors
    /// Invalid specs, duplicate names, missing programs, programs that do not serve.
    pub async fn build(
        targets: &[TargetSpec],
        spawns: &[SpawnSpec],
        programs: &Programs,
        connections: usize,
        timeout: Duration,
    ) -> Result<Self, BenchError> {
        let mut fleet = Fleet::default();
        for spec in targets {
            fleet.check_new_name(&spec.name)?;
            fleet.targets.push(Target {
                name: spec.name.clone(),
                client: TargetClient::new(
                    &spec.url,
                    programs.api_key.as_deref(),
                    connections,
                    timeout,
                )?,
                processes: Vec::new(),
                shares_data_with: None,
                relay: None,
            });
        }
        for spec in spawns {
            fleet.check_new_name(&spec.name)?;
            let key = Some(programs.master_key.as_str());
            let target = match &spec.kind {
                SpawnKind::Meili | SpawnKind::SlowMeili => {
                    let (url, pid, relay) = fleet
                        .node(programs, spec.kind == SpawnKind::SlowMeili)
                        .await?;
                    Target {
                        name: spec.name.clone(),
                        client: TargetClient::new(&url, key, connections, timeout)?,
                        processes: vec![("meilisearch".to_owned(), pid)],
                        shares_data_with: None,
                        relay,
                    }
                }
                SpawnKind::Nginx { upstream } => {
                    let (upstream_url, shares) =
                        match fleet.targets.iter().find(|t| &t.name == upstream) {
                            Some(other) => {
                                (other.client.base().to_owned(), Some(other.name.clone()))
                            }
                            None => (crate::client::parse_base_url(upstream)?, None),
                        };
                    let nginx = procs::spawn_nginx(
                        &programs.nginx_bin,
                        &upstream_url,
                        programs.nginx_workers,
                    )
                    .await?;
                    let target = Target {
                        name: spec.name.clone(),
                        client: TargetClient::new(&nginx.url, key, connections, timeout)?,
                        processes: vec![("nginx".to_owned(), nginx.pid())],
                        shares_data_with: shares,
                        relay: None,
                    };
                    fleet.owned.push(nginx);
                    target
                }
                SpawnKind::Miroir { nodes, slow_first } => {
                    let mut urls = Vec::with_capacity(*nodes);
                    let mut processes = Vec::with_capacity(nodes + 1);
                    let mut target_relay = None;
                    for i in 0..*nodes {
                        let (url, pid, relay) = fleet.node(programs, *slow_first && i == 0).await?;
                        urls.push(url);
                        processes.push((format!("meilisearch node {i}"), pid));
                        target_relay = target_relay.or(relay);
                    }
                    let miroir = procs::spawn_miroir(
                        &programs.miroir_bin,
                        programs.miroir_template.as_deref(),
                        &programs.master_key,
                        &urls,
                    )
                    .await?;
                    processes.insert(0, ("miroir".to_owned(), miroir.pid()));
                    let target = Target {
                        name: spec.name.clone(),
                        client: TargetClient::new(&miroir.url, key, connections, timeout)?,
                        processes,
                        shares_data_with: None,
                        relay: target_relay,
                    };
                    fleet.owned.push(miroir);
                    target
                }
            };
            fleet.targets.push(target);
        }
        if fleet.targets.is_empty() {
            return Err(BenchError::InvalidSpec {
                what: "targets",
                given: String::new(),
                why: "give at least one --target NAME=URL or --spawn NAME=KIND".to_owned(),
            });
        }
        Ok(fleet)
    }

    fn check_new_name(&self, name: &str) -> Result<(), BenchError> {
        if self.targets.iter().any(|t| t.name == name) {
            return Err(BenchError::InvalidSpec {
                what: "target name",
                given: name.to_owned(),
                why: "names must be unique".to_owned(),
            });
        }
        Ok(())
    }

    fn usages(&self) -> Vec<Vec<Usage>> {
        self.targets
            .iter()
            .map(|t| {
                t.processes
                    .iter()
                    .map(|(_, pid)| procs::usage(*pid))
                    .collect()
            })
            .collect()
    }
}

/// How load is offered in a measured scenario.
#[derive(Debug, Clone, Copy)]
pub struct LoadPlan {
    /// Open or closed loop.
    pub mode: LoadMode,
    /// Connections (open loop: most outstanding requests on the wire; closed: workers).
    pub connections: usize,
    /// Warm-up per target, before the first round.
    pub warmup: Duration,
    /// Measured time per target, cut into `rounds` slices.
    pub duration: Duration,
    /// Number of interleaving rounds.
    pub rounds: u32,
    /// Upper bound on measured requests per target, split across the rounds.
    pub max_requests: Option<u64>,
    /// Open loop: the most requests waiting for a connection before the run stops as
    /// saturated.
    pub max_backlog: usize,
}

/// Report fields every scenario fills the same way.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Scenario name.
    pub scenario: String,
    /// The command line.
    pub command: String,
    /// Baseline target name (the first target when `None`).
    pub baseline: Option<String>,
}

/// The order of targets in round `round`: rotated by one each round.
pub fn round_order(targets: usize, round: u32) -> Vec<usize> {
    (0..targets)
        .map(|i| (i + round as usize) % targets.max(1))
        .collect()
}

/// Loads the dataset into every target that does not share another's data.
///
/// # Errors
/// Any HTTP or task failure, or a target that ends with another document count.
pub async fn load_dataset(
    fleet: &Fleet,
    index: &str,
    dataset: &DatasetSpec,
    batch_size: u64,
) -> Result<(), BenchError> {
    for target in fleet
        .targets
        .iter()
        .filter(|t| t.shares_data_with.is_none())
    {
        eprintln!(
            "loading {} documents into {} ({})",
            dataset.documents,
            target.name,
            target.client.base()
        );
        meili::recreate_index(&target.client, &target.name, index, &dataset.settings()).await?;
        let outcome =
            meili::ingest(&target.client, &target.name, index, dataset, batch_size, 2).await?;
        let count = meili::document_count(&target.client, index).await?;
        if count != dataset.documents {
            return Err(BenchError::Http {
                method: "GET".to_owned(),
                url: format!("{}/indexes/{index}/stats", target.client.base()),
                why: format!("{count} documents after loading {}", dataset.documents),
            });
        }
        eprintln!(
            "  {} docs in {:.1} s",
            outcome.documents,
            outcome.elapsed.as_secs_f64()
        );
    }
    Ok(())
}

/// The queries of a run, rendered once.
pub fn prepare_requests(
    seed: u64,
    mix: QueryMix,
    index: &str,
    documents: u64,
    count: usize,
) -> Arc<[PreparedRequest]> {
    let mut generator = QueryGenerator::new(seed, mix, index, documents);
    generator
        .take(count.max(1))
        .iter()
        .map(PreparedRequest::from)
        .collect()
}

fn process_results(
    fleet: &Fleet,
    before: &[Vec<Usage>],
    after: &[Vec<Usage>],
    own_before: Usage,
    own_after: Usage,
) -> Vec<ProcessResult> {
    let ticks = procs::clock_ticks_per_second() as f64;
    let mut results = Vec::new();
    for ((target, before), after) in fleet.targets.iter().zip(before).zip(after) {
        for (((role, pid), b), a) in target.processes.iter().zip(before).zip(after) {
            results.push(ProcessResult {
                role: role.clone(),
                target: target.name.clone(),
                pid: *pid,
                cpu_seconds: a.cpu_ticks.saturating_sub(b.cpu_ticks) as f64 / ticks,
                peak_rss_kib: a.peak_rss_kib,
            });
        }
    }
    // The harness alone: the processes it started are its children and listed above.
    results.push(ProcessResult {
        role: "miroir-bench".to_owned(),
        target: "(load generator)".to_owned(),
        pid: std::process::id(),
        cpu_seconds: own_after.cpu_ticks.saturating_sub(own_before.cpu_ticks) as f64 / ticks,
        peak_rss_kib: own_after.peak_rss_kib,
    });
    results
}

fn common_notes(fleet: &Fleet) -> Vec<String> {
    let mut notes = Vec::new();
    for target in &fleet.targets {
        if let Some(other) = &target.shares_data_with {
            notes.push(format!(
                "{} proxies to the node of {}: that node's CPU is listed under {} and covers both targets' turns",
                target.name, other, other
            ));
        }
        if let Some(relay) = &target.relay {
            notes.push(format!(
                "{}: the slow-node relay held back {} of {} answers",
                target.name,
                relay.counters.delayed.load(Ordering::Relaxed),
                relay.counters.relayed.load(Ordering::Relaxed)
            ));
        }
    }
    notes
}

/// `/proc/loadavg`'s three load averages, e.g. `1.18 1.94 3.74`: how busy the machine
/// was with other work, to print next to the figures.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| parse_load_average(&text))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The first three fields of a `/proc/loadavg` line.
pub fn parse_load_average(text: &str) -> String {
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn load_note(before: &str, after: &str) -> String {
    format!("load average (1, 5, 15 min) of the machine: {before} before the measured phase, {after} after it")
}

fn baseline_name(fleet: &Fleet, context: &RunContext) -> String {
    context
        .baseline
        .clone()
        .unwrap_or_else(|| fleet.targets[0].name.clone())
}

/// Runs request load against every target, interleaved, and reports.
///
/// # Errors
/// An invalid rate.
pub async fn run_requests(
    fleet: &Fleet,
    requests: Arc<[PreparedRequest]>,
    plan: LoadPlan,
    context: &RunContext,
) -> Result<RunReport, BenchError> {
    let cursors: Vec<Arc<RequestCursor>> = fleet
        .targets
        .iter()
        .map(|_| Arc::new(RequestCursor::new(requests.clone())))
        .collect();
    if !plan.warmup.is_zero() {
        for (target, cursor) in fleet.targets.iter().zip(&cursors) {
            eprintln!("warming up {} for {:?}", target.name, plan.warmup);
            let limits = RunLimits {
                warmup: plan.warmup,
                duration: Duration::ZERO,
                max_requests: None,
            };
            run_loop(
                &target.client,
                cursor,
                plan.mode,
                plan.connections,
                limits,
                plan.max_backlog,
            )
            .await?;
        }
    }
    let rounds = plan.rounds.max(1);
    let slice = plan.duration / rounds;
    let slice_max = plan.max_requests.map(|m| m.div_ceil(u64::from(rounds)));
    let mut recorders: Vec<Recorder> = fleet.targets.iter().map(|_| Recorder::new()).collect();
    let mut measured = vec![Duration::ZERO; fleet.targets.len()];
    let mut saturated = vec![false; fleet.targets.len()];
    let load_before = load_average();
    let before = fleet.usages();
    let own_before = procs::usage_of(&[std::process::id()]);
    for round in 0..rounds {
        for i in round_order(fleet.targets.len(), round) {
            let target = &fleet.targets[i];
            let limits = RunLimits {
                warmup: Duration::ZERO,
                duration: slice,
                max_requests: slice_max,
            };
            let result = run_loop(
                &target.client,
                &cursors[i],
                plan.mode,
                plan.connections,
                limits,
                plan.max_backlog,
            )
            .await?;
            eprintln!(
                "round {}/{rounds} {}: {} ok, {} failed in {:.1} s{}",
                round + 1,
                target.name,
                result.recorder.successes,
                result.recorder.failures,
                result.measured.as_secs_f64(),
                if result.saturated { " (saturated)" } else { "" }
            );
            recorders[i].merge(&result.recorder);
            measured[i] += result.measured;
            saturated[i] |= result.saturated;
        }
    }
    let after = fleet.usages();
    let own_after = procs::usage_of(&[std::process::id()]);
    let mut notes = common_notes(fleet);
    notes.push(load_note(&load_before, &load_average()));
    for (target, saturated) in fleet.targets.iter().zip(&saturated) {
        if *saturated {
            notes.push(format!(
                "{} fell behind the offered rate: more than {} requests waited for a connection, so its slices stopped early",
                target.name, plan.max_backlog
            ));
        }
    }
    let targets = fleet
        .targets
        .iter()
        .zip(recorders)
        .zip(measured)
        .map(|((target, recorder), measured)| {
            target_result(target, &recorder, recorder.successes, measured)
        })
        .collect();
    Ok(RunReport {
        scenario: context.scenario.clone(),
        command: context.command.clone(),
        machine: procs::machine_description(),
        baseline: baseline_name(fleet, context),
        throughput_unit: "req/s".to_owned(),
        targets,
        processes: process_results(fleet, &before, &after, own_before, own_after),
        notes,
    })
}

fn target_result(
    target: &Target,
    recorder: &Recorder,
    units: u64,
    measured: Duration,
) -> TargetResult {
    let seconds = measured.as_secs_f64();
    TargetResult {
        name: target.name.clone(),
        url: target.client.base().to_owned(),
        successes: units,
        failures: recorder.failures,
        first_failure: recorder.first_failure.clone(),
        measured_seconds: seconds,
        throughput: if seconds > 0.0 {
            units as f64 / seconds
        } else {
            0.0
        },
        latency: LatencySummary::from_histogram(&recorder.histogram),
        curve: percentile_curve(&recorder.histogram, 3.0, 10),
        by_kind: recorder
            .by_kind
            .iter()
            .map(|(kind, r)| KindResult {
                kind: kind.clone(),
                successes: r.successes,
                failures: r.failures,
                first_failure: r.first_failure.clone(),
                latency: LatencySummary::from_histogram(&r.histogram),
            })
            .collect(),
    }
}

/// Ingests the dataset into a fresh index of every target, `rounds` times, interleaved,
/// and reports documents per second (every task succeeded and the document count
/// checked) and per-batch latency from upload to task success.
///
/// # Errors
/// Any HTTP or task failure.
pub async fn run_ingest(
    fleet: &Fleet,
    index: &str,
    dataset: &DatasetSpec,
    batch_size: u64,
    in_flight: usize,
    rounds: u32,
    context: &RunContext,
) -> Result<RunReport, BenchError> {
    let rounds = rounds.max(1);
    let mut recorders: Vec<Recorder> = fleet.targets.iter().map(|_| Recorder::new()).collect();
    let mut elapsed = vec![Duration::ZERO; fleet.targets.len()];
    let mut documents = vec![0u64; fleet.targets.len()];
    let load_before = load_average();
    let before = fleet.usages();
    let own_before = procs::usage_of(&[std::process::id()]);
    for round in 0..rounds {
        for i in round_order(fleet.targets.len(), round) {
            let target = &fleet.targets[i];
            meili::recreate_index(&target.client, &target.name, index, &dataset.settings()).await?;
            let outcome = meili::ingest(
                &target.client,
                &target.name,
                index,
                dataset,
                batch_size,
                in_flight,
            )
            .await?;
            let count = meili::document_count(&target.client, index).await?;
            if count != dataset.documents {
                return Err(BenchError::Http {
                    method: "GET".to_owned(),
                    url: format!("{}/indexes/{index}/stats", target.client.base()),
                    why: format!("{count} documents after ingesting {}", dataset.documents),
                });
            }
            eprintln!(
                "round {}/{rounds} {}: {} docs in {:.2} s ({:.0} docs/s)",
                round + 1,
                target.name,
                outcome.documents,
                outcome.elapsed.as_secs_f64(),
                outcome.documents as f64 / outcome.elapsed.as_secs_f64()
            );
            recorders[i].merge(&outcome.batches);
            elapsed[i] += outcome.elapsed;
            documents[i] += outcome.documents;
        }
    }
    let after = fleet.usages();
    let own_after = procs::usage_of(&[std::process::id()]);
    let targets = fleet
        .targets
        .iter()
        .enumerate()
        .map(|(i, target)| target_result(target, &recorders[i], documents[i], elapsed[i]))
        .collect();
    Ok(RunReport {
        scenario: context.scenario.clone(),
        command: context.command.clone(),
        machine: procs::machine_description(),
        baseline: baseline_name(fleet, context),
        throughput_unit: "docs/s".to_owned(),
        targets,
        processes: process_results(fleet, &before, &after, own_before, own_after),
        notes: {
            let mut notes = common_notes(fleet);
            notes.push(load_note(&load_before, &load_average()));
            notes
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_starts_with_the_next_target() {
        let orders: Vec<Vec<usize>> = (0..4).map(|r| round_order(3, r)).collect();
        assert_eq!(
            orders,
            vec![vec![0, 1, 2], vec![1, 2, 0], vec![2, 0, 1], vec![0, 1, 2]]
        );
    }

    #[test]
    fn spawn_specs_name_what_to_start() {
        let parse = |s: &str| s.parse::<SpawnSpec>().map(|spec| spec.kind);
        assert_eq!(parse("direct=meili").expect("valid"), SpawnKind::Meili);
        assert_eq!(
            parse("slow=slow-meili").expect("valid"),
            SpawnKind::SlowMeili
        );
        assert_eq!(
            parse("proxy=nginx:direct").expect("valid"),
            SpawnKind::Nginx {
                upstream: "direct".to_owned()
            }
        );
        assert_eq!(
            parse("m3=miroir:3").expect("valid"),
            SpawnKind::Miroir {
                nodes: 3,
                slow_first: false
            }
        );
        assert_eq!(
            parse("m3=miroir-slow:3").expect("valid"),
            SpawnKind::Miroir {
                nodes: 3,
                slow_first: true
            }
        );
        for bad in [
            "meili",
            "x=miroir:0",
            "x=miroir:99",
            "x=nginx:",
            "x=redis",
            "bad name=meili",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_load_average_is_the_first_three_fields_of_proc_loadavg() {
        assert_eq!(
            parse_load_average("1.18 1.94 3.74 2/611 12345\n"),
            "1.18 1.94 3.74"
        );
        assert_ne!(load_average(), "");
    }

    #[test]
    fn target_specs_are_loopback_urls_with_a_name() {
        let spec: TargetSpec = "direct=http://127.0.0.1:7700".parse().expect("valid");
        assert_eq!(
            spec,
            TargetSpec {
                name: "direct".to_owned(),
                url: "http://127.0.0.1:7700".to_owned()
            }
        );
        assert!("remote=http://192.168.1.2:7700"
            .parse::<TargetSpec>()
            .is_err());
        assert!("http://127.0.0.1:7700".parse::<TargetSpec>().is_err());
    }
}
