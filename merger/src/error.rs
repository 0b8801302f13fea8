//! Errors of the merger: what was wrong with which shard response.

/// A structural problem found by the scanner, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The body ended in the middle of a value.
    #[error("unexpected end of JSON")]
    UnexpectedEnd,
    /// A byte that cannot appear here.
    #[error("unexpected byte at offset {0}")]
    Unexpected(usize),
    /// Something specific was expected here.
    #[error("expected {0} at offset {1}")]
    Expected(&'static str, usize),
}

/// Why a set of shard responses could not be merged.
///
/// Every variant names the response (its index in the slice the caller passed) so the
/// proxy can log which node sent the unusable body. None of these are client errors: the
/// proxy should answer them as an internal error (or treat the shard as failed).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// The body is not the JSON shape expected from a node.
    #[error("response {response}: malformed JSON: {source}")]
    Malformed {
        /// Index of the response in the input slice.
        response: usize,
        /// What the scanner found.
        #[source]
        source: ScanError,
    },
    /// simd-json rejected a value the merger had to interpret.
    #[error("response {response}: invalid JSON in `{field}`: {message}")]
    Invalid {
        /// Index of the response in the input slice.
        response: usize,
        /// The member being parsed.
        field: &'static str,
        /// simd-json's message.
        message: String,
    },
    /// A member the merge needs is absent or has the wrong type.
    #[error("response {response}: missing or mistyped `{field}`")]
    Missing {
        /// Index of the response in the input slice.
        response: usize,
        /// The member.
        field: &'static str,
    },
    /// A hit lacks `_rankingScore`: the proxy must ask nodes for `showRankingScore: true`.
    #[error("response {response}, hit {hit}: no `_rankingScore` (ask nodes for showRankingScore)")]
    MissingRankingScore {
        /// Index of the response in the input slice.
        response: usize,
        /// Position of the hit in that response.
        hit: usize,
    },
    /// The caller's arguments do not fit the responses (e.g. no responses at all where
    /// at least one is needed, or a winner that points at no hit).
    #[error("invalid merge request: {0}")]
    Request(&'static str),
}

impl MergeError {
    pub(crate) fn malformed(response: usize) -> impl Fn(ScanError) -> MergeError {
        move |source| MergeError::Malformed { response, source }
    }
}
