"""PodTopologySpread scoring with the system default constraints (how Deployment replicas spread).

kubernetes/kubernetes: pkg/scheduler/framework/plugins/podtopologyspread/{plugin.go,scoring.go}.
A pod without its own ``topologySpreadConstraints`` that a controller owns gets the cluster's
default constraints (``apis/config/v1/defaults.go``: ``kubernetes.io/hostname`` maxSkew 3 and
``topology.kubernetes.io/zone`` maxSkew 5, both ScheduleAnyway) with the controller's selector.
Score per node: for each constraint whose key the node carries,
``count(matching pods in the node's domain) * log(domains + 2) + (maxSkew - 1)``, rounded; then
normalised so the least crowded node gets 100 (``100 * (max + min - s) / max``; all 100 when
max is 0). System-defaulted constraints do not require every node to carry every key.

The twin's scheduler does not see ReplicaSets or Services, so the selector is the owned pod's
own labels (a Deployment's ReplicaSet selects its template labels plus ``pod-template-hash``,
which its pods carry; exact when the Deployment selects on all template labels). Pods selected
only by a Service, and pods with their own spread constraints, are not modelled. Called only by
``scheduler``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .nodeinfo import NodeTable

HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
DEFAULT_CONSTRAINTS = ((HOSTNAME, 3), (ZONE, 5))
_OWNERS = ("ReplicaSet", "StatefulSet", "ReplicationController")


def default_selector(pod: Mapping[str, Any]) -> dict[str, str] | None:
    """The labels a default-spread pod's siblings share, or None when defaults do not apply."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    if spec.get("topologySpreadConstraints"):
        return None
    owners = [o for o in meta.get("ownerReferences") or [] if o.get("controller") and o.get("kind") in _OWNERS]
    labels = meta.get("labels") or {}
    if not owners or not labels:
        return None
    return {str(k): str(v) for k, v in labels.items()}


def _matching_per_node(table: NodeTable, namespace: str, selector: Mapping[str, str]) -> np.ndarray:
    counts = np.zeros(len(table), dtype=np.int64)
    want = set(selector.items())
    prefix = namespace + "/"
    for bp in table.pods.values():
        if bp.key.startswith(prefix) and want.issubset(bp.labels):
            counts[bp.node] += 1
    return counts


def spread_scores(table: NodeTable, idx: np.ndarray, pod: Mapping[str, Any]) -> np.ndarray | None:
    """Normalised PodTopologySpread scores over ``idx``; None when the plugin skips the pod."""
    selector = default_selector(pod)
    if selector is None:
        return None
    namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
    per_node = _matching_per_node(table, namespace, selector)
    raw = np.zeros(len(idx), dtype=np.float64)
    for key, max_skew in DEFAULT_CONSTRAINTS:
        values = [table.labels[i].get(key) for i in idx.tolist()]
        if key == HOSTNAME:
            size = len(idx)
            counts = per_node[idx].astype(np.float64)
        else:
            domains = {v for v in values if v is not None}
            size = len(domains)
            totals: dict[str, int] = dict.fromkeys(domains, 0)
            for i in range(len(table)):
                v = table.labels[i].get(key)
                if v in totals:
                    totals[v] += int(per_node[i])
            counts = np.array([totals.get(v, 0) if v is not None else 0 for v in values], dtype=np.float64)
        has = np.array([v is not None for v in values], dtype=bool)
        weight = math.log(size + 2)
        raw += np.where(has, counts * weight + (max_skew - 1), 0.0)
    scores = np.floor(raw + 0.5).astype(np.int64)  # math.Round: half away from zero (scores >= 0)
    top, low = int(scores.max()), int(scores.min())
    if top == 0:
        return np.full(len(idx), 100, dtype=np.int64)
    return 100 * (top + low - scores) // top
