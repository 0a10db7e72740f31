#!/usr/bin/env bash
# The dashboard reads of issue 9, against PostgreSQL's own ceiling.
#
#   bench/dashboard.sh           (DURATION=20s by default: each measured run)
#
# Builds the release binary; starts a private PostgreSQL with pg_stat_statements
# (initdb in a temporary folder, Unix socket only); migrates; seeds TENANTS
# tenants x MEMBERS members x KEYS API keys x AUDIT audit entries (defaults
# 1,000 x 50 x 50 x 100); starts `tenantgate serve` on that cluster (owner URL +
# the tenantgate_app URL); signs in OWNERS (200) owners and one platform admin;
# then, with wrk -t2 -c32 after a 2 s warm-up each, runs
#   - dashboard:     { tenant { members(first: 50) {…} apiKeys(first: 50) {…} } }
#                    as a random one of the signed-in owners
#   - admin-tenants: { admin { tenants(first: 50, after: <random tenant>) {…} } }
#   - admin-tenant:  { admin { tenant(id: <random>) { … members(first: 50) {…} } } }
#                    (a platform admin may not list a tenant's keys: FORBIDDEN)
# and, with pgbench -c32 -j2 -M prepared, the ceiling: the dashboard's whole
# answer as one hand-written statement (bench/dashboard/ceiling.sql) as
# tenantgate_app under the same row-level security.
# Per run: req/s, p50/p99, server and PostgreSQL CPU ms per request (/proc),
# SQL statements per request (pg_stat_statements, reset before each run), the
# top statements, the server's RSS. Then the dashboard's statements per request
# at page sizes 1, 10, 50, 100 (sequential requests), and the server's RSS
# around SIGNINS (1,000) more sign-ins. Raw output: bench/results/dashboard-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

duration=${DURATION:-20s}
tenants=${TENANTS:-1000}
members=${MEMBERS:-50}
keys=${KEYS:-50}
audit=${AUDIT:-100}
owners=${OWNERS:-200}
signins=${SIGNINS:-1000}
signin_parallel=${SIGNIN_PARALLEL:-8}
server_vmem_kb=${SERVER_VMEM_KB:-8388608}
threads=2
connections=32
warmup=2s
here=bench/dashboard
password='bench-Correct-Horse-Battery-2026'

die() { printf 'bench/dashboard.sh: %s\n' "$*" >&2; exit 1; }
[ "$owners" -le "$tenants" ] || die "OWNERS ($owners) must not exceed TENANTS ($tenants)"
[ "$signins" -le "$tenants" ] || die "SIGNINS ($signins) must not exceed TENANTS ($tenants)"

ensure_postgres
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v jq >/dev/null 2>&1 || apt_install jq
pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$pg_bin/initdb" ] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
[ -f "$pg_bin/../lib/pg_stat_statements.so" ] ||
  die "pg_stat_statements is not installed (postgresql-contrib)"
pgbench_bin=$pg_bin/pgbench
[ -x "$pgbench_bin" ] || pgbench_bin=$(command -v pgbench) || die "pgbench not found"
psql_bin=$pg_bin/psql
[ -x "$psql_bin" ] || psql_bin=$(command -v psql) || die "psql not found"

if [ -n "${TENANTGATE_BIN:-}" ]; then
  bin=$TENANTGATE_BIN # a binary built elsewhere (e.g. to try the script on a debug build)
else
  say "building the release binary"
  cargo build --release --quiet
  bin="$CARGO_TARGET_DIR/release/tenantgate"
fi

results="bench/results/dashboard-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"
tmp=$(mktemp -d /tmp/tenantgate-dash.XXXXXX)
chmod 755 "$tmp"
server_pid=
pg_started=

