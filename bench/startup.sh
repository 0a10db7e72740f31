#!/usr/bin/env bash
# Start-up time and idle memory of `tenantgate serve` on the embedded default.
#
#   bench/startup.sh [runs]      (default 5 runs of each case; release build)
#
# Measures, as medians over the runs:
#   - time from exec to "listening" on an empty data dir (initdb + start + migrations)
#   - the same on an existing data dir (start + migration check)
#   - RSS of the tenantgate process, idle after start and after 200 requests
#   - RSS of the embedded PostgreSQL (postmaster and its children), idle
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
runs=${1:-5}

ensure_postgres
build_web
cargo build --quiet --release
bin="$CARGO_TARGET_DIR/release/tenantgate"

now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
tree_rss_kb() { # a process and its children
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do total=$((total + $(rss_kb "$pid" 2>/dev/null || echo 0))); done
  echo "$total"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

start_once() { # $1 data dir; prints "ms pid"
  local out="$1/stdout" t0 pid url
  t0=$(now_ms)
  TENANTGATE_LOG=warn "$bin" serve --listen 127.0.0.1:0 --data-dir "$1" >"$out" 2>"$1/stderr" &
  pid=$!
  until grep -q '^tenantgate listening on' "$out" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$1/stderr" >&2; exit 1; }
    sleep 0.005
  done
  echo "$(( $(now_ms) - t0 )) $pid"
}

stop_once() { # the server is not this shell's child: poll until it is gone
  kill -TERM "$1"
  while kill -0 "$1" 2>/dev/null; do sleep 0.01; done
}

cold=() warm=() rss_idle=() rss_busy=() pg_rss=()
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d /tmp/tenantgate-bench.XXXXXX); chmod 755 "$dir"
  read -r ms pid < <(start_once "$dir"); cold+=("$ms"); stop_once "$pid"
  read -r ms pid < <(start_once "$dir"); warm+=("$ms")
  sleep 1
  rss_idle+=("$(rss_kb "$pid")")
  pg=$(pgrep -u postgres -f "postgres -D $dir/postgres/data" | head -1)
  pg_rss+=("$(tree_rss_kb "$pg")")
  url=$(sed -n 's/^tenantgate listening on \(http[^ ]*\).*/\1/p' "$dir/stdout")
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "$url/graphql?query=%7B__typename%7D"
  done
  rss_busy+=("$(rss_kb "$pid")")
  stop_once "$pid"
  rm -rf "$dir"
done

printf 'runs: %s (release build, %s cores)\n' "$runs" "$(nproc)"
printf 'ready, empty data dir:     %s ms (median)\n' "$(printf '%s\n' "${cold[@]}" | median)"
printf 'ready, existing data dir:  %s ms (median)\n' "$(printf '%s\n' "${warm[@]}" | median)"
printf 'RSS tenantgate idle:       %s KiB\n' "$(printf '%s\n' "${rss_idle[@]}" | median)"
printf 'RSS tenantgate after 200 requests: %s KiB\n' "$(printf '%s\n' "${rss_busy[@]}" | median)"
printf 'RSS embedded PostgreSQL (all processes): %s KiB\n' "$(printf '%s\n' "${pg_rss[@]}" | median)"
