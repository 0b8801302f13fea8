//! Search merge throughput: miroir-merger against a straightforward serde_json merge
//! (parse every body to `serde_json::Value`, sort the union, strip, re-serialize), on the
//! same inputs, in the same group: 3, 8 and 32 node responses × 20 and 1,000 hits of
//! about 1 KB each. The client asks for `limit` = hits per node, without scores.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use miroir_merger::{merge_search, SearchRequest};
use serde_json::Value;

/// A deterministic pseudo-random generator (no dependency needed for test data).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const WORDS: &[&str] = &[
    "space", "ship", "galaxy", "love", "war", "river", "mountain", "night", "city", "dream",
    "storm", "king", "secret", "ocean", "fire", "garden", "shadow", "journey", "machine", "winter",
];

fn sentence(rng: &mut Lcg, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
    }
    s
}

/// One node response with `hits` hits in descending score order.
fn response(node: usize, hits: usize, rng: &mut Lcg) -> Vec<u8> {
    let mut scores: Vec<(u32, u32, f64)> = (0..hits)
        .map(|_| {
            let words = 1 + (rng.next() % 3) as u32;
            let typo = (rng.next() % 3) as u32;
            let prox = (rng.next() % 1000) as f64 / 1000.0;
            (words, typo, prox)
        })
        .collect();
    scores.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(b.2.total_cmp(&a.2)));
    let mut out = String::from("{\"hits\":[");
    for (i, (words, typo, prox)) in scores.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let w = *words as f64 / 3.0;
        let t = (3 - typo) as f64 / 3.0;
        let global = w * 0.5 + t * 0.3 + prox * 0.2;
        let id = node * 1_000_000 + i;
        out.push_str(&format!(
            "{{\"id\":{id},\"title\":\"{}\",\"overview\":\"{}\",\"genres\":[\"Drama\",\"Sci-Fi\"],\"release_date\":{},\"_miroir_shard\":{node},\"_rankingScore\":{global},\"_rankingScoreDetails\":{{\"words\":{{\"order\":0,\"matchingWords\":{words},\"maxMatchingWords\":3,\"score\":{w}}},\"typo\":{{\"order\":1,\"typoCount\":{typo},\"maxTypoCount\":2,\"score\":{t}}},\"proximity\":{{\"order\":2,\"score\":{prox}}},\"attribute\":{{\"order\":3,\"attributeRankingOrderScore\":1.0,\"queryWordDistanceScore\":0.8,\"score\":0.9}},\"exactness\":{{\"order\":4,\"matchType\":\"noExactMatch\",\"score\":0.3333333333333333}}}}}}",
            sentence(rng, 40),
            sentence(rng, 620),
            1_000_000 + rng.next() % 1_000_000,
        ));
    }
    out.push_str(&format!(
        "],\"query\":\"space ship war\",\"processingTimeMs\":{},\"limit\":{hits},\"offset\":0,\"estimatedTotalHits\":{}}}",
        rng.next() % 20,
        hits * 7
    ));
    out.into_bytes()
}

fn serde_merge(bodies: &[&[u8]], limit: usize) -> Vec<u8> {
    let mut hits: Vec<Value> = Vec::new();
    let mut time = 0u64;
    let mut total = 0u64;
    let mut query = Value::Null;
    for body in bodies {
        let mut v: Value = serde_json::from_slice(body).expect("bench input is valid JSON");
        time = time.max(v["processingTimeMs"].as_u64().unwrap_or(0));
        total += v["estimatedTotalHits"].as_u64().unwrap_or(0);
        query = v["query"].take();
        if let Value::Array(h) = v["hits"].take() {
            hits.extend(h);
        }
    }
    let score = |h: &Value| h["_rankingScore"].as_f64().unwrap_or(0.0);
    hits.sort_by(|a, b| score(b).total_cmp(&score(a)));
    hits.truncate(limit);
    for h in &mut hits {
        if let Value::Object(m) = h {
            m.retain(|k, _| {
                !k.starts_with("_miroir_") && k != "_rankingScore" && k != "_rankingScoreDetails"
            });
        }
    }
    let out = serde_json::json!({
        "hits": hits, "query": query, "processingTimeMs": time,
        "limit": limit, "offset": 0, "estimatedTotalHits": total,
    });
    serde_json::to_vec(&out).expect("serializable")
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("search_merge");
    for &nodes in &[3usize, 8, 32] {
        for &hits in &[20usize, 1000] {
            let mut rng = Lcg(nodes as u64 * 7919 + hits as u64);
            let owned: Vec<Vec<u8>> = (0..nodes).map(|n| response(n, hits, &mut rng)).collect();
            let bodies: Vec<&[u8]> = owned.iter().map(|b| b.as_slice()).collect();
            let bytes: usize = owned.iter().map(Vec::len).sum();
            group.throughput(Throughput::Bytes(bytes as u64));
            let mut req = SearchRequest::offset_limit(0, hits);
            req.max_total_hits = usize::MAX;
            let id = format!("{nodes}x{hits}");
            group.bench_with_input(BenchmarkId::new("miroir", &id), &bodies, |b, bodies| {
                b.iter(|| merge_search(black_box(bodies), &req).expect("merge"))
            });
            group.bench_with_input(BenchmarkId::new("serde_json", &id), &bodies, |b, bodies| {
                b.iter(|| serde_merge(black_box(bodies), hits))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
