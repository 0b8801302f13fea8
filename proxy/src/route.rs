//! Route classification: which Meilisearch route a request is, and how Miroir serves it.
//!
//! This is the table of DESIGN.md §6 in code. Classification is a pure function of the
//! method and the path; the handlers decide everything else.

use http::Method;

/// How Miroir serves a route (DESIGN.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serve {
    /// Miroir answers from its own state (health, tasks, batches).
    Local,
    /// One node answers; Pingora proxies the request natively.
    Single,
    /// Every node of one covering set answers; the merger combines the answers.
    FanOut,
    /// Documents are split by primary key and sent to their shards' nodes.
    Routed,
    /// Every node gets the same request; one Miroir task covers them all.
    Broadcast,
    /// Miroir refuses the route with a clear error.
    Refused,
}

/// The settings sub-routes, by their path segment.
pub const SETTINGS_SUB_ROUTES: &[&str] = &[
    "chat",
    "dictionary",
    "displayed-attributes",
    "distinct-attribute",
    "embedders",
    "facet-search",
    "faceting",
    "filterable-attributes",
    "foreign-keys",
    "localized-attributes",
    "non-separator-tokens",
    "pagination",
    "prefix-search",
    "proximity-precision",
    "ranking-rules",
    "search-cutoff-ms",
    "searchable-attributes",
    "separator-tokens",
    "sortable-attributes",
    "stop-words",
    "synonyms",
    "typo-tolerance",
];

/// A classified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    Version,
    GlobalStats,
    ListIndexes,
    CreateIndex,
    GetIndex {
        index: String,
    },
    UpdateIndex {
        index: String,
    },
    DeleteIndex {
        index: String,
    },
    IndexStats {
        index: String,
    },
    SwapIndexes,
    CompactIndex {
        index: String,
    },
    /// `GET`, `PATCH`/`PUT` or `DELETE` on the settings or one sub-route.
    Settings {
        index: String,
        sub: Option<String>,
        method: Method,
    },
    /// `POST` (replace) or `PUT` (update) documents.
    AddDocuments {
        index: String,
        replace: bool,
    },
    BrowseDocuments {
        index: String,
    },
    FetchDocuments {
        index: String,
    },
    GetDocument {
        index: String,
        id: String,
    },
    DeleteDocument {
        index: String,
        id: String,
    },
    DeleteDocumentsBatch {
        index: String,
    },
    DeleteDocumentsByFilter {
        index: String,
    },
    DeleteAllDocuments {
        index: String,
    },
    EditDocuments {
        index: String,
    },
    Search {
        index: String,
    },
    FacetSearch {
        index: String,
    },
    Similar {
        index: String,
    },
    Fields {
        index: String,
    },
    MultiSearch,
    ListTasks,
    GetTask {
        uid: String,
    },
    TaskDocuments {
        uid: String,
    },
    CancelTasks,
    DeleteTasks,
    CompactTasks,
    ListBatches,
    GetBatch {
        uid: String,
    },
    ListKeys,
    CreateKey,
    GetKey {
        key: String,
    },
    UpdateKey {
        key: String,
    },
    DeleteKey {
        key: String,
    },
    CreateDump,
    CreateSnapshot,
    GetExperimentalFeatures,
    UpdateExperimentalFeatures,
    /// A Meilisearch route Miroir does not serve over a sharded fleet, with the reason.
    Unsupported {
        reason: &'static str,
    },
    /// A known path with a method Meilisearch does not accept there.
    MethodNotAllowed,
    /// No such route.
    NotFound,
}