as_pg() { # runs a PostgreSQL server binary as `postgres` when we are root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  [ -z "$server_pid" ] || wait "$server_pid" 2>/dev/null || true
  [ -z "$pg_started" ] || as_pg "$pg_bin/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. a private PostgreSQL with pg_stat_statements --------------------------------
say "starting PostgreSQL ($pg_bin) in $tmp"
owner_pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
app_pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
super_pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$tmp/run"
printf '%s\n' "$super_pw" >"$tmp/superpw"
[ "$(id -u)" -ne 0 ] || chown postgres: "$tmp" "$tmp/run" "$tmp/superpw"
chmod 700 "$tmp/run"
as_pg "$pg_bin/initdb" -D "$tmp/data" -U postgres --pwfile="$tmp/superpw" \
  --auth-local=scram-sha-256 --auth-host=reject --no-sync -E UTF8 --locale=C.UTF-8 >"$results/initdb.log"
as_pg "$pg_bin/pg_ctl" -D "$tmp/data" -l "$tmp/postgres.log" -w start -o "\
 -c listen_addresses='' -c unix_socket_directories=$tmp/run -c max_connections=100 \
 -c shared_buffers=256MB -c shared_preload_libraries=pg_stat_statements \
 -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on \
 -c pg_stat_statements.max=10000" >/dev/null
pg_started=1
pm_pid=$(head -1 "$tmp/data/postmaster.pid")
printf '*:*:*:postgres:%s\n*:*:*:tenantgate:%s\n*:*:*:tenantgate_app:%s\n' \
  "$super_pw" "$owner_pw" "$app_pw" >"$tmp/pgpass"
chmod 600 "$tmp/pgpass"
export PGPASSFILE=$tmp/pgpass PGHOST=$tmp/run
sql() { # as the cluster's superuser `postgres` (excluded from the statement counts)
  "$psql_bin" -U postgres -d "${DB:-tenantgate}" -qtAX -v ON_ERROR_STOP=1 "$@"
}
DB=postgres sql -c "CREATE ROLE tenantgate LOGIN SUPERUSER PASSWORD '$owner_pw'" \
  -c "CREATE DATABASE tenantgate OWNER tenantgate"
sql -c "CREATE EXTENSION pg_stat_statements"
socket=$(printf '%s' "$tmp/run" | jq -sRr @uri)
owner_url="postgres://tenantgate:$owner_pw@localhost/tenantgate?host=$socket"
app_url="postgres://tenantgate_app:$app_pw@localhost/tenantgate?host=$socket"

say "migrating"
DATABASE_URL=$owner_url TENANTGATE_LOG=warn "$bin" migrate >"$results/migrate.log"
# The migrations create tenantgate_app NOLOGIN: give it LOGIN and a password.
sql -c "ALTER ROLE tenantgate_app WITH LOGIN PASSWORD '$app_pw'"

# --- 2. the server ------------------------------------------------------------------
say "starting tenantgate serve (log: $results/server.log)"
metrics_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$tmp/server"
(
  ulimit -v "$server_vmem_kb"
  exec env -u TENANTGATE_METRICS_LISTEN DATABASE_URL="$owner_url" \
    TENANTGATE_APP_DATABASE_URL="$app_url" TENANTGATE_METRICS_TOKEN="$metrics_token" \
    TENANTGATE_LOG="${TENANTGATE_LOG:-warn}" \
    "$bin" serve --listen 127.0.0.1:0 --data-dir "$tmp/server" --env development \
    --trusted-proxies 1 --shutdown-grace-secs 5
) >"$results/server.stdout" 2>"$results/server.log" &
server_pid=$!
url=
deadline=$((SECONDS + 120))
while [ -z "$url" ]; do
  kill -0 "$server_pid" 2>/dev/null || { tail -20 "$results/server.log" >&2; die "the server exited"; }
  [ "$SECONDS" -lt "$deadline" ] || die "the server did not print its address in 120 s"
  sleep 0.1
  url=$(sed -n 's/^tenantgate listening on \(http:[^ ]*\).*/\1/p' "$results/server.stdout")
done
until [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 10.255.0.1' "$url/readyz")" = 200 ]; do
  kill -0 "$server_pid" 2>/dev/null || { tail -20 "$results/server.log" >&2; die "the server exited"; }
  [ "$SECONDS" -lt "$deadline" ] || die "/readyz did not answer 200 in 120 s"
  sleep 0.1
done
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
sleep 2
rss_idle=$(rss_kb)
say "server idle: RSS $(mib "$rss_idle") MiB"

graphql() { # token query [variables-json] [client address]: prints the response body
  local auth=() vars=${3:-'{}'}
  [ -z "$1" ] || auth=(-H "Authorization: Bearer $1")
  jq -nc --arg q "$2" --argjson v "$vars" '{query: $q, variables: $v}' |
    curl -sS -X POST "$url/graphql" -H 'Content-Type: application/json' \
      -H "X-Forwarded-For: ${4:-10.255.0.1}" "${auth[@]}" --data-binary @-
}

# --- 3. the data ----------------------------------------------------------------------
# One argon2id hash, computed by the server: sign up a throwaway account, copy
# its hash to every seeded user, then delete the throwaway tenant and user.
response=$(graphql "" 'mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }' \
  "{\"i\":{\"email\":\"throwaway@bench.test\",\"password\":\"$password\",\"tenantName\":\"Throwaway\"}}")
jq -e '.data.signUp.accessToken' <<<"$response" >/dev/null || die "signUp failed: $response"
hash=$(sql -c "SELECT password_hash FROM users WHERE email = 'throwaway@bench.test'")
[ -n "$hash" ] || die "no password hash for the throwaway account"
sql -c "DELETE FROM tenants WHERE id IN (SELECT tenant_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'throwaway@bench.test')" \
  -c "DELETE FROM users WHERE email = 'throwaway@bench.test'"

say "seeding $tenants tenants x $members members x $keys keys x $audit audit entries"
t0=$(date +%s%3N)
"$psql_bin" -U tenantgate -d tenantgate -qX -v ON_ERROR_STOP=1 -v tenants="$tenants" \
  -v members="$members" -v keys="$keys" -v audit="$audit" -v hash="$hash" \
  -f "$here/seed.sql" >"$results/seed.log"
seed_ms=$(($(date +%s%3N) - t0))
counts=$(sql -F ' ' -c "SELECT (SELECT count(*) FROM tenants), (SELECT count(*) FROM users),
  (SELECT count(*) FROM memberships), (SELECT count(*) FROM api_keys), (SELECT count(*) FROM audit_log)")
db_size=$(sql -c "SELECT pg_size_pretty(pg_database_size('tenantgate'))")
say "seeded in $seed_ms ms: tenants users memberships keys audit = $counts ($db_size)"
# The platform admin: the owner of tenant 1 (promoted before signing in).
admin_email=o1-m0@bench.test
DATABASE_URL=$owner_url TENANTGATE_LOG=warn "$bin" admin promote "$admin_email" >>"$results/migrate.log"

# --- 4. sign-ins --------------------------------------------------------------------
# logIn for one email per line on stdin, SIGNIN_PARALLEL at a time, each from
# its own client address (X-Forwarded-For 10.<a>.<b>.<c>, unique per line: the
# server trusts one proxy), so no address reaches its sign-in budget. Prints
# one access token per line (empty: failed).
# The server hashes at most 2 passwords per core at once and answers
# UNAVAILABLE after 5 s in its queue: a sign-in is retried (up to 5 tries, 1 s
# apart); every refused try is logged to signin-retries.log.
cat >"$tmp/signin.sh" <<'EOF'
#!/usr/bin/env bash
# signin.sh URL PASSWORD BASE RETRY-LOG N EMAIL: one logIn, prints the access token.
n=$(($3 + $5))
body=$(printf '{"query":"mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { accessToken } }","variables":{"e":"%s","p":"%s"}}' "$6" "$2")
for try in 1 2 3 4 5; do
  out=$(curl -sS -X POST "$1/graphql" -H 'Content-Type: application/json' \
    -H "X-Forwarded-For: 10.$((n / 65536 % 256)).$((n / 256 % 256)).$((n % 256))" --data-binary "$body")
  token=$(sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p' <<<"$out")
  [ -z "$token" ] || break
  printf '%s try %s: %s\n' "$6" "$try" "$out" >>"$4"
  sleep 1
done
printf '%s\n\n' "$token"
EOF
chmod +x "$tmp/signin.sh"
sign_in() { # base-address-number: emails on stdin, tokens on stdout
  awk '{ print NR, $0 }' |
    xargs -P "$signin_parallel" -n 2 "$tmp/signin.sh" "$url" "$password" "$1" "$results/signin-retries.log" |
    sed '/^$/d'
}

say "signing in $owners owners and the platform admin"
t0=$(date +%s%3N)
seq 1 "$owners" | sed 's/.*/o&-m0@bench.test/' | sign_in 0 >"$tmp/tokens"
signin_ms=$(($(date +%s%3N) - t0))
[ "$(wc -l <"$tmp/tokens")" -eq "$owners" ] ||
  die "only $(wc -l <"$tmp/tokens") of $owners owners signed in"
admin_token=$(echo "$admin_email" | sign_in 100000)
[ -n "$admin_token" ] || die "the platform admin could not sign in"
rss_owners=$(rss_kb)
say "$owners sign-ins in $signin_ms ms; RSS $(mib "$rss_owners") MiB"

# Admin scenarios: "<tenant id> <cursor of that tenant in admin { tenants }>",
# for tenants 51 and up, so that every page after the cursor is full (50 older
# tenants). The cursor is the list's default ordering's (newest first, `cd`):
# `o1:cd:<id>:<created_at in µs>`, base64url without padding
# (graphql/types/admin_tenants.rs).
sql -F ' ' -c "SELECT id, translate(encode(convert_to('o1:cd:' || id || ':' || (extract(epoch FROM created_at) * 1000000)::bigint, 'UTF8'), 'base64'), E'+/=\n', '-_')
  FROM tenants WHERE slug LIKE 'bench-%' AND substr(slug, 7)::int > 50" >"$tmp/tenant-lines"

# --- 5. checks: every scenario answers full pages without errors ---------------------
dashboard_query="{ tenant { members(first: 50) { edges { node { role user { email } } } } apiKeys(first: 50) { edges { node { id name displayPrefix state scopes environment lastUsedAt } } } } }"
check() { # label jq-filter-that-must-be-true response
  jq -e "$2" <<<"$3" >/dev/null || {
    jq -c '{errors, pages: [.. | objects | to_entries[] | select(.value | objects | has("edges")) | {(.key): (.value.edges | length)}]}' <<<"$3" >&2 ||
      printf '%s\n' "$3" | head -c 2000 >&2
    die "$1: unexpected answer"
  }
}
check_all() {
  local response line
  response=$(graphql "$(shuf -n1 "$tmp/tokens")" "$dashboard_query")
  check dashboard '(.errors == null) and (.data.tenant.members.edges | length) == 50 and (.data.tenant.apiKeys.edges | length) == 50' "$response"
  line=$(shuf -n1 "$tmp/tenant-lines")
  response=$(graphql "$admin_token" "{ admin { tenants(first: 50, after: \"${line#* }\") { edges { node { id name slug status planKey createdAt memberCount } } } } }")
  check admin-tenants '(.errors == null) and (.data.admin.tenants.edges | length) == 50' "$response"
  response=$(graphql "$admin_token" "{ admin { tenant(id: \"${line%% *}\") { id name slug status planKey members(first: 50) { edges { node { role user { email } } } } } } }")
  check admin-tenant '(.errors == null) and (.data.admin.tenant.members.edges | length) == 50' "$response"
}
check_all
graphql "$(head -1 "$tmp/tokens")" "$dashboard_query" | jq . >"$results/dashboard-answer.json"

# The ceiling's statement: the same answer, and nothing without the tenant.
ceiling_sql=$(sed -e '/^\\set/d' -e "s/:t::int/7/" "$here/ceiling.sql")
ceiling_check=$("$psql_bin" -U tenantgate_app -d tenantgate -qtAX -v ON_ERROR_STOP=1 -c "$ceiling_sql" |
  jq -c '[(.data.tenant.members.edges | length), (.data.tenant.apiKeys.edges | length)]')
[ "$ceiling_check" = "[50,50]" ] || die "the ceiling statement returned $ceiling_check pages, not [50,50]"
leak=$("$psql_bin" -U tenantgate_app -d tenantgate -qtAX -v ON_ERROR_STOP=1 \
  -c "SELECT count(*) FROM memberships" -c "SELECT count(*) FROM api_keys" | tr '\n' ' ')
[ "$leak" = "0 0 " ] || die "tenantgate_app sees rows without a tenant set: $leak"

# --- 6. the measures ----------------------------------------------------------------------
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
reset_statements() { sql -c "SELECT pg_stat_statements_reset()" >/dev/null; }
# Statements run in the bench database by anyone but `postgres` (the bench's own
# queries): top level (what the client sent) and nested (inside functions).
statement_calls() {
  sql -F ' ' -c "SELECT coalesce(sum(calls) FILTER (WHERE toplevel), 0), coalesce(sum(calls) FILTER (WHERE NOT toplevel), 0)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = 'tenantgate' AND s.userid <> 'postgres'::regrole"
}
top_statements() { # requests: the top-level statements by calls
  sql -c "SELECT format('| %s | %s | %s | %s | %s | %s |', round(sum(calls)::numeric / $1, 2),
      sum(plans), round((sum(total_plan_time) / greatest(sum(calls), 1))::numeric, 3),
      round((sum(total_exec_time) / greatest(sum(calls), 1))::numeric, 3),
      string_agg(DISTINCT r.rolname, ', '),
      replace(left(regexp_replace(query, '\s+', ' ', 'g'), 160), '|', '\|'))
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
    WHERE d.datname = 'tenantgate' AND s.userid <> 'postgres'::regrole AND toplevel
    GROUP BY query ORDER BY sum(calls) DESC LIMIT 15"
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
# Requests a compiled plan answered since start (the server's /metrics).
compiled_answered() {
  curl -fsS -H "Authorization: Bearer $metrics_token" "$url/metrics" |
    awk '$1 == "tenantgate_compiled_reads_answered_total" { print $2; f = 1 } END { if (!f) print 0 }'
}
# The CPU (user + system) of the children a subshell ran, from bash's `times`
# ("0m1.234s 0m0.567s" on its second line), in ms.
children_ms() { awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { printf f, (b > 0 ? a / b : 0) }'; }

declare -A rps p50 p99 requests errors srv_ms pg_ms gen_ms compiled stmts nested rss reconnects
labels=()
failed=0

# A measured run: measure_begin, the load, measure_end (after its warm-up,
# which is not counted). Statement counts are reset at the beginning.
s0= p0=
measure_begin() {
  reset_statements
  s0=$(cpu_ticks "$server_pid")
  p0=$(pg_ticks)
}
measure_end() { # label (requests[label] set)
  local label=$1 s1 p1
  s1=$(cpu_ticks "$server_pid")
  p1=$(pg_ticks)
  read -r stmts[$label] nested[$label] < <(statement_calls)
  # Every new pooled connection sets its application_name once.
  reconnects[$label]=$(sql -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
    WHERE query LIKE 'SET application_name%' AND userid <> 'postgres'::regrole")
  srv_ms[$label]=$(awk -v d=$((s1 - s0)) -v hz="$hz" -v n="${requests[$label]}" 'BEGIN { printf "%.2f", d * 1000 / hz / n }')
  pg_ms[$label]=$(awk -v d=$((p1 - p0)) -v hz="$hz" -v n="${requests[$label]}" 'BEGIN { printf "%.2f", d * 1000 / hz / n }')
  {
    printf '\n### %s: top-level statements (of %s requests)\n\n' "$label" "${requests[$label]}"
    printf '| per request | plans | mean plan ms | mean exec ms | role | statement |\n|---|---|---|---|---|---|\n'
    top_statements "${requests[$label]}"
  } >"$results/$label.statements.md"
  stmts[$label]=$(ratio "${stmts[$label]}" "${requests[$label]}")
  nested[$label]=$(ratio "${nested[$label]}" "${requests[$label]}")
  rss[$label]=$(rss_kb)
  labels+=("$label")
}

wrk_run() { # label mode lines-file
  local label=$1 line
  WRK_LABEL="$label-warmup" WRK_MODE=$2 WRK_LINES=$3 WRK_AUTH="Bearer $admin_token" \
    wrk -t"$threads" -c"$connections" -d"$warmup" -s "$here/request.lua" "$url/graphql" >"$results/$label.warmup.txt"
  local spent c0
  c0=$(compiled_answered)
  measure_begin
  spent=$( (WRK_LABEL=$label WRK_MODE=$2 WRK_LINES=$3 WRK_AUTH="Bearer $admin_token" \
    wrk -t"$threads" -c"$connections" -d"$duration" --timeout 10s --latency -s "$here/request.lua" "$url/graphql" \
    >"$results/$label.txt"; times) | children_ms)
  line=$(grep '^wrk-result ' "$results/$label.txt") || die "no result line from wrk ($label)"
  requests[$label]=$(field "$line" requests)
  gen_ms[$label]=$(awk -v d="$spent" -v n="${requests[$label]}" 'BEGIN { printf "%.2f", d / n }')
  measure_end "$label"
  compiled[$label]=$(($(compiled_answered) - c0))
  rps[$label]=$(field "$line" rps)
  p50[$label]=$(field "$line" p50_ms)
  p99[$label]=$(field "$line" p99_ms)
  errors[$label]="$(field "$line" non2xx)/$(field "$line" graphql_errors)/$(field "$line" socket_errors)"
  if [ "${errors[$label]}" != 0/0/0 ]; then
    printf 'warning: %s: errors (status ≥ 400 / GraphQL errors / socket) %s\n' "$label" "${errors[$label]}" >&2
    failed=1
  fi
}

pgbench_run() { # label
  local label=$1 out
  "$pgbench_bin" -U tenantgate_app -d tenantgate -n -M prepared -c "$connections" -j "$threads" \
    -T "${warmup%s}" -D tenants="$tenants" -f "$here/ceiling.sql" >"$results/$label.warmup.txt" 2>&1
  measure_begin
  local spent
  spent=$( ("$pgbench_bin" -U tenantgate_app -d tenantgate -n -M prepared -c "$connections" -j "$threads" \
    -T "${duration%s}" -D tenants="$tenants" -f "$here/ceiling.sql" -r >"$results/$label.txt" 2>&1 ||
    { cat "$results/$label.txt" >&2; exit 1; }; times) | children_ms) || die "pgbench failed"
  out=$(cat "$results/$label.txt")
  requests[$label]=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  gen_ms[$label]=$(awk -v d="$spent" -v n="${requests[$label]}" 'BEGIN { printf "%.2f", d / n }')
  measure_end "$label"
  rps[$label]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")
  p50[$label]=-
  p99[$label]=-
  # pgbench reports the mean latency only.
  p50[$label]="mean $(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")"
  errors[$label]=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
  errors[$label]=${errors[$label]:-0}
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "dashboard: warm-up $warmup, then $duration"
wrk_run dashboard dashboard "$tmp/tokens"
say "admin tenants page: warm-up $warmup, then $duration"
wrk_run admin-tenants admin-tenants "$tmp/tenant-lines"
say "admin tenant detail: warm-up $warmup, then $duration"
wrk_run admin-tenant admin-tenant "$tmp/tenant-lines"
say "ceiling (pgbench, one statement): warm-up $warmup, then $duration"
pgbench_run ceiling
check_all

# --- 7. statements per dashboard request by page size (sequential requests) ----------
# Sequential requests are slow (a curl each), so the server's background work
# (workers polling, the feed's heartbeat) adds a visible share: its rate is
# measured over 5 idle seconds first and taken off each batch by its length.
reset_statements
sleep 5
read -r idle_top _ < <(statement_calls)
declare -A by_page by_page_raw
for first in 1 10 50 100; do
  q="{ tenant { members(first: $first) { edges { node { role user { email } } } } apiKeys(first: $first) { edges { node { id name displayPrefix state scopes environment lastUsedAt } } } } }"
  graphql "$(head -1 "$tmp/tokens")" "$q" >/dev/null
  reset_statements
  t0=$(date +%s%3N)
  for _ in $(seq 1 50); do graphql "$(shuf -n1 "$tmp/tokens")" "$q" >/dev/null; done
  t1=$(date +%s%3N)
  read -r top _ < <(statement_calls)
  by_page_raw[$first]=$(ratio "$top" 50)
  by_page[$first]=$(awk -v t="$top" -v i="$idle_top" -v ms=$((t1 - t0)) 'BEGIN { printf "%.2f", (t - i * ms / 5000) / 50 }')
done

# --- 8. memory around SIGNINS sign-ins ------------------------------------------------
say "$signins sign-ins ($signin_parallel at a time)"
rss_before_signins=$(rss_kb)
t0=$(date +%s%3N)
seq 1 "$signins" | sed 's/.*/o&-m1@bench.test/' | sign_in 200000 >"$tmp/signin-tokens"
signins_ms=$(($(date +%s%3N) - t0))
ok=$(wc -l <"$tmp/signin-tokens")
[ "$ok" -eq "$signins" ] || { printf 'warning: only %s of %s sign-ins succeeded\n' "$ok" "$signins" >&2; failed=1; }
rss_after_signins=$(rss_kb)
sleep 5
rss_settled=$(rss_kb)
hwm=$(hwm_kb)

# --- 9. the summary -------------------------------------------------------------------
declare -A names=([dashboard]="dashboard (owner, random tenant)"
  [admin-tenants]="admin tenants page (random cursor)" [admin-tenant]="admin tenant detail (random tenant)"
  [ceiling]="ceiling: one SQL statement (pgbench)")
{
  printf '\n%s, commit %s%s, %s cores, %s, wrk -t%s -c%s -d%s --timeout 10s --latency; pgbench -c%s -j%s -T%s -M prepared\n' \
    "$(date +%F)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo ' (with uncommitted changes)')" \
    "$(nproc)" "$([ -n "${TENANTGATE_BIN:-}" ] && echo "binary $bin" || echo "release build")" \
    "$threads" "$connections" "$duration" "$connections" "$threads" "${duration%s}"
  printf 'load average at the start of the runs: %s; at the end: %s\n' "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'data: %s tenants, users, memberships, API keys, audit entries = %s (%s), seeded in %s ms; %s owners signed in in %s ms\n\n' \
    "$tenants" "$counts" "$db_size" "$seed_ms" "$owners" "$signin_ms"
  printf '| scenario | req/s | p50 ms | p99 ms | errors (≥400/GraphQL/socket) | server CPU ms/req | PostgreSQL CPU ms/req | load generator CPU ms/req | SQL statements/req (nested) | new connections | server RSS after, MiB |\n'
  printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
  for label in "${labels[@]}"; do
    printf '| %s | %.1f | %s | %s | %s | %s | %s | %s | %s (%s) | %s | %s |\n' "${names[$label]}" "${rps[$label]}" \
      "${p50[$label]}" "${p99[$label]}" "${errors[$label]}" \
      "$([ "$label" = ceiling ] && echo - || echo "${srv_ms[$label]}")" "${pg_ms[$label]}" "${gen_ms[$label]}" \
      "${stmts[$label]}" "${nested[$label]}" \
      "$([ "$label" = ceiling ] && echo - || echo "${reconnects[$label]}")" "$(mib "${rss[$label]}")"
  done
  printf '\nanswered by a compiled plan (one statement, no GraphQL execution): '
  for label in dashboard admin-tenants admin-tenant; do printf '%s %s of %s; ' "$label" "${compiled[$label]}" "${requests[$label]}"; done
  printf '\ndashboard statements per request by page size (50 sequential requests each, the idle background rate (%s statements in 5 s) taken off; as counted): ' "$idle_top"
  for first in 1 10 50 100; do printf 'first %s: %s (%s); ' "$first" "${by_page[$first]}" "${by_page_raw[$first]}"; done
  printf '\nserver RSS: idle %s MiB; after %s owner sign-ins %s MiB; before %s more sign-ins %s MiB, right after %s MiB, 5 s later %s MiB (peak VmHWM %s MiB; %s sign-ins in %s ms)\n' \
    "$(mib "$rss_idle")" "$owners" "$(mib "$rss_owners")" "$signins" "$(mib "$rss_before_signins")" \
    "$(mib "$rss_after_signins")" "$(mib "$rss_settled")" "$(mib "$hwm")" "$signins" "$signins_ms"
  printf 'sign-in tries refused and retried (UNAVAILABLE: hash queue full): %s\n' \
    "$(cat "$results/signin-retries.log" 2>/dev/null | wc -l)"
  printf '\ngoals of issue 9 (dashboard):\n'
  printf -- '- SQL statements per request ≤ 6, constant in page size: %s (%s)\n' "${stmts[dashboard]}" \
    "$(awk -v s="${stmts[dashboard]}" -v a="${by_page[1]}" -v b="${by_page[100]}" 'BEGIN { d = a - b; if (d < 0) d = -d; print (s <= 6 && d < 0.1) ? "met" : "not met" }')"
  printf -- '- server CPU < 1.5 ms per request: %s ms (%s)\n' "${srv_ms[dashboard]}" \
    "$(awk -v s="${srv_ms[dashboard]}" 'BEGIN { print (s < 1.5) ? "met" : "not met" }')"
  printf -- '- req/s ≥ 70 %% of the ceiling: %.1f of %.1f = %s (%s)\n' "${rps[dashboard]}" "${rps[ceiling]}" \
    "$(ratio "${rps[dashboard]}" "${rps[ceiling]}")" \
    "$(awk -v a="${rps[dashboard]}" -v b="${rps[ceiling]}" 'BEGIN { print (a >= 0.7 * b) ? "met" : "not met" }')"
  printf -- '- RSS after %s sign-ins within 32 MiB of idle: %s MiB above (%s)\n' "$signins" \
    "$(awk -v a="$rss_settled" -v b="$rss_idle" 'BEGIN { printf "%.1f", (a - b) / 1024 }')" \
    "$(awk -v a="$rss_settled" -v b="$rss_idle" 'BEGIN { print (a - b <= 32 * 1024) ? "met" : "not met" }')"
} | tee "$results/summary.md"
cat "$results"/dashboard.statements.md "$results"/admin-tenants.statements.md \
  "$results"/admin-tenant.statements.md "$results"/ceiling.statements.md >>"$results/summary.md"
printf '\ntop statements per scenario: %s/summary.md\nraw output: %s\n' "$results" "$results"
grep -E '(ERROR|panicked)' "$results/server.log" >&2 && { printf 'warning: errors in the server log\n' >&2; failed=1; }
[ "$failed" = 0 ] || die "some requests failed: see the warnings above"
