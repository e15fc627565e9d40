"""The Score plugins of the default profile, as numpy expressions over the feasible nodes.

Weights (kubernetes/kubernetes: pkg/scheduler/apis/config/v1/default_plugins.go):
TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1, PodTopologySpread 2, InterPodAffinity 2,
NodeResourcesBalancedAllocation 1, ImageLocality 1. Each plugin yields 0–100 per node.

* NodeResourcesFit, LeastAllocated over cpu and memory, weight 1 each
  (``plugins/noderesources/least_allocated.go``): ``(alloc - req) * 100 // alloc`` per resource, 0
  when ``req > alloc``, resources with ``alloc == 0`` skipped; ``req`` = the node's
  NonZeroRequested + the pod's request with the 100m / 200Mi defaults; integer average.
* BalancedAllocation (``balanced_allocation.go``): fractions ``req / alloc`` capped at 1 from the
  real (not non-zero) requests; two resources: ``int((1 - |f1 - f2| / 2) * 100)``. Skipped for pods
  requesting no cpu/memory (#129138).
* TaintToleration: untolerated PreferNoSchedule taints, normalised in reverse
  (``helper.DefaultNormalizeScore(100, reverse=true)``).
* NodeAffinity: summed weights of matching preferred terms, normalised (max -> 100).
* ImageLocality (``plugins/imagelocality``): sizes of the pod's images already on the node,
  scaled by how many nodes have them, between 23 MB and 1000 MB per container. Nodes without
  ``status.images`` (KWOK nodes, every twin node) score 0.
* InterPodAffinity (weight 2): preferred pod (anti-)affinity and existing pods' terms, in
  ``podrules.affinity_scores``.
* PodTopologySpread (weight 2): the pod's ``ScheduleAnyway`` constraints, or the system default
  constraints for controller-owned pods without constraints, in ``spread.py``; skipped otherwise.

Called only by ``scheduler``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .nodeinfo import NodeTable, normalized_image
from .requests import CPU, MEMORY

MAX_NODE_SCORE = 100
WEIGHT_TAINT = 3
WEIGHT_AFFINITY = 2
WEIGHT_FIT = 1
WEIGHT_BALANCED = 1
WEIGHT_IMAGE = 1
WEIGHT_SPREAD = 2
WEIGHT_INTER_POD_AFFINITY = 2
# imagelocality: minThreshold 23 MB, maxContainerThreshold 1000 MB (decimal megabytes).
_MB = 1024 * 1024
_IMAGE_MIN = 23 * _MB
_IMAGE_MAX_PER_CONTAINER = 1000 * _MB


def least_allocated(table: NodeTable, idx: np.ndarray, pod_cpu: int, pod_mem: int) -> np.ndarray:
    """NodeResourcesFit score (LeastAllocated, cpu:1 memory:1) for the nodes ``idx``."""
    total = np.zeros(len(idx), dtype=np.int64)
    weights = np.zeros(len(idx), dtype=np.int64)
    for alloc_all, used_all, pod_req in ((table.allocatable(CPU), table.nz_cpu, pod_cpu),
                                         (table.allocatable(MEMORY), table.nz_mem, pod_mem)):
        alloc = alloc_all[idx]
        req = used_all[idx] + pod_req
        has = alloc > 0
        safe = np.where(has, alloc, 1)
        score = np.where(req > alloc, 0, ((alloc - req) * MAX_NODE_SCORE) // safe)
        total += np.where(has, score, 0)
        weights += has
    return np.where(weights > 0, total // np.maximum(weights, 1), 0)


def balanced_allocation(table: NodeTable, idx: np.ndarray, pod_cpu: int, pod_mem: int) -> np.ndarray:
    """BalancedAllocation score from real requests (the caller skips best-effort pods)."""
    fracs = []
    present = []
    for name, pod_req in ((CPU, pod_cpu), (MEMORY, pod_mem)):
        alloc = table.allocatable(name)[idx]
        req = table.requested(name)[idx] + pod_req
        has = alloc > 0
        frac = np.minimum(req / np.where(has, alloc, 1), 1.0)
        fracs.append(np.where(has, frac, 0.0))
        present.append(has)
    both = present[0] & present[1]
    std = np.where(both, np.abs(fracs[0] - fracs[1]) / 2, 0.0)
    return ((1 - std) * MAX_NODE_SCORE).astype(np.int64)


def normalize(raw: np.ndarray, reverse: bool) -> np.ndarray:
    """helper.DefaultNormalizeScore: scale so the maximum is 100 (reverse: 100 - that)."""
    top = int(raw.max()) if len(raw) else 0
    if top == 0:
        return np.full(len(raw), MAX_NODE_SCORE if reverse else 0, dtype=np.int64)
    scaled = raw * MAX_NODE_SCORE // top
    return MAX_NODE_SCORE - scaled if reverse else scaled


def image_locality(table: NodeTable, idx: np.ndarray, pod: Mapping[str, Any]) -> np.ndarray:
    """ImageLocality score; all zeros when no node reports ``status.images``."""
    if not any(table.images):
        return np.zeros(len(idx), dtype=np.int64)
    spec = pod.get("spec") or {}
    containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
    images = [normalized_image(str(c.get("image") or "")) for c in containers]
    n_all = len(table)
    have = {img: sum(1 for imgs in table.images if img in imgs) for img in set(images)}
    out = np.zeros(len(idx), dtype=np.int64)
    max_threshold = _IMAGE_MAX_PER_CONTAINER * max(len(containers), 1)
    for j, i in enumerate(idx.tolist()):
        total = 0
        for img in images:
            size = table.images[i].get(img)
            if size is not None:
                total += int(size * (have[img] / n_all))
        total = min(max(total, _IMAGE_MIN), max_threshold)
        out[j] = MAX_NODE_SCORE * (total - _IMAGE_MIN) // (max_threshold - _IMAGE_MIN)
    return out
