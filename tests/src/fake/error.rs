//! Meilisearch-shaped HTTP errors of the fake node.
//!
//! Every error the fake answers goes through [`ApiError`], which wraps the engine's
//! [`MeiliError`] (status, message, code, type, link) and renders it the way Meilisearch
//! does. The constructors below carry the messages of Meilisearch 1.50 for the errors
//! the server itself raises (routing, payloads, indexes, tasks, keys, auth).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use miroir_fake_engine::MeiliError;

/// An error answered to the client in Meilisearch's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(pub MeiliError);

impl From<MeiliError> for ApiError {
    fn from(error: MeiliError) -> Self {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.0.to_json())).into_response()
    }
}

impl ApiError {
    /// The same error with another HTTP status.
    pub fn with_status(mut self, status: u16) -> ApiError {
        self.0.status = status;
        self
    }
}

/// Result of a route handler.
pub type ApiResult<T> = Result<T, ApiError>;

fn invalid(status: u16, code: &str, message: impl Into<String>) -> ApiError {
    ApiError(MeiliError::new(status, code, "invalid_request", message))
}

/// 400 `invalid_request` with the given code.
pub fn bad(code: &str, message: impl Into<String>) -> ApiError {
    invalid(400, code, message)
}

/// The message Meilisearch gives for a malformed index uid.
pub fn index_uid_format_message(uid: &str) -> String {
    format!(
        "`{uid}` is not a valid index uid. Index uid can be an integer or a string containing \
         only alphanumeric characters, hyphens (-) and underscores (_), and can not be more \
         than 512 bytes."
    )
}

/// Whether `uid` is a valid index uid (ASCII alphanumerics, `-`, `_`, 1..=400 bytes).
pub fn is_valid_index_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 400
        && uid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `index_not_found` (404).
pub fn index_not_found(uid: &str) -> MeiliError {
    MeiliError::new(
        404,
        "index_not_found",
        "invalid_request",
        format!("Index `{uid}` not found."),
    )
}

/// `index_already_exists` (409 when synchronous; reported in tasks).
pub fn index_already_exists(uid: &str) -> MeiliError {
    MeiliError::new(
        409,
        "index_already_exists",
        "invalid_request",
        format!("Index `{uid}` already exists."),
    )
}

/// `document_not_found` (404).
pub fn document_not_found(id: &str) -> ApiError {
    invalid(
        404,
        "document_not_found",
        format!("Document `{id}` not found."),
    )
}

/// `task_not_found` (404).
pub fn task_not_found(uid: &str) -> ApiError {
    invalid(404, "task_not_found", format!("Task `{uid}` not found."))
}

/// `batch_not_found` (404).
pub fn batch_not_found(uid: &str) -> ApiError {
    invalid(404, "batch_not_found", format!("Batch `{uid}` not found."))
}

/// `api_key_not_found` (404).
pub fn api_key_not_found(key: &str) -> ApiError {
    invalid(
        404,
        "api_key_not_found",
        format!("API key `{key}` not found."),
    )
}

/// `malformed_payload` for a JSON body that does not parse (non-document routes).
pub fn malformed_json(error: &serde_json::Error) -> ApiError {
    bad(
        "malformed_payload",
        format!("The json payload provided is malformed. `{error}`."),
    )
}

/// `invalid_content_type` (415) listing the accepted types.
pub fn invalid_content_type(given: &str, accepted: &[&str]) -> ApiError {
    invalid(
        415,
        "invalid_content_type",
        format!(
            "The Content-Type `{given}` is invalid. Accepted values for the Content-Type header are: {}",
            backticked(accepted)
        ),
    )
}

/// `invalid_content_type` (415): `csvDelimiter` given with a non-CSV content type.
pub fn invalid_content_type_for_delimiter(given: &str) -> ApiError {
    invalid(
        415,
        "invalid_content_type",
        format!(
            "The Content-Type `{given}` does not support the use of a csv delimiter. The csv \
             delimiter can only be used with the Content-Type `text/csv`."
        ),
    )
}

