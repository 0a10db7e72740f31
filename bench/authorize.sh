#!/usr/bin/env bash
# Throughput and latency of the authorize hot path, against a trivial endpoint.
#
#   bench/authorize.sh           (DURATION=10s by default: each measured run)
#
# Builds the release binary, starts `tenantgate serve --demo` on a fresh data dir
# (embedded PostgreSQL), logs in as the demo owner of acme, creates a live API key
# with the USAGE_WRITE scope, lifts acme's plan's hourly API-call limit, and then
# runs wrk (2 threads, 32 connections, after a 2 s warm-up each) against:
#   - GET  /healthz                         (the trivial endpoint)
#   - POST /v1/authorize                    (JSON, API key)
#   - POST /graphql  mutation { authorize } (GraphQL, API key)
# For each run: req/s, p50 and p99 latency, non-2xx responses, and SQL statements
# per request from the server's `tenantgate_sql_statements_total` counter (read
# just before and just after the run). Raw output goes to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

duration=${DURATION:-10s}
threads=2
connections=32
warmup=2s
lua=bench/authorize/request.lua
json_body='{"metric":"api_calls","quantity":1}'
graphql_body='{"query":"mutation { authorize(input:{metric:\"api_calls\", quantity:1}) { allowed remaining } }"}'
# The demo account and tenant (src/demo.rs).
demo_email=ada@acme.test
demo_tenant=acme
demo_password_default=tenantgate-demo-2026

die() { printf 'bench/authorize.sh: %s\n' "$*" >&2; exit 1; }

ensure_postgres
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v jq >/dev/null 2>&1 || apt_install jq
psql_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)
[ -x "$psql_bin" ] || psql_bin=$(command -v psql || true)
[ -n "$psql_bin" ] || die "psql not found (apt-get install postgresql-client)"

say "building the release binary"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/tenantgate"

results="bench/results/authorize-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"
data=$(mktemp -d /tmp/tenantgate-authz.XXXXXX)
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
say "starting tenantgate serve --demo (data: $data, log: $results/server.log)"
# Port 0: the kernel picks a free loopback port; the server prints it.
# Request logging at info would be a large part of the work measured: warn.
# /metrics is served only behind a token (or on its own listener): give it one.
metrics_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
env -u DATABASE_URL -u TENANTGATE_APP_DATABASE_URL -u TENANTGATE_METRICS_LISTEN \
  TENANTGATE_METRICS_TOKEN="$metrics_token" \
  TENANTGATE_LOG="${TENANTGATE_LOG:-warn}" \
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$data" --demo --env development \
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

# --- 2. an API key ----------------------------------------------------------------
graphql() { # token query: prints the response body
  local auth=()
  [ -z "$1" ] || auth=(-H "Authorization: Bearer $1")
  jq -nc --arg q "$2" '{query: $q}' |
    curl -sS -X POST "$url/graphql" -H 'Content-Type: application/json' "${auth[@]}" --data-binary @-
}

password=$(sed -n 's/^Demo data (password for every account: \(.*\))$/\1/p' "$results/server.stdout")
password=${password:-$demo_password_default}
response=$(graphql "" "mutation { logIn(input:{email:\"$demo_email\", password:\"$password\"}) { accessToken } }")
token=$(jq -r '.data.logIn.accessToken // empty' <<<"$response")
[ -n "$token" ] || die "logIn failed: $response"

response=$(graphql "$token" 'mutation { createApiKey(input:{name:"bench", scopes:[USAGE_WRITE], environment: LIVE, rateLimit:{limit: 1000000000, periodSeconds: 3600}}) { secret apiKey { id } } }')
secret=$(jq -r '.data.createApiKey.secret // empty' <<<"$response")
[ -n "$secret" ] || die "createApiKey failed: $response"
say "API key $(jq -r '.data.createApiKey.apiKey.id' <<<"$response") (${secret:0:12}…)"

# --- 3. lift the tenant's hourly limit (as the cluster's owner) ---------------------
# postmaster.pid: line 4 the port, line 5 the socket folder (empty: TCP), line 6
# the listen address.
pm="$data/postgres/data/postmaster.pid"
pg_port=$(sed -n 4p "$pm")
pg_host=$(sed -n 5p "$pm")
[ -n "$pg_host" ] || pg_host=$(sed -n 6p "$pm")
plan=$(PGPASSWORD=$(cat "$data/postgres/password") "$psql_bin" -h "$pg_host" -p "$pg_port" \
  -U tenantgate -d tenantgate -qtAX -v ON_ERROR_STOP=1 -c \
  "UPDATE plans SET api_calls_per_hour = 2000000000 WHERE key = (SELECT plan_key FROM tenants WHERE slug = '$demo_tenant') RETURNING key")
[ -n "$plan" ] || die "no plan updated for tenant $demo_tenant"
say "plan $plan: api_calls_per_hour = 2000000000"

