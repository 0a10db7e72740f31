# Shared by the bench scripts: the release binary, a private PostgreSQL with
# pg_stat_statements, `tenantgate serve` on a free port, /proc readings, and
# the cleanup that stops whatever was started. Sourced, not run, after
# scripts/lib.sh; the sourcing script defines `die` and sets `results` before
# calling bench_server_start.
#
#   bench_init NAME        temporary folder $tmp (mktemp /tmp/tenantgate-NAME.*),
#                          the EXIT/INT/TERM traps, $psql_bin
#   bench_binary           $bin: TENANTGATE_BIN, or `cargo build --release`
#   bench_pg_start [-c setting=value ...]
#                          a private PostgreSQL 15 in $tmp/data (Unix socket
#                          only, scram passwords, pg_stat_statements, the
#                          embedded cluster's settings unless overridden);
#                          a database `tenantgate` owned by the superuser
#                          `tenantgate`; exports PGHOST and PGPASSFILE; sets
#                          $owner_url, $app_url, $pm_pid; `sql` runs psql as
#                          `postgres` (not counted by statement_calls)
#   bench_migrate          `tenantgate migrate`, then gives tenantgate_app LOGIN
#   bench_server_start ARGS...
#                          `tenantgate serve --listen 127.0.0.1:0 ARGS` with a
#                          metrics token ($metrics_token), log level warn;
#                          waits for /readyz; sets $url and $server_pid
#   embedded_sql QUERY     psql as the owner of the server's embedded cluster
#                          (a server started without DATABASE_URL)

