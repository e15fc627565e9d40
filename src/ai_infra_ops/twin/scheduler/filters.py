"""The Filter plugins of the default profile, evaluated across all nodes at once.

Plugin order and reasons (kubernetes/kubernetes: pkg/scheduler/apis/config/v1/default_plugins.go;
a node stops at its first failing plugin, so it carries one plugin's reasons):

1. NodeUnschedulable (``plugins/nodeunschedulable``): ``spec.unschedulable`` unless the pod
   tolerates ``node.kubernetes.io/unschedulable:NoSchedule``.
2. NodeName (``plugins/nodename``): ``spec.nodeName`` empty or equal.
3. TaintToleration (``plugins/tainttoleration``): the first NoSchedule/NoExecute taint, in the
   node's taint order, that no toleration tolerates (component-helpers ``ToleratesTaint``).
4. NodeAffinity (``plugins/nodeaffinity``): nodeSelector AND required affinity (terms ORed,
   expressions ANDed, In/NotIn/Exists/DoesNotExist/Gt/Lt, matchFields ``metadata.name``).
5. NodePorts (``plugins/nodeports``): host port conflicts.
6. NodeResourcesFit (``plugins/noderesources/fit.go``): ``Too many pods`` and every
   ``Insufficient <resource>``; only resources the pod requests (> 0) are checked.

Plugins 1–4 depend only on the pod's *shape* (node name, selectors, tolerations) and on node
labels/taints, so ``StaticFilter`` evaluates them once per shape and caches the passing nodes;
NodePorts and NodeResourcesFit change as pods bind and run as numpy expressions over the passing
nodes for every pod. Called only by ``scheduler``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import messages as msg
from .nodeinfo import NodeTable, Taint
from .requests import CPU, EPHEMERAL, MEMORY, Requests, is_scalar_resource
from .versions import VersionTraits

UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str
    value: str
    effect: str

    def tolerates(self, taint: Taint) -> bool:
        """component-helpers scheduling/corev1: Toleration.ToleratesTaint."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator in ("", "Equal"):
            return self.value == taint.value
        return self.operator == "Exists"


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        """NodeSelectorRequirement semantics (labels.Selector built by nodeaffinity helpers)."""
        op = self.operator
        has = self.key in labels
        if op == "In":
            return has and labels[self.key] in self.values
        if op == "NotIn":
            return not has or labels[self.key] not in self.values
        if op == "Exists":
            return has
        if op == "DoesNotExist":
            return not has
        if op in ("Gt", "Lt"):
            # One integer value; a non-integer label value never matches.
            if not has or len(self.values) != 1:
                return False
            try:
                left, right = int(labels[self.key]), int(self.values[0])
            except ValueError:
                return False
            return left > right if op == "Gt" else left < right
        return False


@dataclass(frozen=True)
class Term:
    """A NodeSelectorTerm; an empty term matches nothing."""

    expressions: tuple[Requirement, ...]
    fields: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        if not self.expressions and not self.fields:
            return False
        return all(r.matches(labels) for r in self.expressions) and \
            all(r.matches({"metadata.name": name}) for r in self.fields)


@dataclass(frozen=True)
class PodShape:
    """Everything the static filters and static scores read from a pod."""

    node_name: str
    node_selector: tuple[tuple[str, str], ...]
    required: tuple[Term, ...] | None
    preferred: tuple[tuple[int, Term], ...]
    tolerations: tuple[Toleration, ...]


def _term(raw: Mapping[str, Any] | None) -> Term:
    raw = raw or {}

    def reqs(items: Any) -> tuple[Requirement, ...]:
        return tuple(Requirement(str(e.get("key", "")), str(e.get("operator", "")),
                                 tuple(str(v) for v in e.get("values") or [])) for e in items or [])
    return Term(reqs(raw.get("matchExpressions")), reqs(raw.get("matchFields")))


def pod_shape(pod: Mapping[str, Any]) -> PodShape:
    """The pod's scheduling shape (hashable; pods with equal shapes share filter results)."""
    spec = pod.get("spec") or {}
    node_aff = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
    req = node_aff.get("requiredDuringSchedulingIgnoredDuringExecution")
    required = None if req is None else tuple(_term(t) for t in req.get("nodeSelectorTerms") or [])
    preferred = tuple((int(p.get("weight") or 0), _term(p.get("preference")))
                      for p in node_aff.get("preferredDuringSchedulingIgnoredDuringExecution") or [])
    tolerations = tuple(Toleration(str(t.get("key") or ""), str(t.get("operator") or ""),
                                   str(t.get("value") or ""), str(t.get("effect") or ""))
                        for t in spec.get("tolerations") or [])
    return PodShape(str(spec.get("nodeName") or ""),
                    tuple(sorted((str(k), str(v)) for k, v in (spec.get("nodeSelector") or {}).items())),
                    required, preferred, tolerations)


def shape_key(pod: Mapping[str, Any]) -> str:
    """A cheap cache key for ``pod_shape`` (the raw fields, canonically serialised)."""
    spec = pod.get("spec") or {}
    return json.dumps([spec.get("nodeName"), spec.get("nodeSelector"), spec.get("affinity"),
                       spec.get("tolerations")], sort_keys=True, default=str)


def first_untolerated(taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...],
                      effects: tuple[str, ...] = ("NoSchedule", "NoExecute")) -> Taint | None:
    """FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc: first taint in node order."""
    for t in taints:
        if t.effect in effects and not any(tol.tolerates(t) for tol in tolerations):
            return t
    return None


def _affinity_ok(shape: PodShape, labels: Mapping[str, str], name: str) -> bool:
    for k, v in shape.node_selector:
        if labels.get(k) != v:
            return False
    if shape.required is not None:
        return any(t.matches(labels, name) for t in shape.required)
    return True


