//! The Miroir proxy library: everything the `miroir` binary serves.

pub mod documents;
pub mod error;
pub mod fanout;
pub mod http;
pub mod route;
pub mod strip;
