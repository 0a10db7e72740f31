#!/usr/bin/env bash
# Stripe webhook intake: how many signed deliveries a second the server takes,
# what a redelivery and a forged signature cost, and how fast the worker drains.
#
#   bench/webhooks.sh            (DURATION=10s by default: each measured run)
#
# Builds the release binary and starts `tenantgate serve` on a fresh data dir
# with billing on (STRIPE_API_BASE points at nothing: the events concern a
# customer no tenant has, so the worker never calls Stripe). Then wrk (2 threads,
# 32 connections) POSTs to /webhooks/stripe:
#   - new:        distinct signed events (each stored once, then worked)
#   - redelivery: 200 events already stored, again and again (Stripe's retries)
#   - forged:     bodies with a wrong signature (what an attacker costs: 400s)
# For each run: req/s, p50 and p99 latency, and SQL statements per request from
# `tenantgate_sql_statements_total`. After the first run, the time the event
# worker takes to work the backlog. Raw output goes to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

duration=${DURATION:-10s}
threads=2
connections=32
warmup=2s
lua=bench/webhooks/request.lua
whsec=whsec_bench_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')

die() { printf 'bench/webhooks.sh: %s\n' "$*" >&2; exit 1; }

ensure_postgres
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v jq >/dev/null 2>&1 || apt_install jq
psql_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)
[ -x "$psql_bin" ] || psql_bin=$(command -v psql || true)
[ -n "$psql_bin" ] || die "psql not found (apt-get install postgresql-client)"

say "building the release binary"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/tenantgate"

results="bench/results/webhooks-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"
data=$(mktemp -d /tmp/tenantgate-hooks.XXXXXX)
chmod 755 "$data" # the embedded PostgreSQL runs as `postgres` when we are root
server_pid=

