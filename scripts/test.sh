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

# 2. A throwaway PostgreSQL on loopback (fsync off: it is thrown away).
source scripts/pg.sh
trap stop_postgres EXIT INT TERM
log "starting PostgreSQL"
PG_OPTIONS="-c fsync=off -c full_page_writes=off -c synchronous_commit=off" start_postgres
export LATCHKEY_TEST_POSTGRES_URL="$PG_URL"
log "PostgreSQL at ${PG_URL%%/postgres\?*}"

# 3. The tests.
log "go vet"
go vet ./...
log "go test"
go test -count=1 -timeout 15m ./...
log "go test -race (stores and services)"
go test -count=1 -race -timeout 10m ./internal/sqlite/ ./internal/postgres/ ./internal/signin/ ./internal/policyadmin/ ./internal/directory/