impl Route {
    /// The route's name in metrics: a fixed word per kind of request, never an index
    /// uid or an id (they would make a label per index or per document).
    pub fn name(&self) -> &'static str {
        use Route::*;
        match self {
            Health => "health",
            Version => "version",
            GlobalStats => "stats",
            ListIndexes => "indexes.list",
            CreateIndex => "indexes.create",
            GetIndex { .. } => "indexes.get",
            UpdateIndex { .. } => "indexes.update",
            DeleteIndex { .. } => "indexes.delete",
            IndexStats { .. } => "indexes.stats",
            SwapIndexes => "swap-indexes",
            CompactIndex { .. } => "indexes.compact",
            Settings { method, .. } if method == Method::GET => "settings.get",
            Settings { .. } => "settings.update",
            AddDocuments { .. } => "documents.add",
            BrowseDocuments { .. } => "documents.browse",
            FetchDocuments { .. } => "documents.fetch",
            GetDocument { .. } => "documents.get",
            DeleteDocument { .. } => "documents.delete",
            DeleteDocumentsBatch { .. } => "documents.delete-batch",
            DeleteDocumentsByFilter { .. } => "documents.delete-by-filter",
            DeleteAllDocuments { .. } => "documents.delete-all",
            EditDocuments { .. } => "documents.edit",
            Search { .. } => "search",
            FacetSearch { .. } => "facet-search",
            Similar { .. } => "similar",
            Fields { .. } => "fields",
            MultiSearch => "multi-search",
            ListTasks => "tasks.list",
            GetTask { .. } => "tasks.get",
            TaskDocuments { .. } => "tasks.documents",
            CancelTasks => "tasks.cancel",
            DeleteTasks => "tasks.delete",
            CompactTasks => "tasks.compact",
            ListBatches => "batches.list",
            GetBatch { .. } => "batches.get",
            ListKeys => "keys.list",
            CreateKey => "keys.create",
            GetKey { .. } => "keys.get",
            UpdateKey { .. } => "keys.update",
            DeleteKey { .. } => "keys.delete",
            CreateDump => "dumps",
            CreateSnapshot => "snapshots",
            GetExperimentalFeatures => "experimental-features.get",
            UpdateExperimentalFeatures => "experimental-features.update",
            Unsupported { .. } => "unsupported",
            MethodNotAllowed => "method-not-allowed",
            NotFound => "not-found",
        }
    }

    /// How Miroir serves this route.
    pub fn serve(&self) -> Serve {
        use Route::*;
        match self {
            Health
            | ListTasks
            | GetTask { .. }
            | CancelTasks
            | DeleteTasks
            | ListBatches
            | GetBatch { .. } => Serve::Local,
            Version
            | ListIndexes
            | GetIndex { .. }
            | GetDocument { .. }
            | ListKeys
            | GetKey { .. }
            | GetExperimentalFeatures => Serve::Single,
            Settings { method, .. } if method == Method::GET => Serve::Single,
            GlobalStats
            | IndexStats { .. }
            | BrowseDocuments { .. }
            | FetchDocuments { .. }
            | Search { .. }
            | FacetSearch { .. }
            | Similar { .. }
            | MultiSearch
            | Fields { .. } => Serve::FanOut,
            AddDocuments { .. } | DeleteDocument { .. } | DeleteDocumentsBatch { .. } => {
                Serve::Routed
            }
            CreateIndex
            | UpdateIndex { .. }
            | DeleteIndex { .. }
            | SwapIndexes
            | CompactIndex { .. }
            | Settings { .. }
            | DeleteDocumentsByFilter { .. }
            | DeleteAllDocuments { .. }
            | EditDocuments { .. }
            | CreateKey
            | UpdateKey { .. }
            | DeleteKey { .. }
            | CreateDump
            | CreateSnapshot
            | UpdateExperimentalFeatures => Serve::Broadcast,
            TaskDocuments { .. }
            | CompactTasks
            | Unsupported { .. }
            | MethodNotAllowed
            | NotFound => Serve::Refused,
        }
    }

    /// The index the route is about, if any.
    pub fn index(&self) -> Option<&str> {
        use Route::*;
        match self {
            GetIndex { index }
            | UpdateIndex { index }
            | DeleteIndex { index }
            | IndexStats { index }
            | CompactIndex { index }
            | Settings { index, .. }
            | AddDocuments { index, .. }
            | BrowseDocuments { index }
            | FetchDocuments { index }
            | GetDocument { index, .. }
            | DeleteDocument { index, .. }
            | DeleteDocumentsBatch { index }
            | DeleteDocumentsByFilter { index }
            | DeleteAllDocuments { index }
            | EditDocuments { index }
            | Search { index }
            | FacetSearch { index }
            | Similar { index }
            | Fields { index } => Some(index),
            _ => None,
        }
    }
}

