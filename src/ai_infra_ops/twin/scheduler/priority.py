"""Pod priority and preemption policy, as the Priority admission plugin resolves them.

kubernetes/kubernetes: plugin/pkg/admission/priority/admission.go and
pkg/apis/scheduling/types.go: a pod's ``spec.priority`` comes from its ``priorityClassName``
(``system-cluster-critical`` = 2000000000, ``system-node-critical`` = 2000001000 are built in);
without a class name it takes the ``globalDefault`` class, else 0. ``preemptionPolicy`` comes from
the class (default ``PreemptLowerPriority``) unless the pod sets it. An unknown class name is an
admission error (``no PriorityClass with name X was found``).

Called by ``scheduler`` (queue order, preemption) and the ``schedule`` command (admission).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SYSTEM_CLUSTER_CRITICAL = 2000000000
SYSTEM_NODE_CRITICAL = 2000001000
DEFAULT_POLICY = "PreemptLowerPriority"


@dataclass(frozen=True)
class PriorityClass:
    name: str
    value: int
    global_default: bool = False
    preemption_policy: str = DEFAULT_POLICY


class UnknownPriorityClass(ValueError):
    """The pod names a PriorityClass that does not exist (admission rejects it)."""


_BUILTIN = {
    "system-cluster-critical": PriorityClass("system-cluster-critical", SYSTEM_CLUSTER_CRITICAL),
    "system-node-critical": PriorityClass("system-node-critical", SYSTEM_NODE_CRITICAL),
}


class PriorityResolver:
    """PriorityClass objects -> (priority, preemptionPolicy) of a pod."""

    def __init__(self, classes: Sequence[Mapping[str, Any]]):
        self.classes: dict[str, PriorityClass] = dict(_BUILTIN)
        for obj in classes:
            name = str((obj.get("metadata") or {}).get("name", ""))
            self.classes[name] = PriorityClass(name, int(obj.get("value") or 0), bool(obj.get("globalDefault")),
                                               str(obj.get("preemptionPolicy") or DEFAULT_POLICY))
        defaults = sorted((c for c in self.classes.values() if c.global_default), key=lambda c: c.name)
        self.default = defaults[0] if defaults else None

    def resolve(self, pod: Mapping[str, Any]) -> tuple[int, str]:
        """(priority, preemptionPolicy) for the pod.

        Raises:
            UnknownPriorityClass: ``priorityClassName`` names no class (Kubernetes' admission text).
        """
        spec = pod.get("spec") or {}
        name = spec.get("priorityClassName")
        cls: PriorityClass | None
        if name:
            cls = self.classes.get(str(name))
            if cls is None:
                pod_name = (pod.get("metadata") or {}).get("name", "")
                raise UnknownPriorityClass(
                    f'pods "{pod_name}" is forbidden: no PriorityClass with name {name} was found')
        else:
            cls = self.default
        prio = spec.get("priority")
        if not isinstance(prio, int) or isinstance(prio, bool):
            prio = cls.value if cls else 0
        policy = spec.get("preemptionPolicy") or (cls.preemption_policy if cls else DEFAULT_POLICY)
        return int(prio), str(policy)
