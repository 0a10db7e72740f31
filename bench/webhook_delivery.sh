#!/usr/bin/env bash
# Outgoing webhook delivery: how many deliveries a second one instance makes to
# a local receiver, with 1,000 events pending at once.
#
#   bench/webhook_delivery.sh        (EVENTS=1000 by default)
#
# (`bench/webhooks.sh` is the Stripe webhook intake.) Builds the release binary,
# starts `tenantgate serve --demo --webhooks-allow-loopback` on a fresh data dir
# (embedded PostgreSQL, default delivery settings: 16 attempts in flight, 4 per
# endpoint) and the tests' Node receiver (tests/fixtures/webhook_receiver.mjs,
# answering 200 at once). As ada@acme.test it creates endpoints to the receiver,
# then writes EVENTS events in one transaction (as the database owner: the
# fan-out trigger makes the deliveries), and times commit → the receiver's last
# request. Two runs: one endpoint (EVENTS deliveries, at most 4 in flight: the
# per-endpoint cap) and four endpoints (EVENTS/4 events each: up to 16 in
# flight). Reported: deliveries/s and SQL statements per delivery (from
# `tenantgate_sql_statements_total`). Raw output goes to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh

die() { printf 'bench/webhook_delivery.sh: %s\n' "$*" >&2; exit 1; }
events=${EVENTS:-1000}

command -v jq >/dev/null 2>&1 || apt_install jq
command -v node >/dev/null 2>&1 || die "node is needed for the receiver"
[ -d web/node_modules/standardwebhooks ] || (cd web && npm ci >/dev/null)
bench_init hookdelivery
bench_binary
results="bench/results/webhook-delivery-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

say "the receiver"
mkfifo "$tmp/receiver.in"
node tests/fixtures/webhook_receiver.mjs <"$tmp/receiver.in" >"$tmp/receiver.out" &
receiver_pid=$!
exec 9>"$tmp/receiver.in" # holds its stdin open; closing it stops the receiver
trap 'exec 9>&-; kill "$receiver_pid" 2>/dev/null || true; bench_cleanup' EXIT
until grep -q '^listening ' "$tmp/receiver.out" 2>/dev/null; do sleep 0.1; done
receiver="http://127.0.0.1:$(sed -n 's/^listening //p' "$tmp/receiver.out")"

bench_server_start --env development --demo --webhooks-allow-loopback

graphql() { # token query variables: prints the response body
  jq -nc --arg q "$2" --argjson v "${3:-{\}}" '{query: $q, variables: $v}' |
    curl -sS -X POST "$url/graphql" -H 'Content-Type: application/json' \
      -H "Authorization: Bearer $1" --data-binary @-
}
password=$(sed -n 's/^Demo data (password for every account: \(.*\))$/\1/p' "$results/server.stdout")
password=${password:-tenantgate-demo-2026}
token=$(jq -nc --arg p "$password" '{query: "mutation($p: String!) { logIn(input:{email:\"ada@acme.test\", password:$p}) { accessToken } }", variables: {p: $p}}' |
  curl -sS -X POST "$url/graphql" -H 'Content-Type: application/json' --data-binary @- |
  jq -r '.data.logIn.accessToken // empty')
[ -n "$token" ] || die "logIn as ada@acme.test failed"
tenant=$(graphql "$token" '{ tenant { id } }' | jq -r '.data.tenant.id')

create_endpoint() { # path: prints the endpoint id
  graphql "$token" 'mutation($u: String!) { createWebhookEndpoint(input: { url: $u }) { endpoint { id } } }' \
    "$(jq -nc --arg u "$receiver/$1?quiet" '{u: $u}')" | jq -r '.data.createWebhookEndpoint.endpoint.id // empty'
}
delete_endpoint() {
  graphql "$token" 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }' "$(jq -nc --arg i "$1" '{id: $i}')" >/dev/null
}
received() { curl -fsS "$receiver/_count" | jq -r .count; }
now() { date +%s.%N; }

declare -A rate stmts
run() { # label endpoints
  local label=$1 n=$2 ids=() i before t0 t1 want after
  for i in $(seq 1 "$n"); do ids+=("$(create_endpoint "$label-$i")"); done
  [ -n "${ids[0]}" ] || die "createWebhookEndpoint failed"
  before=$(received)
  want=$((before + events / n * n))
  local s0; s0=$(sql_statements)
  say "$label: $events events to $n endpoint(s)"
  t0=$(now)
  embedded_sql "SELECT set_config('app.tenant_id', '$tenant', true);
    INSERT INTO webhook_events (id, tenant_id, event_type, payload)
    SELECT gen_random_uuid(), '$tenant', 'tenant.updated', jsonb_build_object('n', g)
      FROM generate_series(1, $((events / n))) g" >/dev/null
  until [ "$(received)" -ge "$want" ]; do
    sleep 0.02
    awk -v s="$t0" -v e="$(now)" 'BEGIN { exit !(e - s > 600) }' && die "not delivered in 600 s"
  done
  t1=$(now)
  sleep 1.2 # the worker's last records
  after=$(sql_statements)
  rate[$label]=$(awk -v s="$t0" -v e="$t1" -v n="$((want - before))" 'BEGIN { printf "%.0f", n / (e - s) }')
  stmts[$label]=$(awk -v d="$((after - s0))" -v n="$((want - before))" 'BEGIN { printf "%.1f", d / n }')
  [ "$(received)" = "$want" ] || die "more requests than deliveries ($(received) for $want)"
  local pending
  pending=$(embedded_sql "SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'")
  [ "$pending" = 0 ] || die "$pending deliveries did not succeed"
  for i in "${ids[@]}"; do delete_endpoint "$i"; done
}

run one 1
run four 4

{
  printf '\n%s, commit %s%s, %s cores, release build, %s events pending at once\n\n' \
    "$(date +%F)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')" "$(nproc)" "$events"
  printf '| endpoints | deliveries/s | SQL statements per delivery |\n|---|---|---|\n'
  printf '| 1 (4 in flight) | %s | %s |\n' "${rate[one]}" "${stmts[one]}"
  printf '| 4 (16 in flight) | %s | %s |\n' "${rate[four]}" "${stmts[four]}"
} | tee "$results/summary.md"
