#!/usr/bin/env python3
"""Run every benchmark (one command: ``make bench``) and print a summary.

Each ``bench_*.py`` prints its own sizes, seconds, ratios and peak RSS and exits 1 when it misses
the bound its issue names. ``bench_testbed.py`` (the real control plane, minutes) runs only with
``--with-testbed``. Extra arguments after ``--`` are passed to every benchmark.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["bench_spec.py", "bench_schedule.py", "bench_twin_fleet.py", "bench_policy.py", "bench_observe.py", "bench_up.py"]


def main(argv: list[str]) -> int:
    with_testbed = "--with-testbed" in argv
    scripts = [HERE / n for n in ORDER if (HERE / n).exists()]
    if with_testbed and (HERE / "bench_testbed.py").exists():
        scripts.append(HERE / "bench_testbed.py")
    results: list[tuple[str, int, float]] = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)])
        results.append((script.name, rc, time.perf_counter() - t0))
    print("\n=== summary ===")
    for name, rc, secs in results:
        print(f"{'PASS' if rc == 0 else 'FAIL'}  {name:<22} ({secs:.1f} s wall)")
    return 0 if all(rc == 0 for _, rc, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
