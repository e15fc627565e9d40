"""Run a conformance case's scheduling part: its Nodes and Pods in, one outcome per Pod out.

The case format is ``../shared/conformance/FORMAT.md``: ``objects`` (Nodes, Pods, Namespaces,
PriorityClasses are read; other kinds are ignored), ``kubernetesVersion`` (absent = 1.35), and
``expect_schedule`` (``pod``, ``node`` or ``phase``, ``message_contains``).

What happens, in the order a real cluster would do it after ``kubectl apply -f`` of the objects:

1. API validation of every Pod's resources (``validate_pod_resources``) and Priority admission:
   a rejected Pod is bad input (``ManifestError`` with file, line, field and Kubernetes' text).
2. A case without Nodes gets one default worker ``node01`` (allocatable cpu 4, memory 8Gi,
   pods 110 — the spec's default worker size; labels ``kubernetes.io/hostname``,
   ``kubernetes.io/os=linux``).
3. Pods that already name a node (``spec.nodeName``) are not scheduled: kube-scheduler only takes
   pods without a node. On an existing node the kubelet admits them (Running, counted) or rejects
   them (``Failed``, ``Pod was rejected: Node didn't have enough resource: ...``); on a missing node
   they stay Pending with no scheduler message (PodGC deletes them after its 40 s quarantine).
4. Pods for another ``schedulerName`` stay Pending, untouched. Pods with ``schedulingGates`` stay
   Pending with ``Scheduling is blocked due to non-empty scheduling gates``.
   The other Pods go through ``Scheduler.schedule_many`` (priority order, then input order).
   Scheduled -> ``Running`` on its node; not -> ``Pending`` with the pod condition's message.
   A pod evicted by preemption -> ``Failed`` with the DisruptionTarget condition's message.

Called by the ``schedule`` command and the conformance tests; pure apart from reading the case.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import Location, ManifestError
from ...kube_model import Document
from .priority import UnknownPriorityClass
from .requests import QuantityError, invalid_pod_message, node_resources, validate_pod_resources
from .scheduler import Scheduler, pod_key

DEFAULT_VERSION = "1.35"
DEFAULT_WORKER: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node01", "labels": {"kubernetes.io/hostname": "node01", "kubernetes.io/os": "linux"}},
    "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
               "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
}
PREEMPTED_MESSAGE = "default-scheduler: preempting to accommodate a higher priority pod"


@dataclass(frozen=True)
class CaseOutcome:
    """One Pod's outcome, as ``schedule -o json`` prints it."""

    pod: str
    node: str | None
    phase: str
    message: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"pod": self.pod, "node": self.node, "phase": self.phase, "message": self.message}


def _where(doc: Document | None, path: tuple[str | int, ...]) -> Location:
    return doc.location(path) if doc is not None else Location(field=".".join(str(p) for p in path))


def _error_path(index: int, error: str) -> tuple[str | int, ...]:
    """The case path of the container an API error names (``spec.containers[0].resources...``)."""
    head = error.split(":", 1)[0]
    path: list[str | int] = ["objects", index]
    for part in head.split("."):
        name, _, rest = part.partition("[")
        path.append(name)
        if rest[:1].isdigit():
            path.append(int(rest.split("]", 1)[0]))
        if name == "resources":
            break
    return tuple(path)


