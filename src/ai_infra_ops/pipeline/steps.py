"""The step model of ``up``: one small object per thing the platform needs, checked before applied.

Owns the values every step speaks in (:class:`Evidence`, :class:`Condition`, :class:`StepOutcome`)
and the :class:`Step` base class. A step answers two questions through the backend seam only:

- ``check(backend) -> Condition``: is this already true? (truthy: the runner skips the step), and
- ``apply(backend) -> StepOutcome``: make it true, wait for it on a condition (never a sleep) and
  return the evidence (object refs, event texts, flow ids) that it is true.

``undo(backend)`` removes what the step created (``down`` calls it in reverse order).
Concrete steps live in ``pipeline.objectsteps`` (apply objects, label nodes, wait), ``pipeline.gpusteps``
(test and chaos pods) and ``pipeline.netsteps`` (probes, connectivity); ``pipeline.phases`` builds
the plan from the spec and ``pipeline.runner`` drives it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..backend import Backend

#: Ops-log actions of a step.
APPLIED = "applied"
SKIPPED = "skipped"
FAILED = "failed"
RENDERED = "rendered"  # the backend cannot do it (no hosts): artifact rendered, not executed
NEEDS_NETWORK = "needs Cilium/Hubble"  # the backend has no network datapath/flows


@dataclass(frozen=True)
class Evidence:
    """What proves a step (or a check): object refs, event texts, flow ids, artifact digests, notes."""

    objects: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    flows: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def merge(self, other: Evidence) -> Evidence:
        """Both evidences, in order, without duplicates."""
        def cat(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys((*a, *b)))
        return Evidence(cat(self.objects, other.objects), cat(self.events, other.events),
                        cat(self.flows, other.flows), cat(self.artifacts, other.artifacts),
                        cat(self.notes, other.notes))

    def to_dict(self) -> dict[str, list[str]]:
        """JSON form: only the non-empty lists."""
        out = {"objects": self.objects, "events": self.events, "flows": self.flows,
               "artifacts": self.artifacts, "notes": self.notes}
        return {k: list(v) for k, v in out.items() if v}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Evidence:
        """Inverse of :meth:`to_dict`."""
        d = data or {}
        return cls(*(tuple(str(x) for x in d.get(k, ())) for k in ("objects", "events", "flows", "artifacts", "notes")))

    def __bool__(self) -> bool:
        return bool(self.objects or self.events or self.flows or self.artifacts or self.notes)


@dataclass(frozen=True)
class Condition:
    """Result of ``Step.check``: truthy when the step's goal already holds (the step is skipped)."""

    ok: bool
    detail: str = ""
    evidence: Evidence = field(default_factory=Evidence)

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class StepOutcome:
    """What ``apply`` did: ``action`` is applied | failed | rendered | needs Cilium/Hubble."""

    action: str
    message: str
    evidence: Evidence = field(default_factory=Evidence)
    changes: tuple[str, ...] = ()
    flows: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """Everything but ``failed`` lets the pipeline go on."""
        return self.action != FAILED

    @classmethod
    def applied(cls, message: str, evidence: Evidence | None = None, changes: tuple[str, ...] = ()) -> StepOutcome:
        return cls(APPLIED, message, evidence or Evidence(), changes)

    @classmethod
    def failed(cls, message: str, evidence: Evidence | None = None, changes: tuple[str, ...] = ()) -> StepOutcome:
        return cls(FAILED, message, evidence or Evidence(), changes)


class Step(ABC):
    """One idempotent step of ``up``. Subclasses are frozen dataclasses with these three fields."""

    name: str
    phase: int
    description: str

    @abstractmethod
    def check(self, backend: Backend) -> Condition:
        """Whether the step's goal already holds (read-only)."""

    @abstractmethod
    def apply(self, backend: Backend) -> StepOutcome:
        """Make the goal hold; wait for it on a condition; return the evidence."""

    def undo(self, backend: Backend) -> list[str]:
        """Remove what this step created; returns what was removed (``kind/ns/name`` refs)."""
        return []


def ref(kind: str, name: str, namespace: str | None = None) -> str:
    """An object reference as the ops log writes it: ``pod/gpu/cudatestpod``, ``node/node01``."""
    return f"{kind.lower()}/{namespace}/{name}" if namespace else f"{kind.lower()}/{name}"


def obj_ref(obj: dict[str, Any]) -> str:
    """:func:`ref` of a Kubernetes object dict."""
    md = obj.get("metadata") or {}
    return ref(str(obj.get("kind", "")), str(md.get("name", "")), md.get("namespace"))


def event_text(ev: dict[str, Any]) -> str:
    """One event as ``kubectl describe`` lists it: ``<type> <reason> <object>: <message>``."""
    inv = ev.get("involvedObject") or ev.get("regarding") or {}
    who = ref(str(inv.get("kind", "")), str(inv.get("name", "")), inv.get("namespace"))
    return f"{ev.get('type', 'Normal')} {ev.get('reason', '')} {who}: {ev.get('message') or ev.get('note') or ''}".strip()
