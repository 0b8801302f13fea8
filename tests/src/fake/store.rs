//! In-memory storage of one fake node: indexes with their documents and settings, the
//! task and batch logs, API keys and experimental features.
//!
//! Documents keep Meilisearch's browse order: each document occupies an internal slot
//! (Meilisearch's internal document id); replacing a document keeps its slot, deleting
//! frees it, and a new document takes the smallest free slot, as Meilisearch reuses the
//! smallest free internal id.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use miroir_fake_engine::Document;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::auth::ApiKey;
use super::tasks::{Batch, Task};

/// Documents of one index, in browse order.
#[derive(Debug, Clone, Default)]
pub struct DocStore {
    slots: Vec<Option<Document>>,
    by_id: HashMap<String, usize>,
    free: BTreeSet<usize>,
}

impl DocStore {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the index holds no document.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The document with this primary key string.
    pub fn get(&self, id: &str) -> Option<&Document> {
        self.by_id
            .get(id)
            .and_then(|&slot| self.slots[slot].as_ref())
    }

    /// Documents in browse order.
    pub fn iter(&self) -> impl Iterator<Item = &Document> {
        self.slots.iter().filter_map(Option::as_ref)
    }

    /// Store a document under `id`, keeping its slot if it already exists.
    pub fn put(&mut self, id: String, doc: Document) {
        if let Some(&slot) = self.by_id.get(&id) {
            self.slots[slot] = Some(doc);
            return;
        }
        let slot = match self.free.pop_first() {
            Some(slot) => {
                self.slots[slot] = Some(doc);
                slot
            }
            None => {
                self.slots.push(Some(doc));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id, slot);
    }

    /// Remove the document `id`; true when it existed.
    pub fn remove(&mut self, id: &str) -> bool {
        match self.by_id.remove(id) {
            Some(slot) => {
                self.slots[slot] = None;
                self.free.insert(slot);
                true
            }
            None => false,
        }
    }

    /// Remove every document; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let count = self.len();
        *self = DocStore::default();
        count
    }
}

/// One index.
#[derive(Debug, Clone)]
pub struct Index {
    /// Index uid.
    pub uid: String,
    /// Primary key, once set or inferred.
    pub primary_key: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time of the last change to documents, settings or primary key.
    pub updated_at: OffsetDateTime,
    /// Full settings object (every key, defaults filled in).
    pub settings: Map<String, Value>,
    /// Documents.
    pub docs: DocStore,
}

impl Index {
    /// A new empty index with default settings.
    pub fn new(uid: &str, primary_key: Option<String>, now: OffsetDateTime) -> Self {
        Index {
            uid: uid.to_owned(),
            primary_key,
            created_at: now,
            updated_at: now,
            settings: super::engine::default_settings(),
            docs: DocStore::default(),
        }
    }

    /// The engine's view of this index.
    pub fn context(&self) -> miroir_fake_engine::IndexContext<'_> {
        miroir_fake_engine::IndexContext {
            uid: &self.uid,
            primary_key: self.primary_key.as_deref(),
            settings: &self.settings,
        }
    }
}

/// Everything a node stores. Guarded by one mutex in [`super::Node`].
#[derive(Debug, Default)]
pub struct Store {
    /// Indexes by uid (sorted, as `GET /indexes` lists them).
    pub indexes: BTreeMap<String, Index>,
    /// Task log by uid.
    pub tasks: BTreeMap<u32, Task>,
    /// Batches by uid.
    pub batches: BTreeMap<u32, Batch>,
    /// Next task uid.
    pub next_task_uid: u32,
    /// Next batch uid.
    pub next_batch_uid: u32,
    /// API keys (empty without a master key).
    pub keys: Vec<ApiKey>,
    /// Experimental feature flags, in Meilisearch's order.
    pub features: Map<String, Value>,
    /// Time of the last change to any index.
    pub last_update: Option<OffsetDateTime>,
}

/// The experimental features of Meilisearch 1.50, all off.
pub fn default_features() -> Map<String, Value> {
    [
        "metrics",
        "logsRoute",
        "editDocumentsByFunction",
        "containsFilter",
        "dynamicSearchRules",
        "network",
        "getTaskDocumentsRoute",
        "taskQueueCompactionRoute",
        "compositeEmbedders",
        "chatCompletions",
        "multimodal",
        "foreignKeys",
        "disableDocumentsFetchQueue",
        "legacySearch",
        "renderRoute",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), Value::Bool(false)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: u64) -> Document {
        serde_json::json!({ "id": id })
            .as_object()
            .cloned()
            .expect("object literal")
    }

    fn ids(store: &DocStore) -> Vec<u64> {
        store
            .iter()
            .map(|d| d["id"].as_u64().expect("numeric id"))
            .collect()
    }

    #[test]
    fn replacing_a_document_keeps_its_browse_position() {
        let mut store = DocStore::default();
        store.put("1".into(), doc(1));
        store.put("2".into(), doc(2));
        store.put("1".into(), doc(1));
        assert_eq!(ids(&store), vec![1, 2]);
    }

    #[test]
    fn a_new_document_reuses_the_smallest_freed_position() {
        let mut store = DocStore::default();
        for id in 1..=3 {
            store.put(id.to_string(), doc(id));
        }
        assert!(store.remove("1"));
        store.put("4".into(), doc(4));
        assert_eq!(ids(&store), vec![4, 2, 3]);
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn removing_a_missing_document_reports_false() {
        let mut store = DocStore::default();
        assert!(!store.remove("nope"));
    }
}
