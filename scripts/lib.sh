# Shared by scripts/run and scripts/test: install what a fresh machine lacks,
# build the web app. Sourced, not run.

# Cargo's build output lives outside the checkout, so fresh clones (CI) reuse it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tenantgate/target}"
export DEBIAN_FRONTEND=noninteractive

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1
  fi
}

apt_install() {
  say "installing $* (apt-get)"
  as_root apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq "$@" >/dev/null
  }
}

# PostgreSQL server binaries (initdb, postgres) for the embedded default and the
# test cluster. Debian's package would also create and start a system cluster;
# we need only the binaries, so that is switched off first.
ensure_postgres() {
  if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then return; fi
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return; fi
  as_root mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  apt_install postgresql
}

# Redis for the tests of shared rate limits (the server itself needs it only
# with REDIS_URL). Debian's package would also start a system service; the
# tests start their own private server, so that one is stopped.
ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then return; fi
  apt_install redis-server
  if command -v systemctl >/dev/null 2>&1; then as_root systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
}

ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "Node.js 20.19+ with npm is needed to build web/ (this machine has none)." >&2
    exit 1
  fi
}

ensure_browser() {
  sh web/scripts/ensure-browser.sh
}

# npm ci only when package-lock.json changed since the last install; then build.
build_web() {
  local stamp=web/node_modules/.tenantgate-lock
  if [ ! -f "$stamp" ] || ! cmp -s web/package-lock.json "$stamp"; then
    say "installing web dependencies (npm ci)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error)
    cp web/package-lock.json "$stamp"
  fi
  say "building web/ (typecheck + vite)"
  (cd web && npm run --silent build >/dev/null)
}
