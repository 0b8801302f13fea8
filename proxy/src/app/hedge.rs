//! Hedged scatter-gather reads (DESIGN.md §3).
//!
//! Every node of a covering set gets its share of the shards. When a node takes longer
//! than it usually does ([`crate::health::NodeHealth::hedge_delay`]), the same shards
//! are also asked of their next live copies (in the same group, else in another one),
//! each narrowed to exactly those shards, and whichever side answers completely first
//! is used; the other is dropped. Every shard is still answered exactly once, so totals
//! and facet counts are unchanged. Only reads are hedged; writes never are.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use futures::future::join_all;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Semaphore;

use super::App;
use crate::error::ApiError;
use crate::fanout::{NodeAddress, NodeError, NodeRequest, NodeResponse};
use crate::http::ClientRequest;
use crate::runtime::{Avoid, Runtime};
use crate::search_plan::shard_filter;

/// The answers of a covering set, and the nodes whose share a hedge answered.
pub(crate) struct Gathered {
    pub bodies: Vec<NodeResponse>,
    pub hedged: Vec<Arc<str>>,
}

impl Gathered {
    /// The node bodies, for the merger.
    pub(crate) fn slices(&self) -> Vec<&[u8]> {
        self.bodies.iter().map(|b| b.body.as_ref()).collect()
    }

    /// The client's `200` answer with the merged `body`, saying in `X-Miroir-Hedged`
    /// which nodes' shares hedges answered.
    pub(crate) fn answer(&self, body: Vec<u8>) -> crate::http::Response {
        let response = crate::http::Response::json_bytes(200, body);
        if self.hedged.is_empty() {
            return response;
        }
        let nodes: Vec<&str> = self.hedged.iter().map(|n| &**n).collect();
        response.with_header("X-Miroir-Hedged", nodes.join(","))
    }
}

/// How one node's share of a read ended.
enum Share {
    /// Answered, by the node itself or (`hedged`) by other copies of its shards.
    Answered {
        bodies: Vec<NodeResponse>,
        hedged: bool,
    },
    /// A Meilisearch error: the client's own.
    ClientError(ApiError),
    /// These nodes failed or could not be reached.
    Failed(Vec<Arc<str>>),
}

/// Judge one node's answer.
fn settle(node: &NodeAddress, answer: Result<NodeResponse, NodeError>) -> Share {
    match answer {
        Ok(response) if response.is_success() => Share::Answered {
            bodies: vec![response],
            hedged: false,
        },
        Ok(response) if (400..500).contains(&response.status) => {
            Share::ClientError(super::node_error(&response))
        }
        Ok(response) => {
            tracing::warn!(node = %node.id, status = response.status, "node failed a read");
            Share::Failed(vec![node.id.clone()])
        }
        Err(error) => {
            tracing::warn!(node = %node.id, %error, "node unreachable for a read");
            Share::Failed(vec![node.id.clone()])
        }
    }
}

/// Judge the answers of a hedge: complete only if every node of it answered.
fn settle_all(answers: Vec<(NodeAddress, Result<NodeResponse, NodeError>)>) -> Share {
    let mut bodies = Vec::with_capacity(answers.len());
    let mut failed = Vec::new();
    for (node, answer) in answers {
        match settle(&node, answer) {
            Share::Answered { bodies: b, .. } => bodies.extend(b),
            Share::ClientError(error) => return Share::ClientError(error),
            Share::Failed(nodes) => failed.extend(nodes),
        }
    }
    if failed.is_empty() {
        Share::Answered {
            bodies,
            hedged: true,
        }
    } else {
        Share::Failed(failed)
    }
}

/// Of two endings of one share, the better: an answer, else the client's error, else
/// every failed node.
async fn better(first: Share, second: impl std::future::Future<Output = Share>) -> Share {
    match first {
        answered @ Share::Answered { .. } => answered,
        Share::ClientError(error) => Share::ClientError(error),
        Share::Failed(mut nodes) => match second.await {
            Share::Failed(more) => {
                nodes.extend(more);
                Share::Failed(nodes)
            }
            other => other,
        },
    }
}