/// Decode one `%XX`-escaped path segment. Invalid escapes are kept as written, as
/// Meilisearch's router does not reject them either.
fn decode_segment(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let digits = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]));
            if let (Some(high), Some(low)) = digits {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Classify a request by method and path (without the query string).
pub fn classify(method: &Method, path: &str) -> Route {
    let trimmed = path.trim_matches('/');
    let segments: Vec<String> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').map(decode_segment).collect()
    };
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = method;
    use Route::*;
    let allowed = |ok: bool, route: Route| if ok { route } else { MethodNotAllowed };
    match seg.as_slice() {
        ["health"] => allowed(m == Method::GET, Health),
        ["version"] => allowed(m == Method::GET, Version),
        ["stats"] => allowed(m == Method::GET, GlobalStats),
        ["indexes"] => match *m {
            Method::GET => ListIndexes,
            Method::POST => CreateIndex,
            _ => MethodNotAllowed,
        },
        ["indexes", index] => {
            let index = (*index).to_owned();
            match *m {
                Method::GET => GetIndex { index },
                Method::PATCH => UpdateIndex { index },
                Method::DELETE => DeleteIndex { index },
                _ => MethodNotAllowed,
            }
        }
        ["indexes", index, rest @ ..] => classify_index_route(m, index, rest),
        ["swap-indexes"] => allowed(m == Method::POST, SwapIndexes),
        ["multi-search"] => allowed(m == Method::POST, MultiSearch),
        ["tasks"] => match *m {
            Method::GET => ListTasks,
            Method::DELETE => DeleteTasks,
            _ => MethodNotAllowed,
        },
        ["tasks", "cancel"] => allowed(m == Method::POST, CancelTasks),
        ["tasks", "compact"] => allowed(m == Method::POST, CompactTasks),
        ["tasks", uid] => allowed(m == Method::GET, GetTask { uid: (*uid).to_owned() }),
        ["tasks", uid, "documents"] => allowed(m == Method::GET, TaskDocuments { uid: (*uid).to_owned() }),
        ["batches"] => allowed(m == Method::GET, ListBatches),
        ["batches", uid] => allowed(m == Method::GET, GetBatch { uid: (*uid).to_owned() }),
        ["keys"] => match *m {
            Method::GET => ListKeys,
            Method::POST => CreateKey,
            _ => MethodNotAllowed,
        },
        ["keys", key] => {
            let key = (*key).to_owned();
            match *m {
                Method::GET => GetKey { key },
                Method::PATCH => UpdateKey { key },
                Method::DELETE => DeleteKey { key },
                _ => MethodNotAllowed,
            }
        }
        ["dumps"] => allowed(m == Method::POST, CreateDump),
        ["snapshots"] => allowed(m == Method::POST, CreateSnapshot),
        ["experimental-features"] => match *m {
            Method::GET => GetExperimentalFeatures,
            Method::PATCH => UpdateExperimentalFeatures,
            _ => MethodNotAllowed,
        },
        ["network", ..] => Unsupported {
            reason: "Meilisearch's own network sharding cannot be combined with Miroir: Miroir is the network",
        },
        ["export"] => Unsupported { reason: "exporting a sharded fleet to a remote Meilisearch is not supported yet" },
        ["chats", ..] => Unsupported { reason: "chat completions are not served over a sharded fleet" },
        ["webhooks", ..] => Unsupported { reason: "webhooks would fire once per node; configure them on the nodes" },
        ["logs", ..] => Unsupported { reason: "log streaming is per node; read each node's logs" },
        ["metrics"] => Unsupported { reason: "node metrics are per node; Miroir's own metrics are served at `GET /_miroir/metrics` on its admin listener (`admin_listen`)" },
        ["dynamic-search-rules", ..] => Unsupported { reason: "dynamic search rules are not served over a sharded fleet yet" },
        ["render-template"] => Unsupported { reason: "template rendering needs one index's documents; not served over a sharded fleet yet" },
        _ => NotFound,
    }
}

fn classify_index_route(m: &Method, index: &str, rest: &[&str]) -> Route {
    use Route::*;
    let index = index.to_owned();
    match rest {
        ["stats"] => {
            if m == Method::GET {
                IndexStats { index }
            } else {
                MethodNotAllowed
            }
        }
        ["compact"] => {
            if m == Method::POST {
                CompactIndex { index }
            } else {
                MethodNotAllowed
            }
        }
        ["search"] => {
            if m == Method::GET || m == Method::POST {
                Search { index }
            } else {
                MethodNotAllowed
            }
        }
        ["facet-search"] => {
            if m == Method::POST {
                FacetSearch { index }
            } else {
                MethodNotAllowed
            }
        }
        ["similar"] => {
            if m == Method::GET || m == Method::POST {
                Similar { index }
            } else {
                MethodNotAllowed
            }
        }
        ["fields"] => {
            if m == Method::POST {
                Fields { index }
            } else {
                MethodNotAllowed
            }
        }
        ["documents"] => match *m {
            Method::GET => BrowseDocuments { index },
            Method::POST => AddDocuments {
                index,
                replace: true,
            },
            Method::PUT => AddDocuments {
                index,
                replace: false,
            },
            Method::DELETE => DeleteAllDocuments { index },
            _ => MethodNotAllowed,
        },
        ["documents", "fetch"] if m == Method::POST => FetchDocuments { index },
        ["documents", "delete"] if m == Method::POST => DeleteDocumentsByFilter { index },
        ["documents", "delete-batch"] if m == Method::POST => DeleteDocumentsBatch { index },
        ["documents", "edit"] if m == Method::POST => EditDocuments { index },
        ["documents", id] => {
            let id = (*id).to_owned();
            match *m {
                Method::GET => GetDocument { index, id },
                Method::DELETE => DeleteDocument { index, id },
                _ => MethodNotAllowed,
            }
        }
        ["settings"] => match *m {
            Method::GET | Method::PATCH | Method::DELETE => Settings {
                index,
                sub: None,
                method: m.clone(),
            },
            _ => MethodNotAllowed,
        },
        ["settings", sub] if SETTINGS_SUB_ROUTES.contains(sub) => {
            let write_method = settings_write_method(sub);
            if m == Method::GET || m == Method::DELETE || *m == write_method {
                Settings {
                    index,
                    sub: Some((*sub).to_owned()),
                    method: m.clone(),
                }
            } else {
                MethodNotAllowed
            }
        }
        _ => NotFound,
    }
}

