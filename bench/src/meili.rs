//! The Meilisearch API calls the scenarios need: create an index, apply settings, send
//! document batches and wait for their tasks, count documents.

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::{json, Value};

use crate::client::{Answer, TargetClient};
use crate::dataset::DatasetSpec;
use crate::error::BenchError;
use crate::schedule::{Outcome, Recorder};

/// How long one task may take before the harness gives up on it.
pub const TASK_TIMEOUT: Duration = Duration::from_secs(600);

/// Interval between two polls of one task (what the SDKs' `waitForTask` uses).
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

fn unexpected(client: &TargetClient, method: &str, path: &str, answer: &Answer) -> BenchError {
    BenchError::Http {
        method: method.to_owned(),
        url: format!("{}{}", client.base(), path),
        why: format!(
            "status {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(500)])
        ),
    }
}

fn json_body(
    client: &TargetClient,
    method: &str,
    path: &str,
    answer: &Answer,
) -> Result<Value, BenchError> {
    serde_json::from_slice(&answer.body).map_err(|e| BenchError::Http {
        method: method.to_owned(),
        url: format!("{}{}", client.base(), path),
        why: format!("the body is not JSON: {e}"),
    })
}

/// Reads `taskUid` out of a 202 answer.
fn task_uid(
    client: &TargetClient,
    method: &str,
    path: &str,
    answer: &Answer,
) -> Result<u64, BenchError> {
    if answer.status != http::StatusCode::ACCEPTED {
        return Err(unexpected(client, method, path, answer));
    }
    json_body(client, method, path, answer)?["taskUid"]
        .as_u64()
        .ok_or_else(|| unexpected(client, method, path, answer))
}

/// Polls `GET /tasks/{uid}` until the task succeeded.
///
/// # Errors
/// [`BenchError::TaskFailed`] when it failed or was canceled, [`BenchError::TaskTimeout`]
/// after [`TASK_TIMEOUT`], [`BenchError::Http`] when the target does not answer.
pub async fn wait_task(client: &TargetClient, target: &str, uid: u64) -> Result<(), BenchError> {
    let path = format!("/tasks/{uid}");
    let deadline = tokio::time::Instant::now() + TASK_TIMEOUT;
    loop {
        let answer = client.send(Method::GET, &path, None).await?;
        if !answer.status.is_success() {
            return Err(unexpected(client, "GET", &path, &answer));
        }
        let task = json_body(client, "GET", &path, &answer)?;
        match task["status"].as_str() {
            Some("succeeded") => return Ok(()),
            Some("enqueued" | "processing") => {}
            other => {
                return Err(BenchError::TaskFailed {
                    target: target.to_owned(),
                    uid,
                    status: other.unwrap_or("unknown").to_owned(),
                    error: task["error"].to_string(),
                })
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(BenchError::TaskTimeout {
                target: target.to_owned(),
                uid,
                seconds: TASK_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Deletes the index if it exists (a 404 is fine), then creates it with primary key `id`
/// and applies `settings`, waiting for each task.
///
/// # Errors
/// Any HTTP or task failure.
pub async fn recreate_index(
    client: &TargetClient,
    target: &str,
    index: &str,
    settings: &Value,
) -> Result<(), BenchError> {
    let path = format!("/indexes/{index}");
    // Deleting a missing index is accepted and then fails as a task: ask first.
    let existing = client.send(Method::GET, &path, None).await?;
    if existing.status.is_success() {
        let answer = client.send(Method::DELETE, &path, None).await?;
        let uid = task_uid(client, "DELETE", &path, &answer)?;
        wait_task(client, target, uid).await?;
    } else if existing.status != http::StatusCode::NOT_FOUND {
        return Err(unexpected(client, "GET", &path, &existing));
    }
    let answer = client
        .send_json(
            Method::POST,
            "/indexes",
            &json!({"uid": index, "primaryKey": "id"}),
        )
        .await?;
    let uid = task_uid(client, "POST", "/indexes", &answer)?;
    wait_task(client, target, uid).await?;
    let settings_path = format!("/indexes/{index}/settings");
    let answer = client
        .send_json(Method::PATCH, &settings_path, settings)
        .await?;
    let uid = task_uid(client, "PATCH", &settings_path, &answer)?;
    wait_task(client, target, uid).await
}

/// Number of documents in the index (`GET /indexes/{uid}/stats`).
///
/// # Errors
/// Any HTTP failure or an answer without `numberOfDocuments`.
pub async fn document_count(client: &TargetClient, index: &str) -> Result<u64, BenchError> {
    let path = format!("/indexes/{index}/stats");
    let answer = client.send(Method::GET, &path, None).await?;
    if !answer.status.is_success() {
        return Err(unexpected(client, "GET", &path, &answer));
    }
    json_body(client, "GET", &path, &answer)?["numberOfDocuments"]
        .as_u64()
        .ok_or_else(|| unexpected(client, "GET", &path, &answer))
}

/// What an ingestion achieved.
#[derive(Debug, Clone)]
pub struct IngestOutcome {
    /// Documents sent (and indexed: every task succeeded).
    pub documents: u64,
    /// From the first batch sent to the last task succeeded.
    pub elapsed: Duration,
    /// Per batch: from sending it to seeing its task succeeded.
    pub batches: Recorder,
}

/// Sends the dataset as NDJSON batches of `batch_size` documents, with at most
/// `in_flight` batch uploads at once, then polls every task in order until it
/// succeeded. Batches are generated while sending; generating 1 000 documents takes about
/// a millisecond, far below what indexing them costs.
///
/// # Errors
/// The first HTTP or task failure.
pub async fn ingest(
    client: &TargetClient,
    target: &str,
    index: &str,
    dataset: &DatasetSpec,
    batch_size: u64,
    in_flight: usize,
) -> Result<IngestOutcome, BenchError> {
    let batch_size = batch_size.max(1);
    let path = format!("/indexes/{index}/documents");
    let start = tokio::time::Instant::now();
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight.max(1)));
    let mut uploads = tokio::task::JoinSet::new();
    let mut first = 0;
    let mut batch_no = 0usize;
    while first < dataset.documents {
        let end = (first + batch_size).min(dataset.documents);
        let body = Bytes::from(dataset.ndjson_batch(first..end));
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let client = client.clone();
        let path = path.clone();
        let no = batch_no;
        uploads.spawn(async move {
            let _permit = permit;
            let sent = start.elapsed();
            let answer = client
                .send(Method::POST, &path, Some((body, "application/x-ndjson")))
                .await?;
            let uid = task_uid(&client, "POST", &path, &answer)?;
            Ok::<_, BenchError>((no, sent, uid))
        });
        first = end;
        batch_no += 1;
    }
    let mut tasks = Vec::with_capacity(batch_no);
    while let Some(joined) = uploads.join_next().await {
        tasks.push(joined.expect("upload tasks do not panic")?);
    }
    // Tasks finish in uid order on one node; polling them in that order costs one poll
    // loop at a time instead of one per batch.
    tasks.sort_by_key(|(_, _, uid)| *uid);
    let mut batches = Recorder::new();
    for (_, sent, uid) in tasks {
        wait_task(client, target, uid).await?;
        batches.record(true, sent, start.elapsed(), Outcome::Success);
    }
    Ok(IngestOutcome {
        documents: dataset.documents,
        elapsed: start.elapsed(),
        batches,
    })
}
