//! The task worker of a fake node: takes enqueued tasks one at a time (cancelations and
//! deletions first, as Meilisearch prioritises them), marks them `processing` in a batch
//! of their own, waits the configurable task delay, applies them to the store and
//! records success or failure with Meilisearch's details and errors.

use std::time::Duration;

use miroir_fake_engine::{Document, MeiliError};
use serde_json::Value;
use time::OffsetDateTime;

use super::engine;
use super::error::{self};
use super::store::{Index, Store};
use super::tasks::{Batch, Details, Operation, Swap, TaskStatus};
use super::Node;

/// Run the worker of `node` until the node is dropped.
pub async fn run(node: std::sync::Weak<Node>) {
    loop {
        let Some(strong) = node.upgrade() else { return };
        let wake = strong.wake.clone();
        let notified = wake.notified();
        let picked = start_next(&strong);
        match picked {
            None => {
                drop(strong);
                // Re-check liveness from time to time so a dropped node ends the worker.
                let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
            }
            Some((uid, is_priority)) => {
                let delay = strong.task_delay();
                if !is_priority && !delay.is_zero() {
                    let cancel = strong.cancel.clone();
                    drop(strong);
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        // A cancelation arrived: let the loop run it first; this task stays
                        // `processing` and is resumed (or found canceled) afterwards.
                        _ = cancel.notified() => continue,
                    }
                    let Some(strong) = node.upgrade() else { return };
                    finish(&strong, uid);
                } else {
                    finish(&strong, uid);
                }
            }
        }
    }
}

/// Pick the next task and mark it processing. Returns its uid and whether it is a
/// cancelation or deletion (never delayed).
fn start_next(node: &Node) -> Option<(u32, bool)> {
    let mut store = node.lock();
    let rank = |op: &Operation| match op {
        Operation::TaskCancelation { .. } => 0,
        Operation::TaskDeletion { .. } => 1,
        _ => 2,
    };
    let candidate = store
        .tasks
        .values()
        .filter(|t| matches!(t.status, TaskStatus::Enqueued | TaskStatus::Processing))
        .min_by_key(|t| {
            let resume = if t.status == TaskStatus::Processing {
                0
            } else {
                1
            };
            (rank(&t.op), resume, t.uid)
        })
        .map(|t| (t.uid, t.status, rank(&t.op) < 2))?;
    let (uid, status, priority) = candidate;
    if status == TaskStatus::Enqueued {
        let now = OffsetDateTime::now_utc();
        let batch_uid = store.next_batch_uid;
        store.next_batch_uid += 1;
        let kind = store.tasks[&uid].kind;
        store.batches.insert(
            batch_uid,
            Batch {
                uid: batch_uid,
                tasks: vec![uid],
                started_at: now,
                finished_at: None,
                strategy: format!(
                    "created batch containing only task with id {uid} of type `{kind}` that cannot be batched with any other task."
                ),
            },
        );
        let task = store
            .tasks
            .get_mut(&uid)
            .expect("candidate uid comes from the task map");
        task.status = TaskStatus::Processing;
        task.started_at = Some(now);
        task.batch_uid = Some(batch_uid);
    }
    Some((uid, priority))
}

/// Apply the processing task `uid` and record its outcome.
fn finish(node: &Node, uid: u32) {
    let mut store = node.lock();
    let Some(task) = store.tasks.get(&uid) else {
        return;
    };
    if task.status != TaskStatus::Processing {
        return; // canceled while waiting
    }
    let op = task.op.clone();
    let index_uid = task.index_uid.clone();
    let details = task.details.clone();
    let batch_uid = task.batch_uid;
    let outcome = apply(&mut store, uid, index_uid.as_deref(), &op, &details);
    let now = OffsetDateTime::now_utc();
    if let Some(batch) = batch_uid.and_then(|b| store.batches.get_mut(&b)) {
        batch.finished_at = Some(now);
    }
    let touched_index = index_uid.is_some()
        && !matches!(
            op,
            Operation::TaskCancelation { .. } | Operation::TaskDeletion { .. }
        );
    if let Some(task) = store.tasks.get_mut(&uid) {
        task.finished_at = Some(now);
        // The payload is not needed anymore; keep only what the views show.
        task.op = strip_payload(&task.op);
        match outcome {
            Ok(done) => {
                task.status = TaskStatus::Succeeded;
                task.details = done;
            }
            Err(error) => {
                task.status = TaskStatus::Failed;
                task.details = details.to_failed();
                task.error = Some(error);
            }
        }
    }
    if touched_index {
        store.last_update = Some(now);
    }
}

