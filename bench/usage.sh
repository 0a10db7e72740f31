#!/usr/bin/env bash
# Issue 11's usage bench: batch ingest on a table of 10M events, the tenant's
# usage over 30 days, authorize with quotas on, and the server's memory.
#
#   bench/usage.sh     (DURATION=20s by default: each measured run)
#
# Builds the release binary (or takes TENANTGATE_BIN); starts a private
# PostgreSQL 15 with the embedded cluster's settings plus pg_stat_statements
# (bench/lib.sh); migrates; adds the metrics emails (count), storage_gb (max)
# and active_users (unique count of `user`) to the catalogue; gives every plan
# a monthly api_calls quota of 10^15 (on, never reached) and 2,000,000,000 API
# calls an hour; starts `tenantgate serve` on that cluster; signs up TENANTS
# (4) tenants with KEYS (2) live keys each (usage:write, usage:read); seeds
# SEED_EVENTS (10,000,000) events over the last 30 days directly in SQL
# (bench/usage/seed.sql: events, idempotency keys, rollups), then:
#   1. ingest:    wrk -t1 -c$INGEST_CONNECTIONS (8) POST /v1/usage, batches
#                 of BATCH (1,000) new events (bench/usage/ingest.lua),
#                 round robin over every key: events/s, p50/p99 per batch,
#                 SQL statements per batch, server / PostgreSQL / wrk CPU
#   2. reads:     tenant { usage(metric: "api_calls", from, to, granularity:
#                 HOUR) { total points { at value } } } over 30 days, as an
#                 owner (skipped when schema.graphql has no Tenant.usage)
#   3. authorize: GET /healthz and POST /v1/authorize (wrk -t2 -c32, as
#                 bench/authorize.sh) with the quota on, then with it off
#   4. memory:    the server's VmRSS sampled every 0.5 s (peak, after)
# PG_SETTINGS adds PostgreSQL settings ("-c wal_buffers=16MB ..."); EXTRA_SQL
# runs as the owner after seeding (to try a schema change);
# PERF=<run> (e.g. ingest) records a system-wide profile of that run (<run>.perf.data).
# Raw output and the summary: bench/results/usage-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh

duration=${DURATION:-20s}
warmup=3s
tenants=${TENANTS:-4}
keys_per_tenant=${KEYS:-2}
seed_events=${SEED_EVENTS:-10000000}
batch=${BATCH:-1000}
ingest_connections=${INGEST_CONNECTIONS:-8}
metrics_list=${METRICS:-api_calls,api_calls,api_calls,api_calls,api_calls,emails,storage_gb,active_users}
here=bench/usage
password='bench-Correct-Horse-Battery-2026'

die() { printf 'bench/usage.sh: %s\n' "$*" >&2; exit 1; }

ensure_postgres
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v jq >/dev/null 2>&1 || apt_install jq
bench_init usage
bench_binary
results="bench/results/usage-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

# --- 1. PostgreSQL, the catalogue and the plans ---------------------------------------
bench_pg_start ${PG_SETTINGS:-}
bench_migrate
sql -c "INSERT INTO metrics (key, name, unit, aggregation, unique_property) VALUES
      ('emails', 'Emails', 'emails', 'count', NULL), ('storage_gb', 'Storage', 'GB', 'max', NULL),
      ('active_users', 'Active users', 'users', 'unique_count', 'user')" \
  -c "UPDATE plans SET api_calls_per_hour = 2000000000,
      monthly_quotas = monthly_quotas || '{\"api_calls\": 1000000000000000}'"

# --- 2. the server, tenants and keys ----------------------------------------------------
bench_server_start --env development
graphql() { # token query [variables-json]: prints the response body
  local auth=() vars=${3:-'{}'}
  [ -z "$1" ] || auth=(-H "Authorization: Bearer $1")
  jq -nc --arg q "$2" --argjson v "$vars" '{query: $q, variables: $v}' |
    curl -sS -X POST "$url/graphql" -H 'Content-Type: application/json' \
      -H "X-Forwarded-For: 10.254.0.$((RANDOM % 250 + 1))" "${auth[@]}" --data-binary @-
}
say "signing up $tenants tenants, $keys_per_tenant live keys each"
: >"$tmp/keys"
: >"$tmp/tokens"
for t in $(seq 1 "$tenants"); do
  response=$(graphql "" 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }' \
    "{\"i\":{\"email\":\"owner$t@bench.test\",\"password\":\"$password\",\"tenantName\":\"Bench $t\"}}")
  token=$(jq -r '.data.signUp.accessToken // empty' <<<"$response")
  [ -n "$token" ] || die "signUp failed: $response"
  echo "$token" >>"$tmp/tokens"
  for k in $(seq 1 "$keys_per_tenant"); do
    response=$(graphql "$token" "mutation { createApiKey(input:{name:\"bench $k\", scopes:[USAGE_WRITE, USAGE_READ], environment: LIVE, rateLimit:{limit: 1000000000, periodSeconds: 3600}}) { secret } }")
    secret=$(jq -r '.data.createApiKey.secret // empty' <<<"$response")
    [ -n "$secret" ] || die "createApiKey failed: $response"
    echo "$secret" >>"$tmp/keys"
  done
