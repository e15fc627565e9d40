"""Random but reproducible scheduling workloads for the differential test and the benchmark.

``cluster(seed)`` gives ~20 KWOK nodes of different shapes (GPU nodes with a NoSchedule GPU
taint, untainted small-GPU nodes, CPU-only nodes over three zones, dedicated tainted nodes with a
small pod limit, a cordoned node, a kubeadm control plane); ``pods(seed, n)`` gives pods drawn
from weighted templates (GPU jobs, CPU services, zone selectors, required node affinities,
dedicated tolerations, limits-only requests, some that can never fit, and pods with required pod
anti-affinity per hostname, pod affinity per zone, and DoNotSchedule topology spread over zones and
hostnames). Same seed, same output.
"""
from __future__ import annotations

import random
from typing import Any

from harness import KWOK_TOLERATION, kwok_node

ZONE = "topology.kubernetes.io/zone"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
DEDICATED_TAINT = {"key": "dedicated", "value": "infra", "effect": "NoSchedule"}


def cluster(seed: int) -> list[dict[str, Any]]:
    """Twenty nodes (names sort in a stable order)."""
    rnd = random.Random(seed)
    nodes = [kwok_node("cp01", {"cpu": "4", "memory": "8Gi", "pods": "110"},
                       {"node-role.kubernetes.io/control-plane": ""},
                       [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])]
    for i in range(1, 9):
        nodes.append(kwok_node(f"gpu{i:02d}", {"cpu": str(rnd.choice([48, 96])), "memory": f"{rnd.choice([192, 384])}Gi",
                                               "pods": "110", "nvidia.com/gpu": "8"},
                               {ZONE: "zone-" + "ab"[i % 2], "gpu-model": rnd.choice(["h100", "a100"]),
                                "run.ai/simulated-gpu-node-pool": "default"}, [dict(GPU_TAINT)]))
    for i in (9, 10):
        nodes.append(kwok_node(f"gpu{i:02d}", {"cpu": "8", "memory": "32Gi", "pods": "110", "nvidia.com/gpu": "4"},
                               {ZONE: "zone-c", "gpu-model": "l4", "run.ai/simulated-gpu-node-pool": "small"}))
    for i in range(1, 7):
        nodes.append(kwok_node(f"cpu{i:02d}", {"cpu": str(rnd.choice([8, 32, 64])), "memory": f"{rnd.choice([64, 128])}Gi",
                                               "pods": str(rnd.choice([20, 110]))},
                               {ZONE: "zone-" + "abc"[i % 3], "pool": "general"}))
    for i in (1, 2):
        nodes.append(kwok_node(f"ded{i:02d}", {"cpu": "8", "memory": "16Gi", "pods": "10"},
                               {ZONE: "zone-a", "dedicated": "infra"}, [dict(DEDICATED_TAINT)]))
    cordoned = kwok_node("cpu07", {"cpu": "16", "memory": "64Gi", "pods": "110"}, {ZONE: "zone-b", "pool": "general"})
    cordoned["spec"]["unschedulable"] = True
    nodes.append(cordoned)
    return nodes


def _res(cpu_m: int | None, mem_mi: int | None, gpu: int = 0, limits_only: bool = False) -> dict[str, Any]:
    req: dict[str, Any] = {}
    if cpu_m:
        req["cpu"] = f"{cpu_m}m"
    if mem_mi:
        req["memory"] = f"{mem_mi}Mi"
    if limits_only:
        lim = dict(req)
        if gpu:
            lim["nvidia.com/gpu"] = str(gpu)
        return {"limits": lim}
    out: dict[str, Any] = {"requests": req} if req else {}
    if gpu:
        out.setdefault("requests", {})["nvidia.com/gpu"] = str(gpu)
        out["limits"] = {"nvidia.com/gpu": str(gpu)}
    return out


