#!/usr/bin/env python3
"""The hyperscale fleet through the whole twin (issue 2, Speed): 2,000 KWOK-style nodes
(20 GPU models x 100 nodes x 10 GPUs) and 20,000 one-GPU pods applied through ``TwinBackend``
(admission, SQLite store, scheduler, pod lifecycle, events), not the scheduler alone.

Prints sizes, seconds, pods/s and peak RSS; exits 1 if it takes more than 10 s or 1 GiB.
``bench_schedule.py`` times the scheduler on its own (the same fleet and pods).
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_schedule import make_nodes, make_pods  # noqa: E402

from ai_infra_ops.catalog import all_models  # noqa: E402

from ai_infra_ops.twin.backend import TwinBackend  # noqa: E402

TIME_BOUND_S = 10.0
RSS_BOUND_MIB = 1024


def main() -> int:
    ms = [m.id for m in all_models()]
    nodes = make_nodes(ms, 100, 10)
    pods = make_pods(ms, 100, 10, selector=True)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        tb = TwinBackend.open(Path(tmp) / "state", seed=0)
        tb.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gpu"}}])
        t1 = time.perf_counter()
        tb.apply(nodes)
        t2 = time.perf_counter()
        tb.apply(pods)
        t3 = time.perf_counter()
        running = sum(1 for p in tb.list("Pod", "gpu") if (p.get("status") or {}).get("phase") == "Running")
        tb.close()
    total = t3 - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"nodes={len(nodes)} models={len(ms)} gpus={len(nodes) * 10} pods={len(pods)}")
    print(f"open {t1 - t0:.2f} s, nodes {t2 - t1:.2f} s, pods (admit+schedule+start) {t3 - t2:.2f} s, "
          f"total {total:.2f} s ({len(pods) / (t3 - t2):,.0f} pods/s); Running {running}/{len(pods)}")
    print(f"peak RSS {rss:.0f} MiB (bound {RSS_BOUND_MIB} MiB), time bound {TIME_BOUND_S:.0f} s")
    ok = total <= TIME_BOUND_S and rss <= RSS_BOUND_MIB and running == len(pods)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
