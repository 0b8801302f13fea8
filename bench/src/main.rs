//! `miroir-bench`: generate datasets and query mixes, and run load scenarios side by side
//! against Meilisearch-compatible endpoints (given by URL or started by the harness).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use miroir_bench::dataset::DatasetSpec;
use miroir_bench::load::{LoadMode, PreparedRequest};
use miroir_bench::plot::latency_svg;
use miroir_bench::queries::{QueryGenerator, QueryKind, QueryMix};
use miroir_bench::report::RunReport;
use miroir_bench::scenario::{
    load_dataset, prepare_requests, run_ingest, run_requests, Fleet, LoadPlan, Programs,
    RunContext, SpawnSpec, TargetSpec,
};
use miroir_bench::verify;

#[derive(Debug, Parser)]
#[command(
    name = "miroir-bench",
    version,
    about = "Load-testing harness for Miroir and Meilisearch"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the dataset as NDJSON (and its settings as JSON).
    Dataset(DatasetArgs),
    /// Print the generated queries as NDJSON.
    Queries(QueriesArgs),
    /// Ingest the dataset into a fresh index of every target; report docs/s.
    Ingest(IngestArgs),
    /// The search mix (keyword, typo, filter, facet, sort, pagination, deep offset,
    /// get-by-id, multi-search) at a fixed rate or concurrency.
    SearchMix(LoadArgs),
    /// Get documents by id: the passthrough route.
    GetById(LoadArgs),
    /// The search mix with one node answering a share of requests late. Without
    /// --spawn/--target it starts `slow=slow-meili` and `miroir=miroir-slow:3`.
    SlowNode(SlowNodeArgs),
}

#[derive(Debug, Args)]
struct DataArgs {
    /// Seed of the dataset and the queries.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of documents (ids 0..N).
    #[arg(long, default_value_t = 10_000)]
    documents: u64,
    /// Dimensions of user-provided `_vectors` (0: none).
    #[arg(long, default_value_t = 0)]
    vectors: usize,
}

impl DataArgs {
    fn spec(&self) -> DatasetSpec {
        DatasetSpec {
            seed: self.seed,
            documents: self.documents,
            vector_dimensions: self.vectors,
        }
    }
}

#[derive(Debug, Args)]
struct DatasetArgs {
    #[command(flatten)]
    data: DataArgs,
    /// NDJSON output file (`-` for stdout).
    #[arg(long, default_value = "-")]
    out: PathBuf,
    /// Also write the index settings to this file.
    #[arg(long)]
    settings: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MixName {
    Search,
    GetById,
}

#[derive(Debug, Args)]
struct QueriesArgs {
    #[command(flatten)]
    data: DataArgs,
    /// How many queries.
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// Which mix.
    #[arg(long, value_enum, default_value = "search")]
    mix: MixName,
    /// Index uid the queries address.
    #[arg(long, default_value = "movies")]
    index: String,
}

#[derive(Debug, Args)]
struct TargetArgs {
    /// A running endpoint, `NAME=http://127.0.0.1:PORT` (repeatable).
    #[arg(long = "target")]
    targets: Vec<TargetSpec>,
    /// Something to start: `NAME=meili`, `NAME=slow-meili`, `NAME=nginx:TARGET_OR_URL`,
    /// `NAME=miroir:N`, `NAME=miroir-slow:N` (repeatable, started in order).
    #[arg(long = "spawn")]
    spawns: Vec<SpawnSpec>,
    /// Target the ratios are computed against (default: the first).
    #[arg(long)]
    baseline: Option<String>,
    /// Bearer key sent to --target endpoints.
    #[arg(long, env = "MEILI_API_KEY")]
    api_key: Option<String>,
    /// Master key of started nodes and Miroir (sent to spawned targets).
    #[arg(long, default_value = "miroir-bench-master-key-0123456789")]
    master_key: String,
    /// Meilisearch binary for spawned nodes.
    #[arg(long, env = "MEILI_BIN", default_value = "meilisearch")]
    meili_bin: String,
    /// nginx binary.
    #[arg(long, default_value = "nginx")]
    nginx_bin: String,
    /// nginx worker processes.
    #[arg(long, default_value_t = 2)]
    nginx_workers: usize,
    /// Miroir binary.
    #[arg(long, env = "MIROIR_BIN", default_value = "miroir")]
    miroir_bin: String,
    /// Miroir config template with {{listen}}, {{master_key}}, {{node_count}}, {{node_N}}.
    #[arg(long)]
    miroir_config_template: Option<PathBuf>,
    /// Index uid.
    #[arg(long, default_value = "movies")]
    index: String,
    /// Per-request timeout, milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Directory for results.json, table.md and latency.svg.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Answers a slow-node relay holds back, per 10 requests.
    #[arg(long, default_value_t = 2)]
    slow_per_ten: usize,
    /// How long a slow-node relay holds an answer back, milliseconds.
    #[arg(long, default_value_t = 100)]
    slow_delay_ms: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    Open,
    Closed,
}

#[derive(Debug, Args)]
struct LoadArgs {
    #[command(flatten)]
    targets: TargetArgs,
    #[command(flatten)]
    data: DataArgs,
    /// Open loop (fixed arrival rate, latency from the intended send time) or closed
    /// loop (fixed concurrency).
    #[arg(long, value_enum, default_value = "open")]
    mode: Mode,
    /// Open loop: requests per second offered to each target.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Connections per target (closed loop: concurrent workers).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Warm-up seconds per target (not recorded).
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Measured seconds per target.
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Interleaving rounds the measured time is cut into.
    #[arg(long, default_value_t = 4)]
    rounds: u32,
    /// Most measured requests per target.
    #[arg(long)]
    max_requests: Option<u64>,
    /// Open loop: requests waiting for a connection before a slice stops as saturated.
    #[arg(long, default_value_t = 10_000)]
    max_backlog: usize,
    /// Distinct pre-generated requests cycled through.
    #[arg(long, default_value_t = 10_000)]
    queries: usize,
    /// Do not (re)load the dataset before measuring.
    #[arg(long)]
    skip_load: bool,
    /// Documents per batch when loading.
    #[arg(long, default_value_t = 1_000)]
    load_batch_size: u64,
    /// Leave this kind of request out of the mix for every target (repeatable), e.g. a
    /// route one target refuses: `keyword`, `typo`, `filter`, `facet`, `sort`,
    /// `pagination`, `deep-offset`, `get-by-id`, `multi-search`.
    #[arg(long = "without")]
    without: Vec<QueryKind>,
    /// Before measuring, send this many requests of the sequence to every target and
    /// compare each answer with the baseline's (0: do not).
    #[arg(long, default_value_t = 200)]
    verify: usize,
}

#[derive(Debug, Args)]
struct IngestArgs {
    #[command(flatten)]
    targets: TargetArgs,
    #[command(flatten)]
    data: DataArgs,
    /// Documents per batch.
    #[arg(long, default_value_t = 1_000)]
    batch_size: u64,
    /// Batch uploads in flight at once.
    #[arg(long, default_value_t = 4)]
    in_flight: usize,
    /// Times each target ingests the dataset (interleaved).
    #[arg(long, default_value_t = 2)]
    rounds: u32,
}

#[derive(Debug, Args)]
struct SlowNodeArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// Default targets without Miroir: only the slow standalone node.
    #[arg(long)]
    skip_miroir: bool,
}

