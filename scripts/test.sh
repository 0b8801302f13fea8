#!/usr/bin/env bash
# The one test command: formatting, lints, and every test of the workspace.
# Without MEILI_BIN the end-to-end suites run against the in-repo fake node; with
# MEILI_BIN=/path/to/meilisearch they run against real Meilisearch processes too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
