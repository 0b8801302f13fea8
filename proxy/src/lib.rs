//! The Miroir proxy library: everything the `miroir` binary serves.

pub mod admin;
pub mod aggregate;
pub mod app;
pub mod auth;
pub mod checks;
pub mod documents;
pub mod error;
pub mod fanout;
pub mod health;
pub mod http;
pub mod metrics;
pub mod placement;
pub mod quorum;
pub mod reload;
pub mod route;
pub mod runtime;
pub mod search_plan;
pub mod service;
pub mod strip;