fn programs(args: &TargetArgs, seed: u64) -> anyhow::Result<Programs> {
    let miroir_template = args
        .miroir_config_template
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        })
        .transpose()?;
    Ok(Programs {
        meili_bin: args.meili_bin.clone(),
        nginx_bin: args.nginx_bin.clone(),
        nginx_workers: args.nginx_workers,
        miroir_bin: args.miroir_bin.clone(),
        miroir_template,
        master_key: args.master_key.clone(),
        api_key: args.api_key.clone(),
        slow_per_ten: args.slow_per_ten,
        slow_delay: Duration::from_millis(args.slow_delay_ms),
        seed,
    })
}

fn context(scenario: &str, args: &TargetArgs) -> RunContext {
    RunContext {
        scenario: scenario.to_owned(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        baseline: args.baseline.clone(),
    }
}

fn write_outputs(report: &RunReport, out: Option<&PathBuf>) -> anyhow::Result<()> {
    let table = report.render_markdown();
    println!("{table}");
    let dir = out
        .cloned()
        .unwrap_or_else(|| PathBuf::from("bench-results").join(&report.scenario));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("results.json"), serde_json::to_vec_pretty(report)?)
        .with_context(|| format!("writing {}/results.json", dir.display()))?;
    let header = format!(
        "<!-- {} -->\n<!-- machine: {} -->\n\n",
        report.command, report.machine
    );
    std::fs::write(dir.join("table.md"), header + &table)
        .with_context(|| format!("writing {}/table.md", dir.display()))?;
    let svg = latency_svg(
        report,
        &format!("{}: latency by percentile", report.scenario),
    )?;
    std::fs::write(dir.join("latency.svg"), svg)
        .with_context(|| format!("writing {}/latency.svg", dir.display()))?;
    eprintln!(
        "wrote results.json, table.md and latency.svg to {}",
        dir.display()
    );
    Ok(())
}

/// Compares every target's answers with the baseline's on the first `count` requests.
async fn verify_answers(
    fleet: &Fleet,
    args: &TargetArgs,
    requests: &[PreparedRequest],
    count: usize,
) -> Vec<String> {
    let baseline_name = args
        .baseline
        .clone()
        .unwrap_or_else(|| fleet.targets[0].name.clone());
    let Some(baseline) = fleet.targets.iter().find(|t| t.name == baseline_name) else {
        return Vec::new();
    };
    let others: Vec<(&str, &miroir_bench::client::TargetClient)> = fleet
        .targets
        .iter()
        .filter(|t| t.name != baseline_name)
        .map(|t| (t.name.as_str(), &t.client))
        .collect();
    if count == 0 || others.is_empty() {
        return Vec::new();
    }
    let count = count.min(requests.len());
    eprintln!("comparing {count} answers of every target with {baseline_name}'s");
    let tallies = verify::verify(&baseline.client, &others, &requests[..count]).await;
    let notes = verify::notes(&baseline_name, &tallies);
    for note in &notes {
        eprintln!("  {note}");
    }
    notes
}

