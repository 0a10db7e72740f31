#!/usr/bin/env bash
# Issue 13's export bench: one tenant with EVENTS (1,000,000) usage events and
# AUDIT (100,000) audit entries, exported by a release build; the time and
# the server's peak memory growth.
#
#   bench/export.sh
#
# Builds the release binary (or takes TENANTGATE_BIN); starts a private
# PostgreSQL 15 with the embedded cluster's settings (bench/lib.sh); migrates;
# starts `tenantgate serve` on that cluster (archives in a folder of the run);
# signs up one owner with one live key; seeds the events with their
# idempotency keys and rollups (bench/usage/seed.sql) and the audit entries
# (bench/export/seed.sql), as fast as one INSERT … SELECT each allows (COPY's
# path inside the server: no client round trips); then
#   1. reads VmHWM and VmRSS of the server (/proc),
#   2. requestDataExport, polls `tenant { dataExports }` every 0.25 s until
#      READY: the time, and progress as it went,
#   3. reads VmHWM again: the peak growth during the export (goal: < 32 MiB),
#   4. downloads the archive with curl (the owner's access token): the time,
#      its size, its SHA-256 against `checksum`, and VmHWM after the download,
#   5. checks the archive's manifest counts (unzip -p manifest.json).
# Raw output and the summary: bench/results/export-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh

events=${EVENTS:-1000000}
audit=${AUDIT:-100000}
here=bench/export
password='bench-Correct-Horse-Battery-2026'

die() { printf 'bench/export.sh: %s\n' "$*" >&2; exit 1; }

ensure_postgres
command -v jq >/dev/null 2>&1 || apt_install jq
command -v unzip >/dev/null 2>&1 || apt_install unzip
bench_init export
bench_binary
results="bench/results/export-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

bench_pg_start
bench_migrate
bench_server_start --env development --export-dir "$tmp/exports"

graphql() { # token query: prints the response body
  local auth=()
  [ -z "$1" ] || auth=(-H "Authorization: Bearer $1")
  jq -nc --arg q "$2" '{query: $q}' |
    curl -sS -X POST "$url/graphql" -H 'Content-Type: application/json' "${auth[@]}" --data-binary @-
}
say "signing up the owner"
response=$(jq -nc --arg p "$password" '{query: "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken tenant { id } } }",
  variables: {i: {email: "owner@export.bench", password: $p, tenantName: "Export Bench"}}}' |
  curl -sS -X POST "$url/graphql" -H 'Content-Type: application/json' --data-binary @-)
token=$(jq -r '.data.signUp.accessToken // empty' <<<"$response")
tenant=$(jq -r '.data.signUp.tenant.id // empty' <<<"$response")
[ -n "$token" ] || die "signUp failed: $response"
response=$(graphql "$token" 'mutation { createApiKey(input: {name: "bench", scopes: [USAGE_WRITE], environment: LIVE}) { secret } }')
[ -n "$(jq -r '.data.createApiKey.secret // empty' <<<"$response")" ] || die "createApiKey failed: $response"

say "seeding $events usage events (bench/usage/seed.sql) and $audit audit entries (bench/export/seed.sql)"
t0=$(date +%s%3N)
"$psql_bin" -U tenantgate -d tenantgate -qX -v ON_ERROR_STOP=1 -v events="$events" \
  -f bench/usage/seed.sql >"$results/seed.log"
"$psql_bin" -U tenantgate -d tenantgate -qX -v ON_ERROR_STOP=1 -v entries="$audit" \
  -v tenant="$tenant" -f "$here/seed.sql" >>"$results/seed.log"
seed_ms=$(($(date +%s%3N) - t0))
counts=$(sql -F ' ' -c "SELECT (SELECT coalesce(sum(events), 0) FROM usage_batches), (SELECT count(*) FROM usage_rollups),
  (SELECT count(*) FROM audit_log WHERE tenant_id = '$tenant')")
say "seeded in $seed_ms ms: events rollups audit = $counts"

hwm_before=$(hwm_kb)
rss_before=$(rss_kb)
say "requesting the export (VmHWM $(mib "$hwm_before") MiB, VmRSS $(mib "$rss_before") MiB)"
t0=$(date +%s%3N)
response=$(graphql "$token" 'mutation { requestDataExport { id } }')
id=$(jq -r '.data.requestDataExport.id // empty' <<<"$response")
[ -n "$id" ] || die "requestDataExport failed: $response"
: >"$results/progress.log"
status=
while [ "$status" != READY ]; do
  sleep 0.25
  response=$(graphql "$token" '{ tenant { dataExports(first: 1) { nodes { id status progress sizeBytes checksum error } } } }')
  node=$(jq -c '.data.tenant.dataExports.nodes[0]' <<<"$response")
  status=$(jq -r '.status' <<<"$node")
  echo "$(($(date +%s%3N) - t0)) $(jq -r '.progress' <<<"$node") $(rss_kb)" >>"$results/progress.log"
  [ "$status" != FAILED ] || die "the export failed: $node"
  [ $(($(date +%s%3N) - t0)) -lt 1800000 ] || die "the export took more than 30 minutes"
done
export_ms=$(($(date +%s%3N) - t0))
hwm_export=$(hwm_kb)
size=$(jq -r '.sizeBytes' <<<"$node")
checksum=$(jq -r '.checksum' <<<"$node")

say "downloading it"
response=$(graphql "$token" "{ tenant { dataExport(id: \"$id\") { downloadUrl } } }")
link=$(jq -r '.data.tenant.dataExport.downloadUrl // empty' <<<"$response")
[ -n "$link" ] || die "no downloadUrl: $response"
t0=$(date +%s%3N)
curl -sS -f -o "$tmp/archive.zip" -H "Authorization: Bearer $token" "$link"
download_ms=$(($(date +%s%3N) - t0))
hwm_download=$(hwm_kb)
got=$(sha256sum "$tmp/archive.zip" | cut -d' ' -f1)
[ "$got" = "$checksum" ] || die "the archive's SHA-256 $got is not its checksum $checksum"
unzip -p "$tmp/archive.zip" manifest.json >"$results/manifest.json"
rows_events=$(jq '.files[] | select(.name == "usage_events.jsonl") | .rows' "$results/manifest.json")
rows_audit=$(jq '.files[] | select(.name == "audit_log.jsonl") | .rows' "$results/manifest.json")
[ "$rows_events" -eq "$events" ] || die "usage_events.jsonl has $rows_events rows, not $events"
[ "$rows_audit" -ge "$audit" ] || die "audit_log.jsonl has $rows_audit rows, fewer than $audit"

{
  echo "| measure | value |"
  echo "|---|---|"
  echo "| seeded (events, rollups, audit entries) | $(tr ' ' '/' <<<"$counts") in $seed_ms ms |"
  echo "| export, request to READY | $export_ms ms |"
  echo "| archive | $(mib $((size / 1024))) MiB ($rows_events events, $rows_audit audit entries) |"
  echo "| server VmRSS before / VmHWM before | $(mib "$rss_before") / $(mib "$hwm_before") MiB |"
  echo "| server VmHWM after the export (growth) | $(mib "$hwm_export") MiB (+$(mib $((hwm_export - hwm_before))) MiB) |"
  echo "| download (curl, loopback) | $download_ms ms |"
  echo "| server VmHWM after the download (growth) | $(mib "$hwm_download") MiB (+$(mib $((hwm_download - hwm_before))) MiB) |"
} | tee "$results/summary.md"
