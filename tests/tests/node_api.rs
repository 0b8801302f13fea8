//! HTTP-level specification of a node: exact task shapes, error shapes and auth codes.
//! Runs on the backend the environment selects (`MEILI_BIN` set: real Meilisearch,
//! otherwise the fake node), so running it both ways shows where the fake differs.
//! Volatile values (timestamps, durations, key strings) are masked before comparison.

use std::time::Duration;

use miroir_tests::{start_node, Backend, FleetOptions, TestNode};
use serde_json::{json, Value};

const MASTER_KEY: &str = "node-api-master-key-0123456789";

struct Api {
    node: TestNode,
    http: reqwest::Client,
}

struct Reply {
    status: u16,
    body: Value,
}

impl Api {
    async fn start() -> Api {
        let node = start_node(&FleetOptions {
            master_key: Some(MASTER_KEY.into()),
            ..FleetOptions::default()
        })
        .await
        .expect("node starts");
        eprintln!("node_api backend: {:?}", node.backend());
        Api {
            node,
            http: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut request = self
            .http
            .request(method, format!("{}{}", self.node.url(), path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request answered");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON body")
        };
        Reply { status, body }
    }

    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let ct = body.as_ref().map(|_| "application/json");
        self.send(
            method,
            path,
            Some(MASTER_KEY),
            ct,
            body.map(|b| b.to_string()),
        )
        .await
    }