bench_init() {
  tmp=$(mktemp -d "/tmp/tenantgate-$1.XXXXXX")
  chmod 755 "$tmp" # the PostgreSQL servers run as `postgres` when we are root
  server_pid=
  pg_started=
  pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
  psql_bin=$pg_bin/psql
  [ -x "$psql_bin" ] || psql_bin=$(command -v psql) ||
    die "psql not found (apt-get install postgresql-client)"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_binary() {
  if [ -n "${TENANTGATE_BIN:-}" ]; then
    bin=$TENANTGATE_BIN # a binary built elsewhere
  else
    say "building the release binary"
    cargo build --release --quiet
    bin="$CARGO_TARGET_DIR/release/tenantgate"
  fi
}

as_pg() { # runs a PostgreSQL server binary as `postgres` when we are root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bench_cleanup() {
  local status=$? pm pg_pid
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  [ -z "$server_pid" ] || wait "$server_pid" 2>/dev/null || true
  if [ -n "$pg_started" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  # A server's embedded PostgreSQL stops with it (a killed server: the
  # postmaster gets its parent-death signal). Wait for it, so the folder can go.
  pm="$tmp/server/postgres/data/postmaster.pid"
  if [ -f "$pm" ]; then
    pg_pid=$(head -1 "$pm" 2>/dev/null || true)
    if [ -n "$pg_pid" ] && grep -qF "$tmp" "/proc/$pg_pid/cmdline" 2>/dev/null; then
      for _ in $(seq 1 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
      kill -QUIT "$pg_pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -rf "$tmp"
  exit "$status"
}

bench_pg_start() {
  local owner_pw app_pw super_pw socket
  [ -x "$pg_bin/initdb" ] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
  [ -f "$pg_bin/../lib/pg_stat_statements.so" ] ||
    die "pg_stat_statements is not installed (postgresql-contrib)"
  say "starting PostgreSQL ($pg_bin) in $tmp"
  owner_pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  app_pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  super_pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  mkdir -p "$tmp/run"
  printf '%s\n' "$super_pw" >"$tmp/superpw"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$tmp" "$tmp/run" "$tmp/superpw"
  chmod 700 "$tmp/run"
  as_pg "$pg_bin/initdb" -D "$tmp/data" -U postgres --pwfile="$tmp/superpw" \
    --auth-local=scram-sha-256 --auth-host=reject --no-sync -E UTF8 --locale=C.UTF-8 \
    >"$results/initdb.log"
  # The embedded cluster's settings (src/db/embedded/mod.rs), then the
  # caller's (later settings win), then the statement statistics.
  local opts="-c listen_addresses='' -c unix_socket_directories=$tmp/run"
  opts+=" -c max_connections=200 -c shared_buffers=32MB $*"
  opts+=" -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
  opts+=" -c pg_stat_statements.track_planning=on -c pg_stat_statements.max=10000"
  as_pg "$pg_bin/pg_ctl" -D "$tmp/data" -l "$tmp/postgres.log" -w start -o "$opts" >/dev/null
  pg_started=1
  pm_pid=$(head -1 "$tmp/data/postmaster.pid")
  printf '*:*:*:postgres:%s\n*:*:*:tenantgate:%s\n*:*:*:tenantgate_app:%s\n' \
    "$super_pw" "$owner_pw" "$app_pw" >"$tmp/pgpass"
  chmod 600 "$tmp/pgpass"
  export PGPASSFILE=$tmp/pgpass PGHOST=$tmp/run
  DB=postgres sql -c "CREATE ROLE tenantgate LOGIN SUPERUSER PASSWORD '$owner_pw'" \
    -c "CREATE DATABASE tenantgate OWNER tenantgate"
  sql -c "CREATE EXTENSION pg_stat_statements"
  socket=$(printf '%s' "$tmp/run" | jq -sRr @uri)
  owner_url="postgres://tenantgate:$owner_pw@localhost/tenantgate?host=$socket"
  app_url="postgres://tenantgate_app:$app_pw@localhost/tenantgate?host=$socket"
  bench_app_pw=$app_pw
}

sql() { # as the cluster's superuser `postgres` (excluded from the statement counts)
  "$psql_bin" -U postgres -d "${DB:-tenantgate}" -qtAX -v ON_ERROR_STOP=1 "$@"
}

bench_migrate() {
  say "migrating"
  DATABASE_URL=$owner_url TENANTGATE_LOG=warn "$bin" migrate >"$results/migrate.log"
  # The migrations create tenantgate_app NOLOGIN: give it LOGIN and a password.
  sql -c "ALTER ROLE tenantgate_app WITH LOGIN PASSWORD '$bench_app_pw'"
}

bench_server_start() {
  local deadline
  say "starting tenantgate serve (log: $results/server.log)"
  # Port 0: the kernel picks a free loopback port; the server prints it.
  # Request logging at info would be a large part of the work measured: warn.
  # /metrics is served only behind a token (or on its own listener): give it one.
  metrics_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  mkdir -p "$tmp/server"
  local db_env=(-u DATABASE_URL -u TENANTGATE_APP_DATABASE_URL)
  [ -z "$pg_started" ] || db_env=(DATABASE_URL="$owner_url" TENANTGATE_APP_DATABASE_URL="$app_url")
  env -u TENANTGATE_METRICS_LISTEN "${db_env[@]}" TENANTGATE_METRICS_TOKEN="$metrics_token" \
    TENANTGATE_LOG="${TENANTGATE_LOG:-warn}" \
    "$bin" serve --listen 127.0.0.1:0 --data-dir "$tmp/server" --shutdown-grace-secs 5 "$@" \
    >"$results/server.stdout" 2>"$results/server.log" &
  server_pid=$!
  url=
  deadline=$((SECONDS + 180))
  while [ -z "$url" ]; do
    kill -0 "$server_pid" 2>/dev/null || { tail -20 "$results/server.log" >&2; die "the server exited"; }
    [ "$SECONDS" -lt "$deadline" ] || die "the server did not print its address in 180 s"
    sleep 0.1
    url=$(sed -n 's/^tenantgate listening on \(http:[^ ]*\).*/\1/p' "$results/server.stdout")
  done
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; do
    kill -0 "$server_pid" 2>/dev/null || { tail -20 "$results/server.log" >&2; die "the server exited"; }
    [ "$SECONDS" -lt "$deadline" ] || die "/readyz did not answer 200 in 180 s"
    sleep 0.1
  done
}

embedded_sql() {
  local pm="$tmp/server/postgres/data/postmaster.pid" host
  host=$(sed -n 5p "$pm")
  [ -n "$host" ] || host=$(sed -n 6p "$pm")
  PGPASSWORD=$(cat "$tmp/server/postgres/password") "$psql_bin" -h "$host" -p "$(sed -n 4p "$pm")" \
    -U tenantgate -d tenantgate -qtAX -v ON_ERROR_STOP=1 -c "$1"
}

# The server's SQL statement counter (all label sets added up).
sql_statements() {
  curl -fsS -H "Authorization: Bearer $metrics_token" "$url/metrics" | awk '
    /^tenantgate_sql_statements_total([{ ]|$)/ { sub(/\{[^}]*\}/, ""); total += $2; found = 1 }
    END { if (!found) exit 1; printf "%.0f\n", total }'
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/${1:-$server_pid}/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/${1:-$server_pid}/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { printf f, (b > 0 ? a / b : 0) }'; }
hz=$(getconf CLK_TCK)
cpu_ticks() { # pid: utime+stime (+ cutime+cstime of reaped children with "all")
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }
  # After "pid (comm) ": field 3 is state; utime is field 14 of the whole line.
  awk -v all="${2:-}" '{ t = $12 + $13; if (all != "") t += $14 + $15; print t }' <<<"$s"
}
pg_ticks() { # the postmaster (with the children it reaped) and its live children
  local total pid
  total=$(cpu_ticks "$pm_pid" all)
  for pid in $(pgrep -P "$pm_pid"); do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}
