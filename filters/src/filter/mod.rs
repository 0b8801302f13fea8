//! Meilisearch's filter expression language: the AST, the parser of the string and JSON
//! request forms, the canonical printer, and Meilisearch-worded errors.

pub mod ast;
mod display;
mod error;
mod json;
mod parser;

pub use ast::*;
pub use error::FilterError;
pub use json::parse_json;
pub use parser::{parse, MAX_FILTER_DEPTH};
