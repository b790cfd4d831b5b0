#!/usr/bin/env bash
# Conformance of snapdeck-server with Runloop's official SDKs.
#
# Usage: crates/snapdeck-server/tests/sdk/run.sh [python|ts|all]   (default: all)
#
# For each SDK: installs it once (Python: a venv with runloop_api_client; TS: an npm
# prefix with @runloop/api-client, which speaks h2c to the server), starts the server
# binary on a free port with --ephemeral and short durations, runs the conformance
# script against it, and stops the server. Exits non-zero if any check fails. `all`
# skips the TS SDK, with a notice, when node/npm are missing. Environment:
#   RUNLOOP_SDK_VERSION     Python SDK version (default 1.29.0, the version the API
#                           reference was written from; "latest" for the newest)
#   RUNLOOP_TS_SDK_VERSION  TS SDK version (default 1.32.0)
#   SNAPDECK_SDK_CACHE      where the venv and npm prefix live (default ~/.cache/snapdeck)
#   SNAPDECK_SERVER_BIN     server binary (default: cargo build -p snapdeck-server, debug)
set -euo pipefail

which="${1:-all}"
case "$which" in python|ts|all) ;; *) echo "usage: $0 [python|ts|all]" >&2; exit 2 ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
cache="${SNAPDECK_SDK_CACHE:-$HOME/.cache/snapdeck}"
py_version="${RUNLOOP_SDK_VERSION:-1.29.0}"
ts_version="${RUNLOOP_TS_SDK_VERSION:-1.32.0}"

bin="${SNAPDECK_SERVER_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --quiet -p snapdeck-server)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/snapdeck-server"
fi

setup_python() {
  venv="$cache/venv-runloop-$py_version"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  if [ "$py_version" = latest ]; then
    "$venv/bin/python" -c 'import runloop_api_client' 2>/dev/null \
      || "$venv/bin/pip" install --quiet --disable-pip-version-check runloop_api_client
  elif ! "$venv/bin/python" - "$py_version" <<'PY' 2>/dev/null
import sys
from runloop_api_client._version import __version__
sys.exit(0 if __version__ == sys.argv[1] else 1)
PY
  then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "runloop_api_client==$py_version"
  fi
}

setup_ts() {
  ts_dir="$cache/ts-sdk-$ts_version"
  mkdir -p "$ts_dir"
  [ -f "$ts_dir/package.json" ] || echo '{"name":"snapdeck-ts-sdk","private":true}' >"$ts_dir/package.json"
  if ! grep -q "\"version\": \"$ts_version\"" "$ts_dir/node_modules/@runloop/api-client/package.json" 2>/dev/null; then
    (cd "$ts_dir" && npm install --silent --no-audit --no-fund "@runloop/api-client@$ts_version")
  fi
}

# Starts the server; sets $url, $server and $work.
start_server() {
  work="$(mktemp -d)"
  key="sdk-conformance-$$"
  "$bin" --listen 127.0.0.1:0 --ephemeral --seed none --api-key "$key" \
    --boot-duration-ms 400 --suspend-duration-ms 300 --resume-duration-ms 300 \
    --snapshot-duration-ms 1200 >"$work/stdout" 2>"$work/stderr" &
  server=$!
  url=""
  # The first stdout line is "snapdeck-server listening on http://127.0.0.1:PORT".
  for _ in $(seq 1 100); do
    url="$(head -n1 "$work/stdout" 2>/dev/null | sed -n 's/^snapdeck-server listening on //p')"
    [ -n "$url" ] && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "snapdeck-server did not start:" >&2
  cat "$work/stderr" >&2
  return 1
}

stop_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
  server=""
}
server=""
trap '[ -z "$server" ] || stop_server' EXIT

# Runs one conformance script against a fresh server; returns its status.
run_suite() {
  local status=0
  start_server
  RUNLOOP_BASE_URL="$url" RUNLOOP_API_KEY="$key" "$@" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- server log ---" >&2
    tail -n 50 "$work/stderr" >&2
  fi
  stop_server
  return "$status"
}

failed=0
if [ "$which" != ts ]; then
  setup_python
  run_suite "$venv/bin/python" "$here/conformance.py" || failed=1
fi
if [ "$which" != python ]; then
  if command -v node >/dev/null && command -v npm >/dev/null; then
    setup_ts
    RUNLOOP_TS_SDK_DIR="$ts_dir" run_suite node "$here/conformance.mjs" || failed=1
  elif [ "$which" = ts ]; then
    echo "node and npm are needed for the TS SDK" >&2
    exit 1
  else
    echo "# skipping the TS SDK: node/npm not found"
  fi
fi
exit "$failed"
