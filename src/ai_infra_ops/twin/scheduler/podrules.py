"""Filters that depend on the pods already placed: PodTopologySpread and InterPodAffinity.

kubernetes/kubernetes: pkg/scheduler/framework/plugins/podtopologyspread/{common.go,filtering.go}
and plugins/interpodaffinity/filtering.go. They run after NodeResourcesFit (default plugin order:
... NodeResourcesFit, VolumeRestrictions, NodeVolumeLimits, VolumeBinding, VolumeZone,
PodTopologySpread, InterPodAffinity), and only for pods that need them, so every other pod keeps
the array-only path:

* PodTopologySpread (explicit ``topologySpreadConstraints`` with ``whenUnsatisfiable:
  DoNotSchedule``; system defaults are ScheduleAnyway and never filter). PreFilter counts, per
  constraint, the pods matching its selector (incoming pod's namespace; ``matchLabelKeys`` merged
  in as ``key In [value]``) on every node that carries *all* constraints' topology keys and
  passes the constraint's inclusion policies (``nodeAffinityPolicy`` default Honor: nodeSelector
  and required node affinity; ``nodeTaintsPolicy`` default Ignore, Honor = NoSchedule/NoExecute
  taints tolerated). Filter: a node without the key fails with ``(missing required label)``
  (UnschedulableAndUnresolvable); else ``count(domain) + selfMatch - globalMin > maxSkew`` fails
  (Unschedulable), where the global minimum is 0 when fewer domains than ``minDomains`` exist.
* InterPodAffinity. PreFilter counts topology pairs: existing pods' required anti-affinity terms
  that match the incoming pod; the incoming pod's required affinity (an existing pod counts only
  when it matches *all* terms) and anti-affinity terms. Filter, in order: affinity (a node
  lacking a term's topology key or whose pair has no match fails, unless no pod matches anywhere
  and the pod matches its own terms: the first pod of a group), UnschedulableAndUnresolvable;
  the pod's anti-affinity, Unschedulable; existing pods' anti-affinity, Unschedulable.
  Term namespaces: ``namespaces`` united with ``namespaceSelector`` (``{}`` = all namespaces);
  neither = the pod's own namespace. A nil labelSelector matches nothing, ``{}`` everything.

``PodRules.reasons(node, exclude)`` answers for one node with some pods removed (the preemption
dry run). Called only by ``scheduler`` and ``preemption``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .filters import Term, Toleration, first_untolerated, pod_shape
from .nodeinfo import NodeTable

ERR_SPREAD = "node(s) didn't match pod topology spread constraints"
ERR_SPREAD_LABEL = ERR_SPREAD + " (missing required label)"
ERR_POD_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
# Reasons with code UnschedulableAndUnresolvable (preemption cannot help on such a node).
UNRESOLVABLE = frozenset({ERR_SPREAD_LABEL, ERR_POD_AFFINITY})
NS_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Selector:
    """A metav1.LabelSelector; ``None`` raw = matches nothing."""

    nothing: bool
    reqs: tuple[tuple[str, str, tuple[str, ...]], ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.nothing:
            return False
        for key, op, values in self.reqs:
            has = key in labels
            if op == "In" and not (has and labels[key] in values):
                return False
            if op == "NotIn" and has and labels[key] in values:
                return False
            if op == "Exists" and not has:
                return False
            if op == "DoesNotExist" and has:
                return False
        return True


def selector(raw: Mapping[str, Any] | None, pod_labels: Mapping[str, str] | None = None,
             match_keys: Iterable[str] = (), mismatch_keys: Iterable[str] = ()) -> Selector:
    """Build a selector; ``matchLabelKeys``/``mismatchLabelKeys`` add ``In``/``NotIn`` the pod's value."""
    if raw is None:
        return Selector(True, ())
    reqs: list[tuple[str, str, tuple[str, ...]]] = [
        (str(k), "In", (str(v),)) for k, v in (raw.get("matchLabels") or {}).items()]
    reqs += [(str(e.get("key", "")), str(e.get("operator", "")), tuple(str(v) for v in e.get("values") or []))
             for e in raw.get("matchExpressions") or []]
    labels = pod_labels or {}
    reqs += [(k, "In", (labels[k],)) for k in match_keys if k in labels]
    reqs += [(k, "NotIn", (labels[k],)) for k in mismatch_keys if k in labels]
    return Selector(False, tuple(reqs))


