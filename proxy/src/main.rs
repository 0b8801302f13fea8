//! `miroir`: serve a Meilisearch fleet as one Meilisearch, or check a configuration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use pingora_core::server::configuration::ServerConf;
use pingora_core::server::Server;

use miroir_proxy::app::App;
use miroir_proxy::placement::{self, Placement};
use miroir_proxy::reload::ReloadService;
use miroir_proxy::runtime::Runtime;
use miroir_proxy::service::MiroirProxy;
use miroir_store::StoreConfig;

/// Open the task store once at start so that a wrong path or an unreachable Redis
/// stops Miroir before it accepts traffic, and check the file's shard placement against
/// the one recorded there (see `miroir_proxy::placement`). The store the server uses is
/// opened again inside the server's own runtime.
fn check_store(
    config: &StoreConfig,
    placement: &Placement,
    allow_change: bool,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = miroir_store::open(config)
            .await
            .context("the task store cannot be opened")?;
        if let Some(change) = placement::check_and_record(&*store, placement, allow_change).await? {
            tracing::warn!(%change, "shard placement changed; documents on nodes that no longer own their shards are not read until they are re-added");
        }
        anyhow::Ok(())
    })?;
    Ok(())
}

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "miroir",
    version,
    about = "Makes a fleet of Meilisearch nodes look like one Meilisearch"
)]
struct Args {
    /// The configuration file to serve with. Reloaded on SIGHUP.
    #[arg(long, short = 'c', env = "MIROIR_CONFIG", conflicts_with = "check")]
    config: Option<PathBuf>,

    /// Validate a configuration file, print every problem, and exit (non-zero when the
    /// file is invalid) without serving.
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,

    /// Start even though the file changes where shards live while indexes exist (the
    /// documents of moved shards are not read until they are re-added).
    #[arg(long)]
    allow_placement_change: bool,

    /// Worker threads of the proxy service.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MIROIR_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only on a terminal: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    if let Some(path) = args.check {
        return match miroir_conf::load_file(&path) {
            Ok(_) => {
                println!("{}: configuration is valid", path.display());
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{}: configuration is invalid:\n{errors}", path.display());
                ExitCode::FAILURE
            }
        };
    }

    let Some(path) = args.config else {
        eprintln!("miroir: give a configuration file with --config FILE (or MIROIR_CONFIG), or check one with --check FILE");
        return ExitCode::from(2);
    };
    let config = match miroir_conf::load_file(&path) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{}: configuration is invalid:\n{errors}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let store_config = match &config.task_store {
        miroir_conf::TaskStore::Sqlite { path } => StoreConfig::Sqlite { path: path.clone() },
        miroir_conf::TaskStore::Redis { url } => StoreConfig::redis(url.expose()),
    };
    let runtime = Runtime::from_config(&config);
    if let Err(error) = check_store(
        &store_config,
        &Placement::of(&runtime),
        args.allow_placement_change,
    ) {
        eprintln!("miroir: {error:#}");
        return ExitCode::FAILURE;
    }
    let app = Arc::new(App::new(runtime, store_config));

    let server_conf = ServerConf {
        threads: args.threads.max(1),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, server_conf);
    server.bootstrap();

    let mut proxy =
        pingora_proxy::http_proxy_service(&server.configuration, MiroirProxy::new(app.clone()));
    proxy.add_tcp(&config.listen.to_string());
    server.add_service(proxy);
    if let Some(admin) = config.admin_listen {
        let mut service = pingora_core::services::listening::Service::new(
            "admin API".to_owned(),
            miroir_proxy::admin::AdminApp::new(app.clone()),
        );
        service.add_tcp(&admin.to_string());
        server.add_service(service);
    }
    server.add_service(pingora_core::services::background::background_service(
        "node health checks",
        miroir_proxy::checks::HealthCheckService::new(app.clone()),
    ));
    server.add_service(pingora_core::services::background::background_service(
        "config reload",
        ReloadService::new(path, app),
    ));
    tracing::info!(listen = %config.listen, nodes = config.nodes.len(), "miroir serving");
    server.run_forever()
}
