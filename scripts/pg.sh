# Sourced by scripts/test.sh and scripts/perf.sh: start_postgres starts a throwaway PostgreSQL
# on a free loopback port and sets PG_URL; stop_postgres removes it.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

start_postgres() {
  pgdir=$(mktemp -d /tmp/latchkey-pg.XXXXXX)
  chmod 755 "$pgdir"
  as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$pgdir"
    as_pg=(runuser -u postgres --)
  fi
  local port="" p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
  done
  [ -n "$port" ] || { echo "no free loopback port for PostgreSQL" >&2; return 1; }
  "${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust --no-sync -E UTF8 --no-locale >/dev/null
  if ! "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w start \
    -o "-h 127.0.0.1 -p $port -k $pgdir ${PG_OPTIONS:-} -c max_connections=300" >/dev/null; then
    echo "PostgreSQL did not start; its log:" >&2
    cat "$pgdir/log" >&2 || true
    return 1
  fi
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

stop_postgres() {
  [ -n "${pgdir:-}" ] || return 0
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" stop -m immediate >/dev/null 2>&1 || true
  rm -rf "$pgdir"
  pgdir=""
}
