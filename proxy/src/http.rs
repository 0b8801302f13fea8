//! Plain request and response values exchanged between the Pingora shell and the
//! handlers. Handlers never see a Pingora session: they take a [`ClientRequest`] and
//! return a [`Response`], so they are tested without sockets.

use bytes::Bytes;
use http::Method;

use crate::error::ApiError;

/// A client request, fully read.
#[derive(Debug, Clone)]
pub struct ClientRequest {
    /// HTTP method.
    pub method: Method,
    /// The path, percent-encoded as received.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// Request headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Bytes,
}

impl ClientRequest {
    /// The value of a header, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Path and query as sent to a node.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(query) if !query.is_empty() => format!("{}?{}", self.path, query),
            _ => self.path.clone(),
        }
    }

    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query.as_deref().map(parse_query).unwrap_or_default()
    }

    /// Meilisearch's `400 bad_request` for the first query parameter whose name is not
    /// in `allowed` (`Unknown parameter `x`: expected one of `a`, `b``).
    pub fn reject_unknown_params(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self
            .query_pairs()
            .into_iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((name, _)) => {
                let expected: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
                Err(ApiError::invalid(
                    "bad_request",
                    format!(
                        "Unknown parameter `{name}`: expected one of {}",
                        expected.join(", ")
                    ),
                ))
            }
            None => Ok(()),
        }
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// Decode an `application/x-www-form-urlencoded` query string.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect()
}

fn decode_component(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let high = (bytes[i + 1] as char).to_digit(16);
                let low = (bytes[i + 2] as char).to_digit(16);
                if let (Some(high), Some(low)) = (high, low) {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response to write to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: Bytes,
}

impl Response {
    /// A JSON response from already-serialized bytes.
    pub fn json_bytes(status: u16, body: impl Into<Bytes>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: body.into(),
        }
    }

    /// A JSON response from a value.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        // Serializing a `serde_json::Value` cannot fail: its map keys are strings.
        Self::json_bytes(
            status,
            serde_json::to_vec(value).expect("a JSON value always serializes"),
        )
    }

    /// An error response in Meilisearch's shape.
    pub fn error(error: &ApiError) -> Self {
        Self::json_bytes(error.status, error.body())
    }

    /// Add a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

impl From<ApiError> for Response {
    fn from(error: ApiError) -> Self {
        Response::error(&error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            parse_query("q=star+wars&filter=genre%20%3D%20drama&empty=&flag"),
            vec![
                ("q".to_owned(), "star wars".to_owned()),
                ("filter".to_owned(), "genre = drama".to_owned()),
                ("empty".to_owned(), String::new()),
                ("flag".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn error_responses_carry_status_and_body() {
        let response = Response::from(ApiError::index_not_found("x"));
        assert_eq!(response.status, 404);
        assert_eq!(
            response.headers,
            vec![("Content-Type".to_owned(), "application/json".to_owned())]
        );
    }
}
