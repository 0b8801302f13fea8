#!/usr/bin/env bash
# Start N local Meilisearch nodes and Miroir in front of them.
#
#   scripts/quickstart.sh [NODES] [REPLICATION_FACTOR]
#
# Meilisearch comes from $MEILI_BIN, or from `meilisearch` on the PATH. Nodes listen on
# 127.0.0.1:7701.., Miroir on 127.0.0.1:7700, everything lives under
# ${MIROIR_QUICKSTART_DIR:-./quickstart}. Ctrl-C stops everything.
set -euo pipefail

nodes="${1:-3}"
rf="${2:-1}"
key="${MEILI_MASTER_KEY:-quickstart-master-key-0123456789}"
dir="${MIROIR_QUICKSTART_DIR:-./quickstart}"
meili="${MEILI_BIN:-$(command -v meilisearch || true)}"

if [ -z "$meili" ] || [ ! -x "$meili" ]; then
  echo "quickstart: no Meilisearch binary found." >&2
  echo "  Set MEILI_BIN=/path/to/meilisearch or put \`meilisearch\` on your PATH" >&2
  echo "  (Meilisearch publishes binaries for every release)." >&2
  exit 1
fi
if ! [[ "$nodes" =~ ^[0-9]+$ ]] || [ "$nodes" -lt 1 ]; then
  echo "quickstart: NODES must be a positive number, got '$nodes'" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
cargo build --release -p miroir-proxy
mkdir -p "$dir"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

config="$dir/miroir.yaml"
{
  echo "listen: 127.0.0.1:7700"
  echo "nodes:"
} > "$config"
for i in $(seq 1 "$nodes"); do
  port=$((7700 + i))
  "$meili" --db-path "$dir/node$i" --http-addr "127.0.0.1:$port" --master-key "$key" \
    --no-analytics > "$dir/node$i.log" 2>&1 &
  pids+=($!)
  echo "  - { id: n$i, url: \"http://127.0.0.1:$port\" }" >> "$config"
done
cat >> "$config" <<EOF
shards: 64
replication_factor: $rf
keys:
  master_key: "$key"
task_store:
  sqlite:
    path: "$dir/tasks.db"
EOF

for i in $(seq 1 "$nodes"); do
  port=$((7700 + i))
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/health" > /dev/null; then break; fi
    sleep 0.1
  done
done

target/release/miroir --check "$config"
echo "Miroir on http://127.0.0.1:7700 over $nodes node(s), RF=$rf, master key: $key"
target/release/miroir --config "$config" &
miroir=$!
pids+=("$miroir")
# Miroir exiting (a refused configuration, say) stops the nodes too.
status=0
wait "$miroir" || status=$?
exit "$status"
