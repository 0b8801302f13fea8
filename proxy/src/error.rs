//! Errors as clients see them: Meilisearch's `{"message","code","type","link"}` shape
//! with an HTTP status.
//!
//! Every error Miroir itself produces is built here, once, so that codes, types and
//! links stay consistent. Errors that come from a node are passed through unchanged and
//! never rebuilt.

use serde_json::json;

/// The `type` field of a Meilisearch error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    InvalidRequest,
    Internal,
    Auth,
    System,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequest => "invalid_request",
            ErrorType::Internal => "internal",
            ErrorType::Auth => "auth",
            ErrorType::System => "system",
        }
    }
}

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The error code, Meilisearch's or one of Miroir's `miroir_*` codes.
    pub code: String,
    /// The error type.
    pub error_type: ErrorType,
    /// The human-readable message.
    pub message: String,
}

impl ApiError {
    /// Build an error.
    pub fn new(
        status: u16,
        code: impl Into<String>,
        error_type: ErrorType,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code: code.into(),
            error_type,
            message: message.into(),
        }
    }

    /// A `400 invalid_request` error with the given code.
    pub fn invalid(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(400, code, ErrorType::InvalidRequest, message)
    }

    /// Meilisearch's documentation link for its own codes; Miroir's codes point at the
    /// section of `docs/errors.md` (shipped with Miroir) that explains them.
    pub fn link(&self) -> String {
        if self.code.starts_with("miroir_") {
            format!("docs/errors.md#{}", self.code)
        } else {
            format!("https://docs.meilisearch.com/errors#{}", self.code)
        }
    }

    /// The JSON body, keys in Meilisearch's order.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "message": self.message,
            "code": self.code,
            "type": self.error_type.as_str(),
            "link": self.link(),
        })
    }

    /// The serialized JSON body.
    pub fn body(&self) -> Vec<u8> {
        // Serializing a `Value` built from strings cannot fail.
        serde_json::to_vec(&self.to_json()).expect("a JSON value of strings always serializes")
    }

    /// `index_not_found`.
    pub fn index_not_found(index: &str) -> Self {
        Self::new(
            404,
            "index_not_found",
            ErrorType::InvalidRequest,
            format!("Index `{index}` not found."),
        )
    }

    /// `document_not_found`.
    pub fn document_not_found(id: &str) -> Self {
        Self::new(
            404,
            "document_not_found",
            ErrorType::InvalidRequest,
            format!("Document `{id}` not found."),
        )
    }

    /// `miroir_no_quorum`: a write that did not reach quorum in any replica group.
    pub fn no_quorum(detail: impl Into<String>) -> Self {
        Self::new(503, "miroir_no_quorum", ErrorType::System, detail)
    }

    /// `miroir_shard_unavailable`: no live replica holds a shard a read needs.
    pub fn shard_unavailable(detail: impl Into<String>) -> Self {
        Self::new(503, "miroir_shard_unavailable", ErrorType::System, detail)
    }

    /// `miroir_reserved_field`: a client document carries a `_miroir_*` field.
    pub fn reserved_field(field: &str) -> Self {
        Self::invalid(
            "miroir_reserved_field",
            format!("The field `{field}` is reserved: fields starting with `_miroir_` belong to Miroir. Rename or remove it."),
        )
    }

    /// `miroir_primary_key_required`: a routed operation needs the index's primary key.
    pub fn primary_key_required(index: &str) -> Self {
        Self::invalid(
            "miroir_primary_key_required",
            format!("Index `{index}` has no primary key yet. Add documents with a `primaryKey` query parameter or set it with `PATCH /indexes/{index}` first."),
        )
    }

    /// `miroir_unsupported_route`: a Meilisearch route Miroir deliberately does not serve.
    pub fn unsupported_route(reason: &str) -> Self {
        Self::new(
            501,
            "miroir_unsupported_route",
            ErrorType::InvalidRequest,
            format!("This route is not available through Miroir: {reason}."),
        )
    }

    /// An internal error: something Miroir did not expect from a node or its store.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, "internal", ErrorType::Internal, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_meilisearch_shape_and_key_order() {
        let body = String::from_utf8(ApiError::index_not_found("movies").body()).unwrap();
        assert_eq!(
            body,
            r#"{"message":"Index `movies` not found.","code":"index_not_found","type":"invalid_request","link":"https://docs.meilisearch.com/errors#index_not_found"}"#
        );
    }

    #[test]
    fn miroir_codes_link_to_miroir_docs() {
        let error = ApiError::no_quorum("no group reached quorum for shard 3");
        assert_eq!(error.status, 503);
        assert_eq!(error.to_json()["type"], "system");
        assert!(error.link().ends_with("docs/errors.md#miroir_no_quorum"));
    }
}
