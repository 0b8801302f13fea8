//! The harness's error type.

use std::path::PathBuf;

/// Everything that can stop a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// An open-loop rate must be finite and positive.
    #[error("the request rate must be a positive number of requests per second, not {0}")]
    InvalidRate(f64),
    /// A `--target` or `--spawn` argument could not be understood.
    #[error("invalid {what} `{given}`: {why}")]
    InvalidSpec {
        /// Which argument.
        what: &'static str,
        /// What was given.
        given: String,
        /// What is wrong with it.
        why: String,
    },
    /// A URL the harness was given or built is not a plain `http://host:port` URL.
    #[error("invalid URL `{url}`: {why}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// A load loop only targets this machine.
    #[error(
        "refusing to send load to `{0}`: the harness only targets 127.0.0.1 / localhost / [::1]"
    )]
    NotLoopback(String),
    /// An HTTP exchange failed.
    #[error("{method} {url}: {why}")]
    Http {
        /// Request method.
        method: String,
        /// Full URL.
        url: String,
        /// What went wrong (transport error, timeout or unexpected status and body).
        why: String,
    },
    /// A Meilisearch task ended in another state than `succeeded`.
    #[error("task {uid} on `{target}` ended as {status}: {error}")]
    TaskFailed {
        /// Target name.
        target: String,
        /// Task uid.
        uid: u64,
        /// Final status.
        status: String,
        /// The task's error object, if any.
        error: String,
    },
    /// A task did not finish in time.
    #[error("task {uid} on `{target}` did not finish within {seconds} s")]
    TaskTimeout {
        /// Target name.
        target: String,
        /// Task uid.
        uid: u64,
        /// The timeout.
        seconds: u64,
    },
    /// A program the harness must start is missing.
    #[error("{0}")]
    MissingProgram(String),
    /// A program the harness started did not come up.
    #[error("{program} did not start serving on {url}: {why}")]
    NotServing {
        /// What was started.
        program: String,
        /// Where it should have answered.
        url: String,
        /// Why the harness gave up, with the end of its log when there is one.
        why: String,
    },
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A plot could not be drawn.
    #[error("drawing {path}: {why}")]
    Plot {
        /// The output file.
        path: PathBuf,
        /// The drawing backend's error.
        why: String,
    },
}

impl BenchError {
    /// Wraps an I/O error with what the harness was doing.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
        let context = context.into();
        move |source| BenchError::Io { context, source }
    }
}