cleanup() {
  local status=$? pm pg_pid
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  [ -z "$server_pid" ] || wait "$server_pid" 2>/dev/null || true
  # The server stops its PostgreSQL (a killed server: the postmaster gets its
  # parent-death signal). Wait for it, so the data dir can go.
  pm="$data/postgres/data/postmaster.pid"
  if [ -f "$pm" ]; then
    pg_pid=$(head -1 "$pm" 2>/dev/null || true)
    if [ -n "$pg_pid" ] && grep -qF "$data" "/proc/$pg_pid/cmdline" 2>/dev/null; then
      for _ in $(seq 1 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
      kill -QUIT "$pg_pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -rf "$data"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. the server --------------------------------------------------------------
say "starting tenantgate serve with billing on (data: $data, log: $results/server.log)"
# Port 0: the kernel picks a free loopback port; the server prints it.
# Request logging at info would be a large part of the work measured: warn.
# /metrics is served only behind a token (or on its own listener): give it one.
metrics_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
env -u DATABASE_URL -u TENANTGATE_APP_DATABASE_URL -u TENANTGATE_METRICS_LISTEN \
  TENANTGATE_METRICS_TOKEN="$metrics_token" \
  TENANTGATE_LOG="${TENANTGATE_LOG:-warn}" \
  STRIPE_SECRET_KEY=sk_test_bench STRIPE_WEBHOOK_SECRET="$whsec" STRIPE_API_BASE=http://127.0.0.1:9 \
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$data" --env development \
  --shutdown-grace-secs 5 >"$results/server.stdout" 2>"$results/server.log" &
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

# --- 2. the runs ------------------------------------------------------------------
pm="$data/postgres/data/postmaster.pid"
pg_port=$(sed -n 4p "$pm")
pg_host=$(sed -n 5p "$pm")
[ -n "$pg_host" ] || pg_host=$(sed -n 6p "$pm")
sql() {
  PGPASSWORD=$(cat "$data/postgres/password") "$psql_bin" -h "$pg_host" -p "$pg_port" \
    -U tenantgate -d tenantgate -qtAX -v ON_ERROR_STOP=1 -c "$1"
}
sql_statements() { # the server's SQL statement counter (all label sets added up)
  curl -fsS -H "Authorization: Bearer $metrics_token" "$url/metrics" | awk '
    /^tenantgate_sql_statements_total([{ ]|$)/ { sub(/\{[^}]*\}/, ""); total += $2; found = 1 }
    END { if (!found) exit 1; printf "%.0f\n", total }'
}
sql_statements >/dev/null || die "GET /metrics has no tenantgate_sql_statements_total counter"

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
declare -A rps p50 p99 non2xx requests stmts
labels=()

run() { # label name events-file
  local label=$1 name=$2 events=$3 before after line
  labels+=("$label")
  say "$name: $duration"
  before=$(sql_statements)
  WRK_LABEL=$label WRK_EVENTS=$events WRK_THREADS=$threads \
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$lua" "$url/webhooks/stripe" |
    tee "$results/$label.txt"
  after=$(sql_statements)
  line=$(grep '^wrk-result ' "$results/$label.txt") || die "no result line from wrk ($label)"
  rps[$label]=$(field "$line" rps)
  p50[$label]=$(field "$line" p50_ms)
  p99[$label]=$(field "$line" p99_ms)
  non2xx[$label]=$(field "$line" non2xx)
  requests[$label]=$(field "$line" requests)
  stmts[$label]=$(awk -v d=$((after - before)) -v n="${requests[$label]}" \
    'BEGIN { printf "%.2f", (n > 0 ? d / n : 0) }')
}

count=${EVENTS:-150000}
say "signing $count events"
python3 bench/webhooks/events.py "$whsec" "$count" new >"$results/new.events"
# Events from the middle of the first run's share (wrk may take a thread's
# first line before the connection is up: not necessarily sent).
sed -n '1001,1200p' "$results/new.events" >"$results/redelivery.events"
python3 bench/webhooks/events.py "$whsec" 20000 forged >"$results/forged.events"

run new "new events" "$results/new.events"
# Deliveries wrk gave up on at the end may still be waiting for a pooled
# connection (5 s at most): count after that.
sleep 6
[ "${non2xx[new]}" = 0 ] || die "${non2xx[new]} new events were refused"
[ "${requests[new]}" -le "$count" ] ||
  printf 'warning: more requests (%s) than events (%s): the tail were redeliveries\n' "${requests[new]}" "$count" >&2

say "waiting for the worker to work the backlog"
start=$(date +%s.%N)
left=$(sql "SELECT count(*) FROM stripe_events WHERE processed_at IS NULL")
backlog=$left
while [ "$left" -gt 0 ]; do
  sleep 0.5
  left=$(sql "SELECT count(*) FROM stripe_events WHERE processed_at IS NULL")
done
drain=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
stored=$(sql "SELECT count(*) FROM stripe_events")
[ "$stored" -gt 0 ] || die "no event was stored"

run redelivery "redeliveries of 200 stored events" "$results/redelivery.events"
[ "${non2xx[redelivery]}" = 0 ] || die "${non2xx[redelivery]} redeliveries were refused"
after_redelivery=$(sql "SELECT count(*) FROM stripe_events")
[ "$after_redelivery" = "$stored" ] || die "a redelivery stored a new row ($stored → $after_redelivery)"

run forged "forged signatures" "$results/forged.events"
[ "${non2xx[forged]}" = "${requests[forged]}" ] || die "a forged delivery was accepted"
[ "$(sql "SELECT count(*) FROM stripe_events")" = "$stored" ] || die "a forged delivery stored a row"

# --- 3. the summary -----------------------------------------------------------------
declare -A names=([new]="new event (verify, store, 200)" [redelivery]="redelivery (verify, find, 200)"
  [forged]="forged signature (400)")
{
  printf '\n%s, commit %s%s, %s cores, release build, wrk -t%s -c%s -d%s --latency\n\n' \
    "$(date +%F)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')" \
    "$(nproc)" "$threads" "$connections" "$duration"
  printf '| delivery | req/s | p50 ms | p99 ms | SQL statements per request |\n'
  printf '|---|---|---|---|---|\n'
  for label in "${labels[@]}"; do
    printf '| %s | %.0f | %.2f | %.2f | %s |\n' "${names[$label]}" "${rps[$label]}" \
      "${p50[$label]}" "${p99[$label]}" "${stmts[$label]}"
  done
  printf '\nworker: %s stored events worked in %s s after the run (%s events/s; each is a lease and a done, two transactions)\n' \
    "$backlog" "$drain" "$(awk -v n="$backlog" -v s="$drain" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')"
} | tee "$results/summary.md"
printf '\nraw output: %s\n' "$results"
