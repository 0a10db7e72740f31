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
. bench/lib.sh

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
bench_init hooks
bench_binary
results="bench/results/webhooks-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

# --- 1. the server --------------------------------------------------------------
say "tenantgate serve with billing on (data: $tmp/server)"
STRIPE_SECRET_KEY=sk_test_bench STRIPE_WEBHOOK_SECRET="$whsec" STRIPE_API_BASE=http://127.0.0.1:9 \
  bench_server_start --env development

# --- 2. the runs ------------------------------------------------------------------
sql() { embedded_sql "$1"; }
sql_statements >/dev/null || die "GET /metrics has no tenantgate_sql_statements_total counter"
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
