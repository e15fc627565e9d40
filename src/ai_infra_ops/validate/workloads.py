"""Which of the spec's workloads play which part in the checks and steps.

The CUDA test pod is the first bare Pod of ``spec.workloads`` that asks for a GPU (the seed's
``cudatestpod``); the chaos pod is ``spec.chaos_pod``; everything else is "the workloads".
"""
from __future__ import annotations

from typing import Any

from .evidence import pod_limit


def gpu_resource(spec: Any) -> str:
    """The extended resource of the first GPU pool's model (``nvidia.com/gpu`` for the seed)."""
    pools = list(spec.gpu_pools)
    return pools[0].gpu_model.resource if pools else "nvidia.com/gpu"


def cuda_test_pod(spec: Any) -> dict[str, Any] | None:
    """The CUDA test pod of the spec (None when no bare Pod asks for a GPU)."""
    res = gpu_resource(spec)
    for w in spec.workloads:
        if w.get("kind") == "Pod" and pod_limit(w, res) > 0:
            return dict(w)
    return None


def other_workloads(spec: Any) -> list[dict[str, Any]]:
    """Every workload but the test pod, in spec order."""
    tp = cuda_test_pod(spec)
    return [w for w in spec.workloads if tp is None or w != tp]


def namespace_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "default")
