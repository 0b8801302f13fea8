//! Meilisearch's filter expression language.

pub mod ast;

pub use ast::*;
