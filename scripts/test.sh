#!/usr/bin/env bash
# Runs every Latchkey test on a Debian machine: installs Debian's chromium and postgresql when
# missing, starts a throwaway PostgreSQL on a free loopback port for the storage and multi-node
# tests, runs `go vet` and `go test`, and removes the PostgreSQL cluster afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

# 1. What the tests need from Debian.
need=()
[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]} (Debian packages)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "Go is not installed: see https://go.dev/doc/install (Go 1.26 or later)" >&2; exit 1; }

# 2. A throwaway PostgreSQL on loopback.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgdir=$(mktemp -d /tmp/latchkey-test-pg.XXXXXX)
chmod 755 "$pgdir"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$pgdir"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
trap cleanup EXIT INT TERM

port=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "no free loopback port for PostgreSQL" >&2; exit 1; }

log "starting PostgreSQL on 127.0.0.1:$port"
"${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust --no-sync -E UTF8 --no-locale >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w start \
  -o "-h 127.0.0.1 -p $port -k $pgdir -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=300" >/dev/null
export LATCHKEY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

# 3. The tests.
log "go vet"
go vet ./...
log "go test"
go test -count=1 -timeout 15m ./...
log "go test -race (stores and sign-in service)"
go test -count=1 -race -timeout 10m ./internal/sqlite/ ./internal/postgres/ ./internal/auth/
