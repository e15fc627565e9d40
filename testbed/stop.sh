#!/usr/bin/env bash
# Stop a test bed started by testbed/start.sh: SIGTERM to each recorded pid in reverse start
# order, wait for it to exit (deadline 15 s, then SIGKILL). Only pids from RUN_DIR/pids are
# touched. Usage: testbed/stop.sh [RUN_DIR]
set -uo pipefail
CACHE=${AI_INFRA_OPS_CACHE:-$HOME/.cache/ai-infra-ops}/testbed
RUN=${1:-${TESTBED_RUN_DIR:-$CACHE/run}}
[ -f "$RUN/pids" ] || { echo "[testbed stop] nothing running in $RUN" >&2; exit 0; }
tac "$RUN/pids" | while read -r name pid; do
  [ -n "${pid:-}" ] || continue
  kill -0 "$pid" 2>/dev/null || continue
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; echo "[testbed stop] $name ($pid) killed" >&2
  else echo "[testbed stop] $name ($pid) stopped" >&2; fi
done
rm -f "$RUN/pids"