    async fn wait(&self, uid: u64) -> Value {
        for _ in 0..600 {
            let reply = self.admin("GET", &format!("/tasks/{uid}"), None).await;
            let status = reply.body["status"].as_str().unwrap_or_default().to_owned();
            if ["succeeded", "failed", "canceled"].contains(&status.as_str()) {
                return reply.body;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("task {uid} did not finish");
    }

    async fn run(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = self.admin(method, path, body).await;
        assert_eq!(reply.status, 202, "{method} {path} answered {}", reply.body);
        self.wait(reply.body["taskUid"].as_u64().expect("task uid"))
            .await
    }
}

fn keys(value: &Value) -> Vec<String> {
    value
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Replace timestamps, durations and batch uids (Meilisearch may batch tasks together).
fn mask_task(mut task: Value) -> Value {
    for field in ["enqueuedAt", "startedAt", "finishedAt", "duration"] {
        if task[field].is_string() {
            task[field] = json!("<masked>");
        }
    }
    if task["batchUid"].is_u64() {
        task["batchUid"] = json!("<batch>");
    }
    task
}

#[tokio::test]
async fn registering_a_task_answers_the_summarized_view_with_202() {
    let api = Api::start().await;
    let reply = api
        .admin(
            "POST",
            "/indexes",
            Some(json!({"uid": "movies", "primaryKey": "id"})),
        )
        .await;
    assert_eq!(reply.status, 202);
    assert_eq!(
        keys(&reply.body),
        ["taskUid", "indexUid", "status", "type", "enqueuedAt"]
    );
    assert_eq!(reply.body["taskUid"], json!(0));
    assert_eq!(reply.body["indexUid"], json!("movies"));
    assert_eq!(reply.body["status"], json!("enqueued"));
    assert_eq!(reply.body["type"], json!("indexCreation"));
}

#[tokio::test]
async fn a_finished_document_addition_reports_meilisearch_details() {
    let api = Api::start().await;
    let task = api
        .run(
            "POST",
            "/indexes/books/documents",
            Some(json!([{"id": 1, "title": "A"}, {"id": "b-2", "title": "B"}])),
        )
        .await;
    assert_eq!(
        keys(&task),
        [
            "uid",
            "batchUid",
            "indexUid",
            "status",
            "type",
            "canceledBy",
            "details",
            "error",
            "duration",
            "enqueuedAt",
            "startedAt",
            "finishedAt"
        ]
    );
    assert_eq!(
        mask_task(task.clone()),
        json!({
            "uid": 0, "batchUid": "<batch>", "indexUid": "books", "status": "succeeded",
            "type": "documentAdditionOrUpdate", "canceledBy": null,
            "details": {"receivedDocuments": 2, "indexedDocuments": 2}, "error": null,
            "duration": "<masked>", "enqueuedAt": "<masked>", "startedAt": "<masked>", "finishedAt": "<masked>"
        })
    );
    let duration = task["duration"].as_str().expect("duration string");
    assert!(
        duration.starts_with("PT") && duration.ends_with('S'),
        "ISO 8601 duration, got {duration}"
    );
}

#[tokio::test]
async fn primary_key_inference_fails_the_task_when_several_fields_end_with_id() {
    let api = Api::start().await;
    let task = api
        .run(
            "POST",
            "/indexes/multi/documents",
            Some(json!([{"aid": 1, "bid": 2}])),
        )
        .await;
    assert_eq!(task["status"], json!("failed"));
    assert_eq!(
        task["details"],
        json!({"receivedDocuments": 1, "indexedDocuments": 0})
    );
    assert_eq!(
        task["error"],
        json!({
            "message": "The primary key inference failed as the engine found 2 fields ending with `id` in their names: 'aid' and 'bid'. Please specify the primary key manually using the `primaryKey` query parameter.",
            "code": "index_primary_key_multiple_candidates_found",
            "type": "invalid_request",
            "link": "https://docs.meilisearch.com/errors#index_primary_key_multiple_candidates_found"
        })
    );
}

#[tokio::test]
async fn primary_key_inference_fails_the_task_when_no_field_ends_with_id() {
    let api = Api::start().await;
    let task = api
        .run(
            "POST",
            "/indexes/nopk/documents",
            Some(json!([{"title": "x"}])),
        )
        .await;
    assert_eq!(
        task["error"]["code"],
        json!("index_primary_key_no_candidate_found")
    );
}

#[tokio::test]
async fn an_invalid_document_id_fails_the_whole_task() {
    let api = Api::start().await;
    let task = api
        .run(
            "POST",
            "/indexes/ids/documents",
            Some(json!([{"id": 1}, {"id": "a b"}])),
        )
        .await;
    assert_eq!(task["status"], json!("failed"));
    assert_eq!(task["error"]["code"], json!("invalid_document_id"));
    assert_eq!(
        task["error"]["message"],
        json!("Document identifier `\"a b\"` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes.")
    );
    let stats = api.admin("GET", "/indexes/ids/stats", None).await;
    assert_eq!(stats.body["numberOfDocuments"], json!(0));
}

#[tokio::test]
async fn csv_headers_type_their_columns() {
    let api = Api::start().await;
    let reply = api
        .send(
            "POST",
            "/indexes/csv/documents",
            Some(MASTER_KEY),
            Some("text/csv"),
            Some("id,title,price:number\n1,hello,3.5\n2,world,4".into()),
        )
        .await;
    assert_eq!(reply.status, 202);
    api.wait(reply.body["taskUid"].as_u64().expect("uid")).await;
    let docs = api.admin("GET", "/indexes/csv/documents", None).await;
    assert_eq!(
        docs.body,
        json!({"results": [{"id": "1", "title": "hello", "price": 3.5}, {"id": "2", "title": "world", "price": 4}], "offset": 0, "limit": 20, "total": 2})
    );
}

#[tokio::test]
async fn task_lists_page_backwards_from_the_newest_task() {
    let api = Api::start().await;
    for uid in ["a", "b", "c"] {
        api.run("POST", "/indexes", Some(json!({"uid": uid}))).await;
    }
    let page = api.admin("GET", "/tasks?limit=2", None).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        keys(&page.body),
        ["results", "total", "limit", "from", "next"]
    );
    let uids: Vec<u64> = page.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|t| t["uid"].as_u64().expect("uid"))
        .collect();
    assert_eq!(uids, [2, 1]);
    assert_eq!(
        (
            page.body["total"].clone(),
            page.body["from"].clone(),
            page.body["next"].clone()
        ),
        (json!(3), json!(2), json!(0))
    );
}

#[tokio::test]
async fn index_stats_list_meilisearch_keys_in_order() {
    let api = Api::start().await;
    api.run(
        "POST",
        "/indexes/s/documents",
        Some(json!([{"id": 1, "a": 1}, {"id": 2}])),
    )
    .await;
    let stats = api.admin("GET", "/indexes/s/stats", None).await;
    assert_eq!(
        keys(&stats.body),
        [
            "numberOfDocuments",
            "rawDocumentDbSize",
            "avgDocumentSize",
            "isIndexing",
            "numberOfEmbeddings",
            "numberOfEmbeddedDocuments",
            "fieldDistribution"
        ]
    );
    assert_eq!(stats.body["fieldDistribution"], json!({"a": 1, "id": 2}));
}

#[tokio::test]
async fn an_unknown_route_is_a_404_without_body() {
    let api = Api::start().await;
    let reply = api.admin("GET", "/no-such-route", None).await;
    assert_eq!((reply.status, reply.body), (404, Value::Null));
}

#[tokio::test]
async fn a_missing_index_is_index_not_found() {
    let api = Api::start().await;
    let reply = api.admin("GET", "/indexes/nope", None).await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.body,
        json!({"message": "Index `nope` not found.", "code": "index_not_found", "type": "invalid_request", "link": "https://docs.meilisearch.com/errors#index_not_found"})
    );
}

