#!/usr/bin/env bash
# Runs the browser and desktop end-to-end suites N times in a row (default 20) while the whole Rust
# test suite runs beside them in a loop, to load the machine the way a busy CI host is loaded.
# After every round it lists any process an e2e suite could have left (the desktop app, WebKit's
# helpers, tauri-driver, Chromium, doctalk serve, PulseAudio): a round passes only when the suites
# passed and nothing is left. Prints one line per round and a summary; exit 0 = every round clean.
#
#   scripts/stress-e2e.sh [ROUNDS]        (after scripts/test.sh has built everything once)
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/doctalk-target}"
export DOCTALK_MODELS_DIR="${DOCTALK_MODELS_DIR:-$PWD/.models}"
export DOCTALK_BIN="$CARGO_TARGET_DIR/debug/doctalk"
export DOCTALK_DESKTOP_BIN="$CARGO_TARGET_DIR/debug/doctalk-desktop"
export DOCTALK_E2E_ARTIFACTS="${DOCTALK_E2E_ARTIFACTS:-$PWD/target/e2e-artifacts}"
logs=${STRESS_LOGS:-$PWD/target/stress-e2e}
mkdir -p "$logs"

suspects() {
  local pid
  # By process name (not command line: a compiler building doctalk-desktop is not a leftover).
  for pid in $(grep -lxE 'doctalk|doctalk-desktop|WebKitWebDriver|WebKitWebProces|WebKitNetworkPr|tauri-driver|chromium|pulseaudio|Xvfb' /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3); do
    # Processes of the Rust load, or of a stage of another run (which sweeps its own), are not the
    # e2e suites' leftovers.
    { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qE "^($load_pid_pattern|DOCTALK_STAGE_RUN)=" && continue
    # A zombie is already dead (its parent has not collected it yet).
    grep -qE '^State:\s+Z' "/proc/$pid/status" 2>/dev/null && continue
    [ -e "/proc/$pid" ] && echo "$pid $(cat /proc/$pid/comm 2>/dev/null)"
  done
}

# The load: the Rust test binaries, over and over, until the rounds are done.
# In a session of its own, so that it ends as a whole; its own `doctalk serve` children are not
# counted as leftovers of the e2e suites (they carry DOCTALK_STRESS_LOAD).
load_pid_pattern='DOCTALK_STRESS_LOAD'
rm -f "$logs/rust-load-rounds.log"
# STRESS_LOAD_AFTER_PID: another load (a cold CI run, say) is already running; the Rust loop starts
# when that process ends.
DOCTALK_STRESS_LOAD=1 setsid bash -c '
  while [ -n "$1" ] && kill -0 "$1" 2>/dev/null; do sleep 10; done
  while true; do
    cargo test --workspace --locked -q -- --test-threads=2 >"$0/rust-load.log" 2>&1
    echo "rust suite pass ended $(date +%T) rc=$?" >>"$0/rust-load-rounds.log"
  done' "$logs" "${STRESS_LOAD_AFTER_PID:-}" &
load=$!
trap 'kill -- -$load 2>/dev/null' EXIT
sleep 5

before=$(suspects)
clean=0
for i in $(seq 1 "$rounds"); do
  start=$(date +%s)
  timeout --kill-after=20 900 npm --prefix tests/e2e run --silent test:browser >"$logs/browser-$i.log" 2>&1
  b=$?
  timeout --kill-after=20 900 xvfb-run -a npm --prefix tests/e2e run --silent test:desktop >"$logs/desktop-$i.log" 2>&1
  d=$?
  sleep 1
  left=$(suspects)
  took=$(($(date +%s) - start))
  status=clean
  if [ "$b" -ne 0 ] || [ "$d" -ne 0 ]; then status="suite failed (browser $b, desktop $d)"; fi
  if [ "$left" != "$before" ]; then status="$status; left behind: $(echo "$left" | tr '\n' ';')"; fi
  [ "$status" = clean ] && clean=$((clean + 1))
  echo "round $i/$rounds: ${took}s, browser rc=$b, desktop rc=$d, $status"
done
echo "stress: $clean of $rounds rounds clean; Rust suite passes beside them: $(wc -l <"$logs/rust-load-rounds.log" 2>/dev/null || echo 0)"
[ "$clean" -eq "$rounds" ]