fn strip_payload(op: &Operation) -> Operation {
    match op {
        Operation::DocumentAddition {
            primary_key,
            replace,
            ..
        } => Operation::DocumentAddition {
            documents: Vec::new(),
            primary_key: primary_key.clone(),
            replace: *replace,
        },
        other => other.clone(),
    }
}

/// The primary key string of a document id value, if it is a valid id.
pub fn id_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if is_valid_document_id(s) => Some(s.clone()),
        Value::Number(n) if !n.is_f64() => Some(n.to_string()),
        _ => None,
    }
}

fn is_valid_document_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() < 512
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn invalid_document_id(value: &Value) -> MeiliError {
    MeiliError::new(
        400,
        "invalid_document_id",
        "invalid_request",
        format!(
            "Document identifier `{value}` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes."
        ),
    )
}

fn user_error(code: &str, message: String) -> MeiliError {
    MeiliError::new(400, code, "invalid_request", message)
}

/// Look a primary key up, following dots into nested objects when the flat key is absent.
fn lookup<'a>(doc: &'a Document, pk: &str) -> Option<&'a Value> {
    if let Some(v) = doc.get(pk) {
        return Some(v);
    }
    let (head, rest) = pk.split_once('.')?;
    match doc.get(head)? {
        Value::Object(inner) => lookup(inner, rest),
        _ => None,
    }
}

/// Meilisearch's primary key inference: the single field of the first document whose
/// lowercased name ends with `id`.
fn infer_primary_key(first: Option<&Document>) -> Result<String, MeiliError> {
    let no_candidate = || {
        user_error(
            "index_primary_key_no_candidate_found",
            "The primary key inference failed as the engine did not find any field ending with `id` in its name. Please specify the primary key manually using the `primaryKey` query parameter.".to_owned(),
        )
    };
    let first = first.ok_or_else(no_candidate)?;
    let mut candidates: Vec<&String> = first
        .keys()
        .filter(|k| k.to_lowercase().ends_with("id"))
        .collect();
    candidates.sort();
    match candidates.as_slice() {
        [] => Err(no_candidate()),
        [one] => Ok((*one).clone()),
        many => Err(user_error(
            "index_primary_key_multiple_candidates_found",
            format!(
                "The primary key inference failed as the engine found {} fields ending with `id` in their names: '{}' and '{}'. Please specify the primary key manually using the `primaryKey` query parameter.",
                many.len(), many[0], many[1]
            ),
        )),
    }
}

/// Meilisearch fails an addition in which a document gives no vector for a
/// `userProvided` embedder (`_vectors.<embedder>: null` opts out). The wording is
/// Meilisearch's without its misspelling hints; it counts the other documents exactly
/// where Meilisearch says "at least" per chunk.
fn missing_user_vectors(
    index: &Index,
    keyed: &[(String, &Document)],
    replace: bool,
) -> Result<(), MeiliError> {
    let Some(embedders) = index.settings.get("embedders").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, embedder) in embedders {
        if embedder.get("source").and_then(Value::as_str) != Some("userProvided") {
            continue;
        }
        let gives = |doc: &Document| {
            doc.get("_vectors")
                .and_then(Value::as_object)
                .is_some_and(|v| v.contains_key(name))
        };
        let missing: Vec<&String> = keyed
            .iter()
            .filter(|(id, doc)| !gives(doc) && (replace || !index.docs.get(id).is_some_and(&gives)))
            .map(|(id, _)| id)
            .collect();
        let Some(first) = missing.first() else {
            continue;
        };
        let others = match missing.len() - 1 {
            0 => String::new(),
            n => format!(" and at least {n} other document(s)"),
        };
        return Err(user_error(
            "vector_embedding_error",
            format!(
                "Index `{}`: While embedding documents for embedder `{name}`: no vectors provided for document `{first}`{others}\n- Note: `{name}` has `source: userProvided`, so documents must provide embeddings as an array in `_vectors.{name}`.\n- Hint: opt-out for a document with `_vectors.{name}: null`",
                index.uid
            ),
        ));
    }
    Ok(())
}

fn index_mut<'a>(store: &'a mut Store, uid: &str) -> Result<&'a mut Index, MeiliError> {
    store
        .indexes
        .get_mut(uid)
        .ok_or_else(|| error::index_not_found(uid))
}

fn index_or_create<'a>(store: &'a mut Store, uid: &str, now: OffsetDateTime) -> &'a mut Index {
    store
        .indexes
        .entry(uid.to_owned())
        .or_insert_with(|| Index::new(uid, None, now))
}

