"""The scheduler's cache of nodes: capacity and allocation as numpy columns.

Owns the per-node state kube-scheduler keeps in its ``NodeInfo`` snapshot
(kubernetes/kubernetes: pkg/scheduler/framework/types.go): allocatable, the summed requests of the
pods on the node (``Requested``), the same with the scoring defaults (``NonZeroRequested``), the
pod count, used host ports and the pods themselves (for preemption). One ``int64`` array per
resource, indexed by node position, so filters and scores are array operations across nodes.

Node order is the scheduler's node tree order (pkg/scheduler/backend/cache/node_tree.go): nodes
are taken round-robin across zones (``topology.kubernetes.io/zone``), in insertion order within a
zone. Called only by ``scheduler``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .requests import CPU, MEMORY, PODS, Requests, node_resources

ZONE_LABEL = "topology.kubernetes.io/zone"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class BoundPod:
    """A pod the cache counts on a node."""

    key: str
    node: int
    requests: tuple[tuple[str, int], ...]
    nz_cpu: int
    nz_mem: int
    ports: tuple[tuple[str, str, int], ...]
    priority: int
    seq: int  # arrival order; stands in for status.startTime when choosing among victims
    labels: tuple[tuple[str, str], ...] = ()


def tree_order(nodes: Sequence[Mapping[str, Any]]) -> list[int]:
    """Indices of ``nodes`` in node-tree order: round-robin over zones, insertion order inside."""
    zones: dict[str, list[int]] = {}
    for i, n in enumerate(nodes):
        zone = ((n.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL, "")
        zones.setdefault(zone, []).append(i)
    if len(zones) <= 1:
        return list(range(len(nodes)))
    out: list[int] = []
    lists = list(zones.values())
    depth = 0
    while len(out) < len(nodes):
        for lst in lists:
            if depth < len(lst):
                out.append(lst[depth])
        depth += 1
    return out


class NodeTable:
    """Nodes as columns; pods bound to them as counted allocations."""

    def __init__(self, nodes: Sequence[Mapping[str, Any]]):
        order = tree_order(nodes)
        self.nodes: list[Mapping[str, Any]] = [nodes[i] for i in order]
        n = len(self.nodes)
        self.names: list[str] = []
        self.labels: list[dict[str, str]] = []
        self.taints: list[tuple[Taint, ...]] = []
        self.images: list[dict[str, int]] = []
        self.unschedulable = np.zeros(n, dtype=bool)
        self.alloc: dict[str, np.ndarray] = {}
        self.used: dict[str, np.ndarray] = {}
        self.pod_count = np.zeros(n, dtype=np.int64)
        self.allowed_pods = np.zeros(n, dtype=np.int64)
        self.nz_cpu = np.zeros(n, dtype=np.int64)
        self.nz_mem = np.zeros(n, dtype=np.int64)
        self.ports: dict[int, set[tuple[str, str, int]]] = {}
        self.pods_on: list[dict[str, BoundPod]] = [{} for _ in range(n)]
        self.pods: dict[str, BoundPod] = {}
        self._seq = 0
        allocs: list[Requests] = []
        for i, node in enumerate(self.nodes):
            meta = node.get("metadata") or {}
            spec = node.get("spec") or {}
            self.names.append(str(meta.get("name", "")))
            self.labels.append({str(k): str(v) for k, v in (meta.get("labels") or {}).items()})
            self.taints.append(tuple(Taint(str(t.get("key", "")), str(t.get("value") or ""), str(t.get("effect", "")))
                                     for t in spec.get("taints") or []))
            self.unschedulable[i] = bool(spec.get("unschedulable"))
            self.images.append(_images(node))
            allocs.append(node_resources(node))
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        # Which resources each node declares at all (the kubelet drops extended resources its node lacks).
        self.declared: list[frozenset[str]] = [frozenset(a) for a in allocs]
        for name in sorted({r for a in allocs for r in a}):
            if name == PODS:
                continue
            self._column(name)
            col = self.alloc[name]
            for i, a in enumerate(allocs):
                col[i] = a.get(name, 0)
        for i, a in enumerate(allocs):
            self.allowed_pods[i] = a.get(PODS, 0)
        for name in (CPU, MEMORY):
            self._column(name)

    def __len__(self) -> int:
        return len(self.names)

    def _column(self, name: str) -> None:
        if name not in self.alloc:
            n = len(self.names)
            self.alloc[name] = np.zeros(n, dtype=np.int64)
            self.used[name] = np.zeros(n, dtype=np.int64)

    def allocatable(self, name: str) -> np.ndarray:
        """Allocatable of ``name`` on every node (zeros when no node has it)."""
        self._column(name)
        return self.alloc[name]

    def requested(self, name: str) -> np.ndarray:
        self._column(name)
        return self.used[name]

    def add(self, key: str, node: int, requests: Requests, nz_cpu: int, nz_mem: int,
            ports: tuple[tuple[str, str, int], ...], priority: int,
            labels: Mapping[str, str] | None = None) -> BoundPod:
        """Count a pod on ``node`` (replacing an earlier record of the same key)."""
        if key in self.pods:
            self.remove(key)
        self._seq += 1
        bp = BoundPod(key, node, tuple(sorted(requests.items())), nz_cpu, nz_mem, ports, priority, self._seq,
                      tuple(sorted((labels or {}).items())))
        for name, v in bp.requests:
            self._column(name)
            self.used[name][node] += v
        self.nz_cpu[node] += nz_cpu
        self.nz_mem[node] += nz_mem
        self.pod_count[node] += 1
        if ports:
            self.ports.setdefault(node, set()).update(ports)
        self.pods[key] = bp
        self.pods_on[node][key] = bp
        return bp

    def remove(self, key: str) -> BoundPod | None:
        """Stop counting a pod; returns its record (None when unknown)."""
        bp = self.pods.pop(key, None)
        if bp is None:
            return None
        for name, v in bp.requests:
            self.used[name][bp.node] -= v
        self.nz_cpu[bp.node] -= bp.nz_cpu
        self.nz_mem[bp.node] -= bp.nz_mem
        self.pod_count[bp.node] -= 1
        del self.pods_on[bp.node][key]
        if bp.ports:
            remaining: set[tuple[str, str, int]] = set()
            for other in self.pods_on[bp.node].values():
                remaining.update(other.ports)
            self.ports[bp.node] = remaining
        return bp


def normalized_image(name: str) -> str:
    """imagelocality.normalizedImageName: a reference without a tag means ``:latest``."""
    if name.rfind(":") <= name.rfind("/"):
        name += ":latest"
    return name


def _images(node: Mapping[str, Any]) -> dict[str, int]:
    """``status.images`` as normalised name -> size (every listed name of an image carries its size)."""
    out: dict[str, int] = {}
    for img in (node.get("status") or {}).get("images") or []:
        size = int(img.get("sizeBytes") or 0)
        for name in img.get("names") or []:
            out[normalized_image(str(name))] = size
    return out
