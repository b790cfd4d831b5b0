#!/usr/bin/env bash
# Conformance of snapdeck-server with Runloop's official Python SDK.
#
# Usage: crates/snapdeck-server/tests/sdk/run.sh
#
# Creates (once) a venv with runloop_api_client, starts the server binary on a free port
# with --ephemeral and short durations, runs conformance.py against it, and exits with
# its status (non-zero on any failure). Environment:
#   RUNLOOP_SDK_VERSION   SDK version to pin (default 1.29.0, the version the API
#                         reference was written from; "latest" for the newest)
#   SNAPDECK_SDK_VENV     venv directory (default ~/.cache/snapdeck/venv-runloop-<version>)
#   SNAPDECK_SERVER_BIN   server binary (default: cargo build -p snapdeck-server, debug)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
version="${RUNLOOP_SDK_VERSION:-1.29.0}"
venv="${SNAPDECK_SDK_VENV:-$HOME/.cache/snapdeck/venv-runloop-$version}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ "$version" = latest ]; then
  "$venv/bin/python" -c 'import runloop_api_client' 2>/dev/null \
    || "$venv/bin/pip" install --quiet --disable-pip-version-check runloop_api_client
elif ! "$venv/bin/python" - "$version" <<'PY' 2>/dev/null
import sys
from runloop_api_client._version import __version__
sys.exit(0 if __version__ == sys.argv[1] else 1)
PY
then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "runloop_api_client==$version"
fi

bin="${SNAPDECK_SERVER_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --quiet -p snapdeck-server)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/snapdeck-server"
fi

work="$(mktemp -d)"
key="sdk-conformance-$$"
"$bin" --listen 127.0.0.1:0 --ephemeral --seed none --api-key "$key" \
  --boot-duration-ms 400 --suspend-duration-ms 300 --resume-duration-ms 300 \
  --snapshot-duration-ms 1200 >"$work/stdout" 2>"$work/stderr" &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The first stdout line is "snapdeck-server listening on http://127.0.0.1:PORT".
url=""
for _ in $(seq 1 100); do
  url="$(head -n1 "$work/stdout" 2>/dev/null | sed -n 's/^snapdeck-server listening on //p')"
  [ -n "$url" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "snapdeck-server exited early:" >&2
    cat "$work/stderr" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "snapdeck-server did not report its address" >&2
  cat "$work/stderr" >&2
  exit 1
fi

status=0
RUNLOOP_BASE_URL="$url" RUNLOOP_API_KEY="$key" "$venv/bin/python" "$here/conformance.py" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log ---" >&2
  tail -n 50 "$work/stderr" >&2
fi
exit "$status"
