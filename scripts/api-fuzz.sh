#!/usr/bin/env bash
# Property-based API fuzzing of Miroir against the Meilisearch 1.50 OpenAPI document.
#
#   scripts/api-fuzz.sh [miroir|meili|both]        (default: both when MEILI_BIN is set, else miroir)
#
# miroir: starts 3 nodes (real Meilisearch from $MEILI_BIN, else the in-repo
#         `miroir-fake-node`) and the `miroir` binary in front of them.
# meili:  starts ONE standalone real Meilisearch node (needs MEILI_BIN). Failures found
#         there are disagreements between the spec and Meilisearch itself, not Miroir bugs.
# both:   runs meili, then miroir, and prints the (operation, check) failures that only
#         Miroir shows and scripts/api-fuzz-known.tsv does not list (Miroir's documented
#         501 routes, spec disagreements seen only through timing): candidate Miroir bugs.
#
# Each target gets a seeded index `fuzz` (primary key `id`, a few documents, filterable and
# sortable attributes) created through the front door, then schemathesis runs every
# operation of the spec with the master key, checking status codes, response schemas,
# content types and 5xx. Exit status: non-zero when the selected target shows failures
# (for `both`: when Miroir shows failure kinds Meilisearch does not, beyond the known list).
#
# Not part of `cargo test` or CI: it needs Python and schemathesis (installed into
# ${MIROIR_FUZZ_VENV:-.fuzz-venv} with pip on first use) and takes a few minutes.
#
# Knobs (environment): FUZZ_EXAMPLES (max examples per operation, default 12),
# FUZZ_SEED (default 1), FUZZ_MODE (positive|negative|all, default all),
# FUZZ_PHASES (default examples,coverage,fuzzing), FUZZ_WORKERS (default 2),
# FUZZ_DIR (work + reports, default ./fuzz-out), SCHEMATHESIS (an existing binary).
set -euo pipefail

cd "$(dirname "$0")/.."
root="$(pwd)"
# The contract lives in `shared/` beside the repository (as for tests/tests/contract.rs).
spec="${MIROIR_OPENAPI:-$root/../shared/meilisearch-openapi-1.50.json}"
key="fuzz-master-key-0123456789abcdef"
examples="${FUZZ_EXAMPLES:-12}"
seed="${FUZZ_SEED:-1}"
mode="${FUZZ_MODE:-all}"
phases="${FUZZ_PHASES:-examples,coverage,fuzzing}"
workers="${FUZZ_WORKERS:-2}"
out="$(mkdir -p "${FUZZ_DIR:-./fuzz-out}" && cd "${FUZZ_DIR:-./fuzz-out}" && pwd)"
meili="${MEILI_BIN:-}"
target="${1:-$([ -n "$meili" ] && echo both || echo miroir)}"

if [ ! -f "$spec" ]; then
  echo "api-fuzz: no OpenAPI document (set MIROIR_OPENAPI)" >&2
  exit 2
fi
case "$target" in
  miroir) ;;
  meili | both)
    if [ -z "$meili" ] || [ ! -x "$meili" ]; then
      echo "api-fuzz: target '$target' needs MEILI_BIN=/path/to/meilisearch" >&2
      exit 2
    fi
    ;;
  *)
    echo "api-fuzz: unknown target '$target' (miroir|meili|both)" >&2
    exit 2
    ;;
esac

st="${SCHEMATHESIS:-}"
if [ -z "$st" ]; then
  venv="${MIROIR_FUZZ_VENV:-$root/.fuzz-venv}"
  if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "api-fuzz: installing schemathesis into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4.0,<5'
  fi
  st="$venv/bin/schemathesis"
fi

cargo build --quiet -p miroir-proxy -p miroir-tests --bin miroir --bin miroir-fake-node
bin_dir="$root/target/debug"

pids=()
# Everything started here is throwaway (temporary data), so it is killed outright:
# Miroir's graceful shutdown would otherwise hold the script for its grace period.
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  pids=()
}
trap cleanup EXIT INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_health() {
  for _ in $(seq 1 300); do
    if curl -sf "$1/health" > /dev/null; then return 0; fi
    sleep 0.1
  done
  echo "api-fuzz: $1 did not become healthy" >&2
  return 1
}

# start_node DIR: start one node, its URL in $node_url (not printed: a command
# substitution would run it in a subshell and lose its pid).
start_node() {
  local dir="$1" port
  port="$(free_port)"
  mkdir -p "$dir"
  if [ -n "$meili" ]; then
    (cd "$dir" && exec "$meili" --db-path "$dir/data.ms" --http-addr "127.0.0.1:$port" \
      --master-key "$key" --no-analytics --env development --max-indexing-threads 1 \
      > "$dir/node.log" 2>&1) &
  else
    "$bin_dir/miroir-fake-node" --http-addr "127.0.0.1:$port" --master-key "$key" \
      > "$dir/node.log" 2>&1 &
  fi
  pids+=($!)
  node_url="http://127.0.0.1:$port"
}

api() {
  curl -sS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"
}

wait_task() {
  local base="$1" uid="$2" status
  for _ in $(seq 1 600); do
    status="$(api "$base/tasks/$uid" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",""))')"
    case "$status" in
      succeeded) return 0 ;;
      failed | canceled)
        echo "api-fuzz: seeding task $uid $status" >&2
        return 1
        ;;
    esac
    sleep 0.1
  done
  echo "api-fuzz: seeding task $uid did not finish" >&2
  return 1
}

task_uid() { python3 -c 'import json,sys; print(json.load(sys.stdin)["taskUid"])'; }

