//! The load loops: open loop (fixed arrival rate) and closed loop (fixed concurrency).
//!
//! Both are bounded: they stop at `warmup + duration`, or after `max_requests` measured
//! requests, and every request has a timeout. The open loop also stops issuing once
//! `max_backlog` requests wait for a connection: past that the target is saturated, the
//! run is marked so, and queuing more would only measure the harness's own queue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use tokio::sync::{Mutex, Semaphore};

use crate::client::TargetClient;
use crate::error::BenchError;
use crate::queries::{Query, QueryKind};
use crate::schedule::{Clock, MonotonicClock, OpenLoopSchedule, Outcome, Recorder, RunLimits};

/// A query rendered once, before the run, so the loop only sends bytes.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    /// What it exercises (the per-kind breakdown of the report).
    pub kind: QueryKind,
    /// Method.
    pub method: Method,
    /// Path and query string.
    pub path: String,
    /// JSON body bytes.
    pub body: Option<Bytes>,
}

impl From<&Query> for PreparedRequest {
    fn from(query: &Query) -> Self {
        Self {
            kind: query.kind,
            method: if query.method == "POST" {
                Method::POST
            } else {
                Method::GET
            },
            path: query.path.clone(),
            body: query
                .body
                .as_ref()
                .map(|b| Bytes::from(serde_json::to_vec(b).expect("a JSON value serialises"))),
        }
    }
}

/// Requests a loop cycles through, and where the next one is taken. Each target has its
/// own cursor, so every target sees the same sequence of requests.
#[derive(Debug)]
pub struct RequestCursor {
    requests: Arc<[PreparedRequest]>,
    next: AtomicU64,
}

impl RequestCursor {
    /// A cursor at the first request.
    ///
    /// # Panics
    /// When `requests` is empty.
    pub fn new(requests: Arc<[PreparedRequest]>) -> Self {
        assert!(
            !requests.is_empty(),
            "a load loop needs at least one request"
        );
        Self {
            requests,
            next: AtomicU64::new(0),
        }
    }

    fn take(&self) -> PreparedRequest {
        let i = self.next.fetch_add(1, Ordering::Relaxed) as usize % self.requests.len();
        self.requests[i].clone()
    }
}

/// How load is offered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadMode {
    /// Requests leave at `rate` per second whatever the answers do; at most
    /// `connections` are outstanding on the wire.
    Open {
        /// Requests per second.
        rate: f64,
    },
    /// `connections` workers each send, wait for the answer, and send again.
    Closed,
}

/// Result of one loop.
#[derive(Debug, Clone)]
pub struct LoopResult {
    /// Measured latencies and counts.
    pub recorder: Recorder,
    /// Wall time of the measured window (from the end of the warm-up until the last
    /// measured answer came back).
    pub measured: std::time::Duration,
    /// True when the open loop stopped early because its backlog was full.
    pub saturated: bool,
}

async fn exchange(client: &TargetClient, request: PreparedRequest) -> Outcome {
    let body = request.body.map(|b| (b, "application/json"));
    match client.send(request.method, &request.path, body).await {
        Ok(answer) if answer.status.is_success() => Outcome::Success,
        Ok(answer) => Outcome::Failure(format!(
            "{} {}: {}",
            answer.status,
            request.path,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)])
        )),
        Err(error) => Outcome::Failure(error.to_string()),
    }
}

/// Runs one loop against one target.
///
/// # Errors
/// [`BenchError::InvalidRate`] for an open loop with a rate that is not positive.
pub async fn run_loop(
    client: &TargetClient,
    cursor: &Arc<RequestCursor>,
    mode: LoadMode,
    connections: usize,
    limits: RunLimits,
    max_backlog: usize,
) -> Result<LoopResult, BenchError> {
    match mode {
        LoadMode::Open { rate } => {
            open_loop(client, cursor, rate, connections, limits, max_backlog).await
        }
        LoadMode::Closed => Ok(closed_loop(client, cursor, connections, limits).await),
    }
}

async fn open_loop(
    client: &TargetClient,
    cursor: &RequestCursor,
    rate: f64,
    connections: usize,
    limits: RunLimits,
    max_backlog: usize,
) -> Result<LoopResult, BenchError> {
    let mut schedule = OpenLoopSchedule::new(rate, limits)?;
    let clock = MonotonicClock::start();
    let connections = Arc::new(Semaphore::new(connections.max(1)));
    let recorder = Arc::new(Mutex::new(Recorder::new()));
    let in_flight = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let mut saturated = false;
    while let Some(tick) = schedule.next_tick() {
        // Tokio's timer wakes at millisecond granularity: above 1 000 req/s several ticks
        // leave together. Harmless, as each one is charged from its own intended time.
        tokio::time::sleep_until(clock.instant(tick.intended)).await;
        if in_flight.load(Ordering::Relaxed) as usize >= max_backlog {
            saturated = true;
            break;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let request = cursor.take();
        let client = client.clone();
        let connections = connections.clone();
        let recorder = recorder.clone();
        let in_flight = in_flight.clone();
        tasks.spawn(async move {
            let permit = connections
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let kind = request.kind;
            let outcome = exchange(&client, request).await;
            let completed = clock.now();
            drop(permit);
            in_flight.fetch_sub(1, Ordering::Relaxed);
            recorder
                .lock()
                .await
                .record_tick_as(kind.name(), &tick, completed, outcome);
            completed
        });
        // Reap finished tasks as we go so the set stays as small as the backlog.
        while tasks.try_join_next().is_some() {}
    }
    let mut last = clock.now();
    while let Some(done) = tasks.join_next().await {
        if let Ok(completed) = done {
            last = last.max(completed);
        }
    }
    let recorder = recorder.lock().await.clone();
    Ok(LoopResult {
        recorder,
        measured: last.saturating_sub(limits.warmup),
        saturated,
    })
}

async fn closed_loop(
    client: &TargetClient,
    cursor: &Arc<RequestCursor>,
    connections: usize,
    limits: RunLimits,
) -> LoopResult {
    let clock = MonotonicClock::start();
    let measured_issued = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..connections.max(1) {
        let client = client.clone();
        let cursor = cursor.clone();
        let measured_issued = measured_issued.clone();
        workers.spawn(async move {
            let mut recorder = Recorder::new();
            let mut last = std::time::Duration::ZERO;
            loop {
                let sent = clock.now();
                if sent >= limits.end() {
                    break;
                }
                let measured = sent >= limits.warmup;
                if measured {
                    if let Some(max) = limits.max_requests {
                        if measured_issued.fetch_add(1, Ordering::Relaxed) >= max {
                            break;
                        }
                    }
                }
                let request = cursor.take();
                let kind = request.kind;
                let outcome = exchange(&client, request).await;
                last = clock.now();
                recorder.record_as(kind.name(), measured, sent, last, outcome);
            }
            (recorder, last)
        });
    }
    let mut recorder = Recorder::new();
    let mut last = std::time::Duration::ZERO;
    while let Some(done) = workers.join_next().await {
        let (worker, worker_last) = done.expect("load workers do not panic");
        recorder.merge(&worker);
        last = last.max(worker_last);
    }
    LoopResult {
        recorder,
        measured: last.saturating_sub(limits.warmup),
        saturated: false,
    }
}