fn apply(
    store: &mut Store,
    task_uid: u32,
    index_uid: Option<&str>,
    op: &Operation,
    details: &Details,
) -> Result<Details, MeiliError> {
    let now = OffsetDateTime::now_utc();
    let uid = index_uid.unwrap_or_default();
    match op {
        Operation::DocumentAddition {
            documents,
            primary_key,
            replace,
        } => {
            let index = index_or_create(store, uid, now);
            let pk = match (&index.primary_key, primary_key) {
                (Some(existing), Some(asked)) if existing != asked => {
                    return Err(user_error(
                        "index_primary_key_already_exists",
                        format!("Index already has a primary key: `{existing}`."),
                    ))
                }
                (Some(existing), _) => existing.clone(),
                (None, Some(asked)) => asked.clone(),
                (None, None) => infer_primary_key(documents.first())?,
            };
            let mut keyed = Vec::with_capacity(documents.len());
            for doc in documents {
                let value = match lookup(doc, &pk) {
                    Some(v) => v,
                    None => {
                        return Err(user_error(
                            "missing_document_id",
                            format!(
                                "Document doesn't have a `{pk}` attribute: `{}`.",
                                Value::Object(doc.clone())
                            ),
                        ))
                    }
                };
                let id = id_string(value).ok_or_else(|| invalid_document_id(value))?;
                keyed.push((id, doc));
            }
            missing_user_vectors(index, &keyed, *replace)?;
            index.primary_key = Some(pk);
            for (id, doc) in keyed {
                let merged = match (replace, index.docs.get(&id)) {
                    (false, Some(existing)) => {
                        let mut merged = existing.clone();
                        for (k, v) in doc {
                            merged.insert(k.clone(), v.clone());
                        }
                        merged
                    }
                    _ => doc.clone(),
                };
                index.docs.put(id, merged);
            }
            index.updated_at = now;
            Ok(Details::DocumentAddition {
                received: documents.len() as u64,
                indexed: Some(documents.len() as u64),
            })
        }
        Operation::DocumentDeletion { ids } => {
            let index = index_mut(store, uid)?;
            let deleted = ids.iter().filter(|id| index.docs.remove(id)).count() as u64;
            index.updated_at = now;
            Ok(Details::DocumentDeletion {
                provided_ids: ids.len() as u64,
                deleted: Some(deleted),
            })
        }
        Operation::DocumentDeletionByFilter { filter } => {
            let contains_enabled = store.features.get("containsFilter") == Some(&Value::Bool(true));
            let index = index_mut(store, uid)?;
            let ids = engine::ids_matching(index, filter, contains_enabled).map_err(|e| {
                MeiliError::new(
                    e.status,
                    "invalid_document_filter",
                    &e.error_type,
                    format!("Index `{uid}`: {}", e.message),
                )
            })?;
            let deleted = ids.iter().filter(|id| index.docs.remove(id)).count() as u64;
            index.updated_at = now;
            Ok(Details::DocumentDeletionByFilter {
                original_filter: filter.to_string(),
                deleted: Some(deleted),
            })
        }
        Operation::DocumentClear => {
            let index = index_mut(store, uid)?;
            let deleted = index.docs.clear() as u64;
            index.updated_at = now;
            Ok(Details::ClearAll {
                deleted: Some(deleted),
            })
        }
        Operation::SettingsUpdate { patch } => {
            let index = index_or_create(store, uid, now);
            // Resetting the experimental `foreignKeys` and `chat` (listed as null in reset
            // details) is a no-op while their features are off.
            let applied: serde_json::Map<String, Value> = patch
                .iter()
                .filter(|(k, v)| !(v.is_null() && matches!(k.as_str(), "foreignKeys" | "chat")))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let settings = engine::apply_settings_patch(&index.settings, &Value::Object(applied))
                .map_err(|e| {
                MeiliError::new(
                    e.status,
                    &e.code,
                    &e.error_type,
                    format!("Index `{uid}`: {}", e.message),
                )
            })?;
            index.settings = settings;
            index.updated_at = now;
            Ok(details.clone())
        }
        Operation::IndexCompaction => {
            // The fake keeps documents in memory: its index size is the documents'
            // compact JSON size (as in its stats), which compaction does not change.
            let index = store
                .indexes
                .get(uid)
                .ok_or_else(|| error::index_not_found(uid))?;
            let size = index
                .docs
                .iter()
                .map(|d| Value::Object(d.clone()).to_string().len() as u64)
                .sum::<u64>();
            Ok(Details::IndexCompaction {
                pre: Some(size),
                post: Some(size),
            })
        }
        Operation::IndexCreation { primary_key } => {
            if store.indexes.contains_key(uid) {
                return Err(error::index_already_exists(uid));
            }
            store
                .indexes
                .insert(uid.to_owned(), Index::new(uid, primary_key.clone(), now));
            Ok(details.clone())
        }
        Operation::IndexUpdate {
            primary_key,
            new_uid,
        } => {
            if !store.indexes.contains_key(uid) {
                return Err(error::index_not_found(uid));
            }
            if let Some(new_uid) = new_uid {
                if new_uid != uid && store.indexes.contains_key(new_uid) {
                    return Err(error::index_already_exists(new_uid));
                }
            }
            let index = index_mut(store, uid)?;
            if let Some(pk) = primary_key {
                match &index.primary_key {
                    Some(existing) if existing != pk && !index.docs.is_empty() => {
                        return Err(user_error(
                            "index_primary_key_already_exists",
                            format!("Index already has a primary key: `{existing}`."),
                        ))
                    }
                    _ => index.primary_key = Some(pk.clone()),
                }
            }
            index.updated_at = now;
            if let Some(new_uid) = new_uid.as_ref().filter(|n| n.as_str() != uid) {
                let mut moved = store.indexes.remove(uid).expect("checked present above");
                moved.uid = new_uid.clone();
                store.indexes.insert(new_uid.clone(), moved);
                // Meilisearch rewrites the index of every earlier task of a renamed index.
                for task in store.tasks.values_mut().filter(|t| t.uid != task_uid) {
                    if task.index_uid.as_deref() == Some(uid) {
                        task.index_uid = Some(new_uid.clone());
                    }
                }
            }
            let (old_uid, new_uid) = match new_uid {
                Some(n) => (Some(uid.to_owned()), Some(n.clone())),
                None => (None, None),
            };
            Ok(Details::IndexInfo {
                primary_key: match details {
                    Details::IndexInfo { primary_key, .. } => primary_key.clone(),
                    _ => None,
                },
                old_uid,
                new_uid,
            })
        }
        Operation::IndexDeletion => {
            let index = store
                .indexes
                .remove(uid)
                .ok_or_else(|| error::index_not_found(uid))?;
            Ok(Details::ClearAll {
                deleted: Some(index.docs.len() as u64),
            })
        }
        Operation::IndexSwap { swaps } => {
            swap_indexes(store, task_uid, swaps, now)?;
            Ok(details.clone())
        }
        Operation::TaskCancelation { matched } => {
            let (batch_uid, started_at) = {
                let task = &store.tasks[&task_uid];
                (task.batch_uid, task.started_at)
            };
            let mut canceled = 0u64;
            for uid in matched {
                if *uid == task_uid {
                    continue;
                }
                if let Some(task) = store.tasks.get_mut(uid) {
                    if matches!(task.status, TaskStatus::Enqueued | TaskStatus::Processing) {
                        if let Some(old_batch) = task.batch_uid.filter(|b| Some(*b) != batch_uid) {
                            store.batches.remove(&old_batch);
                        }
                        let task = store.tasks.get_mut(uid).expect("looked up just above");
                        task.status = TaskStatus::Canceled;
                        task.canceled_by = Some(task_uid);
                        task.batch_uid = batch_uid;
                        task.started_at = started_at;
                        task.finished_at = Some(now);
                        task.details = task.details.to_failed();
                        task.op = strip_payload(&task.op);
                        canceled += 1;
                        if let Some(batch) = batch_uid.and_then(|b| store.batches.get_mut(&b)) {
                            batch.tasks.push(*uid);
                        }
                    }
                }
            }
            match details {
                Details::TaskCancelation {
                    matched,
                    original_filter,
                    ..
                } => Ok(Details::TaskCancelation {
                    matched: *matched,
                    canceled: Some(canceled),
                    original_filter: original_filter.clone(),
                }),
                other => Ok(other.clone()),
            }
        }
        Operation::DumpCreation => {
            let now = OffsetDateTime::now_utc();
            Ok(Details::Dump {
                dump_uid: Some(format!(
                    "{:04}{:02}{:02}-{:02}{:02}{:02}{:03}",
                    now.year(),
                    u8::from(now.month()),
                    now.day(),
                    now.hour(),
                    now.minute(),
                    now.second(),
                    now.millisecond()
                )),
            })
        }
        Operation::SnapshotCreation => Ok(Details::Absent),
        Operation::TaskDeletion { matched } => {
            let mut deleted = 0u64;
            for uid in matched {
                let finished = store.tasks.get(uid).is_some_and(|t| t.status.is_finished());
                if *uid != task_uid && finished {
                    store.tasks.remove(uid);
                    deleted += 1;
                }
            }
            let tasks = &store.tasks;
            store
                .batches
                .retain(|_, batch| batch.tasks.iter().any(|t| tasks.contains_key(t)));
            match details {
                Details::TaskDeletion {
                    matched,
                    original_filter,
                    ..
                } => Ok(Details::TaskDeletion {
                    matched: *matched,
                    deleted: Some(deleted),
                    original_filter: original_filter.clone(),
                }),
                other => Ok(other.clone()),
            }
        }
    }
}

