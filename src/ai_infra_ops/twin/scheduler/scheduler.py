"""The twin's kube-scheduler: one scheduling cycle per pod over the node columns.

Owns the cycle of kubernetes/kubernetes: pkg/scheduler/schedule_one.go for the default profile:
queue order (PrioritySort: higher priority first, then arrival), Filter over nodes from a
rotating start index until enough feasible nodes are found (``numFeasibleNodesToFind``: all nodes
below 100, else ``max(5, 50 - n/125)`` percent with a floor of 100), PostFilter (DynamicResources
from 1.34, then DefaultPreemption) when none is feasible, Score and a uniformly random choice
among the top-scored nodes, then bind (the pod's requests are counted on the node).

The twin builder calls it from its controllers (``add_bound_pod``, ``remove_pod``, ``schedule``,
``retry_pending``); the ``schedule`` command calls it on a conformance case. Pure: no store, no
clock; the random choices come from ``seed``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import messages as msg
from . import scoring
from .filters import StaticFilter, dynamic_reasons, fit_columns, fits, pod_shape, ports_mask, shape_key, static_filter
from .kubelet import Rejection, admit
from .nodeinfo import NodeTable
from .preemption import preempt
from .podrules import (
    NS_NAME_LABEL,
    UNRESOLVABLE,
    Placed,
    PodRules,
    affinity_scores,
    affinity_terms,
    has_pod_affinity,
    uses_pod_rules,
)
from .priority import PriorityResolver
from .requests import CPU, MEMORY, host_ports, pod_requests
from .spread import spread_scores
from .versions import VersionTraits, parse_version

MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_PERCENTAGE = 5


@dataclass(frozen=True)
class SchedulingResult:
    """One scheduling attempt.

    ``reason``: ``Scheduled``; ``Unschedulable`` (a FitError: ``message`` is the pod condition's
    full text, ``event_message`` the FailedScheduling note cut to 1024 bytes); ``SchedulerError``
    for ``no nodes available to schedule pods`` (upstream's condition reason for that error); or
    ``SchedulingGated`` (non-empty ``spec.schedulingGates``: no cycle and no event, so
    ``event_message`` is empty).
    ``nominated_node``/``preempted``: DefaultPreemption chose a node and evicted these pods
    (``namespace/name``) for this pod; the caller deletes them.
    """

    node: str | None
    message: str | None
    reason: str
    event_message: str
    nominated_node: str | None = None
    preempted: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PodInfo:
    """What the cycle needs from a pod's resources (computed once per distinct resource spec)."""

    requests: dict[str, int]
    cols: list[tuple[str, int]]
    nz_cpu: int
    nz_mem: int
    ports: tuple[tuple[str, str, int], ...]


def num_feasible_nodes_to_find(n: int) -> int:
    """pkg/scheduler/schedule_one.go numFeasibleNodesToFind with percentageOfNodesToScore = 0."""
    if n < MIN_FEASIBLE_NODES_TO_FIND:
        return n
    pct = max(MIN_FEASIBLE_PERCENTAGE, 50 - n // 125)
    return max(MIN_FEASIBLE_NODES_TO_FIND, n * pct // 100)


def pod_key(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name', '')}"


class Scheduler:
    """kube-scheduler for the twin, on numpy columns of node capacity and allocation."""

    def __init__(self, nodes: list[dict[str, Any]], kubernetes_version: str = "1.35", seed: int = 0,
                 priority_classes: list[dict[str, Any]] | None = None, dra_postfilter: bool | None = None,
                 namespaces: list[dict[str, Any]] | None = None):
        """Args:
            nodes: Node objects as ``kubectl get node -o json`` shows them.
            kubernetes_version: ``1.33``, ``1.34`` or ``1.35`` (optionally ``.patch``): message formats.
            seed: seeds the tie-break and the preemption offset.
            priority_classes: PriorityClass objects (the two ``system-`` classes are built in).
            dra_postfilter: whether the DynamicResources PostFilter runs (``no new claims to
                deallocate``); None = the version's default (on from 1.34). Some clusters disable DRA.
            namespaces: Namespace objects (their labels, for pod affinity ``namespaceSelector``);
                a namespace not given has only ``kubernetes.io/metadata.name``.

        Raises:
            ValueError: an unsupported version or a malformed node quantity.
        """
        self.traits: VersionTraits = parse_version(kubernetes_version)
        self.rng = np.random.default_rng(seed)
        self.dra_postfilter = self.traits.dra_postfilter if dra_postfilter is None else dra_postfilter
        self.priorities = PriorityResolver(priority_classes or [])
        self._nodes: list[dict[str, Any]] = list(nodes)
        self._bound: dict[str, dict[str, Any]] = {}
        self._infos: dict[str, PodInfo] = {}
        self._ns_labels: dict[str, dict[str, str]] = {}
        self.set_namespaces(namespaces or [])
        self._rebuild()

    # -- cluster state -------------------------------------------------------------------------
    def _rebuild(self) -> None:
        self.table = NodeTable(self._nodes)
        self._shapes: dict[str, StaticFilter] = {}
        self._next_start = 0
        self._anti_keys: set[str] = set()
        self._affinity_keys: set[str] = set()
        self._label_index: dict[tuple[str, str], np.ndarray] = {}
        for pod in self._bound.values():
            self._count(pod)

    def set_nodes(self, nodes: list[dict[str, Any]]) -> None:
        """Replace the node list (labels, taints or allocatable changed); bound pods stay counted."""
        self._nodes = list(nodes)
        self._rebuild()

    def set_namespaces(self, namespaces: list[dict[str, Any]]) -> None:
        """Namespace objects whose labels pod affinity ``namespaceSelector`` terms select on."""
        self._ns_labels = {}
        for ns in namespaces:
            meta = ns.get("metadata") or {}
            name = str(meta.get("name", ""))
            labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
            labels[NS_NAME_LABEL] = name
            self._ns_labels[name] = labels

    def _info(self, pod: Mapping[str, Any]) -> PodInfo:
        """The pod's requests, cached by the raw resource fields (pods of one template share it)."""
        spec = pod.get("spec") or {}
        key = json.dumps([[(c.get("resources"), c.get("restartPolicy"), c.get("ports")) for c in spec.get(kind) or []]
                          for kind in ("containers", "initContainers")] + [spec.get("overhead"), spec.get("resources")],
                         sort_keys=True, default=str)
        info = self._infos.get(key)
        if info is None:
            lvl = self.traits.pod_level_resources
            reqs = pod_requests(pod, pod_level_resources=lvl)
            nz = pod_requests(pod, non_zero=True, pod_level_resources=lvl)
            info = self._infos[key] = PodInfo(reqs, fit_columns(reqs), nz.get(CPU, 0), nz.get(MEMORY, 0), host_ports(pod))
        return info

    def _count(self, pod: Mapping[str, Any]) -> bool:
        node = self.table.index.get(str((pod.get("spec") or {}).get("nodeName") or ""))
        if node is None:
            return False
        self._add(pod, node, self._info(pod))
        return True

    def _add(self, pod: Mapping[str, Any], node: int, info: PodInfo) -> None:
        prio, _policy = self.priorities.resolve(pod)
        if (((pod.get("spec") or {}).get("affinity") or {}).get("podAntiAffinity") or {}).get(
                "requiredDuringSchedulingIgnoredDuringExecution"):
            self._anti_keys.add(pod_key(pod))
        if has_pod_affinity(pod):
            self._affinity_keys.add(pod_key(pod))
        self.table.add(pod_key(pod), node, info.requests, info.nz_cpu, info.nz_mem, info.ports, prio,
                       (pod.get("metadata") or {}).get("labels") or {})

    def admit(self, pod: dict[str, Any]) -> Rejection | None:
        """Kubelet admission of a pod created with ``spec.nodeName``; counts it when admitted.

        Returns None when the node takes the pod (or does not exist: then nothing runs it), else the
        kubelet's ``OutOf<resource>`` rejection; a rejected pod is not counted.
        """
        node = self.table.index.get(str((pod.get("spec") or {}).get("nodeName") or ""))
        if node is None:
            return None
        rejection = admit(self.table, node, self._info(pod).cols)
        if rejection is None:
            self.add_bound_pod(pod)
        return rejection

    def add_bound_pod(self, pod: dict[str, Any]) -> None:
        """Count a pod that already has ``spec.nodeName`` (bound earlier, or created with a node)."""
        self._bound[pod_key(pod)] = pod
        self._count(pod)

    def remove_pod(self, pod: Mapping[str, Any] | str) -> None:
        """Stop counting a pod (deleted, or finished); accepts the pod or ``namespace/name``."""
        key = pod if isinstance(pod, str) else pod_key(pod)
        self._bound.pop(key, None)
        self._anti_keys.discard(key)
        self._affinity_keys.discard(key)
        self.table.remove(key)

    # -- one cycle -----------------------------------------------------------------------------
    def _static(self, pod: Mapping[str, Any]) -> StaticFilter:
        key = shape_key(pod)
        sf = self._shapes.get(key)
        if sf is None:
            sf = self._shapes[key] = static_filter(self.table, pod_shape(pod), self.traits)
        return sf

    def _pod_rules(self, pod: Mapping[str, Any]) -> PodRules | None:
        """PodTopologySpread and InterPodAffinity filters, when the pod or an existing pod needs them."""
        own = uses_pod_rules(pod)
        if not self._anti_keys and not own:
            return None
        # A pod without terms of its own only meets existing pods' anti-affinity: those pods suffice.
        keys = self.table.pods.keys() if own else [k for k in self._anti_keys if k in self.table.pods]
        placed = []
        for key in keys:
            bp = self.table.pods[key]
            anti = affinity_terms(self._bound[key], "podAntiAffinity") if key in self._anti_keys else ()
            placed.append(Placed(key, key.split("/", 1)[0], dict(bp.labels), bp.node, anti))
        rules = PodRules(self.table, pod, placed, self._ns_labels)
        return rules if rules.active else None

    def _nodes_with(self, pair: tuple[str, str]) -> np.ndarray:
        """Indices of the nodes whose label ``pair[0]`` equals ``pair[1]`` (cached per node set)."""
        idx = self._label_index.get(pair)
        if idx is None:
            key, value = pair
            idx = self._label_index[pair] = np.array(
                [i for i, labels in enumerate(self.table.labels) if labels.get(key) == value], dtype=np.int64)
        return idx

    def schedule(self, pod: dict[str, Any]) -> SchedulingResult:
        """One scheduling cycle; on success the pod is bound (counted) on the chosen node.

        A pod with ``status.nominatedNodeName`` (set after it preempted) tries that node first and
        takes it when it passes every filter (schedule_one.go: evaluateNominatedNode).
        """
        spec = pod.get("spec") or {}
        if spec.get("schedulingGates"):
            # PreEnqueue (SchedulingGates) keeps the pod out of the queue: no cycle, no event. The
            # condition is the one the API server sets (pkg/registry/core/pod/strategy.go).
            return SchedulingResult(None, msg.SCHEDULING_GATED, "SchedulingGated", "")
        n_all = len(self.table)
        if n_all == 0:
            return SchedulingResult(None, msg.NO_NODES, "SchedulerError", msg.NO_NODES)
        info = self._info(pod)
        cols, ports = info.cols, info.ports
        sf = self._static(pod)
        cand = sf.passing
        ok = fits(self.table, cand, cols)
        if ports:
            ok &= ports_mask(self.table, cand, ports)
        rules = self._pod_rules(pod)
        if rules is not None and rules.only_existing_anti:
            # Array path: the nodes in a topology domain where an existing pod's anti-affinity matched.
            blocked = np.zeros(n_all, dtype=bool)
            for pair in rules.existing_pairs():
                blocked[self._nodes_with(pair)] = True
            ok &= ~blocked[cand]
        elif rules is not None:
            for j in np.flatnonzero(ok).tolist():
                if rules.reasons(int(cand[j])) is not None:
                    ok[j] = False
        nominated = self.table.index.get(str((pod.get("status") or {}).get("nominatedNodeName") or ""), -1)
        hit = np.flatnonzero(cand == nominated) if nominated >= 0 else cand[:0]
        if len(hit) and ok[hit[0]]:
            feasible = np.array([nominated], dtype=np.int64)
        else:
            feasible = self._sample(cand, ok, n_all)
        if len(feasible) == 0:
            return self._unschedulable(pod, sf, cols, ports, n_all, rules)
        node = int(feasible[0]) if len(feasible) == 1 else self._select(pod, sf, feasible, info)
        bound = dict(pod)
        bound["spec"] = dict(pod.get("spec") or {}, nodeName=self.table.names[node])
        self._bound[pod_key(pod)] = bound
        self._add(bound, node, info)
        meta = pod.get("metadata") or {}
        event = msg.scheduled_event(meta.get("namespace") or "default", meta.get("name", ""), self.table.names[node])
        return SchedulingResult(self.table.names[node], None, "Scheduled", event)

    def _sample(self, cand: np.ndarray, ok: np.ndarray, n_all: int) -> np.ndarray:
        """Feasible nodes in node-tree order from the rotating start, at most numFeasibleNodesToFind.

        Advances the start index by the number of nodes examined, as findNodesThatPassFilters does.
        """
        k = num_feasible_nodes_to_find(n_all)
        start = self._next_start
        feas = cand[ok]
        split = int(np.searchsorted(feas, start))
        ordered = np.concatenate((feas[split:], feas[:split])) if split else feas
        if len(ordered) > k:
            ordered = ordered[:k]
            last = int(ordered[-1])
            examined = (last - start) % n_all + 1
        else:
            examined = n_all
        self._next_start = (start + examined) % n_all
        return ordered

    def _select(self, pod: Mapping[str, Any], sf: StaticFilter, idx: np.ndarray, info: PodInfo) -> int:
        reqs = info.requests
        t = self.table
        total = scoring.WEIGHT_FIT * scoring.least_allocated(t, idx, info.nz_cpu, info.nz_mem)
        if not (self.traits.balanced_skips_best_effort and reqs.get(CPU, 0) == 0 and reqs.get(MEMORY, 0) == 0):
            total = total + scoring.WEIGHT_BALANCED * scoring.balanced_allocation(
                t, idx, reqs.get(CPU, 0), reqs.get(MEMORY, 0))
        total = total + scoring.WEIGHT_TAINT * scoring.normalize(sf.prefer_no_schedule[idx], reverse=True)
        total = total + scoring.WEIGHT_AFFINITY * scoring.normalize(sf.preferred_weight[idx], reverse=False)
        total = total + scoring.WEIGHT_IMAGE * scoring.image_locality(t, idx, pod)
        ipa = self._affinity_scores(pod, idx)
        if ipa is not None:
            total = total + scoring.WEIGHT_INTER_POD_AFFINITY * ipa
        spread = spread_scores(t, idx, pod)
        if spread is not None:
            total = total + scoring.WEIGHT_SPREAD * spread
        top = np.flatnonzero(total == total.max())
        # selectHost keeps one of the top-scored nodes by reservoir sampling, i.e. each with
        # probability 1/count; one seeded uniform draw gives the same distribution.
        return int(idx[top[0]]) if len(top) == 1 else int(idx[top[int(self.rng.integers(len(top)))]])

    def _affinity_scores(self, pod: Mapping[str, Any], idx: np.ndarray) -> np.ndarray | None:
        """InterPodAffinity scores, when the pod has preferred terms or placed pods have pod affinity."""
        aff = (pod.get("spec") or {}).get("affinity") or {}
        preferred = any((aff.get(k) or {}).get("preferredDuringSchedulingIgnoredDuringExecution")
                        for k in ("podAffinity", "podAntiAffinity"))
        if not preferred and not self._affinity_keys:
            return None
        keys = self.table.pods.keys() if preferred else [k for k in self._affinity_keys if k in self.table.pods]
        existing = [(self._bound[k], self.table.pods[k].node) for k in keys]
        return affinity_scores(self.table, idx, pod, existing, self._ns_labels)

    def _unschedulable(self, pod: Mapping[str, Any], sf: StaticFilter, cols: list[tuple[str, int]],
                       ports: tuple[tuple[str, str, int], ...], n_all: int,
                       rules: PodRules | None = None) -> SchedulingResult:
        dyn_hist, failing, unresolvable = dynamic_reasons(self.table, sf.passing, cols, ports)
        if rules is not None:
            # PodTopologySpread and InterPodAffinity run on the nodes that passed NodeResourcesFit.
            failing = failing.copy()
            for j in np.flatnonzero(~failing).tolist():
                reason = rules.reasons(int(sf.passing[j]))
                if reason is not None:
                    dyn_hist[reason] = dyn_hist.get(reason, 0) + 1
                    failing[j] = True
                    unresolvable[j] = reason in UNRESOLVABLE
        hist = dict(sf.histogram)
        for r, c in dyn_hist.items():
            hist[r] = hist.get(r, 0) + c
        post: list[str] = []
        if self.dra_postfilter:
            post.append(msg.DRA_NO_CLAIMS)
        prio, policy = self.priorities.resolve(pod)
        nominated: str | None = None
        victims: tuple[str, ...] = ()
        if policy == "Never":
            post.append("preemption: " + msg.NOT_ELIGIBLE_NEVER)
        else:
            if self.traits.unresolvable_fit:
                resolvable = failing & ~unresolvable
            elif rules is not None:
                # Before #131345 only these plugins' unresolvable reasons remove a node.
                resolvable = failing.copy()
                for j in np.flatnonzero(failing).tolist():
                    if rules.reasons(int(sf.passing[j])) in UNRESOLVABLE:
                        resolvable[j] = False
            else:
                resolvable = failing
            outcome = preempt(self.table, sf.passing[resolvable], prio, cols, ports, self.rng, rules)
            if outcome.candidate is None:
                post.append(msg.preemption_message(n_all, outcome.histogram, outcome.evaluated))
            else:
                # Success: the preemptor is nominated; the PostFilter status is Success, so the
                # FitError carries no PostFilter text this cycle.
                post = []
                nominated = self.table.names[outcome.candidate.node]
                victims = tuple(v.key for v in outcome.candidate.victims)
                for key in victims:
                    self.remove_pod(key)
        text = msg.fit_error(n_all, hist, post)
        return SchedulingResult(None, text, "Unschedulable", msg.truncate_event(text), nominated, victims)

    # -- many pods -----------------------------------------------------------------------------
    def queue_order(self, pods: list[dict[str, Any]]) -> list[int]:
        """PrioritySort: indices of ``pods`` by priority (high first), then given order."""
        prios = [self.priorities.resolve(p)[0] for p in pods]
        return sorted(range(len(pods)), key=lambda i: (-prios[i], i))

    def schedule_many(self, pods: list[dict[str, Any]]) -> list[SchedulingResult]:
        """Schedule pods in queue order; results are returned in the given order.

        A pod that preempted others is retried at once (its victims are gone, and as the
        highest-priority pod in the queue it is next); its result records the victims.
        """
        results: list[SchedulingResult | None] = [None] * len(pods)
        for i in self.queue_order(pods):
            res = self.schedule(pods[i])
            if res.nominated_node is not None:
                nominated = dict(pods[i], status=dict(pods[i].get("status") or {}, nominatedNodeName=res.nominated_node))
                again = self.schedule(nominated)
                res = SchedulingResult(again.node, again.message, again.reason, again.event_message,
                                       res.nominated_node, res.preempted + again.preempted)
            results[i] = res
        return [r for r in results if r is not None]

    def retry_pending(self, pending_pods: list[dict[str, Any]]) -> list[SchedulingResult]:
        """Retry Pending pods after the cluster changed (a pod deleted, a node added or grown)."""
        return self.schedule_many(pending_pods)