@dataclass(frozen=True)
class StaticFilter:
    """Plugins 1–4 for one shape over all nodes, plus the shape's static score inputs."""

    passing: np.ndarray          # node indices that pass 1–4, ascending
    histogram: dict[str, int]    # reasons of the nodes that failed 1–4 (all UnschedulableAndUnresolvable)
    prefer_no_schedule: np.ndarray  # untolerated PreferNoSchedule taints per node (TaintToleration score)
    preferred_weight: np.ndarray    # summed weights of matching preferred terms (NodeAffinity score)


def static_filter(table: NodeTable, shape: PodShape, traits: VersionTraits) -> StaticFilter:
    """Evaluate NodeUnschedulable, NodeName, TaintToleration and NodeAffinity for one shape."""
    n = len(table)
    ok = np.zeros(n, dtype=bool)
    hist: dict[str, int] = {}
    prefer = np.zeros(n, dtype=np.int64)
    weight = np.zeros(n, dtype=np.int64)
    tol_unsched = any(t.tolerates(UNSCHEDULABLE_TAINT) for t in shape.tolerations)
    # PreferNoSchedule scoring only looks at tolerations with that effect or no effect.
    prefer_tols = tuple(t for t in shape.tolerations if t.effect in ("", "PreferNoSchedule"))
    taint_cache: dict[tuple[Taint, ...], tuple[Taint | None, int]] = {}
    preferred = tuple((w, t) for w, t in shape.preferred if w and (t.expressions or t.fields))
    for i in range(n):
        taints = table.taints[i]
        cached = taint_cache.get(taints)
        if cached is None:
            bad = first_untolerated(taints, shape.tolerations)
            n_prefer = sum(1 for t in taints if t.effect == "PreferNoSchedule"
                           and not any(tol.tolerates(t) for tol in prefer_tols))
            cached = taint_cache[taints] = (bad, n_prefer)
        prefer[i] = cached[1]
        labels, name = table.labels[i], table.names[i]
        if preferred:
            weight[i] = sum(w for w, t in preferred if t.matches(labels, name))
        if table.unschedulable[i] and not tol_unsched:
            reason = msg.ERR_UNSCHEDULABLE
        elif shape.node_name and shape.node_name != name:
            reason = msg.ERR_NODE_NAME
        elif cached[0] is not None:
            reason = msg.taint_reason(traits, cached[0].key, cached[0].value)
        elif not _affinity_ok(shape, labels, name):
            reason = msg.ERR_AFFINITY
        else:
            ok[i] = True
            continue
        hist[reason] = hist.get(reason, 0) + 1
    return StaticFilter(np.flatnonzero(ok), hist, prefer, weight)


def fit_columns(reqs: Requests) -> list[tuple[str, int]]:
    """The requests NodeResourcesFit checks: cpu, memory, ephemeral-storage and scalar resources > 0."""
    return sorted((r, q) for r, q in reqs.items()
                  if q > 0 and (r in (CPU, MEMORY, EPHEMERAL) or is_scalar_resource(r)))


def fits(table: NodeTable, idx: np.ndarray, cols: list[tuple[str, int]]) -> np.ndarray:
    """Boolean mask over ``idx``: the pod fits (pods count and every requested resource)."""
    ok: np.ndarray = table.pod_count[idx] < table.allowed_pods[idx]
    for name, q in cols:
        ok &= (table.allocatable(name)[idx] - table.requested(name)[idx]) >= q
    return ok


def ports_conflict(used: set[tuple[str, str, int]], wanted: tuple[tuple[str, str, int], ...]) -> bool:
    """HostPortInfo.CheckConflict: same protocol and port, and same IP or either is 0.0.0.0."""
    for ip, proto, port in wanted:
        for uip, uproto, uport in used:
            if uproto == proto and uport == port and (ip == uip or "0.0.0.0" in (ip, uip)):
                return True
    return False


def ports_mask(table: NodeTable, idx: np.ndarray, wanted: tuple[tuple[str, str, int], ...]) -> np.ndarray:
    """Boolean mask over ``idx``: no host port conflict."""
    ok = np.ones(len(idx), dtype=bool)
    if wanted:
        for j, i in enumerate(idx.tolist()):
            used = table.ports.get(i)
            if used and ports_conflict(used, wanted):
                ok[j] = False
    return ok


def dynamic_reasons(table: NodeTable, idx: np.ndarray, cols: list[tuple[str, int]],
                    wanted_ports: tuple[tuple[str, str, int], ...]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """Reasons of the nodes in ``idx`` failing NodePorts or NodeResourcesFit.

    Returns:
        (histogram, failing mask over ``idx``, unresolvable mask over ``idx``: some request is
        larger than the node's whole allocatable, #131345).
    """
    hist: dict[str, int] = {}
    port_ok = ports_mask(table, idx, wanted_ports)
    n_port = int((~port_ok).sum())
    if n_port:
        hist[msg.ERR_PORTS] = n_port
    failing = ~port_ok
    unresolvable = np.zeros(len(idx), dtype=bool)
    too_many = (table.pod_count[idx] >= table.allowed_pods[idx]) & port_ok
    if too_many.any():
        hist[msg.ERR_TOO_MANY_PODS] = int(too_many.sum())
    failing |= too_many
    for name, q in cols:
        alloc = table.allocatable(name)[idx]
        short = ((alloc - table.requested(name)[idx]) < q) & port_ok
        if short.any():
            hist[msg.insufficient(name)] = int(short.sum())
            failing |= short
            unresolvable |= short & (q > alloc)
    return hist, failing, unresolvable
