"""Reading evidence through the backend seam: object conditions, events, flows, scheduler text.

Owns the small predicates both ``validate`` and ``pipeline`` decide with (a Node is Ready, a Pod
is Running or Unschedulable, a Deployment is available, a node's allocatable GPUs), reading the
FailedScheduling events of a pod, naming flows for receipts, and the FailedScheduling message
kube-scheduler writes for a pod no node can fit (``../shared/reference/gpu-and-scheduling.md``
§0 and §4.3), per Kubernetes minor. Pure functions over plain dicts; no backend internals.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..backend import Backend, FlowDict, KubeObject
from ..kube_model import parse_quantity

GPU_RESOURCE = "nvidia.com/gpu"


def _conditions(obj: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return list(((obj or {}).get("status") or {}).get("conditions") or [])


def condition(obj: Mapping[str, Any] | None, ctype: str) -> Mapping[str, Any] | None:
    """The status condition ``ctype`` of an object (None when absent)."""
    return next((c for c in _conditions(obj) if c.get("type") == ctype), None)


def node_ready(node: KubeObject | None) -> bool:
    """Node condition Ready=True."""
    c = condition(node, "Ready")
    return bool(c and c.get("status") == "True")


def pod_running(pod: KubeObject | None) -> bool:
    """Pod phase Running."""
    return bool(pod and (pod.get("status") or {}).get("phase") == "Running")


def pod_unschedulable(pod: KubeObject | None) -> bool:
    """Pod Pending with PodScheduled=False reason Unschedulable (what kube-scheduler writes)."""
    if not pod or (pod.get("status") or {}).get("phase", "Pending") != "Pending":
        return False
    c = condition(pod, "PodScheduled")
    return bool(c and c.get("status") == "False" and c.get("reason") == "Unschedulable")


def deployment_available(dep: KubeObject | None) -> bool:
    """Deployment with all desired replicas available."""
    if not dep:
        return False
    want = int((dep.get("spec") or {}).get("replicas", 1))
    return int((dep.get("status") or {}).get("availableReplicas") or 0) >= want


def allocatable(node: Mapping[str, Any] | None, resource: str = GPU_RESOURCE) -> int:
    """The node's allocatable amount of an extended resource (0 when absent)."""
    raw = (((node or {}).get("status") or {}).get("allocatable") or {}).get(resource)
    if raw is None:
        return 0
    return int(parse_quantity(raw))


def pod_limit(pod: Mapping[str, Any], resource: str = GPU_RESOURCE) -> int:
    """Sum of the containers' limits (or requests) of ``resource``."""
    total = 0
    for c in ((pod.get("spec") or {}).get("containers") or []):
        res = c.get("resources") or {}
        raw = (res.get("limits") or {}).get(resource, (res.get("requests") or {}).get(resource))
        if raw is not None:
            total += int(parse_quantity(raw))
    return total


def failed_scheduling(backend: Backend, namespace: str, name: str) -> list[KubeObject]:
    """FailedScheduling events of a pod, newest last."""
    raw: Any = backend.events(namespace, name)
    evs = [e for e in raw if e.get("reason") == "FailedScheduling"]
    return sorted(evs, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))


def event_ref(ev: Mapping[str, Any]) -> str:
    """``event/<ns>/<name>`` of an event."""
    md = ev.get("metadata") or {}
    return f"event/{md.get('namespace', '')}/{md.get('name', '')}"


def flow_ref(flow: FlowDict, fallback: str = "") -> str:
    """A flow's id for receipts: its Hubble ``uuid`` (else the backend's id)."""
    return str(flow.get("uuid") or fallback)


def untolerated(node: Mapping[str, Any], pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """NoSchedule/NoExecute taints of a node the pod does not tolerate."""
    tols = (pod.get("spec") or {}).get("tolerations") or []
    out = []
    for t in ((node.get("spec") or {}).get("taints") or []):
        if t.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        ok = any((tol.get("operator") == "Exists" and (not tol.get("key") or tol.get("key") == t.get("key")))
                 or (tol.get("key") == t.get("key") and tol.get("value", "") == t.get("value", ""))
                 for tol in tols if not tol.get("effect") or tol.get("effect") == t.get("effect"))
        if not ok:
            out.append(t)
    return out


def expected_failed_scheduling(nodes: Iterable[Mapping[str, Any]], pod: Mapping[str, Any], version: str,
                               resource: str = GPU_RESOURCE) -> str | None:
    """The FailedScheduling message for a pod whose ``resource`` request exceeds every node's
    whole allocatable (the seed's chaos pod), per Kubernetes minor (reference §0, §4.3).

    Returns None when the shape is not that one (some node could fit it), since then the text
    depends on scoring and is not predicted here.
    """
    nodes = list(nodes)
    want = pod_limit(pod, resource)
    n = len(nodes)
    tainted = [nd for nd in nodes if untolerated(nd, pod)]
    short = [nd for nd in nodes if nd not in tainted and allocatable(nd, resource) < want]
    if len(tainted) + len(short) != n or n == 0:
        return None
    parts = []
    if tainted:
        if version >= "1.35":
            parts.append(f"{len(tainted)} node(s) had untolerated taint(s)")
        else:
            t = untolerated(tainted[0], pod)[0]
            parts.append(f"{len(tainted)} node(s) had untolerated taint {{{t.get('key')}: {t.get('value', '')}}}")
    if short:
        parts.append(f"{len(short)} Insufficient {resource}")
    head = f"0/{n} nodes are available: " + ", ".join(parts) + "."
    if version >= "1.34":  # every node is unresolvable (request > whole allocatable), DRA prefix
        return f"{head} no new claims to deallocate, preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."
    tail = (f"preemption: 0/{n} nodes are available: "
            + ", ".join(p for p in (f"{len(tainted)} Preemption is not helpful for scheduling" if tainted else "",
                                    f"{len(short)} No preemption victims found for incoming pod" if short else "") if p) + ".")
    return f"{head} {tail}"
