//! `miroir-fake-node`: run one fake Meilisearch node by hand (for operators and the
//! bench), until interrupted.

use std::net::SocketAddr;

use clap::Parser;
use miroir_tests::{FakeNode, FakeNodeOptions};

/// Command line of the fake node.
#[derive(Debug, Parser)]
#[command(
    name = "miroir-fake-node",
    about = "An in-memory imitation of a Meilisearch 1.50 node"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7700")]
    http_addr: SocketAddr,
    /// Master key; without one the node runs unauthenticated, like Meilisearch.
    #[arg(long, env = "MEILI_MASTER_KEY")]
    master_key: Option<String>,
    /// Maximum accepted payload size in bytes.
    #[arg(long, default_value_t = miroir_tests::fake::DEFAULT_PAYLOAD_LIMIT)]
    http_payload_size_limit: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let node = FakeNode::start(FakeNodeOptions {
        master_key: args.master_key,
        http_addr: Some(args.http_addr),
        payload_limit: args.http_payload_size_limit,
    })
    .await?;
    eprintln!("miroir-fake-node listening on {}", node.url());
    tokio::signal::ctrl_c().await?;
    node.stop().await;
    Ok(())
}
