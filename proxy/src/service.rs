//! The Pingora shell: one `ProxyHttp` implementation around [`App`].
//!
//! - `request_filter` reads the request (bounded), classifies it, and either writes the
//!   answer the application computed (orchestrator-owned, fan-out, routed and broadcast
//!   routes) or lets Pingora proxy it to one node (single-node routes).
//! - `upstream_peer` hands Pingora the node the application chose.
//! - the response phases strip Miroir's fields from relayed bodies and add the
//!   `X-Miroir-*` headers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora_core::upstreams::peer::HttpPeer;
use pingora_error::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;
use pingora_proxy::{ProxyHttp, Session};

use crate::app::{App, Outcome, Relay};
use crate::error::ApiError;
use crate::http::{ClientRequest, Response};
use crate::strip::strip_body;

/// Per-request state carried between Pingora's phases.
#[derive(Default)]
pub struct RequestCtx {
    /// Set when the request is relayed to one node.
    relay: Option<Relay>,
    /// The relayed body, buffered when it must be rewritten.
    buffered: BytesMut,
    /// The route's name in metrics.
    route: &'static str,
    /// When the request arrived.
    started: Option<std::time::Instant>,
}

/// The `ProxyHttp` implementation of Miroir.
pub struct MiroirProxy {
    app: Arc<App>,
}

impl MiroirProxy {
    /// Wrap the application.
    pub fn new(app: Arc<App>) -> Self {
        MiroirProxy { app }
    }
}

/// Read the whole request body, refusing more than `limit` bytes with Meilisearch's
/// `payload_too_large`.
async fn read_body(session: &mut Session, limit: usize) -> std::result::Result<Bytes, ApiError> {
    let declared = session
        .req_header()
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(crate::app::payload_too_large(limit));
    }
    let mut body = BytesMut::new();
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(crate::app::payload_too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(error) => {
                return Err(ApiError::invalid(
                    "bad_request",
                    format!("Error while receiving the playload. `{error}`."),
                ))
            }
        }
    }
    Ok(body.freeze())
}

async fn write_response(session: &mut Session, response: Response) -> Result<()> {
    let mut header = ResponseHeader::build(response.status, Some(response.headers.len() + 1))?;
    for (name, value) in &response.headers {
        header.insert_header(name.clone(), value.as_str())?;
    }
    header.insert_header("Content-Length", response.body.len().to_string())?;
    session
        .write_response_header(Box::new(header), response.body.is_empty())
        .await?;
    if !response.body.is_empty() {
        session
            .write_response_body(Some(response.body), true)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl ProxyHttp for MiroirProxy {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> Self::CTX {
        RequestCtx::default()
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut Self::CTX) -> Result<bool> {
        ctx.started = Some(std::time::Instant::now());
        let header = session.req_header();
        let method = header.method.clone();
        let path = header.uri.path().to_owned();
        let route = crate::route::classify(&method, &path);
        ctx.route = route.name();
        let query = header.uri.query().map(str::to_owned);
        let headers: Vec<(String, String)> = header
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let limit = self.app.body_limit();
        let has_body = !matches!(method, http::Method::GET | http::Method::HEAD);
        let body = if has_body {
            match read_body(session, limit).await {
                Ok(body) => body,
                Err(error) => {
                    write_response(session, Response::from(error)).await?;
                    return Ok(true);
                }
            }
        } else {
            Bytes::new()
        };
        let request = ClientRequest {
            method,
            path,
            query,
            headers,
            body,
        };
        match self.app.handle(route, request).await {
            Outcome::Respond(response) => {
                write_response(session, response).await?;
                Ok(true)
            }
            Outcome::Relay(relay) => {
                ctx.relay = Some(relay);
                Ok(false)
            }
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut Self::CTX,
    ) -> Result<Box<HttpPeer>> {
        let relay = ctx.relay.as_ref().ok_or_else(|| {
            Error::explain(
                ErrorType::InternalError,
                "no node chosen for a relayed route",
            )
        })?;
        let node = &relay.node;
        let mut peer = HttpPeer::new(node.authority.as_str(), node.tls, node.host.clone());
        peer.options.connection_timeout = Some(self.app.connect_timeout());
        peer.options.read_timeout = Some(self.app.node_timeout());
        peer.options.idle_timeout = Some(Duration::from_secs(60));
        Ok(Box::new(peer))
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        upstream_request: &mut pingora_http::RequestHeader,
        ctx: &mut Self::CTX,
    ) -> Result<()> {
        if let Some(relay) = &ctx.relay {
            upstream_request.insert_header("Host", relay.node.authority.as_str())?;
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        upstream_response: &mut ResponseHeader,
        ctx: &mut Self::CTX,
    ) -> Result<()> {
        if ctx.relay.as_ref().is_some_and(|r| r.rewrite.is_some()) {
            // The body is rewritten once complete, so its length is not known yet.
            upstream_response.remove_header("Content-Length");
            upstream_response.insert_header("Transfer-Encoding", "chunked")?;
        }
        Ok(())
    }

    fn response_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut Self::CTX,
    ) -> Result<Option<Duration>> {
        let Some(kind) = ctx.relay.as_ref().and_then(|r| r.rewrite) else {
            return Ok(None);
        };
        if let Some(chunk) = body.take() {
            ctx.buffered.extend_from_slice(&chunk);
        }
        if end_of_stream {
            let whole = std::mem::take(&mut ctx.buffered).freeze();
            *body = Some(strip_body(kind, &whole).map(Bytes::from).unwrap_or(whole));
        }
        Ok(None)
    }

    async fn logging(
        &self,
        session: &mut Session,
        _error: Option<&pingora_error::Error>,
        ctx: &mut Self::CTX,
    ) {
        let status = session
            .response_written()
            .map(|header| header.status.as_u16())
            .unwrap_or(0);
        let seconds = ctx
            .started
            .map(|started| started.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        let route = if ctx.route.is_empty() {
            "unread"
        } else {
            ctx.route
        };
        self.app.metrics().observe_request(route, status, seconds);
    }
}
