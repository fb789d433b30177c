#!/usr/bin/env bash
# Checks that a hung end-to-end test cannot hang the suite (issue: the suite cannot hang). One
# desktop test is made to wait forever (DOCTALK_E2E_HANG, a switch used only here), twice:
#  1. node's per-test time-out ends it: the run fails naming the test, and the suite's own clean-up
#     leaves no process behind;
#  2. the per-test time-out is out of reach, so the stage's limit (scripts/lib/stages.sh) ends it:
#     the stage fails naming itself, and nothing is left alive.
# Needs the debug build (scripts/test.sh builds it) and scripts/setup-e2e.sh. Exit 0 = both held.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/stages.sh
STAGE_KEEP_GOING=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/doctalk-target}"
export DOCTALK_MODELS_DIR="${DOCTALK_MODELS_DIR:-$PWD/.models}"
export DOCTALK_DESKTOP_BIN="$CARGO_TARGET_DIR/debug/doctalk-desktop"
export DOCTALK_E2E_HANG="first run"
log=$(mktemp)
failures=0
fail() { echo "CHECK FAILED: $*" >&2; failures=$((failures + 1)); }
desktop_first_run() {
  xvfb-run -a node --test --test-timeout=3600000 --test-force-exit --test-name-pattern="first run" \
    tests/e2e/desktop.test.mjs
}
# Live processes an e2e run could leave (zombies are dead already: their parent only has to collect them).
leftovers() {
  local pid
  for pid in $(pgrep -f 'doctalk-desktop|WebKitWebDriver|tauri-driver|WebKitWebProcess|WebKitNetworkProcess'); do
    grep -qE '^State:\s+Z' "/proc/$pid/status" 2>/dev/null && continue
    [ -e "/proc/$pid" ] && echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null)"
  done
}

before=$(leftovers)
[ -n "$before" ] && echo "note: already running before the check:" && echo "$before"

echo "# 1. a test that hangs, ended by its own time-out (30 s)"
start=$(date +%s)
DOCTALK_E2E_TEST_TIMEOUT_MS=30000 stage "hang check: per-test time-out" 300 desktop_first_run 2>&1 | tee "$log"
took=$(($(date +%s) - start))
grep -q "first run" "$log" && grep -qiE "timed out|timeout" "$log" || fail "the failure does not name the hung test"
# node reports a test ended by its time-out as "cancelled"; the stage must have failed.
grep -qE "^# (fail|cancelled) [1-9]" "$log" || fail "the hung test was not reported as failed or cancelled"
grep -q "stage 'hang check: per-test time-out' failed" "$log" || fail "the run did not fail"
[ "$took" -lt 200 ] || fail "took ${took}s, far beyond the 30 s time-out"
sleep 1
now=$(leftovers)
[ "$now" = "$before" ] || fail "processes left behind: $now"
grep -q "left processes behind" "$log" && fail "the stage had to sweep processes the suite left"

echo "# 2. a test that hangs past every time-out of its own, ended by the stage's limit (60 s)"
start=$(date +%s)
DOCTALK_E2E_TEST_TIMEOUT_MS=100000000 stage "hang check: stage limit" 60 desktop_first_run 2>&1 | tee "$log"
took=$(($(date +%s) - start))
grep -q "stage 'hang check: stage limit' timed out" "$log" || fail "no time-out message naming the stage"
[ "$took" -lt 120 ] || fail "took ${took}s against a 60 s limit"
sleep 1
now=$(leftovers)
[ "$now" = "$before" ] || fail "processes left behind: $now"

rm -f "$log"
trap - EXIT
if [ "$failures" -ne 0 ]; then
  echo "hang check: $failures problem(s)" >&2
  exit 1
fi
echo "hang check: both hung runs failed in time, naming themselves, and left no process behind"
