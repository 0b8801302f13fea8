//! Configuration problems, reported all at once.
//!
//! A file either parses into [`crate::file::FileConfig`] or fails with serde's one
//! message (an unknown field, a wrong type, broken YAML), which carries the field path
//! and the line and column. A file that parses is then checked as a whole, and every
//! problem found is reported, each with its field path and what to do about it.

use std::fmt;

/// One problem with a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the configuration file: {reason}")]
    Read {
        /// The path as given.
        file: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The YAML does not match the schema (syntax, unknown field, wrong type). The
    /// message is serde's, with the field path and `at line L column C`.
    #[error("{0}")]
    Parse(String),
    /// A value parsed but is not acceptable.
    #[error("{path}: {message}")]
    Invalid {
        /// The field, e.g. `nodes[2].id`.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
}

/// Every problem found in one configuration, in file order. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// Wrap a list of problems.
    ///
    /// # Panics
    /// If `errors` is empty: a failed load always has a reason.
    pub fn new(errors: Vec<ConfigError>) -> Self {
        assert!(
            !errors.is_empty(),
            "ConfigErrors holds at least one problem"
        );
        ConfigErrors(errors)
    }

    /// The problems, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        ConfigErrors(vec![error])
    }
}

/// One problem per line, no trailing newline.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