fn swap_indexes(
    store: &mut Store,
    task_uid: u32,
    swaps: &[Swap],
    now: OffsetDateTime,
) -> Result<(), MeiliError> {
    let mut missing: Vec<String> = Vec::new();
    for swap in swaps {
        let [a, b] = &swap.indexes;
        if !store.indexes.contains_key(a) && !missing.contains(a) {
            missing.push(a.clone());
        }
        if !swap.rename && !store.indexes.contains_key(b) && !missing.contains(b) {
            missing.push(b.clone());
        }
    }
    match missing.len() {
        0 => {}
        1 => return Err(error::index_not_found(&missing[0])),
        _ => {
            return Err(MeiliError::new(
                404,
                "index_not_found",
                "invalid_request",
                format!(
                    "Indexes {} not found.",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }
    let conflicts: Vec<String> = swaps
        .iter()
        .filter(|s| s.rename && store.indexes.contains_key(&s.indexes[1]))
        .map(|s| s.indexes[1].clone())
        .collect();
    if !conflicts.is_empty() {
        return Err(MeiliError::new(
            409,
            "index_already_exists",
            "invalid_request",
            format!(
                "The following indexes are being renamed but cannot because their new name conflicts with an already existing index: {}. Renaming doesn't overwrite the other index name.",
                conflicts.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    for swap in swaps {
        let [a, b] = &swap.indexes;
        let mut first = store.indexes.remove(a).expect("existence checked above");
        let second = store.indexes.remove(b);
        first.uid = b.clone();
        first.updated_at = now;
        store.indexes.insert(b.clone(), first);
        if let Some(mut second) = second {
            second.uid = a.clone();
            second.updated_at = now;
            store.indexes.insert(a.clone(), second);
        }
        // Meilisearch rewrites the index of every other task that named a swapped index.
        for task in store.tasks.values_mut().filter(|t| t.uid != task_uid) {
            if let Some(index) = &task.index_uid {
                if index == a {
                    task.index_uid = Some(b.clone());
                } else if index == b && !swap.rename {
                    task.index_uid = Some(a.clone());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Document {
        v.as_object().cloned().expect("object literal")
    }

    #[test]
    fn inference_picks_the_single_field_ending_with_id() {
        assert_eq!(
            infer_primary_key(Some(&doc(json!({"title": "a", "bookId": 1}))))
                .expect("one candidate"),
            "bookId"
        );
    }

    #[test]
    fn inference_names_the_first_two_sorted_candidates() {
        let err = infer_primary_key(Some(&doc(json!({"bid": 2, "aid": 1, "cid": 3}))))
            .expect_err("ambiguous");
        assert_eq!(err.code, "index_primary_key_multiple_candidates_found");
        assert_eq!(err.message, "The primary key inference failed as the engine found 3 fields ending with `id` in their names: 'aid' and 'bid'. Please specify the primary key manually using the `primaryKey` query parameter.");
    }

    #[test]
    fn document_ids_are_integers_or_restricted_strings() {
        assert_eq!(id_string(&json!(12)), Some("12".to_owned()));
        assert_eq!(id_string(&json!("a-b_C9")), Some("a-b_C9".to_owned()));
        assert_eq!(id_string(&json!("a b")), None);
        assert_eq!(id_string(&json!(1.5)), None);
        assert_eq!(id_string(&json!(true)), None);
    }

    #[test]
    fn invalid_ids_are_quoted_as_json_in_the_message() {
        assert_eq!(invalid_document_id(&json!("a b")).message, "Document identifier `\"a b\"` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.");
    }

    #[test]
    fn nested_primary_keys_follow_dots() {
        let d = doc(json!({"a": {"b": 7}}));
        assert_eq!(lookup(&d, "a.b"), Some(&json!(7)));
    }
}
