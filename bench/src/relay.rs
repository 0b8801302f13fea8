//! A delaying HTTP relay: put in front of one node, it forwards every request unchanged
//! and holds a fixed share of the answers back for a fixed time. The slow-node scenario
//! uses it to make one node of a fleet answer 20% of requests 100 ms late.
//!
//! Which requests are delayed is decided by [`DelayPlan`]: exactly `delayed` of every
//! block of `block` consecutive requests, positions shuffled by a seed, so the share is
//! exact over any run of whole blocks and the same on every run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::client::parse_base_url;
use crate::error::BenchError;

/// Decides, request after request, which ones are delayed.
#[derive(Debug)]
pub struct DelayPlan {
    rng: ChaCha8Rng,
    block: usize,
    delayed: usize,
    pending: Vec<bool>,
}

impl DelayPlan {
    /// Delays exactly `delayed` requests out of every `block` (`delayed` is capped at
    /// `block`; a `block` of 0 counts as 1).
    pub fn new(seed: u64, delayed: usize, block: usize) -> Self {
        let block = block.max(1);
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            block,
            delayed: delayed.min(block),
            pending: Vec::new(),
        }
    }

    /// Whether the next request is delayed.
    pub fn next_is_delayed(&mut self) -> bool {
        if self.pending.is_empty() {
            self.pending = (0..self.block).map(|i| i < self.delayed).collect();
            self.pending.shuffle(&mut self.rng);
        }
        self.pending.pop().expect("a refilled block is not empty")
    }
}

/// Counters of a running relay.
#[derive(Debug, Default)]
pub struct RelayCounters {
    /// Requests relayed.
    pub relayed: AtomicU64,
    /// Requests whose answer was held back.
    pub delayed: AtomicU64,
    /// Requests the upstream did not answer.
    pub upstream_errors: AtomicU64,
}

/// A running relay; it stops when dropped.
#[derive(Debug)]
pub struct SlowRelay {
    /// `http://127.0.0.1:PORT` of the relay.
    pub url: String,
    /// What it has done so far.
    pub counters: Arc<RelayCounters>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SlowRelay {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct RelayState {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    plan: Mutex<DelayPlan>,
    delay: Duration,
    counters: Arc<RelayCounters>,
}

async fn relay_one(
    state: Arc<RelayState>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let delayed = state
        .plan
        .lock()
        .map(|mut plan| plan.next_is_delayed())
        .unwrap_or(false);
    state.counters.relayed.fetch_add(1, Ordering::Relaxed);
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let answer = async {
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        parts.uri = format!("{}{}", state.upstream, path)
            .parse()
            .map_err(|e: http::uri::InvalidUri| e.to_string())?;
        parts.headers.remove(http::header::HOST);
        let response = state
            .client
            .request(Request::from_parts(parts, Full::new(body)))
            .await
            .map_err(|e| e.to_string())?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok::<_, String>(Response::from_parts(parts, Full::new(body)))
    }
    .await;
    if delayed {
        state.counters.delayed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(state.delay).await;
    }
    Ok(answer.unwrap_or_else(|why| {
        state
            .counters
            .upstream_errors
            .fetch_add(1, Ordering::Relaxed);
        let mut response = Response::new(Full::new(Bytes::from(format!(
            "relay: upstream failed: {why}"
        ))));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        response
    }))
}

impl SlowRelay {
    /// Starts a relay on a free port of 127.0.0.1 in front of `upstream`, delaying
    /// `delayed` of every `block` answers by `delay`.
    ///
    /// # Errors
    /// [`BenchError::InvalidUrl`]/[`BenchError::NotLoopback`] for the upstream,
    /// [`BenchError::Io`] when no port can be bound.
    pub async fn start(
        upstream: &str,
        delay: Duration,
        delayed: usize,
        block: usize,
        seed: u64,
    ) -> Result<Self, BenchError> {
        let upstream = parse_base_url(upstream)?;
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(BenchError::io("binding the relay"))?;
        let address = listener
            .local_addr()
            .map_err(BenchError::io("reading the relay's port"))?;
        let counters = Arc::new(RelayCounters::default());
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let state = Arc::new(RelayState {
            upstream,
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(256)
                .build(connector),
            plan: Mutex::new(DelayPlan::new(seed, delayed, block)),
            delay,
            counters: counters.clone(),
        });
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| relay_one(state.clone(), request));
                    // A client closing its connection ends this task; nothing to report.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            url: format!("http://{address}"),
            counters,
            server,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_a_fifth_of_requests_is_delayed_in_every_block() {
        let mut plan = DelayPlan::new(11, 2, 10);
        let decisions: Vec<bool> = (0..1_000).map(|_| plan.next_is_delayed()).collect();
        assert_eq!(decisions.iter().filter(|d| **d).count(), 200);
        for block in decisions.chunks(10) {
            assert_eq!(block.iter().filter(|d| **d).count(), 2);
        }
    }

    #[test]
    fn the_same_seed_delays_the_same_requests() {
        let mut a = DelayPlan::new(5, 2, 10);
        let mut b = DelayPlan::new(5, 2, 10);
        let first: Vec<bool> = (0..100).map(|_| a.next_is_delayed()).collect();
        let second: Vec<bool> = (0..100).map(|_| b.next_is_delayed()).collect();
        assert_eq!(first, second);
    }

    #[test]
    fn a_share_above_the_block_delays_everything() {
        let mut plan = DelayPlan::new(1, 20, 10);
        assert!((0..30).all(|_| plan.next_is_delayed()));
    }
}
