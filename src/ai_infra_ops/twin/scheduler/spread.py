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
only by a Service are not modelled. A pod with its own constraints scores only its ``ScheduleAnyway``
ones (``explicit_scores``; none = the plugin skips scoring). Called only by ``scheduler``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .nodeinfo import NodeTable
from .podrules import PodRules

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


def explicit_scores(table: NodeTable, idx: np.ndarray, pod: Mapping[str, Any]) -> np.ndarray | None:
    """Scores of the pod's own ``ScheduleAnyway`` constraints (scoring.go, requireAllTopologies).

    Feasible nodes lacking any constraint's key are ignored (score 0, left out of min/max). Domains
    are those of the other feasible nodes; pods are counted on every node that carries all keys
    and passes the constraint's inclusion policies (incoming pod's namespace). Per node:
    ``sum(count * log(domains + 2) + maxSkew - 1)`` (hostname: the node's own count, domains =
    scored nodes), rounded, then ``100 * (max + min - s) / max``.
    """
    rules = PodRules(table, pod, [], {}, when="ScheduleAnyway")
    cons = rules.constraints
    if not cons:
        return None
    namespace = rules.namespace
    keys = [c.topology_key for c in cons]
    scored = [all(k in table.labels[i] for k in keys) for i in idx.tolist()]
    domains: list[dict[str, int]] = [{} for _ in cons]
    for ok, i in zip(scored, idx.tolist(), strict=True):
        if ok:
            for ci, c in enumerate(cons):
                domains[ci].setdefault(table.labels[i][c.topology_key], 0)
    n_scored = sum(scored)
    per_node: list[np.ndarray] = [np.zeros(len(table), dtype=np.int64) for _ in cons]
    for bp in table.pods.values():
        if not bp.key.startswith(namespace + "/"):
            continue
        labels = dict(bp.labels)
        for ci, c in enumerate(cons):
            if rules.eligible(bp.node, ci) and c.selector.matches(labels):
                per_node[ci][bp.node] += 1
    for ci, c in enumerate(cons):
        if c.topology_key == HOSTNAME:
            continue
        for i in range(len(table)):
            v = table.labels[i].get(c.topology_key)
            if per_node[ci][i] and v in domains[ci] and rules.eligible(i, ci):
                domains[ci][v] += int(per_node[ci][i])
    raw = np.zeros(len(idx), dtype=np.float64)
    for ci, c in enumerate(cons):
        size = n_scored if c.topology_key == HOSTNAME else len(domains[ci])
        weight = math.log(size + 2)
        for j, i in enumerate(idx.tolist()):
            if not scored[j]:
                continue
            v = table.labels[i][c.topology_key]
            cnt = per_node[ci][i] if c.topology_key == HOSTNAME else domains[ci].get(v, 0)
            raw[j] += cnt * weight + (c.max_skew - 1)
    scores = np.floor(raw + 0.5).astype(np.int64)
    mask = np.array(scored, dtype=bool)
    if not mask.any():
        return np.zeros(len(idx), dtype=np.int64)
    top, low = int(scores[mask].max()), int(scores[mask].min())
    if top == 0:
        return np.where(mask, 100, 0).astype(np.int64)
    return np.where(mask, 100 * (top + low - scores) // top, 0).astype(np.int64)


def spread_scores(table: NodeTable, idx: np.ndarray, pod: Mapping[str, Any]) -> np.ndarray | None:
    """Normalised PodTopologySpread scores over ``idx``; None when the plugin skips the pod."""
    if (pod.get("spec") or {}).get("topologySpreadConstraints"):
        return explicit_scores(table, idx, pod)
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
