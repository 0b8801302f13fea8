#!/bin/sh
# Reruns every comparison of docs/benchmarks.md ("Load harness") and rewrites
# bench/results/. Needs MEILI_BIN (Meilisearch) and nginx; builds the harness and Miroir.
# Every run targets 127.0.0.1 only, is bounded in time and stops what it started.
# About 7 minutes of runs on a 2-core machine, after the builds.
set -eu
cd "$(dirname "$0")/.."
: "${MEILI_BIN:?set MEILI_BIN to a Meilisearch binary}"
cargo build --release -p miroir-bench
cargo build --release -p miroir-proxy
BENCH="${CARGO_TARGET_DIR:-target}/release/miroir-bench"
export MIROIR_BIN="${MIROIR_BIN:-$PWD/target/release/miroir}"
run() { uptime; timeout 900 "$BENCH" "$@"; }

run get-by-id --spawn direct=meili --spawn nginx=nginx:direct --spawn miroir-1=miroir:1 --spawn miroir-3=miroir:3 --documents 10000 --rate 500 --connections 16 --duration 15 --warmup 2 --rounds 3 --out bench/results/get-by-id
run get-by-id --spawn direct=meili --spawn nginx=nginx:direct --spawn miroir-1=miroir:1 --spawn miroir-3=miroir:3 --documents 10000 --mode closed --connections 16 --duration 10 --warmup 2 --rounds 2 --out bench/results/get-by-id-closed
run search-mix --spawn one-node=meili --spawn miroir-3=miroir:3 --documents 20000 --rate 100 --connections 16 --duration 15 --warmup 2 --rounds 3 --out bench/results/search-mix
run search-mix --spawn one-node=meili --spawn miroir-3=miroir:3 --documents 20000 --rate 30 --connections 16 --duration 15 --warmup 2 --rounds 3 --verify 0 --out bench/results/search-mix-30rps
run ingest --spawn one-node=meili --spawn miroir-3=miroir:3 --documents 20000 --batch-size 1000 --in-flight 4 --rounds 2 --out bench/results/ingest
run slow-node --documents 10000 --rate 50 --duration 10 --warmup 2 --rounds 2 --out bench/results/slow-node
uptime
