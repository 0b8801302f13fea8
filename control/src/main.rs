//! `miroir-ctl`: operator tools for a Miroir fleet.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "miroir-ctl",
    version,
    about = "Operator tools for a Miroir fleet"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the shard of a document and the nodes that hold it.
    Locate {
        /// Miroir's configuration file.
        #[arg(long, short = 'c', env = "MIROIR_CONFIG")]
        config: PathBuf,
        /// Shards of the index (default: the configuration's `shards`).
        #[arg(long)]
        shards: Option<u32>,
        /// The document's primary key, as Meilisearch writes it (`42`, `abc`).
        id: String,
    },
    /// Print how many shards each node holds.
    Topology {
        /// Miroir's configuration file.
        #[arg(long, short = 'c', env = "MIROIR_CONFIG")]
        config: PathBuf,
        /// Shards of the index (default: the configuration's `shards`).
        #[arg(long)]
        shards: Option<u32>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (path, shards) = match &args.command {
        Command::Locate { config, shards, .. } | Command::Topology { config, shards } => {
            (config, *shards)
        }
    };
    let config = match miroir_conf::load_file(path) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{}: configuration is invalid:\n{errors}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let shards = shards.unwrap_or(config.default_shards);
    if shards == 0 {
        eprintln!("miroir-ctl: --shards must be at least 1");
        return ExitCode::from(2);
    }
    match args.command {
        Command::Locate { id, .. } => {
            let location = miroir_control::locate(&config, &id, shards);
            println!("document {id}: shard {} of {shards}", location.shard);
            for (group, owners) in location.owners {
                println!("  group {group}: {}", owners.join(", "));
            }
        }
        Command::Topology { .. } => print!("{}", miroir_control::topology_report(&config, shards)),
    }
    ExitCode::SUCCESS
}