#[tokio::test]
async fn malformed_json_is_a_malformed_payload() {
    let api = Api::start().await;
    let reply = api
        .send(
            "POST",
            "/indexes",
            Some(MASTER_KEY),
            Some("application/json"),
            Some("{\"uid\":".into()),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["code"], json!("malformed_payload"));
    assert_eq!(reply.body["message"], json!("The json payload provided is malformed. `EOF while parsing a value at line 1 column 7`."));
}

#[tokio::test]
async fn documents_without_content_type_are_rejected_with_415() {
    let api = Api::start().await;
    let reply = api
        .send(
            "POST",
            "/indexes/x/documents",
            Some(MASTER_KEY),
            None,
            Some("[]".into()),
        )
        .await;
    assert_eq!(reply.status, 415);
    assert_eq!(reply.body["code"], json!("missing_content_type"));
    assert_eq!(
        reply.body["message"],
        json!("A Content-Type header is missing. Accepted values for the Content-Type header are: `application/json`, `application/x-ndjson`, `text/csv`")
    );
}

#[tokio::test]
async fn documents_with_an_unknown_content_type_are_rejected_with_415() {
    let api = Api::start().await;
    let reply = api
        .send(
            "POST",
            "/indexes/x/documents",
            Some(MASTER_KEY),
            Some("text/plain"),
            Some("{}".into()),
        )
        .await;
    assert_eq!(reply.status, 415);
    assert_eq!(reply.body["code"], json!("invalid_content_type"));
}

#[tokio::test]
async fn invalid_index_uids_are_rejected_synchronously() {
    let api = Api::start().await;
    let reply = api
        .admin("POST", "/indexes", Some(json!({"uid": "bad uid!"})))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["message"],
        json!("Invalid value at `.uid`: `bad uid!` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes.")
    );
}

#[tokio::test]
async fn requests_without_authorization_header_are_401() {
    let api = Api::start().await;
    let reply = api.send("GET", "/indexes", None, None, None).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["code"], json!("missing_authorization_header"));
}

#[tokio::test]
async fn health_needs_no_key() {
    let api = Api::start().await;
    let reply = api.send("GET", "/health", None, None, None).await;
    assert_eq!(
        (reply.status, reply.body),
        (200, json!({"status": "available"}))
    );
}

#[tokio::test]
async fn a_wrong_key_is_403_invalid_api_key() {
    let api = Api::start().await;
    let reply = api.send("GET", "/indexes", Some("wrong"), None, None).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.body,
        json!({"message": "The provided API key is invalid.", "code": "invalid_api_key", "type": "auth", "link": "https://docs.meilisearch.com/errors#invalid_api_key"})
    );
}

async fn default_key(api: &Api, name: &str) -> String {
    let list = api.admin("GET", "/keys", None).await;
    list.body["results"]
        .as_array()
        .expect("key list")
        .iter()
        .find(|k| k["name"] == json!(name))
        .and_then(|k| k["key"].as_str())
        .expect("default key present")
        .to_owned()
}

#[tokio::test]
async fn the_four_default_keys_exist_newest_first() {
    let api = Api::start().await;
    let list = api.admin("GET", "/keys", None).await;
    let names: Vec<&str> = list.body["results"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "Default Search API Key",
            "Default Admin API Key",
            "Default Read-Only Admin API Key",
            "Default Chat API Key"
        ]
    );
    assert_eq!(
        keys(&list.body["results"][0]),
        [
            "name",
            "description",
            "key",
            "uid",
            "actions",
            "indexes",
            "expiresAt",
            "createdAt",
            "updatedAt"
        ]
    );
}