/// Which copy of a shard a read asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replicas {
    /// The first live owner, unless another owner answers clearly faster: for reads
    /// whose answer does not depend on which copy answered.
    Fastest,
    /// Always the first live owner: for listings whose order is each node's own
    /// storage order, so that pages asked one after another fit together.
    Fixed,
}

impl App {
    /// Send one read to one node under the fan-out's concurrency bound, learning the
    /// node's latency from its answer.
    async fn read_from(
        &self,
        runtime: &Runtime,
        node: &NodeAddress,
        request: &NodeRequest,
        permits: &Semaphore,
    ) -> Result<NodeResponse, NodeError> {
        let _permit = permits.acquire().await;
        let started = Instant::now();
        let answer = self.fanout.send(node, request, runtime.limits).await;
        if answer.as_ref().is_ok_and(|r| r.status < 500) {
            self.health.record_latency(&node.id, started.elapsed());
        }
        answer
    }

    /// One node's share of a read, hedged once the node is late (see the module docs).
    #[allow(clippy::too_many_arguments)]
    async fn hedged_share(
        &self,
        runtime: &Runtime,
        node: &NodeAddress,
        shards: &[u32],
        part: &NodeRequest,
        build: &(impl Fn(Option<&str>) -> Result<NodeRequest, ApiError> + Sync),
        headers: &[(String, String)],
        excluded: &BTreeSet<Arc<str>>,
        permits: &Semaphore,
    ) -> Share {
        let started = Instant::now();
        let primary = self.read_from(runtime, node, part, permits);
        tokio::pin!(primary);
        let mut others = excluded.clone();
        others.insert(node.id.clone());
        let alternative = runtime.plan_shards(shards.iter().copied(), &others);
        let hedges: Option<Vec<(NodeAddress, NodeRequest)>> = if alternative.uncovered.is_empty() {
            alternative
                .by_node
                .iter()
                .map(|(id, share)| {
                    let address = runtime.nodes.get(id)?.address.clone();
                    let mut request = build(Some(&shard_filter(share))).ok()?;
                    request.headers.extend(headers.iter().cloned());
                    Some((address, request))
                })
                .collect()
        } else {
            None
        };
        let Some(hedges) = hedges.filter(|h| !h.is_empty()) else {
            return settle(node, primary.await);
        };
        let delay = self.health.hedge_delay(&node.id, runtime.limits.per_node);
        tokio::select! {
            answer = &mut primary => return settle(node, answer),
            _ = tokio::time::sleep(delay) => {}
        }
        tracing::debug!(node = %node.id, ?delay, "hedging a late read");
        self.health.count_hedge(&node.id);
        let hedge = async {
            let answers = join_all(
                hedges
                    .iter()
                    .map(|(address, request)| self.read_from(runtime, address, request, permits)),
            )
            .await;
            settle_all(
                hedges
                    .iter()
                    .map(|(address, _)| address.clone())
                    .zip(answers)
                    .collect(),
            )
        };
        tokio::pin!(hedge);
        tokio::select! {
            answer = &mut primary => better(settle(node, answer), hedge).await,
            share = &mut hedge => {
                if matches!(share, Share::Answered { .. }) {
                    // The late node's answer is not awaited: what it took so far is
                    // the least its latency was, and teaches replica choice.
                    self.health.record_latency(&node.id, started.elapsed());
                }
                better(share, async { settle(node, primary.await) }).await
            }
        }
    }

