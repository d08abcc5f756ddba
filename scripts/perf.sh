#!/usr/bin/env bash
# Measures passkey sign-in as docs/performance.md reports it: `latchkey loadtest --baseline`
# against a quick-start server (SQLite, one node) at 32 and 64 clients, then against one and two
# nodes on a throwaway PostgreSQL. Prints one JSON line per run (with the server's CPU time per
# ceremony). RUNS (default 5) runs of DURATION (default 10s) each.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
DURATION=${DURATION:-10s}
work=$(mktemp -d /tmp/latchkey-perf.XXXXXX)
bin="$work/latchkey"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_postgres
  rm -rf "$work"
}
source scripts/pg.sh
trap cleanup EXIT INT TERM
go build -o "$bin" ./cmd/latchkey

# start_node PORT PUBLIC_PORT ARGS...: a server in the background; sets NODE_PID.
start_node() {
  local port=$1 public=$2; shift 2
  "$bin" serve --listen "127.0.0.1:$port" --public-url "http://localhost:$public" "$@" >"$work/node-$port.out" 2>"$work/node-$port.err" &
  NODE_PID=$!
  pids+=("$NODE_PID")
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "node on $port did not start" >&2; cat "$work/node-$port.err" >&2; return 1
}
api_token() { "$bin" token create "perf-$(date +%s%N)" --scopes User.ReadWrite.All,UserAuthenticationMethod.ReadWrite.All --expires 1d "$@" --json | sed -n 's/.*"token": "\(.*\)".*/\1/p'; }
run() { # LABEL LOADTEST-ARGS...
  local label=$1; shift
  printf '{"run":"%s","result":%s}\n' "$label" "$("$bin" loadtest --quiet --json --duration "$DURATION" "$@" | tr -d '\n ')"
}

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)" >&2

# SQLite, one node: the quick-start server.
start_node 18180 18180 --data "$work/sqlite"
sqlite_pid=$NODE_PID
for i in $(seq 1 "$RUNS"); do
  run "sqlite-1node-c32" --url http://localhost:18180 --token "$(api_token --data "$work/sqlite")" --concurrency 32 --baseline --server-pid "$sqlite_pid"
done
run "sqlite-1node-c64" --url http://localhost:18180 --token "$(api_token --data "$work/sqlite")" --concurrency 64 --baseline --server-pid "$sqlite_pid"
kill "$sqlite_pid"; wait "$sqlite_pid" 2>/dev/null || true

# PostgreSQL (durable settings), one node and two nodes of one organisation.
start_postgres
start_node 18181 18181 --database "$PG_URL"
a=$NODE_PID
for i in $(seq 1 "$RUNS"); do
  run "postgres-1node-c32" --url http://localhost:18181 --token "$(api_token --database "$PG_URL")" --concurrency 32 --baseline --server-pid "$a"
done
start_node 18182 18181 --database "$PG_URL"
b=$NODE_PID
for i in $(seq 1 "$RUNS"); do
  run "postgres-2nodes-c32" --url http://localhost:18181 --url http://localhost:18182 --token "$(api_token --database "$PG_URL")" --concurrency 32 --baseline --server-pid "$a" --server-pid "$b"
done
