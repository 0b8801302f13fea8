//! The fan-out module: parallel subrequests from the proxy to Meilisearch nodes.
//!
//! Every request that Miroir answers from several nodes (scatter-gather search, routed
//! document writes, broadcasts) goes through [`FanOut`]. It owns one pooled Pingora
//! HTTP connector, so subrequests reuse keep-alive connections to the nodes exactly as
//! the proxied single-node routes do. Each subrequest carries its own body (documents
//! are grouped per node before they get here), has a per-node deadline, and the whole
//! fan-out has an overall deadline and a bound on how many subrequests run at once.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::stream::{FuturesUnordered, StreamExt};
use http::Method;
use pingora_core::connectors::http::Connector;
use pingora_core::connectors::ConnectorOptions;
use pingora_core::upstreams::peer::HttpPeer;
use pingora_http::RequestHeader;
use tokio::sync::Semaphore;

/// Largest node response body Miroir reads into memory. A node answering more than this
/// is treated as failed; the bound protects the proxy from one runaway response
/// (a `limit=100000` browse of large documents) exhausting its memory.
pub const MAX_NODE_RESPONSE_BYTES: usize = 256 * 1024 * 1024;

/// One subrequest to one node.
#[derive(Debug, Clone)]
pub struct NodeRequest {
    /// HTTP method.
    pub method: Method,
    /// Path and query string, e.g. `/indexes/movies/search`.
    pub path_and_query: String,
    /// Extra headers (authorization, content type). `Host` and `Content-Length` are set
    /// by the fan-out module.
    pub headers: Vec<(String, String)>,
    /// The request body; empty for bodiless requests.
    pub body: Bytes,
}