def run_case(case: Mapping[str, Any], doc: Document | None = None, seed: int = 0) -> list[CaseOutcome]:
    """Schedule a case's Pods; one outcome per Pod, in input order.

    Raises:
        ManifestError: a Pod the API server would reject, a malformed Node quantity, an unknown
            PriorityClass or an unsupported ``kubernetesVersion`` (file, line, field, reason).
    """
    objects = case.get("objects") or []
    if not isinstance(objects, list):
        raise ManifestError("expected a list of Kubernetes objects", _where(doc, ("objects",)))
    nodes: list[dict[str, Any]] = []
    pods: list[tuple[int, dict[str, Any]]] = []
    classes: list[dict[str, Any]] = []
    namespaces: list[dict[str, Any]] = []
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise ManifestError("expected a Kubernetes object (a mapping)", _where(doc, ("objects", i)))
        kind = obj.get("kind")
        if kind == "Node":
            try:
                node_resources(obj)
            except QuantityError as exc:
                raise ManifestError(f"Node in version \"v1\" cannot be handled as a Node: {exc}",
                                    _where(doc, ("objects", i, "status"))) from None
            nodes.append(obj)
        elif kind == "Pod":
            pods.append((i, obj))
        elif kind == "PriorityClass":
            classes.append(obj)
        elif kind == "Namespace":
            namespaces.append(obj)
    version = str(case.get("kubernetesVersion") or DEFAULT_VERSION)
    try:
        sched = Scheduler(nodes or [DEFAULT_WORKER], kubernetes_version=version, seed=seed, priority_classes=classes,
                          namespaces=namespaces)
    except ValueError as exc:
        raise ManifestError(str(exc), _where(doc, ("kubernetesVersion",))) from None
    for i, pod in pods:
        errors = validate_pod_resources(pod)
        if errors:
            raise ManifestError(invalid_pod_message(pod, errors), _where(doc, _error_path(i, errors[0])))
        try:
            sched.priorities.resolve(pod)
        except UnknownPriorityClass as exc:
            raise ManifestError(str(exc), _where(doc, ("objects", i, "spec", "priorityClassName"))) from None
    outcomes: dict[str, CaseOutcome] = {}
    pending: list[dict[str, Any]] = []
    for _i, pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        scheduler_name = (pod.get("spec") or {}).get("schedulerName") or "default-scheduler"
        if not node and scheduler_name != "default-scheduler":
            # Another scheduler's pod: default-scheduler never looks at it.
            outcomes[pod_key(pod)] = CaseOutcome(pod_key(pod), None, "Pending", None)
        elif node:
            if node in sched.table.index:
                rejected = sched.admit(pod)
                outcomes[pod_key(pod)] = CaseOutcome(pod_key(pod), str(node), "Running", None) if rejected is None \
                    else CaseOutcome(pod_key(pod), str(node), "Failed", rejected.message)
            else:
                outcomes[pod_key(pod)] = CaseOutcome(pod_key(pod), str(node), "Pending", None)
        else:
            pending.append(pod)
    for pod, res in zip(pending, sched.schedule_many(pending)):
        if res.node is not None:
            outcomes[pod_key(pod)] = CaseOutcome(pod_key(pod), res.node, "Running", None)
        else:
            outcomes[pod_key(pod)] = CaseOutcome(pod_key(pod), None, "Pending", res.message)
        for victim in res.preempted:
            outcomes[victim] = CaseOutcome(victim, None, "Failed", PREEMPTED_MESSAGE)
    return [outcomes[pod_key(pod)] for _i, pod in pods]


def check_expectations(outcomes: list[CaseOutcome], expectations: list[Mapping[str, Any]]) -> list[str]:
    """Compare outcomes with ``expect_schedule``; one line per mismatch (empty list = all hold)."""
    by_pod = {o.pod: o for o in outcomes}
    problems: list[str] = []
    for exp in expectations or []:
        name = str(exp.get("pod", ""))
        got = by_pod.get(name)
        if got is None:
            problems.append(f"{name}: no such Pod in the case")
            continue
        if "node" in exp and exp["node"] != got.node:
            problems.append(f"{name}: expected node {exp['node']!r}, got {got.node!r}")
        if "phase" in exp and exp["phase"] != got.phase:
            problems.append(f"{name}: expected phase {exp['phase']!r}, got {got.phase!r}")
        want = exp.get("message_contains")
        if want is not None and str(want) not in (got.message or ""):
            problems.append(f"{name}: message does not contain {want!r}; message: {got.message!r}")
    return problems