#[tokio::test]
async fn the_search_key_cannot_add_documents() {
    let api = Api::start().await;
    let search_key = default_key(&api, "Default Search API Key").await;
    let reply = api
        .send(
            "POST",
            "/indexes/x/documents",
            Some(&search_key),
            Some("application/json"),
            Some("[]".into()),
        )
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["code"], json!("invalid_api_key"));
}

#[tokio::test]
async fn a_key_restricted_to_one_index_names_its_indexes_when_refused() {
    let api = Api::start().await;
    let created = api
        .admin(
            "POST",
            "/keys",
            Some(json!({"actions": ["search"], "indexes": ["books"], "expiresAt": null})),
        )
        .await;
    assert_eq!(created.status, 201);
    let key = created.body["key"].as_str().expect("key").to_owned();
    let reply = api
        .send("GET", "/indexes/movies/search", Some(&key), None, None)
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.body["message"],
        json!("The API key cannot acces the index `movies`, authorized indexes are [\"books\"].")
    );
}

#[tokio::test]
async fn key_creation_requires_expires_at() {
    let api = Api::start().await;
    let reply = api
        .admin(
            "POST",
            "/keys",
            Some(json!({"actions": ["search"], "indexes": ["*"]})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        (reply.body["code"].clone(), reply.body["message"].clone()),
        (
            json!("missing_api_key_expires_at"),
            json!("Missing field `expiresAt`")
        )
    );
}

#[tokio::test]
async fn a_tenant_token_searches_only_its_indexes_with_its_filter() {
    let api = Api::start().await;
    api.run(
        "POST",
        "/indexes/books/documents",
        Some(json!([{"id": 1, "owner": "ann"}, {"id": 2, "owner": "bob"}])),
    )
    .await;
    api.run(
        "PATCH",
        "/indexes/books/settings",
        Some(json!({"filterableAttributes": ["owner"]})),
    )
    .await;
    let list = api.admin("GET", "/keys", None).await;
    let search = list.body["results"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["name"] == json!("Default Search API Key"))
        .expect("search key")
        .clone();
    let claims = json!({
        "searchRules": {"books": {"filter": "owner = ann"}},
        "apiKeyUid": search["uid"],
        "exp": time::OffsetDateTime::now_utc().unix_timestamp() + 3600,
    });
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(search["key"].as_str().expect("key").as_bytes()),
    )
    .expect("token signs");
    let hits = api
        .send(
            "POST",
            "/indexes/books/search",
            Some(&token),
            Some("application/json"),
            Some("{}".into()),
        )
        .await;
    assert_eq!(hits.status, 200, "{}", hits.body);
    assert_eq!(hits.body["hits"], json!([{"id": 1, "owner": "ann"}]));
    let other = api
        .send(
            "POST",
            "/indexes/movies/search",
            Some(&token),
            Some("application/json"),
            Some("{}".into()),
        )
        .await;
    assert_eq!(other.status, 403);
    assert_eq!(other.body["message"], json!("The provided tenant token cannot acces the index `movies`, allowed indexes are [\"books\"]."));
}

#[tokio::test]
async fn editing_documents_by_function_needs_the_experimental_feature() {
    let api = Api::start().await;
    let reply = api
        .admin(
            "POST",
            "/indexes/x/documents/edit",
            Some(json!({"function": "doc"})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["code"], json!("feature_not_enabled"));
}

#[tokio::test]
async fn canceling_without_filters_is_missing_task_filters() {
    let api = Api::start().await;
    let reply = api.admin("POST", "/tasks/cancel", None).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["code"], json!("missing_task_filters"));
}

