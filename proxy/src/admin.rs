//! The admin listener (`admin_listen`): Miroir's own endpoints, apart from the
//! Meilisearch API so that they can be firewalled separately.
//!
//! | route | answer |
//! |---|---|
//! | `GET /_miroir/metrics` | Prometheus metrics (see [`crate::metrics`]) |
//! | `GET /_miroir/nodes` | every configured node with its group and what the proxy knows of its health |
//!
//! Every route needs `Authorization: Bearer <admin key>` (`keys.admin_key`): without
//! the header the answer is `401 miroir_missing_admin_key`, with another key
//! `403 miroir_invalid_admin_key`. The key is read from the running configuration, so
//! a reload that changes it applies at once.

use std::sync::Arc;

use async_trait::async_trait;
use http::{Response, StatusCode};
use pingora_core::apps::http_app::ServeHttp;
use pingora_core::protocols::http::ServerSession;
use serde_json::{json, Value};

use crate::app::App;
use crate::error::{ApiError, ErrorType};

/// The admin listener's application.
pub struct AdminApp {
    app: Arc<App>,
}

impl AdminApp {
    /// Serve the admin routes of `app`.
    pub fn new(app: Arc<App>) -> Self {
        AdminApp { app }
    }

    /// The answer to `method path` with the given `Authorization` header value.
    pub fn answer(
        &self,
        method: &http::Method,
        path: &str,
        authorization: Option<&str>,
    ) -> (u16, &'static str, Vec<u8>) {
        let runtime = self.app.runtime();
        let expected = runtime.admin_key.as_deref();
        let given = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim);
        let refusal = match (expected, given) {
            (None, _) => None,
            (Some(_), None) => Some(ApiError::new(
                401,
                "miroir_missing_admin_key",
                ErrorType::Auth,
                "The admin API needs the admin key: send `Authorization: Bearer <keys.admin_key>`.",
            )),
            (Some(key), Some(given)) if given != key => Some(ApiError::new(
                403,
                "miroir_invalid_admin_key",
                ErrorType::Auth,
                "The provided key is not the admin key (`keys.admin_key`).",
            )),
            _ => None,
        };
        if let Some(error) = refusal {
            return (error.status, "application/json", error.body());
        }
        let json = |status: u16, value: Value| {
            (status, "application/json", value.to_string().into_bytes())
        };
        match (method.as_str(), path) {
            ("GET", "/_miroir/metrics") => (
                200,
                "text/plain; version=0.0.4",
                self.app
                    .metrics()
                    .render(&runtime, self.app.health())
                    .into_bytes(),
            ),
            ("GET", "/_miroir/nodes") => {
                let health = self.app.health();
                let down = health.down_nodes();
                let unhealthy = health.unhealthy_nodes();
                let nodes: Vec<Value> = runtime
                    .nodes
                    .iter()
                    .map(|(id, node)| {
                        json!({
                            "id": &**id,
                            "group": &*node.group,
                            "readable": !down.contains(id),
                            "healthy": !unhealthy.contains(id),
                            "latencyMs": health.mean_latency(id).map(|s| s * 1000.0),
                        })
                    })
                    .collect();
                json(200, json!({ "results": nodes }))
            }
            _ => {
                let error = ApiError::new(
                    404,
                    "miroir_admin_route_not_found",
                    ErrorType::InvalidRequest,
                    format!("The admin API has no route `{method} {path}`: it serves `GET /_miroir/metrics` and `GET /_miroir/nodes`."),
                );
                (error.status, "application/json", error.body())
            }
        }
    }
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let header = session.req_header();
        let method = header.method.clone();
        let path = header.uri.path().to_owned();
        let authorization = header
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (status, content_type, body) = self.answer(&method, &path, authorization.as_deref());
        Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("Content-Type", content_type)
            .header("Content-Length", body.len())
            .body(body)
            .unwrap_or_default()
    }
}