impl NodeRequest {
    /// A request without a body.
    pub fn new(method: Method, path_and_query: impl Into<String>) -> Self {
        NodeRequest {
            method,
            path_and_query: path_and_query.into(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A request with a JSON body.
    pub fn json(method: Method, path_and_query: impl Into<String>, body: impl Into<Bytes>) -> Self {
        NodeRequest {
            method,
            path_and_query: path_and_query.into(),
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: body.into(),
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// A node's complete answer.
#[derive(Debug, Clone)]
pub struct NodeResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers, lower-cased names.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Bytes,
}

impl NodeResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The value of a header, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a subrequest produced no response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NodeError {
    /// The node did not answer within its deadline (or the overall deadline ran out).
    #[error("node {node} did not answer within {timeout_ms} ms")]
    Timeout { node: String, timeout_ms: u128 },
    /// Connecting, writing or reading failed.
    #[error("node {node} is unreachable: {reason}")]
    Io { node: String, reason: String },
    /// The response was larger than [`MAX_NODE_RESPONSE_BYTES`].
    #[error("node {node} sent a response larger than {limit} bytes")]
    TooLarge { node: String, limit: usize },
}

/// Where a node listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    /// The node id from the configuration.
    pub id: Arc<str>,
    /// `host:port`.
    pub authority: String,
    /// Whether the node speaks TLS.
    pub tls: bool,
    /// The host name, for `Host` and SNI.
    pub host: String,
}

/// Deadlines and concurrency bounds of one fan-out.
#[derive(Debug, Clone, Copy)]
pub struct FanOutLimits {
    /// How long one node may take to answer one subrequest.
    pub per_node: Duration,
    /// How long the whole fan-out may take.
    pub overall: Duration,
    /// How many subrequests may be in flight at once. Bounds the sockets and memory one
    /// client request can claim on a wide fleet.
    pub concurrency: usize,
    /// How long to connect before giving up on a node.
    pub connect: Duration,
}

/// The pooled subrequest client shared by every request of the proxy.
pub struct FanOut {
    connector: Connector,
}

impl Default for FanOut {
    fn default() -> Self {
        Self::new()
    }
}

impl FanOut {
    /// A fan-out client with its own connection pool.
    pub fn new() -> Self {
        let mut options = ConnectorOptions::new(64);
        options.keepalive_pool_size = 512;
        FanOut {
            connector: Connector::new(Some(options)),
        }
    }

    /// Send one subrequest and read the whole response.
    pub async fn send(
        &self,
        node: &NodeAddress,
        request: &NodeRequest,
        limits: FanOutLimits,
    ) -> Result<NodeResponse, NodeError> {
        let attempt = self.send_inner(node, request, limits);
        match tokio::time::timeout(limits.per_node, attempt).await {
            Ok(result) => result,
            Err(_) => Err(NodeError::Timeout {
                node: node.id.to_string(),
                timeout_ms: limits.per_node.as_millis(),
            }),
        }
    }

    async fn send_inner(
        &self,
        node: &NodeAddress,
        request: &NodeRequest,
        limits: FanOutLimits,
    ) -> Result<NodeResponse, NodeError> {
        let io = |e: Box<pingora_error::Error>| NodeError::Io {
            node: node.id.to_string(),
            reason: e.to_string(),
        };
        let mut peer = HttpPeer::new(node.authority.as_str(), node.tls, node.host.clone());
        peer.options.connection_timeout = Some(limits.connect);
        peer.options.idle_timeout = Some(Duration::from_secs(60));

        let mut header = RequestHeader::build(
            request.method.clone(),
            request.path_and_query.as_bytes(),
            None,
        )
        .map_err(io)?;
        header
            .insert_header("Host", node.authority.as_str())
            .map_err(io)?;
        for (name, value) in &request.headers {
            header
                .insert_header(name.clone(), value.as_str())
                .map_err(io)?;
        }
        let has_body = !request.body.is_empty()
            || matches!(request.method, Method::POST | Method::PUT | Method::PATCH);
        if has_body {
            header
                .insert_header("Content-Length", request.body.len().to_string())
                .map_err(io)?;
        }

        let (mut session, _reused) = self.connector.get_http_session(&peer).await.map_err(io)?;
        session
            .write_request_header(Box::new(header))
            .await
            .map_err(io)?;
        if has_body {
            session
                .write_request_body(request.body.clone(), true)
                .await
                .map_err(io)?;
        }
        session.finish_request_body().await.map_err(io)?;
        session.read_response_header().await.map_err(io)?;
        let (status, headers) = {
            let response = session.response_header().ok_or_else(|| NodeError::Io {
                node: node.id.to_string(),
                reason: "no response header".to_owned(),
            })?;
            let headers = response
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            (response.status.as_u16(), headers)
        };
        let mut body = BytesMut::new();
        while let Some(chunk) = session.read_response_body().await.map_err(io)? {
            if body.len() + chunk.len() > MAX_NODE_RESPONSE_BYTES {
                session.shutdown().await;
                return Err(NodeError::TooLarge {
                    node: node.id.to_string(),
                    limit: MAX_NODE_RESPONSE_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        self.connector
            .release_http_session(session, &peer, Some(Duration::from_secs(60)))
            .await;
        Ok(NodeResponse {
            status,
            headers,
            body: body.freeze(),
        })
    }

    /// Send every subrequest in parallel (at most `limits.concurrency` at once) and
    /// collect every answer. The result has one entry per input, in input order; a
    /// subrequest still running when the overall deadline passes is reported as a
    /// timeout.
    pub async fn scatter(
        &self,
        requests: Vec<(NodeAddress, NodeRequest)>,
        limits: FanOutLimits,
    ) -> Vec<(NodeAddress, Result<NodeResponse, NodeError>)> {
        let permits = Arc::new(Semaphore::new(limits.concurrency.max(1)));
        let mut results: Vec<Option<Result<NodeResponse, NodeError>>> = vec![None; requests.len()];
        let mut in_flight = FuturesUnordered::new();
        for (position, (node, request)) in requests.iter().enumerate() {
            let permits = permits.clone();
            in_flight.push(async move {
                let _permit = permits.acquire().await;
                (position, self.send(node, request, limits).await)
            });
        }
        let gather = async {
            while let Some((position, result)) = in_flight.next().await {
                results[position] = Some(result);
            }
        };
        // When the overall deadline passes, whatever has not answered is a timeout.
        let _ = tokio::time::timeout(limits.overall, gather).await;
        drop(in_flight);
        requests
            .into_iter()
            .zip(results)
            .map(|((node, _), result)| {
                let result = result.unwrap_or_else(|| {
                    Err(NodeError::Timeout {
                        node: node.id.to_string(),
                        timeout_ms: limits.overall.as_millis(),
                    })
                });
                (node, result)
            })
            .collect()
    }
}
