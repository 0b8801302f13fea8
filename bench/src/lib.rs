//! Miroir's load-testing harness as a library: the `miroir-bench` binary is a thin
//! command-line shell around it.
//!
//! - [`dataset`]: seeded movie-like documents (NDJSON) and their index settings.
//! - [`queries`]: seeded request mixes with exact proportions.
//! - [`schedule`]: open-loop arrival times and latency accounting from intended send
//!   times (no coordinated omission).
//! - [`stats`], [`report`], [`plot`]: percentiles, the markdown tables, SVG plots.
//! - [`client`], [`load`]: the pooled HTTP client and the open/closed load loops.
//! - [`meili`]: the Meilisearch calls a scenario needs (indexes, settings, tasks).
//! - [`procs`]: starting Meilisearch, nginx and Miroir; CPU and peak RSS from `/proc`.
//! - [`relay`]: the delaying relay of the slow-node scenario.
//! - [`scenario`]: targets, interleaved side-by-side runs and the scenarios.
//! - [`verify`]: every target's answers compared with the baseline's before measuring.

pub mod client;
pub mod dataset;
pub mod error;
pub mod load;
pub mod meili;
pub mod plot;
pub mod procs;
pub mod queries;
pub mod relay;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod stats;
pub mod verify;

pub use error::BenchError;
