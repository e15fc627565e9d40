"""DefaultPreemption: the dry run on each node, victim selection and the choice of node.

Follows kubernetes/kubernetes: pkg/scheduler/framework/preemption/preemption.go and
plugins/defaultpreemption/default_preemption.go:

* Only nodes whose filter status was *Unschedulable* (not UnschedulableAndUnresolvable) are
  potential nodes. The dry run visits them from a random offset and stops after
  ``max(10 % of them, 100)`` candidates (``minCandidateNodesPercentage`` 10,
  ``minCandidateNodesAbsolute`` 100).
* On a node (``SelectVictimsOnNode``): remove every pod of strictly lower priority; none ->
  ``No preemption victims found for incoming pod``; still not fitting -> the filters' own reasons;
  fitting -> re-add the removed pods most important first (higher priority, then earlier start)
  and keep each one that still lets the pod fit ("reprieve"); the rest are the victims.
* Choice of node (``pickOneNodeForPreemption``): fewest PDB violations (the twin has no PDBs, so
  all tie), lowest highest-victim priority, lowest sum of victim priorities (each offset by
  2^31 so more victims weigh more), fewest victims, latest start among the highest-priority
  victims, first candidate.

The twin has no ``status.startTime``; the order in which pods were counted stands in for it.
Called only by ``scheduler``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import messages as msg
from .filters import ports_conflict
from .nodeinfo import BoundPod, NodeTable
from .podrules import PodRules

MIN_CANDIDATE_PERCENTAGE = 10
MIN_CANDIDATE_ABSOLUTE = 100


@dataclass(frozen=True)
class Candidate:
    """A node where preemption makes the pod fit, and the pods it would evict there."""

    node: int
    victims: tuple[BoundPod, ...]


@dataclass(frozen=True)
class PreemptionOutcome:
    candidate: Candidate | None
    histogram: dict[str, int]  # dry-run reasons of the evaluated nodes (used when no candidate)
    evaluated: int


def _fits_without(table: NodeTable, node: int, removed: list[BoundPod], cols: list[tuple[str, int]],
                  ports: tuple[tuple[str, str, int], ...], rules: PodRules | None = None) -> list[str]:
    """The filter reasons (NodePorts, NodeResourcesFit, then PodTopologySpread/InterPodAffinity)
    with ``removed`` gone; [] = fits."""
    if ports:
        gone = {bp.key for bp in removed}
        used: set[tuple[str, str, int]] = set()
        for bp in table.pods_on[node].values():
            if bp.key not in gone:
                used.update(bp.ports)
        if ports_conflict(used, ports):
            return [msg.ERR_PORTS]
    freed: dict[str, int] = {}
    for bp in removed:
        for name, v in bp.requests:
            freed[name] = freed.get(name, 0) + v
    reasons = []
    if table.pod_count[node] - len(removed) >= table.allowed_pods[node]:
        reasons.append(msg.ERR_TOO_MANY_PODS)
    for name, q in cols:
        free = int(table.allocatable(name)[node]) - int(table.requested(name)[node]) + freed.get(name, 0)
        if free < q:
            reasons.append(msg.insufficient(name))
    if not reasons and rules is not None:
        reason = rules.reasons(node, frozenset(bp.key for bp in removed))
        if reason is not None:
            reasons.append(reason)
    return reasons


def select_victims(table: NodeTable, node: int, priority: int, cols: list[tuple[str, int]],
                   ports: tuple[tuple[str, str, int], ...],
                   rules: PodRules | None = None) -> tuple[Candidate | None, list[str]]:
    """SelectVictimsOnNode for one node: a candidate, or the reasons preemption cannot help."""
    lower = [bp for bp in table.pods_on[node].values() if bp.priority < priority]
    if not lower:
        return None, [msg.NO_VICTIMS]
    reasons = _fits_without(table, node, lower, cols, ports, rules)
    if reasons:
        return None, reasons
    # Most important first: higher priority, then earlier start (util.MoreImportantPod).
    lower.sort(key=lambda bp: (-bp.priority, bp.seq))
    removed = list(lower)
    victims: list[BoundPod] = []
    for bp in lower:
        trial = [r for r in removed if r.key != bp.key]
        if not _fits_without(table, node, trial, cols, ports, rules):
            removed = trial          # reprieved: it stays
        else:
            victims.append(bp)
    return Candidate(node, tuple(victims)), []


def _rank(c: Candidate) -> tuple[int, int, int, int]:
    top = c.victims[0].priority if c.victims else -(2**31)
    total = sum(v.priority + 2**31 for v in c.victims)
    # Latest start among the highest-priority victims wins: use the negated earliest seq.
    highest = [v.seq for v in c.victims if v.priority == top]
    earliest = min(highest) if highest else 0
    return (top, total, len(c.victims), -earliest)


def preempt(table: NodeTable, potential: np.ndarray, priority: int, cols: list[tuple[str, int]],
            ports: tuple[tuple[str, str, int], ...], rng: np.random.Generator,
            rules: PodRules | None = None) -> PreemptionOutcome:
    """Dry-run preemption over the potential nodes; choose a candidate if there is one."""
    n = len(potential)
    if n == 0:
        return PreemptionOutcome(None, {}, 0)
    want = min(n, max(n * MIN_CANDIDATE_PERCENTAGE // 100, MIN_CANDIDATE_ABSOLUTE))
    offset = int(rng.integers(n))
    hist: dict[str, int] = {}
    candidates: list[Candidate] = []
    evaluated = 0
    for j in range(n):
        node = int(potential[(offset + j) % n])
        cand, reasons = select_victims(table, node, priority, cols, ports, rules)
        evaluated += 1
        if cand is not None:
            candidates.append(cand)
            if len(candidates) >= want:
                break
        for r in reasons:
            hist[r] = hist.get(r, 0) + 1
    if not candidates:
        return PreemptionOutcome(None, hist, evaluated)
    best = min(range(len(candidates)), key=lambda k: (_rank(candidates[k]), k))
    return PreemptionOutcome(candidates[best], hist, evaluated)
