# Shared helpers for scripts/*: sourced, not run.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# step NAME CMD...: runs a step, records its wall time, stops the script on failure.
STEP_TIMES=()
step() {
  local name="$1"; shift
  local t0=$SECONDS
  say "$name"
  if "$@"; then
    STEP_TIMES+=("$(printf '%-34s %5ss  ok' "$name" $((SECONDS - t0)))")
  else
    local rc=$?
    STEP_TIMES+=("$(printf '%-34s %5ss  FAILED (exit %s)' "$name" $((SECONDS - t0)) "$rc")")
    print_times
    exit "$rc"
  fi
}
print_times() {
  say "step times"
  printf '  %s\n' "${STEP_TIMES[@]}"
  local ok=0 bad=0 t
  for t in "${STEP_TIMES[@]}"; do
    case "$t" in *FAILED*) bad=$((bad + 1)) ;; *) ok=$((ok + 1)) ;; esac
  done
  echo "steps: $ok passed, $bad failed"
}
