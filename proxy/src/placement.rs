//! Where shards live, and the guard that keeps it from changing under data.
//!
//! The placement is the replication factor and the node ids of every replica group: with
//! the routing functions of `miroir-conf` it decides which nodes own each shard. The
//! order of groups and of nodes decides nothing about it. Changing it without moving
//! the data leaves shards on nodes that are no longer asked for them and asks nodes
//! that hold nothing, so reads silently miss documents. Until the control plane moves
//! shards, Miroir refuses such a change: on `SIGHUP` (see [`crate::reload`]) and at
//! start, where the placement recorded in the task store is compared with the file's.

use std::collections::{BTreeMap, BTreeSet};

use miroir_store::Store;
use serde::{Deserialize, Serialize};

use crate::runtime::Runtime;

/// The task store key under which the placement is recorded.
pub const PLACEMENT_KEY: &str = "placement";

/// The replication factor and the node ids of every replica group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// Nodes per group holding each shard.
    pub replication_factor: usize,
    /// Group name → node ids.
    pub groups: BTreeMap<String, BTreeSet<String>>,
}

impl Placement {
    /// The placement of a runtime.
    pub fn of(runtime: &Runtime) -> Self {
        Placement {
            replication_factor: runtime.replication_factor,
            groups: runtime
                .groups
                .iter()
                .map(|(name, nodes)| {
                    (
                        name.to_string(),
                        nodes.iter().map(|n| n.to_string()).collect(),
                    )
                })
                .collect(),
        }
    }

    /// What differs from `self` to `next`, in words; `None` when nothing does.
    pub fn change_to(&self, next: &Placement) -> Option<String> {
        if self.replication_factor != next.replication_factor {
            return Some(format!(
                "replication_factor {} -> {}",
                self.replication_factor, next.replication_factor
            ));
        }
        let names = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
        let empty = BTreeSet::new();
        let all: BTreeSet<&String> = self.groups.keys().chain(next.groups.keys()).collect();
        let changes: Vec<String> = all
            .into_iter()
            .filter_map(|group| {
                let before = self.groups.get(group).unwrap_or(&empty);
                let after = next.groups.get(group).unwrap_or(&empty);
                (before != after)
                    .then(|| format!("group `{group}`: [{}] -> [{}]", names(before), names(after)))
            })
            .collect();
        (!changes.is_empty()).then(|| changes.join("; "))
    }
}

/// Why Miroir refuses to start with this placement.
#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    /// The store could not be read or written.
    #[error("the task store: {0}")]
    Store(#[from] miroir_store::StoreError),
    /// The recorded placement cannot be read.
    #[error("the placement recorded in the task store is not readable: {0}")]
    Unreadable(String),
    /// The file changes the placement while indexes exist.
    #[error(
        "the configuration changes where shards live ({change}) while {indexes} index(es) exist; their documents are on the nodes of the recorded placement, and moving shards is the control plane's work, which is not built yet. Start with the previous nodes and replication factor, or, if the nodes are empty or you accept that reads miss documents until they are re-added, start once with --allow-placement-change"
    )]
    Changed {
        /// The change, in words.
        change: String,
        /// How many indexes Miroir knows.
        indexes: usize,
    },
}

/// Compare `placement` with the one recorded in `store` and record it when there is
/// none, when nothing changed, when no index exists yet, or when `allow_change`.
/// Returns the recorded placement's change that was accepted, if any.
pub async fn check_and_record(
    store: &dyn Store,
    placement: &Placement,
    allow_change: bool,
) -> Result<Option<String>, PlacementError> {
    let value = serde_json::to_vec(placement).expect("a placement always serializes");
    loop {
        let recorded = store.get_kv(PLACEMENT_KEY).await?;
        let (change, version) = match &recorded {
            None => (None, None),
            Some((bytes, version)) => {
                let before: Placement = serde_json::from_slice(bytes)
                    .map_err(|e| PlacementError::Unreadable(e.to_string()))?;
                match before.change_to(placement) {
                    None => return Ok(None),
                    Some(change) => (Some(change), Some(*version)),
                }
            }
        };
        if let Some(change) = &change {
            let indexes = store.list_indexes().await?.len();
            if indexes > 0 && !allow_change {
                return Err(PlacementError::Changed {
                    change: change.clone(),
                    indexes,
                });
            }
        }
        if store.cas_kv(PLACEMENT_KEY, version, &value).await? {
            return Ok(change);
        }
        // Another Miroir recorded a placement meanwhile: compare with that one.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(rf: usize, groups: &[(&str, &[&str])]) -> Placement {
        Placement {
            replication_factor: rf,
            groups: groups
                .iter()
                .map(|(g, nodes)| (g.to_string(), nodes.iter().map(|n| n.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn changes_are_named_group_by_group() {
        let before = placement(1, &[("a", &["a1", "a2"]), ("b", &["b1"])]);
        assert_eq!(before.change_to(&before.clone()), None);
        assert_eq!(
            before
                .change_to(&placement(1, &[("a", &["a1"]), ("b", &["a2", "b1"])]))
                .as_deref(),
            Some("group `a`: [a1, a2] -> [a1]; group `b`: [b1] -> [a2, b1]")
        );
        assert_eq!(
            before.change_to(&placement(2, &[])).as_deref(),
            Some("replication_factor 1 -> 2")
        );
    }

    #[tokio::test]
    async fn a_change_is_refused_only_while_indexes_exist() {
        let dir = tempfile::tempdir().expect("dir");
        let store = miroir_store::open(&miroir_store::StoreConfig::Sqlite {
            path: dir.path().join("tasks.db"),
        })
        .await
        .expect("store");
        let one = placement(1, &[("g", &["n1", "n2"])]);
        let two = placement(1, &[("g", &["n1", "n2", "n3"])]);
        assert_eq!(check_and_record(&*store, &one, false).await.unwrap(), None);
        assert_eq!(check_and_record(&*store, &one, false).await.unwrap(), None);
        // No index yet: the new placement is recorded.
        assert_eq!(
            check_and_record(&*store, &two, false)
                .await
                .unwrap()
                .as_deref(),
            Some("group `g`: [n1, n2] -> [n1, n2, n3]")
        );
        store
            .put_index(&miroir_store::IndexMeta {
                uid: "movies".to_owned(),
                primary_key: None,
                shards: 16,
                created_at: time::OffsetDateTime::UNIX_EPOCH,
                updated_at: time::OffsetDateTime::UNIX_EPOCH,
            })
            .await
            .expect("index");
        let refused = check_and_record(&*store, &one, false).await.unwrap_err();
        assert!(
            matches!(&refused, PlacementError::Changed { change, indexes: 1 } if change == "group `g`: [n1, n2, n3] -> [n1, n2]"),
            "{refused}"
        );
        assert_eq!(
            check_and_record(&*store, &one, true)
                .await
                .unwrap()
                .as_deref(),
            Some("group `g`: [n1, n2, n3] -> [n1, n2]"),
            "allowed on request"
        );
        assert_eq!(check_and_record(&*store, &one, false).await.unwrap(), None);
    }
}
