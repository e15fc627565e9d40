"""Helpers for the twin's tests: the objects that make fake-gpu-operator 0.0.72 active (built by
hand, as the chart renders them), the gpu namespace, pod builders, pool labelling."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from ai_infra_ops.twin.backend import TwinBackend

# Byte-identical copies of ../shared/seed/manifests (the seed platform's own files).
SEED = Path(__file__).parent / "data" / "seed"
POOL_KEY = "run.ai/simulated-gpu-node-pool"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)

# The chart's rendering of the seed's `helm --set` (gpuCount 8, gpuProduct H100, the ignored
# topology.nodePoolLabel) over the 0.0.72 defaults: gpuMemory keeps the K80's 11441.
SEED_TOPOLOGY = {
    "migStrategy": "mixed",
    "nodePoolLabel": POOL_KEY,
    "nodePoolLabelKey": POOL_KEY,
    "nodePools": {"default": {"gpuCount": 8, "gpuMemory": 11441, "gpuProduct": "H100"}},
}
CORRECT_TOPOLOGY = {
    "migStrategy": "mixed",
    "nodePoolLabelKey": POOL_KEY,
    "nodePools": {"default": {"gpuCount": 8, "gpuMemory": 81559, "gpuProduct": "NVIDIA-H100-80GB-HBM3"}},
}


def fake_gpu_objects(topology: dict[str, Any], ns: str = "gpu") -> list[dict[str, Any]]:
    """ConfigMap `topology` (key topology.yml) and Deployment `status-updater`."""
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "topology", "namespace": ns},
         "data": {"topology.yml": yaml.safe_dump(topology, sort_keys=True)}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "status-updater", "namespace": ns, "labels": {"app": "status-updater"}},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "status-updater"}},
                  "template": {"metadata": {"labels": {"app": "status-updater"}},
                               "spec": {"containers": [{"name": "status-updater",
                                                        "image": "ghcr.io/run-ai/fake-gpu-operator/status-updater:0.0.72"}]}}}},
    ]


def gpu_namespace(quota: str | None = "24") -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gpu"}}]
    if quota is not None:
        objs.append({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "gpu-quota", "namespace": "gpu"},
                     "spec": {"hard": {"requests.nvidia.com/gpu": quota}}})
    return objs


def label_workers(tb: TwinBackend, pool: str = "default") -> None:
    """What `kubectl label node nodeNN run.ai/simulated-gpu-node-pool=default` does."""
    for n in tb.list("nodes"):
        if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"]:
            continue
        n["metadata"]["labels"][POOL_KEY] = pool
        tb.apply([n])


def pod(name: str, gpus: int | str | None = 1, ns: str = "gpu", **extra: Any) -> dict[str, Any]:
    res = {"limits": {"nvidia.com/gpu": gpus}} if gpus is not None else {}
    c = {"name": name, "image": "nvidia/cuda:13.1.1-cudnn-runtime-ubuntu24.04", "command": ["sleep", "3600"],
         "resources": res}
    c.update(extra)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": "cuda"}},
            "spec": {"containers": [c]}}