/// The method that updates a settings sub-route: `PATCH` for the object-valued
/// settings, `PUT` for the others, as Meilisearch routes them.
pub fn settings_write_method(sub: &str) -> Method {
    match sub {
        "chat" | "embedders" | "faceting" | "pagination" | "typo-tolerance" => Method::PATCH,
        _ => Method::PUT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_routes_fan_out() {
        let route = classify(&Method::POST, "/indexes/movies/search");
        assert_eq!(
            route,
            Route::Search {
                index: "movies".to_owned()
            }
        );
        assert_eq!(route.serve(), Serve::FanOut);
        assert_eq!(
            classify(&Method::GET, "/indexes/movies/search").serve(),
            Serve::FanOut
        );
    }

    #[test]
    fn document_writes_are_routed_by_primary_key() {
        assert_eq!(
            classify(&Method::POST, "/indexes/movies/documents"),
            Route::AddDocuments {
                index: "movies".to_owned(),
                replace: true
            }
        );
        assert_eq!(
            classify(&Method::PUT, "/indexes/movies/documents"),
            Route::AddDocuments {
                index: "movies".to_owned(),
                replace: false
            }
        );
        assert_eq!(
            classify(&Method::POST, "/indexes/movies/documents/delete-batch").serve(),
            Serve::Routed
        );
        assert_eq!(
            classify(&Method::DELETE, "/indexes/movies/documents/42").serve(),
            Serve::Routed
        );
    }

    #[test]
    fn document_sub_routes_win_over_document_ids() {
        assert_eq!(
            classify(&Method::POST, "/indexes/movies/documents/fetch"),
            Route::FetchDocuments {
                index: "movies".to_owned()
            }
        );
        assert_eq!(
            classify(&Method::GET, "/indexes/movies/documents/fetch"),
            Route::GetDocument {
                index: "movies".to_owned(),
                id: "fetch".to_owned()
            }
        );
    }

    #[test]
    fn settings_sub_routes_accept_their_own_write_method_only() {
        assert_eq!(
            classify(
                &Method::PUT,
                "/indexes/movies/settings/filterable-attributes"
            ),
            Route::Settings {
                index: "movies".to_owned(),
                sub: Some("filterable-attributes".to_owned()),
                method: Method::PUT
            }
        );
        assert_eq!(
            classify(
                &Method::PATCH,
                "/indexes/movies/settings/filterable-attributes"
            ),
            Route::MethodNotAllowed
        );
        assert_eq!(
            classify(&Method::PATCH, "/indexes/movies/settings/typo-tolerance").serve(),
            Serve::Broadcast
        );
        assert_eq!(
            classify(&Method::GET, "/indexes/movies/settings/typo-tolerance").serve(),
            Serve::Single
        );
        assert_eq!(
            classify(&Method::GET, "/indexes/movies/settings/nope"),
            Route::NotFound
        );
    }

    #[test]
    fn tasks_are_served_locally() {
        assert_eq!(
            classify(&Method::GET, "/tasks/12"),
            Route::GetTask {
                uid: "12".to_owned()
            }
        );
        assert_eq!(classify(&Method::GET, "/tasks/12").serve(), Serve::Local);
        assert_eq!(
            classify(&Method::POST, "/tasks/cancel").serve(),
            Serve::Local
        );
        assert_eq!(classify(&Method::DELETE, "/tasks").serve(), Serve::Local);
    }

    #[test]
    fn index_uids_are_percent_decoded() {
        assert_eq!(
            classify(&Method::GET, "/indexes/my%2Dindex"),
            Route::GetIndex {
                index: "my-index".to_owned()
            }
        );
    }

    #[test]
    fn network_routes_are_refused_with_a_reason() {
        assert!(matches!(
            classify(&Method::GET, "/network"),
            Route::Unsupported { .. }
        ));
        assert_eq!(classify(&Method::GET, "/nope"), Route::NotFound);
        assert_eq!(classify(&Method::PUT, "/health"), Route::MethodNotAllowed);
    }
}
