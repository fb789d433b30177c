# Stages for scripts/test.sh: each one bounded by a time limit, timed, and swept of the processes
# it leaves behind; a table of every stage's wall time is printed when the script ends, pass or fail.
#
#   source scripts/lib/stages.sh
#   stage "name" LIMIT_SECONDS command args...
#
# A stage runs under `timeout` (its own process group: on time-out the whole group gets SIGTERM,
# then SIGKILL 20 s later). Every process it starts inherits DOCTALK_STAGE_RUN=<a mark unique to the
# stage>; afterwards any process still carrying the mark (one that left the group, or was
# reparented to init) is named and killed. A time-out fails the script with the stage's name and
# the processes that were still alive.

STAGE_NAMES=()
STAGE_SECONDS=()
STAGE_RESULTS=()
STAGES_STARTED=$(date +%s)
STAGES_FAILED=0
# With STAGE_KEEP_GOING=1 a failed or timed-out stage is recorded and the next one runs (each test
# binary is a stage: one failure should not hide the others); `stages_finish` then fails.
STAGE_KEEP_GOING=${STAGE_KEEP_GOING:-0}

# Processes whose environment carries DOCTALK_STAGE_RUN=$1, as "pid name" lines (zombies left out).
stage_marked() {
  local mark="DOCTALK_STAGE_RUN=$1" pid
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$pid" = "$$" ] && continue
    if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "$mark"; then
      if ! grep -qE '^State:\s+Z' "/proc/$pid/status" 2>/dev/null; then
        echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null)"
      fi
    fi
  done
}

# Kills every process carrying the mark; prints what it found.
stage_sweep() {
  local mark=$1 left
  left=$(stage_marked "$mark")
  [ -z "$left" ] && return 0
  echo "$left" | while read -r pid _; do kill -KILL "$pid" 2>/dev/null || true; done
  echo "$left"
}

stage() {
  local name=$1 limit=$2
  shift 2
  local mark="stage-$$-${#STAGE_NAMES[@]}-$RANDOM"
  local start rc=0 left
  start=$(date +%s)
  echo "== $name (limit ${limit}s)"
  if declare -F "$1" >/dev/null; then
    # A shell function: `timeout` runs programs, so a child bash runs the (exported) function.
    export -f "$1"
    DOCTALK_STAGE_RUN="$mark" timeout --kill-after=20 "$limit" bash -c '"$0" "$@"' "$@" || rc=$?
  else
    DOCTALK_STAGE_RUN="$mark" timeout --kill-after=20 "$limit" "$@" || rc=$?
  fi
  local took=$(($(date +%s) - start))
  left=$(stage_sweep "$mark")
  STAGE_NAMES+=("$name")
  STAGE_SECONDS+=("$took")
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    STAGE_RESULTS+=("TIMED OUT")
    echo "!! stage '$name' timed out after ${took}s (limit ${limit}s)." >&2
    if [ -n "$left" ]; then
      echo "!! processes of '$name' still alive after the time-out, now killed:" >&2
      echo "$left" | sed 's/^/!!   /' >&2
    else
      echo "!! no process of '$name' was left alive." >&2
    fi
    STAGES_FAILED=1
    [ "$STAGE_KEEP_GOING" = 1 ] && return 0
    exit 124
  fi
  if [ -n "$left" ]; then
    echo "!! stage '$name' left processes behind (killed):" >&2
    echo "$left" | sed 's/^/!!   /' >&2
  fi
  if [ "$rc" -ne 0 ]; then
    STAGE_RESULTS+=("failed ($rc)")
    echo "!! stage '$name' failed with exit code $rc" >&2
    STAGES_FAILED=1
    [ "$STAGE_KEEP_GOING" = 1 ] && return 0
    exit "$rc"
  fi
  STAGE_RESULTS+=("ok")
}

stage_table() {
  local i total=$(($(date +%s) - STAGES_STARTED))
  echo
  echo "== stage times"
  printf '%-52s %9s  %s\n' "stage" "seconds" "result"
  for i in "${!STAGE_NAMES[@]}"; do
    printf '%-52s %9s  %s\n' "${STAGE_NAMES[$i]}" "${STAGE_SECONDS[$i]}" "${STAGE_RESULTS[$i]}"
  done
  printf '%-52s %9s\n' "total (wall)" "$total"
}
trap stage_table EXIT

# Fails the script when any stage failed (with STAGE_KEEP_GOING=1 they did not stop it).
stages_finish() {
  if [ "$STAGES_FAILED" -ne 0 ]; then
    echo "!! some stages failed: see the table below" >&2
    exit 1
  fi
}
