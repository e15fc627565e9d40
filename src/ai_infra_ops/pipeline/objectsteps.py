"""Generic steps over Kubernetes objects: apply a set of objects, label nodes, wait for conditions.

Owns the "already true?" comparison of ``up`` (:func:`differs`: every field the spec states must
be present, equal, in the live object; fields the API server adds are ignored, as ``kubectl diff``
does for server-side apply) and the object-level steps :class:`ApplyObjects`, :class:`LabelNodes`
and :class:`WaitFor`. Waits use ``backend.wait_for`` on a predicate, never a sleep.
Used by ``pipeline.phases``; they see only the ``Backend`` protocol.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..backend import Backend, KubeObject
from ..kube_model import parse_quantity
from .steps import Condition, Evidence, Step, StepOutcome, obj_ref, ref

Predicate = Callable[[KubeObject | None], bool]


def _scalar_eq(want: Any, have: Any) -> bool:
    if want == have:
        return True
    if isinstance(want, bool) or isinstance(have, bool):
        return str(want).lower() == str(have).lower()
    if isinstance(want, (int, float, str)) and isinstance(have, (int, float, str)):
        if str(want) == str(have):
            return True
        try:  # "1" vs 1, "1000m" vs "1": quantities compare by value
            return parse_quantity(want) == parse_quantity(have)
        except (ValueError, TypeError, ZeroDivisionError):
            return False
    return False


def differs(want: Any, have: Any, path: str = "") -> str | None:
    """The first field path where ``have`` does not contain ``want`` (None: it does)."""
    if isinstance(want, Mapping):
        if not isinstance(have, Mapping):
            return path or "."
        for k, v in want.items():
            d = differs(v, have.get(k), f"{path}.{k}" if path else str(k))
            if d is not None:
                return d
        return None
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return path or "."
        for i, (w, h) in enumerate(zip(want, have)):
            d = differs(w, h, f"{path}[{i}]")
            if d is not None:
                return d
        return None
    return None if _scalar_eq(want, have) else (path or ".")


def _desired(obj: KubeObject) -> KubeObject:
    """The part of an object the comparison looks at (no status: controllers own it)."""
    return {k: v for k, v in obj.items() if k != "status"}


def _key(obj: KubeObject) -> tuple[str, str, str | None]:
    md = obj.get("metadata") or {}
    return str(obj.get("kind")), str(md.get("name")), md.get("namespace")


@dataclass(frozen=True)
class Wait:
    """A condition on one object that ``apply`` waits for."""

    kind: str
    name: str
    namespace: str | None
    predicate: Predicate
    description: str
    timeout_s: float = 300.0

    def run(self, backend: Backend) -> tuple[bool, str]:
        res = backend.wait_for(self.kind, self.name, self.namespace, self.predicate,
                               timeout_s=self.timeout_s, description=self.description)
        what = ref(self.kind, self.name, self.namespace)
        if res.ok:
            return True, f"{what}: {self.description} (after {res.waited_s:.1f}s)"
        return False, f"{what}: timed out after {res.waited_s:.0f}s waiting for {self.description}" + (
            f" ({res.message})" if res.message else "")

    def holds(self, backend: Backend) -> bool:
        return bool(self.predicate(backend.get(self.kind, self.name, self.namespace)))


def _missing_or_different(backend: Backend, objects: tuple[KubeObject, ...]) -> list[str]:
    out = []
    for obj in objects:
        kind, name, ns = _key(obj)
        live = backend.get(kind, name, ns)
        if live is None:
            out.append(f"{obj_ref(obj)} missing")
            continue
        d = differs(_desired(obj), live)
        if d is not None:
            out.append(f"{obj_ref(obj)} differs at {d}")
    return out


@dataclass(frozen=True)
class ApplyObjects(Step):
    """Apply ``objects`` (server-side apply) and wait for ``waits``; skipped when all are present,
    equal and every wait condition already holds."""

    name: str
    phase: int
    description: str
    objects: tuple[KubeObject, ...]
    waits: tuple[Wait, ...] = ()
    undoable: bool = True

    def check(self, backend: Backend) -> Condition:
        problems = _missing_or_different(backend, self.objects)
        if problems:
            return Condition(False, "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""))
        for w in self.waits:
            if not w.holds(backend):
                return Condition(False, f"{ref(w.kind, w.name, w.namespace)}: not yet {w.description}")
        return Condition(True, f"{len(self.objects)} object(s) present and unchanged",
                         Evidence(objects=tuple(obj_ref(o) for o in self.objects)))

    def apply(self, backend: Backend) -> StepOutcome:
        results = backend.apply([copy.deepcopy(o) for o in self.objects])
        changes = tuple(str(r) for r in results if r.action != "unchanged")
        notes = []
        for w in self.waits:
            ok, msg = w.run(backend)
            notes.append(msg)
            if not ok:
                return StepOutcome.failed(msg, Evidence(objects=tuple(obj_ref(o) for o in self.objects),
                                                        notes=tuple(notes)), changes)
        ev = Evidence(objects=tuple(obj_ref(o) for o in self.objects), notes=tuple(notes))
        return StepOutcome.applied(f"{len(changes)} of {len(self.objects)} object(s) created/configured", ev, changes)

    def undo(self, backend: Backend) -> list[str]:
        if not self.undoable:
            return []
        removed = []
        for obj in reversed(self.objects):
            kind, name, ns = _key(obj)
            if backend.delete(kind, name, ns):
                removed.append(obj_ref(obj))
        return removed


def _label_object(live: KubeObject, labels: Mapping[str, str | None]) -> KubeObject:
    """The live Node with ``labels`` set (None: removed), as an object to apply."""
    obj = copy.deepcopy(live)
    md = obj.setdefault("metadata", {})
    for k in ("managedFields", "resourceVersion", "generation"):
        md.pop(k, None)
    cur = dict(md.get("labels") or {})
    for k, v in labels.items():
        if v is None:
            cur.pop(k, None)
        else:
            cur[k] = v
    md["labels"] = cur
    return obj


@dataclass(frozen=True)
class LabelNodes(Step):
    """Put labels on nodes (``kubectl label node``); ``labels``: node name -> {key: value}."""

    name: str
    phase: int
    description: str
    labels: Mapping[str, Mapping[str, str]]
    undoable: bool = True

    def _missing(self, backend: Backend) -> list[str]:
        out = []
        for node, want in self.labels.items():
            live = backend.get("Node", node)
            if live is None:
                out.append(f"node/{node} not registered")
                continue
            have = (live.get("metadata") or {}).get("labels") or {}
            out += [f"node/{node} lacks {k}={v}" for k, v in want.items() if have.get(k) != v]
        return out

    def check(self, backend: Backend) -> Condition:
        missing = self._missing(backend)
        if missing:
            return Condition(False, "; ".join(missing[:3]))
        return Condition(True, "labels present", Evidence(objects=tuple(f"node/{n}" for n in self.labels)))

    def apply(self, backend: Backend) -> StepOutcome:
        objs = []
        for node, want in self.labels.items():
            live = backend.get("Node", node)
            if live is None:
                return StepOutcome.failed(f"node/{node} is not registered; cannot label it")
            objs.append(_label_object(live, want))
        results = backend.apply(objs)
        missing = self._missing(backend)
        ev = Evidence(objects=tuple(f"node/{n}" for n in self.labels),
                      notes=tuple(f"node/{n}: " + ", ".join(f"{k}={v}" for k, v in w.items()) for n, w in self.labels.items()))
        changes = tuple(str(r) for r in results if r.action != "unchanged")
        if missing:
            return StepOutcome.failed("labels did not stick: " + "; ".join(missing), ev, changes)
        return StepOutcome.applied(f"labelled {len(objs)} node(s)", ev, changes)

    def undo(self, backend: Backend) -> list[str]:
        if not self.undoable:
            return []
        out = []
        for node, want in self.labels.items():
            live = backend.get("Node", node)
            if live is not None:
                backend.apply([_label_object(live, {k: None for k in want})])
                out.append(f"node/{node} labels {', '.join(want)}")
        return out


@dataclass(frozen=True)
class WaitFor(Step):
    """A pure condition (e.g. all nodes Ready, 24 GPUs allocatable): nothing to apply but a wait."""

    name: str
    phase: int
    description: str
    waits: tuple[Wait, ...]
    summary: Callable[[Backend], Evidence] = field(default=lambda b: Evidence())
    hint: str = ""   # what to do when the condition cannot come true (appended to the failure)

    def check(self, backend: Backend) -> Condition:
        for w in self.waits:
            if not w.holds(backend):
                return Condition(False, f"{ref(w.kind, w.name, w.namespace)}: not yet {w.description}")
        ev = self.summary(backend)
        return Condition(True, "; ".join(ev.notes) or f"{len(self.waits)} condition(s) hold", ev)

    def apply(self, backend: Backend) -> StepOutcome:
        notes = []
        for w in self.waits:
            ok, msg = w.run(backend)
            notes.append(msg)
            if not ok:
                return StepOutcome.failed(f"{msg}; {self.hint}" if self.hint else msg, Evidence(notes=tuple(notes)))
        return StepOutcome.applied(f"{len(self.waits)} condition(s) hold",
                                   self.summary(backend).merge(Evidence(notes=tuple(notes))))
