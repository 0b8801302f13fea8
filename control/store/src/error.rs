//! The store's error type.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SQLite database refused or failed an operation.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The Redis server refused or failed an operation, or could not be reached.
    #[error("Redis: {0}")]
    Redis(#[from] fred::error::Error),
    /// A stored record could not be decoded (or a record could not be encoded).
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// Every task uid that fits a `u32` has been handed out.
    #[error("task uids are exhausted: the next uid would not fit in 32 bits")]
    TaskUidsExhausted,
    /// The SQLite file was written by a newer Miroir with a schema this one cannot read.
    #[error("the store's schema version {found} is newer than the supported version {supported}")]
    SchemaTooNew {
        /// The version found in the file.
        found: i64,
        /// The newest version this build understands.
        supported: i64,
    },
    /// A blocking database call could not complete (its thread panicked or the runtime
    /// is shutting down).
    #[error("a blocking store call did not complete: {0}")]
    Blocking(String),
    /// The configuration asks for something this build cannot do (a TLS Redis URL).
    #[error("unsupported store configuration: {0}")]
    Unsupported(String),
    /// The directory of the SQLite file could not be created.
    #[error("cannot create the directory of the store file: {0}")]
    Io(#[from] std::io::Error),
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}