#[tokio::test]
async fn a_canceled_task_names_its_cancelation_and_zeroes_its_counters() {
    let api = Api::start().await;
    if api.node.backend() == Backend::Meilisearch {
        miroir_tests::fleet::skip_notice(
            "a_canceled_task_names_its_cancelation_and_zeroes_its_counters",
            "needs the fake's task delay to keep a task enqueued",
        );
        return;
    }
    api.node
        .set_task_delay(Duration::from_secs(30))
        .expect("fake supports task delay");
    let first = api
        .admin("POST", "/indexes", Some(json!({"uid": "slow"})))
        .await;
    let second = api
        .admin("POST", "/indexes/slow/documents", Some(json!([{"id": 1}])))
        .await;
    let second_uid = second.body["taskUid"].as_u64().expect("uid");
    let cancel = api
        .admin("POST", &format!("/tasks/cancel?uids={second_uid}"), None)
        .await;
    assert_eq!(cancel.status, 200);
    let cancel_task = api
        .wait(cancel.body["taskUid"].as_u64().expect("uid"))
        .await;
    assert_eq!(
        cancel_task["details"],
        json!({"matchedTasks": 1, "canceledTasks": 1, "originalFilter": format!("?uids={second_uid}")})
    );
    let canceled = api.wait(second_uid).await;
    assert_eq!(canceled["status"], json!("canceled"));
    assert_eq!(canceled["canceledBy"], cancel.body["taskUid"]);
    assert_eq!(
        canceled["details"],
        json!({"receivedDocuments": 1, "indexedDocuments": 0})
    );
    let first_task = api
        .admin("GET", &format!("/tasks/{}", first.body["taskUid"]), None)
        .await;
    assert_eq!(first_task.body["status"], json!("processing"));
}

#[tokio::test]
async fn renaming_an_index_rewrites_the_index_of_its_earlier_tasks() {
    let api = Api::start().await;
    let creation = api
        .run("POST", "/indexes", Some(json!({"uid": "old"})))
        .await;
    let rename = api
        .run("PATCH", "/indexes/old", Some(json!({"uid": "new"})))
        .await;
    assert_eq!(
        rename["details"],
        json!({"primaryKey": null, "oldIndexUid": "old", "newIndexUid": "new"})
    );
    assert_eq!(rename["indexUid"], json!("old"));
    let creation = api
        .admin("GET", &format!("/tasks/{}", creation["uid"]), None)
        .await;
    assert_eq!(creation.body["indexUid"], json!("new"));
}