# --- 4. check that both authorize paths answer allowed ------------------------------
check_allowed() { # label path body: fails unless HTTP 2xx with "allowed":true
  local out code body
  out=$(curl -sS -w '\n%{http_code}' -X POST "$url$2" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $secret" --data-binary "$3")
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  if [[ $code != 2?? ]] || ! grep -Eq '"allowed" *: *true' <<<"$body"; then
    printf 'bench/authorize.sh: %s is not allowed (HTTP %s): %s\n' "$1" "$code" "$body" >&2
    return 1
  fi
}
check_allowed "POST /v1/authorize" /v1/authorize "$json_body" || exit 1
check_allowed "POST /graphql authorize" /graphql "$graphql_body" || exit 1

# --- 5. the runs ------------------------------------------------------------------
sql_statements() { # the server's SQL statement counter (all label sets added up)
  curl -fsS -H "Authorization: Bearer $metrics_token" "$url/metrics" | awk '
    /^tenantgate_sql_statements_total([{ ]|$)/ { sub(/\{[^}]*\}/, ""); total += $2; found = 1 }
    END { if (!found) exit 1; printf "%.0f\n", total }'
}
sql_statements >/dev/null ||
  die "GET /metrics has no tenantgate_sql_statements_total counter"

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
declare -A rps p50 p99 non2xx requests sql
labels=()
failed=0

run() { # label name method path [body] [authorization]
  local label=$1 name=$2 method=$3 path=$4 body=${5:-} authorization=${6:-} before after line
  labels+=("$label")
  say "$name: warm-up $warmup, then $duration"
  WRK_LABEL="$label-warmup" WRK_METHOD=$method WRK_BODY=$body WRK_AUTH=$authorization \
    wrk -t"$threads" -c"$connections" -d"$warmup" -s "$lua" "$url$path" >"$results/$label.warmup.txt"
  before=$(sql_statements)
  WRK_LABEL=$label WRK_METHOD=$method WRK_BODY=$body WRK_AUTH=$authorization \
    wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$lua" "$url$path" |
    tee "$results/$label.txt"
  after=$(sql_statements)
  line=$(grep '^wrk-result ' "$results/$label.txt") || die "no result line from wrk ($label)"
  rps[$label]=$(field "$line" rps)
  p50[$label]=$(field "$line" p50_ms)
  p99[$label]=$(field "$line" p99_ms)
  non2xx[$label]=$(field "$line" non2xx)
  requests[$label]=$(field "$line" requests)
  sql[$label]=$(awk -v d=$((after - before)) -v n="${requests[$label]}" \
    'BEGIN { printf "%.4f", (n > 0 ? d / n : 0) }')
  printf 'sql-result label=%s statements=%s requests=%s per_request=%s\n' \
    "$label" $((after - before)) "${requests[$label]}" "${sql[$label]}" | tee -a "$results/$label.txt"
  [ "$(field "$line" socket_errors)" = 0 ] ||
    printf 'warning: %s: %s socket errors\n' "$name" "$(field "$line" socket_errors)" >&2
  if [ "${non2xx[$label]}" != 0 ]; then
    printf 'warning: %s: %s responses with an error status\n' "$name" "${non2xx[$label]}" >&2
    failed=1
  fi
}

run healthz "GET /healthz" GET /healthz
run json "POST /v1/authorize" POST /v1/authorize "$json_body" "Bearer $secret"
check_allowed "POST /v1/authorize, after its run" /v1/authorize "$json_body" || failed=1
run graphql "POST /graphql authorize" POST /graphql "$graphql_body" "Bearer $secret"
check_allowed "POST /graphql authorize, after its run" /graphql "$graphql_body" || failed=1

# --- 6. the summary -----------------------------------------------------------------
declare -A names=([healthz]="GET /healthz" [json]="POST /v1/authorize (JSON)"
  [graphql]="POST /graphql authorize (GraphQL)")
{
  printf '\n%s, commit %s%s, %s cores, release build, wrk -t%s -c%s -d%s --latency\n\n' \
    "$(date +%F)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')" \
    "$(nproc)" "$threads" "$connections" "$duration"
  printf '| endpoint | req/s | p50 ms | p99 ms | non-2xx | SQL statements per call |\n'
  printf '|---|---|---|---|---|---|\n'
  for label in "${labels[@]}"; do
    printf '| %s | %.0f | %.2f | %.2f | %s | %s |\n' "${names[$label]}" "${rps[$label]}" \
      "${p50[$label]}" "${p99[$label]}" "${non2xx[$label]}" "${sql[$label]}"
  done
  printf '\n'
  for label in json graphql; do
    printf '%s: %s of the req/s of GET /healthz\n' "${names[$label]}" \
      "$(awk -v a="${rps[$label]}" -v b="${rps[healthz]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
  done
  printf '(GET /healthz runs no SQL: its statements per call are the background work, the noise floor.)\n'
} | tee "$results/summary.md"
printf '\nraw output: %s\n' "$results"
[ "$failed" = 0 ] || die "some requests were refused or not allowed: see the warnings above"