done

say "seeding $seed_events events over the last 30 days (bench/usage/seed.sql)"
t0=$(date +%s%3N)
"$psql_bin" -U tenantgate -d tenantgate -qX -v ON_ERROR_STOP=1 -v events="$seed_events" \
  -f "$here/seed.sql" >"$results/seed.log"
seed_ms=$(($(date +%s%3N) - t0))
counts=$(sql -F ' ' -c "SELECT (SELECT coalesce(sum(events), 0) FROM usage_batches), (SELECT count(*) FROM usage_dedup),
  (SELECT count(*) FROM usage_rollups)")
db_size=$(sql -c "SELECT pg_size_pretty(pg_database_size('tenantgate'))")
# EXTRA_SQL: statements run as the owner after seeding, to try a schema
# change (an index or constraint less) before it becomes a migration.
[ -z "${EXTRA_SQL:-}" ] || "$psql_bin" -U tenantgate -d tenantgate -qX -v ON_ERROR_STOP=1 \
  -c "$EXTRA_SQL" >>"$results/seed.log"
say "seeded in $seed_ms ms: events dedup rollups = $counts ($db_size)"

# --- 3. measuring -----------------------------------------------------------------------
rss_idle=$(rss_kb)
rss_sampler() { while kill -0 "$server_pid" 2>/dev/null; do echo "$(date +%s.%N) $(rss_kb)"; sleep 0.5; done; }
rss_sampler >"$results/rss.log" 2>/dev/null &
sampler_pid=$!
reset_statements() { sql -c "SELECT pg_stat_statements_reset()" >/dev/null; }
statement_calls() { # top-level calls by anyone but `postgres` in the bench database
  sql -c "SELECT coalesce(sum(calls) FILTER (WHERE toplevel), 0)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = 'tenantgate' AND s.userid <> 'postgres'::regrole"
}
top_statements() { # requests: the top-level statements by total time
  sql -c "SELECT format('| %s | %s | %s | %s | %s |', round(sum(calls)::numeric / $1, 2),
      round((sum(total_exec_time) / greatest(sum(calls), 1))::numeric, 3),
      round((sum(total_exec_time) / $1)::numeric, 3), sum(wal_bytes) / greatest($1, 1),
      replace(left(regexp_replace(query, '\s+', ' ', 'g'), 140), '|', '\|'))
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = 'tenantgate' AND s.userid <> 'postgres'::regrole AND toplevel
    GROUP BY query ORDER BY sum(total_exec_time) DESC LIMIT 12"
}
wal_lsn() { sql -c "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"; }