#[tokio::test]
async fn multi_search_locates_a_missing_index_uid_inside_its_query() {
    let api = Api::start().await;
    let reply = api
        .admin(
            "POST",
            "/multi-search",
            Some(json!({"queries": [{"q": "a"}]})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        (reply.body["code"].clone(), reply.body["message"].clone()),
        (
            json!("missing_index_uid"),
            json!("Missing field `indexUid` inside `.queries[0]`")
        )
    );
}

#[tokio::test]
async fn multi_search_reports_a_missing_index_as_a_400_inside_its_query() {
    let api = Api::start().await;
    let reply = api
        .admin(
            "POST",
            "/multi-search",
            Some(json!({"queries": [{"indexUid": "nope", "q": "a"}]})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["message"],
        json!("Inside `.queries[0]`: Index `nope` not found.")
    );
}

#[tokio::test]
async fn a_deletion_filter_with_bad_syntax_is_rejected_before_enqueueing() {
    let api = Api::start().await;
    let reply = api
        .admin(
            "POST",
            "/indexes/books/documents/delete",
            Some(json!({"filter": "price >"})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        (reply.body["code"].clone(), reply.body["message"].clone()),
        (
            json!("invalid_document_filter"),
            json!("Was expecting a value but instead got nothing.\n8:8 price >")
        )
    );
}

#[tokio::test]
async fn a_deletion_filter_on_a_non_filterable_attribute_fails_the_task() {
    let api = Api::start().await;
    api.run(
        "POST",
        "/indexes/books/documents",
        Some(json!([{"id": 1, "price": 3}])),
    )
    .await;
    let task = api
        .run(
            "POST",
            "/indexes/books/documents/delete",
            Some(json!({"filter": "price > 2"})),
        )
        .await;
    assert_eq!(task["status"], json!("failed"));
    assert_eq!(task["error"]["code"], json!("invalid_document_filter"));
    assert_eq!(
        task["details"],
        json!({"providedIds": 0, "deletedDocuments": 0, "originalFilter": "\"price > 2\""})
    );
}

#[tokio::test]
async fn an_invalid_index_uid_in_the_path_is_rejected_before_lookup() {
    let api = Api::start().await;
    let reply = api.admin("GET", "/indexes/bad%20uid", None).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        (reply.body["code"].clone(), reply.body["message"].clone()),
        (json!("invalid_index_uid"), json!("`bad uid` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 512 bytes."))
    );
}

#[tokio::test]
async fn key_index_patterns_are_validated() {
    let api = Api::start().await;
    let reply = api
        .admin(
            "POST",
            "/keys",
            Some(json!({"actions": ["search"], "indexes": ["bad index"], "expiresAt": null})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["code"], json!("invalid_api_key_indexes"));
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let api = Api::start().await;
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::seconds(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    let created = api
        .admin(
            "POST",
            "/keys",
            Some(json!({"actions": ["*"], "indexes": ["*"], "expiresAt": soon})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.body["key"].as_str().expect("key").to_owned();
    // Wait on the server's own clock: poll until the key stops working (bounded).
    let mut last = 200;
    for _ in 0..100 {
        last = api
            .send("GET", "/indexes", Some(&key), None, None)
            .await
            .status;
        if last != 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(last, 403);
}

#[tokio::test]
async fn swap_entries_reject_unknown_fields() {
    let api = Api::start().await;
    let reply = api
        .admin("POST", "/swap-indexes", Some(json!([{"foo": 1}])))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["message"],
        json!("Unknown field `foo` inside `[0]`: expected one of `indexes`, `rename`")
    );
}

#[tokio::test]
async fn a_payload_over_the_limit_is_payload_too_large() {
    if miroir_tests::Backend::from_env() == Backend::Meilisearch {
        miroir_tests::fleet::skip_notice(
            "a_payload_over_the_limit_is_payload_too_large",
            "needs a node with a small payload limit (the fake's payload_limit option)",
        );
        return;
    }
    let node = miroir_tests::FakeNode::start(miroir_tests::FakeNodeOptions {
        payload_limit: 1000,
        ..Default::default()
    })
    .await
    .expect("fake starts");
    let body = format!("[{{\"id\":1,\"text\":\"{}\"}}]", "x".repeat(2000));
    let response = reqwest::Client::new()
        .post(format!("{}/indexes/big/documents", node.url()))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        (body["code"].clone(), body["message"].clone()),
        (json!("payload_too_large"), json!("The provided payload reached the size limit. The maximum accepted payload size is 1 KB."))
    );
}

#[tokio::test]
async fn federated_multi_search_merges_hits_by_weighted_score() {
    let api = Api::start().await;
    api.run(
        "POST",
        "/indexes/fa/documents",
        Some(json!([{"id": 1, "title": "red apple"}, {"id": 2, "title": "green pear"}])),
    )
    .await;
    api.run(
        "POST",
        "/indexes/fb/documents",
        Some(json!([{"id": 7, "title": "apple pie"}])),
    )
    .await;
    let reply = api
        .admin(
            "POST",
            "/multi-search",
            Some(json!({"federation": {}, "queries": [{"indexUid": "fa", "q": "apple"}, {"indexUid": "fb", "q": "apple", "federationOptions": {"weight": 0.5}}]})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        keys(&reply.body),
        [
            "hits",
            "processingTimeMs",
            "limit",
            "offset",
            "estimatedTotalHits",
            "requestUid"
        ]
    );
    let federation: Vec<Value> = reply.body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["_federation"]["indexUid"].clone())
        .collect();
    assert_eq!(federation, [json!("fa"), json!("fb")]);
    assert_eq!(reply.body["hits"][0]["id"], json!(1));
    assert_eq!(reply.body["hits"][0].get("_rankingScore"), None);
    assert_eq!(reply.body["estimatedTotalHits"], json!(2));
}

#[tokio::test]
async fn federated_queries_may_not_paginate() {
    let api = Api::start().await;
    let reply = api
        .admin(
            "POST",
            "/multi-search",
            Some(json!({"federation": {}, "queries": [{"indexUid": "fa", "q": "x", "limit": 5}]})),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body["code"],
        json!("invalid_multi_search_query_pagination")
    );
    assert_eq!(
        reply.body["message"],
        json!("Inside `.queries[0]`: Using pagination options is not allowed in federated queries.\n - Hint: remove `limit` from the query or remove `federation` from the request\n - Hint: pass `federation.limit` and `federation.offset` for pagination in federated search")
    );
}
