//! The front door of every test node: a listener on a fixed loopback port that either
//! serves the fake node's router in-process or forwards to a real Meilisearch process,
//! and applies the fault switches on the way (added latency, forced error status,
//! dropped connections). Stopping closes the listener and every open connection, so
//! clients see "connection refused"; restarting listens again on the same port.
//!
//! Fake and real nodes go through the same code, so a chaos test behaves the same on
//! both backends.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Mutex};
use tokio::task::{JoinHandle, JoinSet};

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// Binding or re-binding a listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// A Meilisearch process could not be started or never became healthy.
    #[error("Meilisearch process: {0}")]
    Process(String),
    /// The operation is not possible on this backend.
    #[error("not supported on the {0} backend: {1}")]
    Unsupported(&'static str, &'static str),
}

/// Live fault switches shared by a front door and its controller.
#[derive(Debug, Default)]
pub struct FaultSwitches {
    delay_ns: AtomicU64,
    fail_status: AtomicU16,
    drop_connections: AtomicBool,
    requests: AtomicU64,
}

impl FaultSwitches {
    /// Latency added before every request is answered.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ns.store(
            delay.as_nanos().min(u64::MAX as u128) as u64,
            Ordering::SeqCst,
        );
    }

    /// Answer every request with this status and a Meilisearch-shaped internal error
    /// (`None` switches it off).
    pub fn fail_with(&self, status: Option<u16>) {
        self.fail_status
            .store(status.unwrap_or(0), Ordering::SeqCst);
    }

    /// Accept connections and close them without answering.
    pub fn drop_connections(&self, on: bool) {
        self.drop_connections.store(on, Ordering::SeqCst);
    }

    /// Requests received so far, health checks (`GET /health`) left out.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    fn delay(&self) -> Duration {
        Duration::from_nanos(self.delay_ns.load(Ordering::SeqCst))
    }

    fn failure(&self) -> Option<u16> {
        match self.fail_status.load(Ordering::SeqCst) {
            0 => None,
            status => Some(status),
        }
    }

    fn dropping(&self) -> bool {
        self.drop_connections.load(Ordering::SeqCst)
    }
}

/// What sits behind a front door.
#[derive(Clone)]
pub enum Upstream {
    /// The fake node's router, served in-process.
    Router(axum::Router),
    /// A real Meilisearch listening on this address.
    Forward(SocketAddr),
}

struct Serving {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// A listener on a fixed port applying [`FaultSwitches`] in front of an [`Upstream`].
pub struct FrontDoor {
    addr: SocketAddr,
    switches: Arc<FaultSwitches>,
    upstream: Upstream,
    serving: Mutex<Option<Serving>>,
}

impl FrontDoor {
    /// Listen on `addr` (port 0 picks a free port, kept for every restart).
    pub async fn open(addr: SocketAddr, upstream: Upstream) -> Result<FrontDoor, HarnessError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| HarnessError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| HarnessError::Bind { addr, source })?;
        let door = FrontDoor {
            addr,
            switches: Arc::new(FaultSwitches::default()),
            upstream,
            serving: Mutex::new(None),
        };
        *door.serving.lock().await = Some(door.serve(listener));
        Ok(door)
    }

    /// The address clients use.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fault switches.
    pub fn switches(&self) -> &FaultSwitches {
        &self.switches
    }

    /// Whether the door is listening.
    pub async fn is_open(&self) -> bool {
        self.serving.lock().await.is_some()
    }

    /// Stop listening and close every open connection. Idempotent.
    pub async fn stop(&self) {
        if let Some(serving) = self.serving.lock().await.take() {
            let _ = serving.shutdown.send(true);
            let _ = serving.task.await;
        }
    }

    /// Listen again on the same port. Idempotent. Retries for a few seconds while the
    /// port is still held by the previous listener.
    pub async fn restart(&self) -> Result<(), HarnessError> {
        let mut serving = self.serving.lock().await;
        if serving.is_some() {
            return Ok(());
        }
        let mut attempts = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(source) if attempts >= 50 => {
                    return Err(HarnessError::Bind {
                        addr: self.addr,
                        source,
                    })
                }
                Err(_) => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        *serving = Some(self.serve(listener));
        Ok(())
    }

    fn serve(&self, listener: TcpListener) -> Serving {
        let (shutdown, mut stopped) = watch::channel(false);
        let switches = self.switches.clone();
        let upstream = self.upstream.clone();
        let task = tokio::spawn(async move {
            // Dropping the set at the end aborts every open connection.
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        if switches.dropping() {
                            drop(stream);
                            continue;
                        }
                        connections.spawn(serve_connection(stream, switches.clone(), upstream.clone()));
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Serving { shutdown, task }
    }
}

impl Drop for FrontDoor {
    /// Close the listener and every connection: a dropped node must not keep its port.
    fn drop(&mut self) {
        if let Some(serving) = self.serving.get_mut().take() {
            let _ = serving.shutdown.send(true);
            serving.task.abort();
        }
    }
}

async fn serve_connection(stream: TcpStream, switches: Arc<FaultSwitches>, upstream: Upstream) {
    let router = match &upstream {
        Upstream::Router(router) => Some(TowerToHyperService::new(router.clone())),
        Upstream::Forward(_) => None,
    };
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let switches = switches.clone();
        let upstream = upstream.clone();
        let router = router.clone();
        async move {
            if request.uri().path() != "/health" {
                switches.requests.fetch_add(1, Ordering::SeqCst);
            }
            let delay = switches.delay();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if switches.dropping() {
                // An error makes hyper close the connection without an answer.
                return Err(std::io::Error::other("fault switch: connection dropped"));
            }
            if let Some(status) = switches.failure() {
                return Ok(failure_response(status));
            }
            match (&upstream, router) {
                (Upstream::Router(_), Some(router)) => {
                    let response: Result<Response<Body>, Infallible> =
                        hyper::service::Service::call(&router, request).await;
                    Ok(response.unwrap_or_else(|never| match never {}))
                }
                (Upstream::Forward(addr), _) => forward(*addr, request).await,
                (Upstream::Router(_), None) => Err(std::io::Error::other(
                    "router service missing for a router upstream",
                )),
            }
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

fn failure_response(status: u16) -> Response<Body> {
    let body = serde_json::json!({
        "message": format!("Injected failure: this node answers every request with HTTP {status}."),
        "code": "internal",
        "type": "internal",
        "link": "https://docs.meilisearch.com/errors#internal",
    });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

async fn forward(
    addr: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(std::io::Error::other)?;
    Ok(response.map(Body::new))
}
