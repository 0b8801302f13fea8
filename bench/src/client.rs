//! A pooled HTTP/1.1 client bound to one target.
//!
//! Built on hyper-util's pooled client rather than reqwest: the harness shares two cores
//! with the servers it measures, and the bare hyper client costs less CPU per request
//! (no redirect, cookie or decompression layers), so the load generator stays out of
//! the way of what it measures. The number of connections is bounded by the callers'
//! concurrency (a semaphore of `connections` permits), and the pool keeps that many idle
//! connections so every request reuses a warm one.

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::BenchError;

/// Whether a URL designates this machine (the only place load may be sent).
pub fn is_loopback(url: &Uri) -> bool {
    match url.host() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Parses `http://host:port[/]` into the base URL requests are built on.
///
/// # Errors
/// [`BenchError::InvalidUrl`] for anything but plain `http` URLs, and
/// [`BenchError::NotLoopback`] for hosts that are not this machine.
pub fn parse_base_url(url: &str) -> Result<String, BenchError> {
    let uri: Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| BenchError::InvalidUrl {
            url: url.to_owned(),
            why: e.to_string(),
        })?;
    if uri.scheme_str() != Some("http") {
        return Err(BenchError::InvalidUrl {
            url: url.to_owned(),
            why: "only http:// URLs are supported".to_owned(),
        });
    }
    if !is_loopback(&uri) {
        return Err(BenchError::NotLoopback(url.to_owned()));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// An answer: status and whole body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// The complete body.
    pub body: Bytes,
}

/// A client for one target: base URL, optional bearer key, shared connection pool.
#[derive(Debug, Clone)]
pub struct TargetClient {
    base: String,
    authorization: Option<String>,
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl TargetClient {
    /// A client for `base` (checked with [`parse_base_url`]) keeping up to `connections`
    /// idle connections; each exchange gives up after `timeout`.
    ///
    /// # Errors
    /// As [`parse_base_url`].
    pub fn new(
        base: &str,
        api_key: Option<&str>,
        connections: usize,
        timeout: Duration,
    ) -> Result<Self, BenchError> {
        let base = parse_base_url(base)?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(connections.max(1))
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Self {
            base,
            authorization: api_key.map(|key| format!("Bearer {key}")),
            client,
            timeout,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request and reads the whole answer.
    ///
    /// # Errors
    /// [`BenchError::Http`] on transport errors and timeouts (not on error statuses: the
    /// caller judges the status).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(Bytes, &'static str)>,
    ) -> Result<Answer, BenchError> {
        let url = format!("{}{}", self.base, path);
        let fail = |why: String| BenchError::Http {
            method: method.to_string(),
            url: url.clone(),
            why,
        };
        let mut request = Request::builder().method(method.clone()).uri(&url);
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let request = match body {
            Some((bytes, content_type)) => request
                .header(header::CONTENT_TYPE, content_type)
                .body(Full::new(bytes)),
            None => request.body(Full::new(Bytes::new())),
        }
        .map_err(|e| fail(e.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| fail(format!("{e:#}")))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| fail(e.to_string()))?
                .to_bytes();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| fail(format!("no answer within {:?}", self.timeout)))?
    }

    /// Sends a JSON body.
    ///
    /// # Errors
    /// As [`TargetClient::send`].
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Answer, BenchError> {
        let bytes = Bytes::from(serde_json::to_vec(body).expect("a JSON value serialises"));
        self.send(method, path, Some((bytes, "application/json")))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_urls_are_targets() {
        assert_eq!(
            parse_base_url("http://127.0.0.1:7700/").expect("loopback"),
            "http://127.0.0.1:7700"
        );
        assert!(parse_base_url("http://localhost:7700").is_ok());
        assert!(parse_base_url("http://[::1]:7700").is_ok());
        assert!(matches!(
            parse_base_url("http://10.0.0.1:7700"),
            Err(BenchError::NotLoopback(_))
        ));
        assert!(matches!(
            parse_base_url("https://127.0.0.1:7700"),
            Err(BenchError::InvalidUrl { .. })
        ));
    }
}