@dataclass(frozen=True)
class AffinityTerm:
    selector: Selector
    namespaces: frozenset[str]
    ns_selector: Selector   # nothing when absent
    topology_key: str

    def matches(self, namespace: str, labels: Mapping[str, str], ns_labels: Mapping[str, str]) -> bool:
        """AffinityTerm.Matches: namespace listed or selected, and the selector matches."""
        in_ns = namespace in self.namespaces or self.ns_selector.matches(ns_labels)
        return in_ns and self.selector.matches(labels)


def affinity_terms(pod: Mapping[str, Any], kind: str, preferred: bool = False) -> tuple[AffinityTerm, ...]:
    """Required terms of ``podAffinity`` or ``podAntiAffinity`` (``preferred``: the weighted terms' podAffinityTerm)."""
    meta = pod.get("metadata") or {}
    own_ns = str(meta.get("namespace") or "default")
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    section = (((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {})
    out = []
    raw_terms = [w.get("podAffinityTerm") or {} for w in section.get("preferredDuringSchedulingIgnoredDuringExecution") or []] \
        if preferred else section.get("requiredDuringSchedulingIgnoredDuringExecution") or []
    for t in raw_terms:
        names = frozenset(str(n) for n in t.get("namespaces") or [])
        raw_ns = t.get("namespaceSelector")
        if not names and raw_ns is None:
            names = frozenset({own_ns})
        out.append(AffinityTerm(selector(t.get("labelSelector"), labels, t.get("matchLabelKeys") or (),
                                         t.get("mismatchLabelKeys") or ()),
                                names, selector(raw_ns), str(t.get("topologyKey", ""))))
    return tuple(out)


@dataclass(frozen=True)
class SpreadConstraint:
    max_skew: int
    topology_key: str
    selector: Selector
    min_domains: int | None
    honor_affinity: bool
    honor_taints: bool


def spread_constraints(pod: Mapping[str, Any], when: str = "DoNotSchedule") -> tuple[SpreadConstraint, ...]:
    """The pod's constraints with ``whenUnsatisfiable == when`` (filter: DoNotSchedule)."""
    meta = pod.get("metadata") or {}
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    out = []
    for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []:
        if c.get("whenUnsatisfiable") != when:
            continue
        md = c.get("minDomains")
        out.append(SpreadConstraint(int(c.get("maxSkew") or 1), str(c.get("topologyKey", "")),
                                    selector(c.get("labelSelector"), labels, c.get("matchLabelKeys") or ()),
                                    None if md is None else int(md),
                                    (c.get("nodeAffinityPolicy") or "Honor") == "Honor",
                                    (c.get("nodeTaintsPolicy") or "Ignore") == "Honor"))
    return tuple(out)


def uses_pod_rules(pod: Mapping[str, Any]) -> bool:
    """Whether the pod itself needs either plugin's filter."""
    spec = pod.get("spec") or {}
    aff = spec.get("affinity") or {}
    if any((aff.get(k) or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
           for k in ("podAffinity", "podAntiAffinity")):
        return True
    return any(c.get("whenUnsatisfiable") == "DoNotSchedule" for c in spec.get("topologySpreadConstraints") or [])


@dataclass(frozen=True)
class Placed:
    """An existing pod as these plugins see it."""

    key: str
    namespace: str
    labels: Mapping[str, str]
    node: int
    anti: tuple[AffinityTerm, ...]


class PodRules:
    """Both filters for one incoming pod against the current placement."""

    def __init__(self, table: NodeTable, pod: Mapping[str, Any], placed: list[Placed],
                 ns_labels: Mapping[str, Mapping[str, str]], when: str = "DoNotSchedule"):
        meta = pod.get("metadata") or {}
        self.table = table
        self.namespace = str(meta.get("namespace") or "default")
        self.labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
        self.placed = placed
        self.ns_labels = ns_labels
        self.my_ns_labels = ns_labels.get(self.namespace) or {NS_NAME_LABEL: self.namespace}
        self.constraints = spread_constraints(pod, when)
        self.affinity = affinity_terms(pod, "podAffinity")
        self.anti = affinity_terms(pod, "podAntiAffinity")
        self.has_existing_anti = any(p.anti for p in placed)
        shape = pod_shape(pod)
        self._node_selector = shape.node_selector
        self._required: tuple[Term, ...] | None = shape.required
        self._tolerations: tuple[Toleration, ...] = shape.tolerations
        self._cache: dict[tuple[int, frozenset[str]], dict[str, int]] = {}
        self._aff_cache: dict[frozenset[str], dict[tuple[str, str], int]] = {}
        self._pair_cache: dict[tuple[str, frozenset[str]], frozenset[tuple[str, str]]] = {}
        self._eligible = [self._spread_eligible(i) for i in range(len(table))] if self.constraints else []

    @property
    def active(self) -> bool:
        return bool(self.constraints or self.affinity or self.anti or self.has_existing_anti)

    @property
    def only_existing_anti(self) -> bool:
        """Only existing pods' anti-affinity applies (the pod has no terms or constraints of its own)."""
        return not (self.constraints or self.affinity or self.anti)

    def existing_pairs(self) -> frozenset[tuple[str, str]]:
        """Topology pairs where existing pods' required anti-affinity matches the incoming pod."""
        return self._pairs("existing", frozenset())

    def _ns_of(self, namespace: str) -> Mapping[str, str]:
        return self.ns_labels.get(namespace) or {NS_NAME_LABEL: namespace}

    # -- PodTopologySpread -------------------------------------------------------------------
    def eligible(self, node: int, ci: int) -> bool:
        """Node carries all constraints' keys and passes constraint ``ci``'s inclusion policies."""
        return self._eligible[node][ci]

    def _spread_eligible(self, i: int) -> list[bool]:
        labels = self.table.labels[i]
        if not all(c.topology_key in labels for c in self.constraints):
            return [False] * len(self.constraints)
        out = []
        for c in self.constraints:
            ok = True
            if c.honor_affinity:
                ok = all(labels.get(k) == v for k, v in self._node_selector) and (
                    self._required is None or any(t.matches(labels, self.table.names[i]) for t in self._required))
            if ok and c.honor_taints:
                ok = first_untolerated(self.table.taints[i], self._tolerations) is None
            out.append(ok)
        return out

    def _spread_counts(self, ci: int, exclude: frozenset[str]) -> dict[str, int]:
        """Matching pods per domain of constraint ``ci`` over eligible nodes (PreFilter state)."""
        cached = self._cache.get((ci, exclude))
        if cached is not None:
            return cached
        c = self.constraints[ci]
        counts: dict[str, int] = {}
        for i in range(len(self.table)):
            if self._eligible[i][ci]:
                counts.setdefault(self.table.labels[i][c.topology_key], 0)
        for p in self.placed:
            if p.key in exclude or p.namespace != self.namespace or not self._eligible[p.node][ci]:
                continue
            if c.selector.matches(p.labels):
                counts[self.table.labels[p.node][c.topology_key]] += 1
        self._cache[(ci, exclude)] = counts
        return counts

    def _spread_reason(self, node: int, exclude: frozenset[str]) -> str | None:
        labels = self.table.labels[node]
        for c in self.constraints:
            if c.topology_key not in labels:
                return ERR_SPREAD_LABEL
        for ci, c in enumerate(self.constraints):
            counts = self._spread_counts(ci, exclude)
            if not counts:
                continue
            global_min = min(counts.values())
            if c.min_domains is not None and len(counts) < c.min_domains:
                global_min = 0
            self_match = 1 if c.selector.matches(self.labels) else 0
            if counts.get(labels[c.topology_key], 0) + self_match - global_min > c.max_skew:
                return ERR_SPREAD
        return None

    # -- InterPodAffinity --------------------------------------------------------------------
    def _affinity_counts(self, exclude: frozenset[str]) -> dict[tuple[str, str], int]:
        """Topology pairs of the existing pods matching all the pod's affinity terms."""
        cached = self._aff_cache.get(exclude)
        if cached is not None:
            return cached
        counts: dict[tuple[str, str], int] = {}
        for p in self.placed:
            if p.key in exclude:
                continue
            if all(term.matches(p.namespace, p.labels, self._ns_of(p.namespace)) for term in self.affinity):
                for term in self.affinity:
                    v = self.table.labels[p.node].get(term.topology_key)
                    if v is not None:
                        counts[(term.topology_key, v)] = counts.get((term.topology_key, v), 0) + 1
        self._aff_cache[exclude] = counts
        return counts

    def _affinity_reason(self, node: int, exclude: frozenset[str]) -> str | None:
        labels = self.table.labels[node]
        if self.affinity:
            counts = self._affinity_counts(exclude)
            exist = True
            for term in self.affinity:
                v = labels.get(term.topology_key)
                if v is None:
                    return ERR_POD_AFFINITY
                if counts.get((term.topology_key, v), 0) <= 0:
                    exist = False
            if not exist:
                first = not counts and all(term.matches(self.namespace, self.labels, self.my_ns_labels)
                                           for term in self.affinity)
                if not first:
                    return ERR_POD_AFFINITY
        if self.anti:
            pairs = self._pairs("anti", exclude)
            if any(labels.get(k) == v for k, v in pairs):
                return ERR_POD_ANTI_AFFINITY
        if self.has_existing_anti:
            pairs = self._pairs("existing", exclude)
            if any(labels.get(k) == v for k, v in pairs):
                return ERR_EXISTING_ANTI_AFFINITY
        return None

    def _pairs(self, which: str, exclude: frozenset[str]) -> frozenset[tuple[str, str]]:
        """Topology pairs where an anti-affinity term matched (PreFilter's anti-affinity counts).

        ``anti``: the incoming pod's terms matching an existing pod; ``existing``: an existing
        pod's terms matching the incoming pod. Both keyed by the existing pod's node labels.
        """
        cached = self._pair_cache.get((which, exclude))
        if cached is not None:
            return cached
        t = self.table
        found: set[tuple[str, str]] = set()
        for p in self.placed:
            if p.key in exclude:
                continue
            if which == "anti":
                for term in self.anti:
                    v = t.labels[p.node].get(term.topology_key)
                    if v is not None and term.matches(p.namespace, p.labels, self._ns_of(p.namespace)):
                        found.add((term.topology_key, v))
            else:
                for term in p.anti:
                    v = t.labels[p.node].get(term.topology_key)
                    if v is not None and term.matches(self.namespace, self.labels, self.my_ns_labels):
                        found.add((term.topology_key, v))
        out = self._pair_cache[(which, exclude)] = frozenset(found)
        return out

    def reasons(self, node: int, exclude: frozenset[str] = frozenset()) -> str | None:
        """The first failing reason of PodTopologySpread then InterPodAffinity on ``node``; None = passes."""
        if self.constraints:
            r = self._spread_reason(node, exclude)
            if r is not None:
                return r
        if self.affinity or self.anti or self.has_existing_anti:
            return self._affinity_reason(node, exclude)
        return None

    def mask(self, idx: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
        """Over ``idx``: passing mask and each node's reason."""
        found = [self.reasons(int(i)) for i in idx.tolist()]
        return np.array([r is None for r in found], dtype=bool), found


HARD_POD_AFFINITY_WEIGHT = 1


def _weights(pod: Mapping[str, Any], kind: str) -> list[int]:
    section = (((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {})
    return [int(w.get("weight") or 0) for w in section.get("preferredDuringSchedulingIgnoredDuringExecution") or []]


def has_pod_affinity(pod: Mapping[str, Any]) -> bool:
    """Whether a pod has any pod affinity or anti-affinity (NodeInfo.PodsWithAffinity)."""
    aff = (pod.get("spec") or {}).get("affinity") or {}
    return bool(aff.get("podAffinity") or aff.get("podAntiAffinity"))


def affinity_scores(table: NodeTable, idx: np.ndarray, pod: Mapping[str, Any],
                    existing: Sequence[tuple[Mapping[str, Any], int]],
                    ns_labels: Mapping[str, Mapping[str, str]]) -> np.ndarray | None:
    """InterPodAffinity scores over ``idx`` (plugins/interpodaffinity/scoring.go); None = skipped.

    Topology scores: the pod's preferred affinity (+weight) / anti-affinity (-weight) terms
    matching an existing pod, and an existing pod's required affinity (+1, hardPodAffinityWeight),
    preferred affinity (+weight) and anti-affinity (-weight) terms matching the pod, each on the
    existing pod's node's topology pair. ``existing``: (pod, node) of every placed pod when the
    pod has preferred terms, else of the pods with pod (anti-)affinity. Node score: the sum of its
    pairs; normalised ``int(100 * (s - min) / (max - min))`` (all 0 when max = min).
    """
    meta = pod.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    my_ns = ns_labels.get(namespace) or {NS_NAME_LABEL: namespace}
    mine = [(t, w) for t, w in zip(affinity_terms(pod, "podAffinity", True), _weights(pod, "podAffinity"), strict=True)] + \
        [(t, -w) for t, w in zip(affinity_terms(pod, "podAntiAffinity", True), _weights(pod, "podAntiAffinity"), strict=True)]
    topo: dict[tuple[str, str], int] = {}

    def add(key: str, node: int, w: int) -> None:
        v = table.labels[node].get(key)
        if v is not None and w:
            topo[(key, v)] = topo.get((key, v), 0) + w

    for other, node in existing:
        ometa = other.get("metadata") or {}
        ons = str(ometa.get("namespace") or "default")
        olabels = {str(k): str(v) for k, v in (ometa.get("labels") or {}).items()}
        ons_labels = ns_labels.get(ons) or {NS_NAME_LABEL: ons}
        for t, w in mine:
            if t.matches(ons, olabels, ons_labels):
                add(t.topology_key, node, w)
        if not has_pod_affinity(other):
            continue
        for t in affinity_terms(other, "podAffinity"):
            if t.matches(namespace, labels, my_ns):
                add(t.topology_key, node, HARD_POD_AFFINITY_WEIGHT)
        for t, w in zip(affinity_terms(other, "podAffinity", True), _weights(other, "podAffinity"), strict=True):
            if t.matches(namespace, labels, my_ns):
                add(t.topology_key, node, w)
        for t, w in zip(affinity_terms(other, "podAntiAffinity", True), _weights(other, "podAntiAffinity"), strict=True):
            if t.matches(namespace, labels, my_ns):
                add(t.topology_key, node, -w)
    if not topo:
        return None
    raw = np.zeros(len(idx), dtype=np.int64)
    for j, i in enumerate(idx.tolist()):
        node_labels = table.labels[i]
        raw[j] = sum(w for (k, v), w in topo.items() if node_labels.get(k) == v)
    low, high = int(raw.min()), int(raw.max())
    if high == low:
        return np.zeros(len(idx), dtype=np.int64)
    return np.array([int(100 * ((int(x) - low) / (high - low))) for x in raw], dtype=np.int64)
