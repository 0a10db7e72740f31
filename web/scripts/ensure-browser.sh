#!/bin/sh
# Makes sure Debian's chromium is installed for the browser tests (npm run e2e).
# Idempotent and quiet: does nothing when /usr/bin/chromium (or $CHROMIUM_PATH) exists.
# Browser downloads (npx playwright install) do not work here; apt-get does.
set -eu

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "ensure-browser: $CHROMIUM is missing and this is not root; run: apt-get install chromium" >&2
    exit 1
  fi
else
  SUDO=""
fi

export DEBIAN_FRONTEND=noninteractive
echo "ensure-browser: installing chromium with apt-get" >&2
# A fresh machine may have no package lists yet; try the install first and update only if needed.
if ! $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-browser: chromium was installed but $CHROMIUM is not there" >&2
  exit 1
fi
echo "ensure-browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)" >&2