declare -A rps p50 p99 requests srv_ms pg_ms stmts extra wal
labels=()
failed=0
s0= p0= w0=
measure_begin() { reset_statements; s0=$(cpu_ticks "$server_pid"); p0=$(pg_ticks); w0=$(wal_lsn); }
measure_end() { # label unit: per-unit figures of the run
  local label=$1 n=${requests[$1]} s1 p1 w1
  s1=$(cpu_ticks "$server_pid")
  p1=$(pg_ticks)
  w1=$(wal_lsn)
  srv_ms[$label]=$(awk -v d=$((s1 - s0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.2f", d * 1000 / hz / n }')
  pg_ms[$label]=$(awk -v d=$((p1 - p0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.2f", d * 1000 / hz / n }')
  stmts[$label]=$(ratio "$(statement_calls)" "$n")
  wal[$label]=$(awk -v d="$(awk -v a="$w1" -v b="$w0" 'BEGIN { print a - b }')" -v n="$n" 'BEGIN { printf "%.0f", d / n }')
  {
    printf '\n### %s: top-level statements by time (of %s requests)\n\n' "$label" "$n"
    printf '| per request | mean ms | ms per request | WAL bytes per request | statement |\n|---|---|---|---|---|\n'
    top_statements "$n"
  } >"$results/$label.statements.md"
  labels+=("$label")
}

wrk_run() { # label threads connections lua path [env assignments...]
  local label=$1 t=$2 c=$3 lua=$4 path=$5 line
  shift 5
  env "$@" WRK_LABEL="$label-warmup" WRK_RUN="$label-warmup-$RANDOM" \
    wrk -t"$t" -c"$c" -d"$warmup" -s "$lua" "$url$path" >"$results/$label.warmup.txt"
  measure_begin
  # PERF=<run>: a system-wide CPU profile of that run (perf record -a -g).
  if [ -n "${PERF:-}" ] && [ "$label" = "$PERF" ]; then
    perf record -F 499 -a -g -o "$results/$label.perf.data" -- sleep "${duration%s}" >/dev/null 2>&1 &
    # The server's own stacks (no frame pointers in a release build: DWARF).
    perf record -F 199 -p "$server_pid" --call-graph dwarf,32768 -o "$results/$label.server.perf.data" \
      -- sleep 4 >/dev/null 2>&1 &
  fi
  TIMEFORMAT='%U %S'
  { time env "$@" WRK_LABEL="$label" WRK_RUN="$label-$RANDOM" \
    wrk -t"$t" -c"$c" -d"$duration" --timeout 10s --latency -s "$lua" "$url$path" \
    >"$results/$label.txt"; } 2>"$results/$label.wrk-cpu"
  line=$(grep '^wrk-result ' "$results/$label.txt") || die "no result line from wrk ($label)"
  requests[$label]=$(field "$line" requests)
  measure_end "$label"
  rps[$label]=$(field "$line" rps)
  p50[$label]=$(field "$line" p50_ms)
  p99[$label]=$(field "$line" p99_ms)
  extra[$label]=$line
  bad=$(field "$line" bad)
  if [ "$(field "$line" non2xx)" != 0 ] || [ "$(field "$line" socket_errors)" != 0 ] ||
    [ "${bad:-0}" != 0 ]; then
    printf 'warning: %s: failed requests: %s\n' "$label" "$line" >&2
    failed=1
  fi
}
wrk_cpu_ms() { # label: wrk's CPU ms per request
  awk -v n="${requests[$1]}" '{ printf "%.2f", ($1 + $2) * 1000 / n }' "$results/$1.wrk-cpu"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "1. ingest: batches of $batch, $ingest_connections connections, warm-up $warmup, then $duration"
wrk_run ingest 1 "$ingest_connections" "$here/ingest.lua" /v1/usage \
  WRK_KEYS="$tmp/keys" WRK_METRICS="$metrics_list" WRK_BATCH="$batch"
ingest_line=${extra[ingest]}
[ "$(field "$ingest_line" duplicates)" = 0 ] || { printf 'warning: duplicates among new events\n' >&2; failed=1; }
[ "$(field "$ingest_line" refused)" = 0 ] || { printf 'warning: refused events\n' >&2; failed=1; }
load_ingest=$(cut -d' ' -f1-3 /proc/loadavg)

# --- reads (the field may not be merged yet) ---
read_label=
if awk '/^type Tenant /,/^}/' schema.graphql | grep -q '^[[:space:]]*usage('; then
  from=$(date -u -d '30 days ago' +%Y-%m-%dT%H:00:00Z)
  to=$(date -u +%Y-%m-%dT%H:00:00Z)
  q="{ tenant { usage(metric: \"api_calls\", from: \"$from\", to: \"$to\", granularity: HOUR) { total points { at value } } } }"
  body=$(jq -nc --arg q "$q" '{query: $q}')
  probe=$(graphql "$(head -1 "$tmp/tokens")" "$q")
  points=$(jq '.data.tenant.usage.points | length' <<<"$probe" 2>/dev/null || echo 0)
  [ "$points" -gt 0 ] || die "tenant { usage } answered no points: ${probe:0:400}"
  say "2. tenant { usage } over 30 days ($points hourly points)"
  wrk_run reads 2 16 bench/authorize/request.lua /graphql \
    WRK_METHOD=POST WRK_BODY="$body" WRK_AUTH="Bearer $(head -1 "$tmp/tokens")"
  read_label=reads
else
  say "2. skipped: schema.graphql has no Tenant.usage yet (branch h-reads)"
fi

say "3. authorize with the monthly quota on (GET /healthz, then POST /v1/authorize)"
wrk_run healthz 2 32 bench/authorize/request.lua /healthz
wrk_run authorize 2 32 bench/authorize/request.lua /v1/authorize \
  WRK_METHOD=POST WRK_BODY='{"metric":"api_calls","quantity":1}' WRK_AUTH="Bearer $(head -1 "$tmp/keys")"
out=$(curl -sS -X POST "$url/v1/authorize" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $(head -1 "$tmp/keys")" --data-binary '{"metric":"api_calls","quantity":1}')
grep -Eq '"allowed" *: *true' <<<"$out" || { printf 'warning: authorize not allowed: %s\n' "$out" >&2; failed=1; }
# The same call with the quota off (the plans announce the change: every
# instance drops its copy of the catalogue), for a comparison in one run.
sql -c "UPDATE plans SET monthly_quotas = monthly_quotas - 'api_calls'"
sleep 1
wrk_run authorize-no-quota 2 32 bench/authorize/request.lua /v1/authorize \
  WRK_METHOD=POST WRK_BODY='{"metric":"api_calls","quantity":1}' WRK_AUTH="Bearer $(head -1 "$tmp/keys")"
sleep 5
rss_after=$(rss_kb)
hwm=$(hwm_kb)
kill "$sampler_pid" 2>/dev/null || true
rss_peak_sampled=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$results/rss.log")
stored=$(sql -c "SELECT coalesce(sum(events), 0) FROM usage_batches")

# --- 4. the summary ---------------------------------------------------------------------
{
  printf '\n%s, commit %s%s, %s cores, %s\n' "$(date +%F)" \
    "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' (with uncommitted changes)')" \
    "$(nproc)" "$([ -n "${TENANTGATE_BIN:-}" ] && echo "binary $bin" || echo "release build")"
  printf 'load average at the start: %s; after the ingest run: %s; at the end: %s\n' \
    "$load_start" "$load_ingest" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'PG_SETTINGS: %s; EXTRA_SQL: %s\n' "${PG_SETTINGS:-none}" "${EXTRA_SQL:-none}"
  printf 'data: %s tenants x %s keys; events dedup rollups = %s (%s), seeded in %s ms; %s events stored at the end\n\n' \
    "$tenants" "$keys_per_tenant" "$counts" "$db_size" "$seed_ms" "$stored"
  printf '| run | req/s | events/s | p50 ms | p99 ms | SQL statements/req | server CPU ms/req | PostgreSQL CPU ms/req | wrk CPU ms/req | WAL bytes/req |\n'
  printf '|---|---|---|---|---|---|---|---|---|---|\n'
  for label in "${labels[@]}"; do
    ev=-
    [ "$label" != ingest ] || ev=$(field "${extra[$label]}" events_per_s)
    printf '| %s | %.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "${rps[$label]}" "$ev" \
      "${p50[$label]}" "${p99[$label]}" "${stmts[$label]}" "${srv_ms[$label]}" "${pg_ms[$label]}" \
      "$(wrk_cpu_ms "$label")" "${wal[$label]}"
  done
  printf '\ningest: %s\n' "$ingest_line"
  printf 'ingest: wrk (the generator) used %s ms of CPU per batch: one core would generate %s batches/s\n' \
    "$(wrk_cpu_ms ingest)" "$(awk -v m="$(wrk_cpu_ms ingest)" 'BEGIN { printf "%.0f", (m > 0 ? 1000 / m : 0) }')"
  [ -n "$read_label" ] || printf 'tenant { usage }: skipped (schema.graphql has no Tenant.usage)\n'
  printf 'authorize with the quota on: %.0f req/s, %s of GET /healthz (%.0f req/s); with it off: %.0f req/s; on/off %s (issue 11: within 10 %%); bench/README.md before quotas existed: 35,015 req/s, 0.53 of GET /healthz\n' \
    "${rps[authorize]}" "$(ratio "${rps[authorize]}" "${rps[healthz]}")" "${rps[healthz]}" \
    "${rps[authorize-no-quota]}" "$(ratio "${rps[authorize]}" "${rps[authorize-no-quota]}")"
  printf 'server RSS: idle %s MiB, peak sampled %s MiB (VmHWM %s MiB), 5 s after the runs %s MiB\n' \
    "$(mib "$rss_idle")" "$(mib "$rss_peak_sampled")" "$(mib "$hwm")" "$(mib "$rss_after")"
  [ "$(awk -v e="$(field "$ingest_line" events_per_s)" 'BEGIN { print (e >= 100000) }')" = 1 ] &&
    printf 'goal >= 100,000 events/s: met\n' || printf 'goal >= 100,000 events/s: not met\n'
} | tee "$results/summary.md"
for label in "${labels[@]}"; do cat "$results/$label.statements.md"; done >>"$results/summary.md"
printf '\nstatements per run: %s/summary.md\n' "$results"
grep -E '(ERROR|panicked)' "$results/server.log" >&2 && { printf 'warning: errors in the server log\n' >&2; failed=1; }
[ "$failed" = 0 ] || die "some requests failed: see the warnings above"
