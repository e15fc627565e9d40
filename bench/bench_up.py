"""Benchmark: `ai-infra-ops up` of the default spec on the twin (issue 4, "Speed").

Runs the real command line in a fresh process (interpreter start-up and imports included), in a
fresh temporary state directory:

1. first `up`: both phases and the full validation suite, receipts written  — goal <= 5 s;
2. second `up`: nothing to do (every step skipped), validation again        — goal <= 1 s... of
   step work: the whole second command is timed, start-up included.

Prints both wall times and the command's own summary line; exits 1 if a goal is missed or a run
fails. Usage: `.venv/bin/python bench/bench_up.py [--repeat N]` (best of N, default 3).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_FIRST_S = 5.0
GOAL_SECOND_S = 1.0


def run_up(state: Path, cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ai_infra_ops.cli", "--state-dir", str(state), "up"],
                          cwd=cwd, capture_output=True, text=True, check=False)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"up failed with exit code {proc.returncode}")
    last = [line for line in proc.stdout.splitlines() if line.startswith(("PASS", "FAIL", "nothing to do", "checks:"))]
    return dt, " | ".join(last)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="repeat and keep the best time (default 3)")
    args = ap.parse_args()
    firsts, seconds = [], []
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="bench-up-") as tmp:
            cwd = Path(tmp)
            state = cwd / ".ai-infra-ops"
            t1, s1 = run_up(state, cwd)
            t2, s2 = run_up(state, cwd)
            if "nothing to do" not in s2:
                raise SystemExit(f"second up was not a no-op: {s2}")
            firsts.append(t1)
            seconds.append(t2)
    first, second = min(firsts), min(seconds)
    print(f"up (fresh twin, both phases + validation): {first:.2f} s  (goal <= {GOAL_FIRST_S:.0f} s)  {s1}")
    print(f"up (second run, nothing to do):            {second:.2f} s  (goal <= {GOAL_SECOND_S:.0f} s)  {s2}")
    ok = first <= GOAL_FIRST_S and second <= GOAL_SECOND_S
    print("OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