def pods(seed: int, n: int, namespace: str = "diff") -> list[dict[str, Any]]:
    """``n`` pods named ``p0000``..., every one tolerating the KWOK taint."""
    rnd = random.Random(seed * 7919 + 1)
    out = []
    kinds = ["gpu", "gpu-untolerated", "cpu", "cpu", "cpu-limits-only", "zone", "affinity", "dedicated",
             "never-label", "never-cpu", "never-gpu", "best-effort", "gpu-model",
             "anti-host", "affinity-zone", "spread-zone", "spread-host"]
    weights = [22, 3, 28, 0, 6, 10, 10, 5, 2, 2, 2, 5, 5, 6, 3, 4, 3]
    for i in range(n):
        kind = rnd.choices(kinds, weights)[0]
        spec: dict[str, Any] = {"tolerations": [dict(KWOK_TOLERATION)]}
        cpu, mem = rnd.choice([100, 250, 500, 1000, 2000, 4000]), rnd.choice([128, 512, 1024, 4096, 8192])
        res: dict[str, Any]
        labels = {"kind": kind}
        if kind in ("gpu", "gpu-untolerated", "gpu-model"):
            res = _res(cpu, mem, rnd.choice([1, 1, 1, 2, 2, 4, 8]))
            if kind != "gpu-untolerated":
                spec["tolerations"].append(dict(GPU_TOLERATION))
            if kind == "gpu-model":
                spec["nodeSelector"] = {"gpu-model": rnd.choice(["h100", "a100", "l4"])}
        elif kind == "cpu-limits-only":
            res = _res(cpu, mem, limits_only=True)
        elif kind == "zone":
            res = _res(cpu, mem)
            spec["nodeSelector"] = {ZONE: rnd.choice(["zone-a", "zone-b", "zone-c"])}
        elif kind == "affinity":
            res = _res(cpu, mem)
            op = rnd.choice(["In", "NotIn", "Exists"])
            expr: dict[str, Any] = {"key": ZONE if op != "Exists" else "pool", "operator": op}
            if op != "Exists":
                expr["values"] = rnd.sample(["zone-a", "zone-b", "zone-c"], rnd.choice([1, 2]))
            spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [expr]}]}}}
        elif kind == "dedicated":
            res = _res(rnd.choice([100, 250, 500]), rnd.choice([128, 256]))
            spec["tolerations"].append({"key": "dedicated", "operator": "Equal", "value": "infra",
                                        "effect": "NoSchedule"})
            spec["nodeSelector"] = {"dedicated": "infra"}
        elif kind == "never-label":
            res = _res(cpu, mem)
            spec["nodeSelector"] = {"disktype": "nvme"}
        elif kind == "never-cpu":
            res = _res(64000, mem)
        elif kind == "never-gpu":
            res = _res(cpu, mem, 16)
            spec["tolerations"].append(dict(GPU_TOLERATION))
        elif kind == "best-effort":
            res = {}
        elif kind == "anti-host":
            # Required anti-affinity to its own group per node: a group fills the nodes, then stays Pending.
            res = _res(rnd.choice([100, 250]), 128)
            labels["group"] = rnd.choice(["g0", "g1", "g2"])
            if rnd.random() < 0.7:
                spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"group": labels["group"]}}, "topologyKey": "kubernetes.io/hostname"}]}}
            # else: a group member without the term, kept off the nodes by the others' anti-affinity.
        elif kind == "affinity-zone":
            # The first "cache" pod may go anywhere (it matches its own term); the others follow its zone.
            res = _res(cpu, mem)
            labels["app"] = rnd.choice(["cache", "cache", "front"])
            spec["affinity"] = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": ZONE}]}}
        elif kind in ("spread-zone", "spread-host"):
            res = _res(cpu, mem)
            labels["app"] = "spread"
            constraint: dict[str, Any] = {"maxSkew": 1 if kind == "spread-zone" else 2, "whenUnsatisfiable": "DoNotSchedule",
                                          "topologyKey": ZONE if kind == "spread-zone" else "kubernetes.io/hostname",
                                          "labelSelector": {"matchLabels": {"app": "spread"}}}
            if kind == "spread-host":
                constraint["nodeTaintsPolicy"] = "Honor"
            else:
                constraint["minDomains"] = rnd.choice([2, 3, 4])
            spec["topologySpreadConstraints"] = [constraint]
        else:
            res = _res(cpu, mem)
        container: dict[str, Any] = {"name": "c", "image": "registry.example/work:1"}
        if res:
            container["resources"] = res
        spec["containers"] = [container]
        out.append({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": f"p{i:04d}", "namespace": namespace, "labels": labels},
                    "spec": spec})
    return out