/// `missing_content_type` (415) listing the accepted types.
pub fn missing_content_type(accepted: &[&str]) -> ApiError {
    invalid(
        415,
        "missing_content_type",
        format!(
            "A Content-Type header is missing. Accepted values for the Content-Type header are: {}",
            backticked(accepted)
        ),
    )
}

fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `payload_too_large` (413) for a body over `limit` bytes.
pub fn payload_too_large(limit: usize) -> ApiError {
    invalid(
        413,
        "payload_too_large",
        format!(
            "The provided payload reached the size limit. The maximum accepted payload size is {}.",
            human_size(limit as u64)
        ),
    )
}

/// Sizes as Meilisearch prints them: binary units when the size is a multiple of 1024,
/// decimal units otherwise, at most two decimals.
fn human_size(bytes: u64) -> String {
    let (base, units): (f64, [&str; 5]) = if bytes % 1024 == 0 {
        (1024.0, ["B", "KiB", "MiB", "GiB", "TiB"])
    } else {
        (1000.0, ["B", "KB", "MB", "GB", "TB"])
    };
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= base && unit < units.len() - 1 {
        value /= base;
        unit += 1;
    }
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} {}", units[unit])
}

/// `missing_authorization_header` (401).
pub fn missing_authorization_header() -> ApiError {
    ApiError(MeiliError::new(
        401,
        "missing_authorization_header",
        "auth",
        "The Authorization header is missing. It must use the bearer authorization method.",
    ))
}

/// `invalid_api_key` (403) with the given message.
pub fn invalid_api_key(message: impl Into<String>) -> ApiError {
    ApiError(MeiliError::new(403, "invalid_api_key", "auth", message))
}

/// `missing_master_key` (401): key routes on a node started without a master key.
pub fn missing_master_key() -> ApiError {
    ApiError(MeiliError::new(
        401,
        "missing_master_key",
        "auth",
        "Meilisearch is running without a master key. To access this API endpoint, you must \
         have set a master key at launch.",
    ))
}

/// `internal` (the status is chosen by the caller, e.g. a fault switch).
pub fn internal(status: u16, message: impl Into<String>) -> MeiliError {
    MeiliError::new(status, "internal", "internal", message)
}

/// `bad_request` for an unknown query parameter.
pub fn unknown_parameter(name: &str, expected: &[&str]) -> ApiError {
    bad(
        "bad_request",
        format!(
            "Unknown parameter `{name}`: {}expected one of {}",
            miroir_fake_engine::did_you_mean(name, expected),
            backticked(expected)
        ),
    )
}

/// `bad_request` for an unknown field of a JSON body.
pub fn unknown_field(name: &str, expected: &[&str]) -> ApiError {
    bad(
        "bad_request",
        format!(
            "Unknown field `{name}`: expected one of {}",
            backticked(expected)
        ),
    )
}

/// The "could not parse as a positive integer" error of query parameters.
pub fn not_a_positive_integer(code: &str, param: &str, value: &str) -> ApiError {
    bad(
        code,
        format!(
            "Invalid value in parameter `{param}`: could not parse `{value}` as a positive integer"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_size_uses_decimal_units_for_non_binary_sizes() {
        assert_eq!(human_size(100_000_000), "100 MB");
    }

    #[test]
    fn human_size_uses_binary_units_for_multiples_of_1024() {
        assert_eq!(human_size(2 * 1024 * 1024), "2 MiB");
    }

    #[test]
    fn index_uids_allow_alphanumerics_hyphens_and_underscores_only() {
        assert!(is_valid_index_uid("movies_2-b"));
        assert!(!is_valid_index_uid("bad uid!"));
        assert!(!is_valid_index_uid(""));
        assert!(!is_valid_index_uid(&"a".repeat(401)));
    }
}