async fn run_load(
    scenario: &str,
    args: &LoadArgs,
    mix: QueryMix,
    default_spawns: Vec<SpawnSpec>,
) -> anyhow::Result<()> {
    let mix = mix.without(&args.without).map_err(anyhow::Error::msg)?;
    let programs = programs(&args.targets, args.data.seed)?;
    let spawns = if args.targets.targets.is_empty() && args.targets.spawns.is_empty() {
        default_spawns
    } else {
        args.targets.spawns.clone()
    };
    let timeout = Duration::from_millis(args.targets.timeout_ms);
    let fleet = Fleet::build(
        &args.targets.targets,
        &spawns,
        &programs,
        args.connections,
        timeout,
    )
    .await?;
    let outcome = async {
        let dataset = args.data.spec();
        if !args.skip_load {
            load_dataset(&fleet, &args.targets.index, &dataset, args.load_batch_size).await?;
        }
        let requests = prepare_requests(
            args.data.seed,
            mix,
            &args.targets.index,
            args.data.documents,
            args.queries,
        );
        let plan = LoadPlan {
            mode: match args.mode {
                Mode::Open => LoadMode::Open { rate: args.rate },
                Mode::Closed => LoadMode::Closed,
            },
            connections: args.connections,
            warmup: Duration::from_secs_f64(args.warmup.max(0.0)),
            duration: Duration::from_secs_f64(args.duration.max(0.0)),
            rounds: args.rounds,
            max_requests: args.max_requests,
            max_backlog: args.max_backlog,
        };
        let verified = verify_answers(&fleet, &args.targets, &requests, args.verify).await;
        let mut report =
            run_requests(&fleet, requests, plan, &context(scenario, &args.targets)).await?;
        report.notes.extend(verified);
        write_outputs(&report, args.targets.out.as_ref())
    }
    .await;
    fleet.stop().await;
    outcome
}

async fn run_ingest_command(args: &IngestArgs) -> anyhow::Result<()> {
    let programs = programs(&args.targets, args.data.seed)?;
    let timeout = Duration::from_millis(args.targets.timeout_ms.max(60_000));
    let fleet = Fleet::build(
        &args.targets.targets,
        &args.targets.spawns,
        &programs,
        args.in_flight,
        timeout,
    )
    .await?;
    let outcome = async {
        let report = run_ingest(
            &fleet,
            &args.targets.index,
            &args.data.spec(),
            args.batch_size,
            args.in_flight,
            args.rounds,
            &context("ingest", &args.targets),
        )
        .await?;
        write_outputs(&report, args.targets.out.as_ref())
    }
    .await;
    fleet.stop().await;
    outcome
}

fn write_dataset(args: &DatasetArgs) -> anyhow::Result<()> {
    let spec = args.data.spec();
    let written = if args.out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let n = spec.write_ndjson(0..spec.documents, &mut out)?;
        out.flush()?;
        n
    } else {
        let file = std::fs::File::create(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?;
        let mut out = std::io::BufWriter::new(file);
        let n = spec.write_ndjson(0..spec.documents, &mut out)?;
        out.flush()?;
        n
    };
    if let Some(path) = &args.settings {
        std::fs::write(path, serde_json::to_vec_pretty(&spec.settings())?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("wrote {written} documents");
    Ok(())
}

fn print_queries(args: &QueriesArgs) -> anyhow::Result<()> {
    let mix = match args.mix {
        MixName::Search => QueryMix::search_mix(),
        MixName::GetById => QueryMix::only(QueryKind::GetById),
    };
    let mut generator = QueryGenerator::new(args.data.seed, mix, &args.index, args.data.documents);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for _ in 0..args.count {
        serde_json::to_writer(&mut out, &generator.next_query())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn spawn(spec: &str) -> SpawnSpec {
    spec.parse().expect("the default spawn specs are valid")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match &cli.command {
        Command::Dataset(args) => write_dataset(args),
        Command::Queries(args) => print_queries(args),
        Command::Ingest(args) => run_ingest_command(args).await,
        Command::SearchMix(args) => {
            run_load("search-mix", args, QueryMix::search_mix(), Vec::new()).await
        }
        Command::GetById(args) => {
            run_load(
                "get-by-id",
                args,
                QueryMix::only(QueryKind::GetById),
                Vec::new(),
            )
            .await
        }
        Command::SlowNode(args) => {
            let mut defaults = vec![spawn("slow=slow-meili")];
            if !args.skip_miroir {
                defaults.push(spawn("miroir=miroir-slow:3"));
            }
            run_load("slow-node", &args.load, QueryMix::search_mix(), defaults).await
        }
    }
}