seed_index() {
  local base="$1"
  wait_task "$base" "$(api -X POST "$base/indexes" -d '{"uid":"fuzz","primaryKey":"id"}' | task_uid)"
  wait_task "$base" "$(api -X PATCH "$base/indexes/fuzz/settings" \
    -d '{"filterableAttributes":["genre","year"],"sortableAttributes":["year"]}' | task_uid)"
  wait_task "$base" "$(api -X POST "$base/indexes/fuzz/documents" -d '[
    {"id":1,"title":"Carol","genre":"drama","year":2015},
    {"id":2,"title":"Wonder Woman","genre":"action","year":2017},
    {"id":3,"title":"Life of Pi","genre":"adventure","year":2012},
    {"id":4,"title":"Mad Max: Fury Road","genre":"action","year":2015},
    {"id":5,"title":"Moana","genre":"animation","year":2016},
    {"id":6,"title":"Philadelphia","genre":"drama","year":1993}]' | task_uid)"
}

run_schemathesis() {
  local name="$1" base="$2" dir="$out/$1"
  mkdir -p "$dir"
  # Path parameters that name the seeded index, so most operations reach real data.
  cat > "$dir/schemathesis.toml" << 'EOF'
[parameters]
"path.index_uid" = "fuzz"
EOF
  echo "=== api-fuzz: schemathesis against $name at $base (examples/op: $examples, seed: $seed) ===" >&2
  set +e
  (cd "$dir" && "$st" --config-file "$dir/schemathesis.toml" run "$spec" \
    --url "$base" \
    -H "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" --seed "$seed" --mode "$mode" --phases "$phases" \
    --workers "$workers" --request-timeout 20 --no-shrink \
    --generation-database none \
    --exclude-path /logs/stream \
    --exclude-path /chats/{workspace_uid}/chat/completions \
    --exclude-path /export \
    --exclude-name 'DELETE /indexes/{index_uid}' \
    --report junit --report-junit-path "$dir/junit.xml" \
    --no-color > "$dir/schemathesis.log" 2>&1)
  local rc=$?
  set -e
  tail -n 40 "$dir/schemathesis.log" >&2
  return $rc
}

fuzz_target() {
  local name="$1" dir="$out/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  local base
  if [ "$name" = meili ]; then
    start_node "$dir/node"
    base="$node_url"
    wait_health "$base"
  else
    local urls=()
    for i in 1 2 3; do
      start_node "$dir/node$i"
      urls+=("$node_url")
    done
    for url in "${urls[@]}"; do wait_health "$url"; done
    local port
    port="$(free_port)"
    {
      echo "listen: \"127.0.0.1:$port\""
      echo "nodes:"
      for i in 0 1 2; do echo "  - { id: n$i, url: \"${urls[$i]}\" }"; done
      echo "shards: 16"
      echo "replication_factor: 1"
      echo "keys:"
      echo "  master_key: \"$key\""
      echo "task_store:"
      echo "  sqlite:"
      echo "    path: \"$dir/tasks.db\""
    } > "$dir/miroir.yaml"
    MIROIR_LOG=warn "$bin_dir/miroir" --config "$dir/miroir.yaml" > "$dir/miroir.log" 2>&1 &
    pids+=($!)
    base="http://127.0.0.1:$port"
    wait_health "$base"
  fi
  seed_index "$base"
  run_schemathesis "$name" "$base"
}

# The failures of a run, one kind per line: operation, check, status, Meilisearch error code.
failures() {
  python3 - "$1" << 'EOF'
import re, sys, xml.etree.ElementTree as ET
seen = set()
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    for node in list(case.findall("failure")) + list(case.findall("error")):
        text = node.text or node.get("message") or node.tag
        if node.tag == "error":
            seen.add(f"{case.get('name')}\terror\t-\t{text.splitlines()[0][:80]}")
            continue
        for chunk in re.split(r"^\d+\. Test Case ID", text, flags=re.M)[1:]:
            status = re.search(r"^\[(\d{3})\]", chunk, re.M)
            code = re.search(r'"code":"([a-z_]+)"', chunk)
            for check in re.findall(r"^- (ST\d+ [^\n]*)", chunk, re.M):
                seen.add("\t".join([case.get("name"), re.sub(r" \(\d+ violations\)", "", check.strip()),
                                    status.group(1) if status else "-",
                                    code.group(1) if code else "-"]))
for line in sorted(seen):
    print(line)
EOF
}

status=0
case "$target" in
  miroir)
    fuzz_target miroir || status=$?
    ;;
  meili)
    fuzz_target meili || status=$?
    ;;
  both)
    fuzz_target meili || true
    cleanup
    fuzz_target miroir || true
    failures "$out/meili/junit.xml" > "$out/meili/failures.tsv"
    failures "$out/miroir/junit.xml" > "$out/miroir/failures.tsv"
    comm -13 "$out/meili/failures.tsv" "$out/miroir/failures.tsv" \
      | grep -vxF -f <(grep -v '^#' "$root/scripts/api-fuzz-known.tsv") > "$out/miroir-only.tsv" || true
    comm -23 "$out/meili/failures.tsv" "$out/miroir/failures.tsv" > "$out/meili-only.tsv"
    echo "=== api-fuzz: $(wc -l < "$out/meili/failures.tsv") failure kinds on Meilisearch, $(wc -l < "$out/miroir/failures.tsv") on Miroir ===" >&2
    echo "=== failures only Miroir shows, beyond scripts/api-fuzz-known.tsv ($out/miroir-only.tsv): ===" >&2
    cat "$out/miroir-only.tsv" >&2
    echo "=== failures only Meilisearch shows ($out/meili-only.tsv): ===" >&2
    cat "$out/meili-only.tsv" >&2
    if [ -s "$out/miroir-only.tsv" ]; then status=1; fi
    ;;
esac
exit "$status"
