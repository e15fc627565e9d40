"""``run_validation(backend, spec) -> ValidationReport``: the one validation suite.

Uses only the ``Backend`` protocol, so it runs unchanged on the twin and on a real cluster:
connectivity analogue (``validate.connectivity``), zero-trust checks (``validate.zerotrust``) and
GPU checks (``validate.gpu``). On a backend without ``network``/``flows`` the network checks report
"needs Cilium/Hubble". The report also snapshots the nodes and GPUs and keeps every flow the
checks produced, for the receipts (``report``).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..backend import Backend
from ..errors import AiInfraOpsError, BackendUnreachable
from .checks import FAIL, CheckResult, summarize
from .connectivity import connectivity_checks
from .evidence import allocatable, node_ready
from .gpu import gpu_checks
from .workloads import gpu_resource
from .zerotrust import zero_trust_checks


@dataclass(frozen=True)
class NodeRow:
    """One line of the nodes and GPUs table."""

    name: str
    roles: str
    ready: bool
    ip: str
    pool: str
    gpus: int
    product: str
    memory: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ValidationReport:
    """The suite's results with what the receipts need."""

    backend: str
    capabilities: tuple[str, ...]
    started: str
    finished: str
    duration_s: float
    results: tuple[CheckResult, ...]
    nodes: tuple[NodeRow, ...] = ()
    spec_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No check failed (skipped and needs-network checks do not fail the run)."""
        return not any(r.failed for r in self.results)

    def counts(self) -> dict[str, int]:
        return summarize(self.results)

    def flows(self) -> list[dict[str, Any]]:
        """Every flow of every check, each once, in time order."""
        seen: dict[str, dict[str, Any]] = {}
        for r in self.results:
            for f in r.flows:
                key = str(f.get("uuid") or id(f))
                seen.setdefault(key, f)
        return sorted(seen.values(), key=lambda f: str(f.get("time", "")))

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "capabilities": list(self.capabilities), "started": self.started,
                "finished": self.finished, "duration_s": round(self.duration_s, 3), "ok": self.ok,
                "counts": self.counts(), "nodes": [n.to_dict() for n in self.nodes],
                "spec": self.spec_summary, "results": [r.to_dict() for r in self.results]}


def _roles(labels: dict[str, str]) -> str:
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    return ",".join(roles) or "<none>"


def node_rows(backend: Backend, spec: Any) -> tuple[NodeRow, ...]:
    """The nodes as the backend shows them, with their GPUs."""
    res = gpu_resource(spec)
    rows = []
    for n in sorted(backend.list("Node"), key=lambda o: o["metadata"]["name"]):
        md = n.get("metadata") or {}
        labels = md.get("labels") or {}
        addrs = (n.get("status") or {}).get("addresses") or []
        ip = next((a.get("address", "") for a in addrs if a.get("type") == "InternalIP"), "")
        pool = spec.pool_for_node(md["name"])
        rows.append(NodeRow(md["name"], _roles(labels), node_ready(n), ip,
                            labels.get(pool.label_key, "") if pool else "", allocatable(n, res),
                            labels.get("nvidia.com/gpu.product", ""), labels.get("nvidia.com/gpu.memory", "")))
    return tuple(rows)


def spec_summary(spec: Any) -> dict[str, Any]:
    """The facts of the spec the report's header shows."""
    return {"cluster": spec.cluster_name, "kubernetes": spec.kubernetes_patch, "cilium": spec.cni.version,
            "nodes": len(spec.nodes), "workers": len(spec.workers()), "gpus": spec.total_gpus(),
            "pools": [{"name": p.name, "model": p.model, "gpusPerNode": p.count} for p in spec.gpu_pools]}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_validation(backend: Backend, spec: Any, *, groups: tuple[str, ...] = ("connectivity", "zero-trust", "gpu"),
                   deploy_fixture: bool = True) -> ValidationReport:
    """Run the suite against ``backend``'s current state.

    Args:
        backend: any ``Backend`` (twin or real cluster).
        spec: the validated platform spec (the expectations come from it).
        groups: which check groups to run.
        deploy_fixture: deploy the connectivity fixture when it is missing.

    Returns:
        The report; ``report.ok`` is False when any check failed.
    """
    started, t0 = _now(), time.perf_counter()
    results: list[CheckResult] = []
    runs: tuple[tuple[str, Callable[[], list[CheckResult]]], ...] = (("connectivity", lambda: connectivity_checks(backend, spec, deploy=deploy_fixture)),
            ("zero-trust", lambda: zero_trust_checks(backend, spec)), ("gpu", lambda: gpu_checks(backend, spec)))
    for group, fn in runs:
        if group not in groups:
            continue
        try:
            results += fn()
        except BackendUnreachable:
            raise   # not a failed check: the CLI reports the cluster unreachable (exit code 3)
        except AiInfraOpsError as exc:  # a backend error is a failed group, never a traceback
            results.append(CheckResult(f"{group}-error", group, f"{group} checks", FAIL, f"{type(exc).__name__}: {exc}"))
    return ValidationReport(backend=backend.name, capabilities=tuple(sorted(backend.capabilities())),
                            started=started, finished=_now(), duration_s=time.perf_counter() - t0,
                            results=tuple(results), nodes=node_rows(backend, spec), spec_summary=spec_summary(spec))
