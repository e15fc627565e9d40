"""Kubelet resource admission for pods created with ``spec.nodeName`` (they bypass the scheduler).

kubernetes/kubernetes: pkg/kubelet/lifecycle/predicate.go. The kubelet runs the scheduler's
resource check (``noderesources.Fits``: pods count, cpu, memory, ephemeral-storage, extended
resources) after dropping extended resources its node does not have at all
(``removeMissingExtendedResources``), and reports only the first failure: the pod turns
``Failed`` with reason ``OutOf<resource>`` and message
``Pod was rejected: Node didn't have enough resource: <r>, requested: <n>, used: <n>, capacity: <n>``
(cpu in millicores). Called by ``cases`` and the twin's controllers through ``Scheduler.admit``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .nodeinfo import NodeTable
from .requests import CPU, EPHEMERAL, MEMORY, PODS, is_extended_resource


@dataclass(frozen=True)
class Rejection:
    """Why the kubelet refused a pod: ``reason`` (``OutOfcpu``) and the pod status ``message``."""

    reason: str
    message: str


def admit(table: NodeTable, node: int, cols: list[tuple[str, int]]) -> Rejection | None:
    """The kubelet's verdict for a pod needing ``cols`` on ``node`` given the pods already counted."""
    checks: list[tuple[str, int, int, int]] = [
        (PODS, 1, int(table.pod_count[node]), int(table.allowed_pods[node]))]
    ordered = [c for c in cols if c[0] in (CPU, MEMORY, EPHEMERAL)]
    ordered.sort(key=lambda c: (CPU, MEMORY, EPHEMERAL).index(c[0]))
    ordered += [c for c in cols if c[0] not in (CPU, MEMORY, EPHEMERAL)]
    for name, q in ordered:
        if is_extended_resource(name) and name not in table.declared[node]:
            continue
        alloc = int(table.allocatable(name)[node])
        checks.append((name, q, int(table.requested(name)[node]), alloc))
    for name, requested, used, capacity in checks:
        if requested > capacity - used:
            return Rejection(f"OutOf{name}", "Pod was rejected: Node didn't have enough resource: "
                                             f"{name}, requested: {requested}, used: {used}, capacity: {capacity}")
    return None
