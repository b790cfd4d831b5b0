#!/usr/bin/env bash
# Conformance of snapdeck-server with Runloop's official SDKs and a client built on them.
#
# Usage: crates/snapdeck-server/tests/sdk/run.sh [python|ts|computesdk|all]   (default: all)
#
# Suites: the Python SDK (runloop_api_client) at each version in RUNLOOP_SDK_VERSIONS,
# its object layer (RunloopSDK) where the version has one; the TS SDK
# (@runloop/api-client, h2c by default) with its object layer; @computesdk/runloop (an
# independent client on the TS SDK) through its sandbox, command, filesystem, snapshot
# and template calls. Each installs once into SNAPDECK_SDK_CACHE (a venv per Python
# version, an npm prefix per package) and is not installed again while the version is
# there, so after the first run the script works offline. Each suite gets a fresh server
# binary on a free port (--ephemeral, short durations); the script exits non-zero if any
# check fails, and prints one `suite: N passed, M failed` line per suite and a total.
# `all` skips the Node suites, with a notice, when node/npm are missing. Environment:
#   RUNLOOP_SDK_VERSIONS    Python SDK versions (default "1.29.0 3.0.0"; RUNLOOP_SDK_VERSION,
#                           one version, is still honoured; "latest" for the newest)
#   RUNLOOP_TS_SDK_VERSION  TS SDK version (default 1.32.0)
#   COMPUTESDK_RUNLOOP_VERSION  @computesdk/runloop version (default 1.3.54)
#   SNAPDECK_SDK_CACHE      where the venvs and npm prefixes live (default ~/.cache/snapdeck)
#   SNAPDECK_SERVER_BIN     server binary (default: cargo build -p snapdeck-server, debug)
set -euo pipefail

which="${1:-all}"
case "$which" in python|ts|computesdk|all) ;; *) echo "usage: $0 [python|ts|computesdk|all]" >&2; exit 2 ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
cache="${SNAPDECK_SDK_CACHE:-$HOME/.cache/snapdeck}"
py_versions="${RUNLOOP_SDK_VERSIONS:-${RUNLOOP_SDK_VERSION:-1.29.0 3.0.0}}"
ts_version="${RUNLOOP_TS_SDK_VERSION:-1.32.0}"
csdk_version="${COMPUTESDK_RUNLOOP_VERSION:-1.3.54}"

bin="${SNAPDECK_SERVER_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --quiet -p snapdeck-server)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/snapdeck-server"
fi

setup_python() {
  local py_version="$1"
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

# An npm prefix with one package at one version; sets $npm_dir.
setup_npm() {
  local dir="$1" package="$2" version="$3"
  npm_dir="$cache/$dir"
  mkdir -p "$npm_dir"
  [ -f "$npm_dir/package.json" ] || echo '{"name":"snapdeck-sdk-conformance","private":true}' >"$npm_dir/package.json"
  if ! grep -q "\"version\": \"$version\"" "$npm_dir/node_modules/$package/package.json" 2>/dev/null; then
    (cd "$npm_dir" && npm install --silent --no-audit --no-fund "$package@$version")
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
    --snapshot-duration-ms 1200 --blueprint-build-ms 600 >"$work/stdout" 2>"$work/stderr" &
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

summary=()
total_passed=0
total_failed=0

# Runs one conformance script against a fresh server; returns its status. The suite's
# last line is "N passed, M failed"; it is collected for the summary.
run_suite() {
  local name="$1" status=0
  shift
  start_server
  RUNLOOP_BASE_URL="$url" RUNLOOP_API_KEY="$key" "$@" | tee "$work/out" || status=$?
  local counts
  counts="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/out" | tail -n1)"
  [ -n "$counts" ] || { counts="0 passed, 1 failed"; status=1; }
  summary+=("$name: $counts")
  total_passed=$((total_passed + $(echo "$counts" | cut -d' ' -f1)))
  total_failed=$((total_failed + $(echo "$counts" | cut -d' ' -f3)))
  if [ "$status" -ne 0 ]; then
    echo "--- server log ---" >&2
    tail -n 50 "$work/stderr" >&2
  fi
  stop_server
  return "$status"
}

have_node() { command -v node >/dev/null && command -v npm >/dev/null; }

failed=0
if [ "$which" = all ] || [ "$which" = python ]; then
  for v in $py_versions; do
    setup_python "$v"
    run_suite "python $v" "$venv/bin/python" "$here/conformance.py" || failed=1
  done
fi
if [ "$which" = all ] || [ "$which" = ts ] || [ "$which" = computesdk ]; then
  if ! have_node; then
    if [ "$which" != all ]; then
      echo "node and npm are needed for the $which suite" >&2
      exit 1
    fi
    echo "# skipping the TS SDK and computesdk: node/npm not found"
  else
    if [ "$which" != computesdk ]; then
      setup_ts
      RUNLOOP_TS_SDK_DIR="$ts_dir" run_suite "ts $ts_version" node "$here/conformance.mjs" || failed=1
    fi
    if [ "$which" != ts ]; then
      setup_npm "computesdk-runloop-$csdk_version" "@computesdk/runloop" "$csdk_version"
      COMPUTESDK_DIR="$npm_dir" run_suite "computesdk $csdk_version" node "$here/conformance-computesdk.mjs" || failed=1
    fi
  fi
fi
echo "# summary"
for line in "${summary[@]}"; do echo "# $line"; done
echo "$total_passed passed, $total_failed failed"
exit "$failed"
