"""Benchmark: the twin's kube-scheduler on the hyperscale fleet (issue 2, "Speed").

Run: ``.venv/bin/python bench/bench_schedule.py [NODES_PER_MODEL] [GPUS_PER_NODE]`` (defaults 100, 10).

Fleet: the 20 catalog models x NODES_PER_MODEL KWOK-style nodes (annotation
``kwok.x-k8s.io/node: fake``, taint ``kwok.x-k8s.io/node=fake:NoSchedule``), each in a
fake-gpu-operator pool labelled ``run.ai/simulated-gpu-node-pool=<model>`` and publishing
``nvidia.com/gpu: GPUS_PER_NODE`` (fake-gpu-operator registers every simulated model under
``nvidia.com/gpu``). Pods: one per GPU (20,000 by default), each with ``limits: nvidia.com/gpu: 1``
and the KWOK toleration, for one intended model.

Two runs, each timed from building the node objects to the last binding:
1. ``selector``: pods select their model's pool (nodeSelector) -> every pod lands on its model.
2. ``no-selector``: pods ask only for ``nvidia.com/gpu`` as the seed's cudaTestPod does -> the
   finding "model isolation did not hold": the share of pods on another model's node.

Prints sizes, seconds, pods/s and peak RSS (``resource.getrusage``); exits 1 when a run exceeds
10 s, peak RSS exceeds 1 GiB, or a selector-run pod is unscheduled or on the wrong model.
"""
from __future__ import annotations

import resource
import sys
import time
from typing import Any

from ai_infra_ops.catalog import all_models
from ai_infra_ops.twin.scheduler import Scheduler

POOL_LABEL = "run.ai/simulated-gpu-node-pool"
KWOK_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}
BOUND_SECONDS = 10.0
BOUND_RSS_BYTES = 1024**3


def make_nodes(models: list[str], per_model: int, gpus: int) -> list[dict[str, Any]]:
    nodes = []
    for m in models:
        for k in range(per_model):
            name = f"{m}-{k:04d}"
            res = {"cpu": "128", "memory": "2Ti", "pods": "110", "nvidia.com/gpu": str(gpus)}
            nodes.append({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake"},
                             "labels": {"kubernetes.io/hostname": name, "type": "kwok", POOL_LABEL: m}},
                "spec": {"taints": [dict(KWOK_TAINT)]},
                "status": {"capacity": dict(res), "allocatable": dict(res)},
            })
    return nodes


def make_pods(models: list[str], per_model: int, gpus: int, selector: bool) -> list[dict[str, Any]]:
    pods = []
    for m in models:
        for k in range(per_model * gpus):
            spec: dict[str, Any] = {
                "containers": [{"name": "cuda", "image": "nvidia/cuda:13.1.1-cudnn-runtime-ubuntu24.04",
                                "resources": {"limits": {"nvidia.com/gpu": "1"}}}],
                "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
            }
            if selector:
                spec["nodeSelector"] = {POOL_LABEL: m}
            pods.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": f"{m}-job-{k:05d}", "namespace": "gpu", "labels": {"model": m}},
                         "spec": spec})
    return pods


def run(selector: bool, per_model: int, gpus: int) -> tuple[bool, str]:
    models = [m.id for m in all_models()]
    t0 = time.perf_counter()
    nodes = make_nodes(models, per_model, gpus)
    sched = Scheduler(nodes, kubernetes_version="1.35", seed=0)
    t1 = time.perf_counter()
    pods = make_pods(models, per_model, gpus, selector)
    t2 = time.perf_counter()
    results = sched.schedule_many(pods)
    t3 = time.perf_counter()
    model_of = {n["metadata"]["name"]: n["metadata"]["labels"][POOL_LABEL] for n in nodes}
    placed = sum(1 for r in results if r.node)
    wrong = sum(1 for p, r in zip(pods, results) if r.node and model_of[r.node] != p["metadata"]["labels"]["model"])
    total = t3 - t0
    name = "selector" if selector else "no-selector"
    print(f"[{name}] nodes={len(nodes)} models={len(models)} gpus={len(nodes) * gpus} pods={len(pods)}")
    print(f"[{name}] fleet+scheduler init {t1 - t0:.3f} s, pod objects {t2 - t1:.3f} s, "
          f"scheduling {t3 - t2:.3f} s ({len(pods) / (t3 - t2):.0f} pods/s), total {total:.3f} s")
    print(f"[{name}] scheduled {placed}/{len(pods)}, on another model's node: {wrong} ({100 * wrong / len(pods):.1f} %)")
    ok = total <= BOUND_SECONDS
    if selector:
        ok = ok and placed == len(pods) and wrong == 0
    else:
        print(f"[{name}] finding: model isolation did not hold — {wrong} of {placed} pods run on a model they did not ask "
              "for, because every simulated model publishes the same nvidia.com/gpu resource")
    return ok, name


def main() -> int:
    per_model = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    gpus = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    verdicts = [run(True, per_model, gpus), run(False, per_model, gpus)]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(f"peak RSS {rss / 1024**2:.0f} MiB (bound {BOUND_RSS_BYTES / 1024**2:.0f} MiB), "
          f"time bound {BOUND_SECONDS:.0f} s per run")
    failed = [name for ok, name in verdicts if not ok]
    if rss > BOUND_RSS_BYTES:
        failed.append("rss")
    if failed:
        print("FAIL: " + ", ".join(failed))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