    /// Send one request to each node of a covering set (built by `build` from the
    /// node's shard restriction, when the node holds shards it does not answer for),
    /// with the client's credentials, and collect the answers, hedging late nodes.
    /// Every shard is asked of its first owner in rendezvous order that is not known to
    /// be down, in the first replica group, then in the others. A node that cannot
    /// answer is marked down and the fan-out is planned again without it. A Meilisearch
    /// error from a node is the client's error; shards no live node holds make the
    /// answer `miroir_shard_unavailable`.
    pub(crate) async fn scatter_covering(
        &self,
        runtime: &Runtime,
        request: &ClientRequest,
        shards: u32,
        replicas: Replicas,
        build: impl Fn(Option<&str>) -> Result<NodeRequest, ApiError> + Sync,
    ) -> Result<Gathered, ApiError> {
        let headers = App::forwarded_headers(request);
        let mut avoid = match replicas {
            Replicas::Fastest => self.avoid(),
            Replicas::Fixed => Avoid::new(self.health.down_nodes()),
        };
        let permits = Semaphore::new(runtime.limits.concurrency.max(1));
        loop {
            let plan = runtime.plan_reads_avoiding(shards, &avoid);
            let excluded = avoid.all();
            if !plan.uncovered.is_empty() {
                return Err(super::search::uncovered(&plan.uncovered));
            }
            let mut parts: Vec<(NodeAddress, &[u32], NodeRequest)> = Vec::new();
            for (node_id, node_shards) in &plan.by_node {
                let Some(node) = runtime.nodes.get(node_id) else {
                    continue;
                };
                let restriction = plan.restrict.then(|| shard_filter(node_shards));
                let mut part = build(restriction.as_deref())?;
                part.headers.extend(headers.iter().cloned());
                parts.push((node.address.clone(), node_shards, part));
            }
            let mut shares = FuturesUnordered::new();
            for (position, (node, node_shards, part)) in parts.iter().enumerate() {
                let (build, headers, excluded, permits) = (&build, &headers, &excluded, &permits);
                shares.push(async move {
                    let share = self
                        .hedged_share(
                            runtime,
                            node,
                            node_shards,
                            part,
                            build,
                            headers,
                            excluded,
                            permits,
                        )
                        .await;
                    (position, share)
                });
            }
            let mut ended: BTreeMap<usize, Share> = BTreeMap::new();
            let gather = async {
                while let Some((position, share)) = shares.next().await {
                    ended.insert(position, share);
                }
            };
            // When the overall deadline passes, a share still running has failed.
            let _ = tokio::time::timeout(runtime.limits.overall, gather).await;
            drop(shares);
            let mut gathered = Gathered {
                bodies: Vec::with_capacity(parts.len()),
                hedged: Vec::new(),
            };
            let mut retry = false;
            for (position, (node, _, _)) in parts.iter().enumerate() {
                match ended.remove(&position) {
                    Some(Share::Answered { bodies, hedged }) => {
                        gathered.bodies.extend(bodies);
                        if hedged {
                            gathered.hedged.push(node.id.clone());
                        }
                    }
                    Some(Share::ClientError(error)) => return Err(error),
                    Some(Share::Failed(nodes)) => {
                        for id in nodes {
                            self.health.mark_down(&id);
                            avoid.fail(id);
                        }
                        retry = true;
                    }
                    None => {
                        tracing::warn!(node = %node.id, "read still running at the overall deadline");
                        self.health.mark_down(&node.id);
                        avoid.fail(node.id.clone());
                        retry = true;
                    }
                }
            }
            if !retry {
                return Ok(gathered);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> NodeAddress {
        NodeAddress {
            id: Arc::from(id),
            authority: "127.0.0.1:1".into(),
            tls: false,
            host: String::new(),
        }
    }

    fn ok(body: &'static str) -> Result<NodeResponse, NodeError> {
        Ok(NodeResponse {
            status: 200,
            headers: Vec::new(),
            body: bytes::Bytes::from_static(body.as_bytes()),
        })
    }

    fn down(id: &str) -> Result<NodeResponse, NodeError> {
        Err(NodeError::Timeout {
            node: id.into(),
            timeout_ms: 1,
        })
    }

    #[tokio::test]
    async fn a_hedge_counts_only_when_every_copy_answered() {
        let complete = settle_all(vec![(node("a"), ok("{}")), (node("b"), ok("{}"))]);
        assert!(
            matches!(complete, Share::Answered { ref bodies, hedged: true } if bodies.len() == 2)
        );
        let partial = settle_all(vec![(node("a"), ok("{}")), (node("b"), down("b"))]);
        assert!(
            matches!(partial, Share::Failed(ref nodes) if nodes.len() == 1 && &*nodes[0] == "b")
        );
        // A failed side falls back to the other; two failures name every node.
        let fallback = better(partial, async { settle(&node("p"), ok("{}")) }).await;
        assert!(matches!(fallback, Share::Answered { hedged: false, .. }));
        let both = better(Share::Failed(vec![Arc::from("p")]), async {
            Share::Failed(vec![Arc::from("b")])
        })
        .await;
        assert!(matches!(both, Share::Failed(ref nodes) if nodes.len() == 2));
    }
}
