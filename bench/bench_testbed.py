"""Benchmark: the hyperscale fleet on the real test bed (kube-scheduler v1.35) vs the twin, same run.

Run: ``.venv/bin/python bench/bench_testbed.py [NODES_PER_MODEL] [GPUS_PER_NODE] [--kubeconfig K]``
(defaults 100 and 10: 20 models x 100 KWOK nodes x 10 GPUs = 2,000 nodes, 20,000 one-GPU pods).
Without ``--kubeconfig`` it starts a private test bed (``testbed/start.sh``) and stops it after.

Fleet and pods are exactly ``bench/bench_schedule.py``'s (``make_nodes``/``make_pods``, pods select
their model's pool). Real side: nodes are created through the API with concurrent requests (a
thread pool over one keep-alive HTTP/1.1 pool), the test waits (watch) until kwok made every node
Ready and the node lifecycle controller lifted its not-ready taint, then creates all pods
concurrently and times until the real scheduler decided every pod (``spec.nodeName`` set or
``PodScheduled=False``), observed through a watch. Twin side: ``Scheduler(nodes)`` +
``schedule_many(pods)``, timed from the node objects to the last decision.

Prints both times, the ratio (goal: twin >= 50x faster) and whether the outcomes are identical
(same Pending count, same per-model placement counts). Exit 1 if the outcomes differ.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "testbed"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_schedule import POOL_LABEL, make_nodes, make_pods  # noqa: E402
from harness import Testbed, node_settled  # noqa: E402

from ai_infra_ops.catalog import all_models  # noqa: E402
from ai_infra_ops.kube.client import KubeClient  # noqa: E402
from ai_infra_ops.twin.scheduler import Scheduler  # noqa: E402

WORKERS = 32


def watch_until(client: KubeClient, path: str, ok: Callable[[dict[str, Any]], bool], target: int,
                timeout_s: float, started: threading.Event | None = None) -> dict[str, dict[str, Any]]:
    """List+watch a collection, keeping the latest object per name, until ``target`` objects
    satisfy ``ok`` (tracked incrementally: O(1) per event, the fleet has 20,000 pods)."""
    deadline = time.monotonic() + timeout_s
    state: dict[str, dict[str, Any]] = {}
    good: set[str] = set()

    def see(obj: dict[str, Any], deleted: bool = False) -> None:
        name = obj["metadata"]["name"]
        if deleted:
            state.pop(name, None)
            good.discard(name)
            return
        state[name] = obj
        (good.add if ok(obj) else good.discard)(name)

    while time.monotonic() < deadline:
        listing = client.request("GET", path)
        state.clear()
        good.clear()
        for item in listing.get("items", []):
            see(item)
        if started is not None:
            started.set()
        if len(good) >= target:
            return state
        params = {"watch": "true", "resourceVersion": listing["metadata"]["resourceVersion"],
                  "timeoutSeconds": str(max(1, int(deadline - time.monotonic())))}
        for ev in client.stream(path, params):
            if ev.get("type") == "ERROR":
                break
            see(ev["object"], ev["type"] == "DELETED")
            if len(good) >= target:
                return state
    raise TimeoutError(f"{path}: {len(good)} of {target} ready after {timeout_s:.0f}s")


def decided(pod: dict[str, Any]) -> bool:
    if pod.get("spec", {}).get("nodeName"):
        return True
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False"
               for c in pod.get("status", {}).get("conditions", []) or [])


def create_all(client: KubeClient, path_of: Callable[[dict[str, Any]], str], objs: list[dict[str, Any]]) -> float:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda o: client.request("POST", path_of(o), body=o), objs, chunksize=64))
    return time.perf_counter() - t0


def real_run(kubeconfig: Path, nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> dict[str, Any]:
    client = KubeClient(kubeconfig, pool_size=WORKERS, timeout_s=120)
    client.request("POST", "/api/v1/namespaces", body={"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": "gpu"}})
    watch_until(client, "/api/v1/namespaces/gpu/serviceaccounts", lambda o: o["metadata"]["name"] == "default", 1, 60)
    t_nodes = create_all(client, lambda _o: "/api/v1/nodes", nodes)
    t0 = time.perf_counter()
    watch_until(client, "/api/v1/nodes", node_settled, len(nodes), 900)
    t_ready = time.perf_counter() - t0

    result: dict[str, Any] = {}
    started = threading.Event()

    def watcher() -> None:
        try:
            result["pods"] = watch_until(client, "/api/v1/namespaces/gpu/pods", decided, len(pods), 3600, started)
        finally:
            started.set()

    th = threading.Thread(target=watcher, daemon=True)
    th.start()
    started.wait()
    t0 = time.perf_counter()
    t_create = create_all(client, lambda _o: "/api/v1/namespaces/gpu/pods", pods)
    th.join()
    t_sched = time.perf_counter() - t0
    if "pods" not in result:
        raise RuntimeError("the pod watch failed")
    first_pending = {n: p for n, p in result["pods"].items() if not p["spec"].get("nodeName")}
    reasons = Counter(_message(p) for p in first_pending.values())
    # Settle: a pod first found unschedulable is retried by the scheduler (backoff <= 10 s, and on
    # node/pod events); keep watching until every pod is bound or nothing changed for 30 s.
    final = dict(result["pods"])
    if first_pending:
        final = settle(client, "/api/v1/namespaces/gpu/pods", final, quiet_s=30.0)
    client.close()
    model_of = {n["metadata"]["name"]: n["metadata"]["labels"][POOL_LABEL] for n in nodes}
    placed = Counter(model_of[p["spec"]["nodeName"]] for p in final.values() if p["spec"].get("nodeName"))
    pending = sum(1 for p in final.values() if not p["spec"].get("nodeName"))
    return {"nodes_create_s": t_nodes, "nodes_ready_s": t_ready, "pods_create_s": t_create,
            "pods_decided_s": t_sched, "total_s": t_sched, "placed": placed, "pending": pending,
            "first_pending": len(first_pending), "first_reasons": reasons}


def _message(pod: dict[str, Any]) -> str:
    for c in pod.get("status", {}).get("conditions", []) or []:
        if c.get("type") == "PodScheduled" and c.get("status") == "False":
            return str(c.get("message"))
    return "?"


def settle(client: KubeClient, path: str, state: dict[str, dict[str, Any]], quiet_s: float) -> dict[str, dict[str, Any]]:
    """Watch until every pod is bound, or no pod got bound for ``quiet_s`` seconds."""
    listing = client.request("GET", path)
    state = {o["metadata"]["name"]: o for o in listing.get("items", [])}
    while any(not p["spec"].get("nodeName") for p in state.values()):
        params = {"watch": "true", "resourceVersion": listing["metadata"]["resourceVersion"],
                  "timeoutSeconds": str(int(quiet_s))}
        bound_any = False
        for ev in client.stream(path, params):
            obj = ev.get("object", {})
            if ev.get("type") in ("ADDED", "MODIFIED"):
                before = state.get(obj["metadata"]["name"], {}).get("spec", {}).get("nodeName")
                state[obj["metadata"]["name"]] = obj
                bound_any = bound_any or (not before and bool(obj["spec"].get("nodeName")))
                listing["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
            if all(p["spec"].get("nodeName") for p in state.values()):
                break
        if not bound_any:
            break
    return state


def twin_run(nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> dict[str, Any]:
    t0 = time.perf_counter()
    sched = Scheduler(nodes, kubernetes_version="1.35", seed=0)
    results = sched.schedule_many(pods)
    total = time.perf_counter() - t0
    model_of = {n["metadata"]["name"]: n["metadata"]["labels"][POOL_LABEL] for n in nodes}
    placed = Counter(model_of[r.node] for r in results if r.node)
    return {"total_s": total, "placed": placed, "pending": sum(1 for r in results if not r.node)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("per_model", nargs="?", type=int, default=100)
    ap.add_argument("gpus", nargs="?", type=int, default=10)
    ap.add_argument("--kubeconfig", type=Path, help="an already running test bed (default: start one)")
    args = ap.parse_args()
    models = [m.id for m in all_models()]
    nodes = make_nodes(models, args.per_model, args.gpus)
    pods = make_pods(models, args.per_model, args.gpus, selector=True)
    print(f"fleet: {len(models)} models x {args.per_model} nodes x {args.gpus} GPUs = {len(nodes)} nodes, "
          f"{len(pods)} one-GPU pods")
    twin = twin_run(nodes, pods)
    print(f"twin: {twin['total_s']:.3f} s ({len(pods) / twin['total_s']:.0f} pods/s), "
          f"pending {twin['pending']}")
    tb = None
    kubeconfig = args.kubeconfig
    if kubeconfig is None:
        tb = Testbed.start(Path(tempfile.mkdtemp(prefix="bench-testbed-")))
        kubeconfig = tb.kubeconfig
        print(f"test bed started in {tb.start_s:.1f} s ({tb.run_dir})")
    try:
        real = real_run(kubeconfig, nodes, pods)
    finally:
        if tb is not None:
            tb.stop()
    print(f"real: nodes created in {real['nodes_create_s']:.1f} s, Ready+untainted after {real['nodes_ready_s']:.1f} s; "
          f"pods created in {real['pods_create_s']:.1f} s, all decided after {real['pods_decided_s']:.1f} s "
          f"({len(pods) / real['pods_decided_s']:.0f} pods/s); first decision Pending for {real['first_pending']}, "
          f"after settling pending {real['pending']}")
    for msg, n in real["first_reasons"].most_common(3):
        print(f"  first FailedScheduling x{n}: {msg}")
    ratio = real["total_s"] / twin["total_s"]
    same = real["pending"] == twin["pending"] and real["placed"] == twin["placed"]
    print(f"ratio: twin is {ratio:.0f}x faster (goal >= 50x): {'MET' if ratio >= 50 else 'NOT MET'}")
    print(f"outcomes identical (pending count, per-model placement counts): {same}")
    if not same:
        print(f"  real placed {dict(real['placed'])}\n  twin placed {dict(twin['placed'])}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
