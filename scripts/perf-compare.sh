#!/usr/bin/env bash
# Compares passkey sign-in between two revisions on this machine: builds OLD and NEW (default
# HEAD), then runs `latchkey loadtest --baseline` against a fresh quick-start server (SQLite, one
# node, 32 clients) ROUNDS times (default 3) per binary, alternating which goes first in each
# round, and prints every run as a JSON line and the medians per binary. Usage:
#   scripts/perf-compare.sh OLD_REV [NEW_REV]
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: scripts/perf-compare.sh OLD_REV [NEW_REV]}
new_rev=${2:-HEAD}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
work=$(mktemp -d /tmp/latchkey-perfcmp.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

build() { # REV NAME
  mkdir -p "$work/src-$2"
  git archive "$1" | tar -x -C "$work/src-$2"
  (cd "$work/src-$2" && go build -o "$work/$2" ./cmd/latchkey)
}
build "$old_rev" old
build "$new_rev" new

one_run() { # NAME
  local bin="$work/$1" data="$work/data-$1-$RANDOM" port=18190
  "$bin" serve --data "$data" --listen "127.0.0.1:$port" --public-url "http://localhost:$port" >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  local cred
  if "$bin" loadtest --help 2>&1 | grep -q -- '--token'; then
    local tok
    tok=$("$bin" token create "loadtest-$RANDOM" --scopes User.ReadWrite.All,UserAuthenticationMethod.ReadWrite.All --json --data "$data" |
      sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
    cred=(--token "$tok")
  else
    cred=(--admin-tap "$("$bin" tap issue admin --json --data "$data" | sed -n 's/.*"temporaryAccessPass": "\(.*\)".*/\1/p')")
  fi
  printf '{"binary":"%s","result":%s}\n' "$1" "$("$bin" loadtest --quiet --json --duration "$DURATION" \
    --url "http://localhost:$port" "${cred[@]}" --concurrency 32 --baseline --server-pid "$pid" | tr -d '\n ')"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  rm -rf "$data"
}

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); old=$old_rev new=$new_rev" >&2
for i in $(seq 1 "$ROUNDS"); do
  if [ $((i % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
  for b in $order; do one_run "$b" | tee -a "$work/runs.jsonl"; done
done
python3 - "$work/runs.jsonl" ceremoniesPerSecond p50Ms p99Ms serverCpuMsPerCeremony baselineCeremoniesPerSecond ratio errors <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def med(b, *path):
    vals = []
    for r in runs:
        if r["binary"] != b: continue
        v = r["result"]
        for p in path: v = v.get(p) if isinstance(v, dict) else None
        if v is not None: vals.append(v)
    return statistics.median(vals) if vals else None
for b in ("old", "new"):
    print(json.dumps({"binary": b, "medians": {k: med(b, k) for k in sys.argv[2:]}}))
PY
