"""The FailedScheduling text, as kube-scheduler assembles it.

Owns the reason strings of the filter plugins and the three assembly rules:

* ``fit_error`` — ``FitError.Error()`` (kubernetes/kubernetes: pkg/scheduler/framework/types.go):
  ``0/N nodes are available: `` + the reason histogram, each entry ``"<count> <reason>"``, sorted as
  plain strings (so ``"10 X"`` sorts before ``"2 Y"``), joined by ``", "`` and closed with ``.``;
  nodes without an explicit status count under the absent-status reasons; then the PostFilter
  message, joined with one space and no extra period (#117588).
* ``preemption_message`` — DefaultPreemption's own FitError behind ``preemption: ``
  (pkg/scheduler/framework/preemption/preemption.go; absent nodes =
  ``Preemption is not helpful for scheduling``).
* ``truncate_event`` — the event note is cut to 1024 bytes: first 1020 + ``" ..."``
  (schedule_one.go: truncateMessage, NoteLengthLimit); the pod condition keeps the full text.

Called by ``scheduler`` and ``preemption``; pure.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from .versions import VersionTraits

NO_NODES = "no nodes available to schedule pods"
ERR_UNSCHEDULABLE = "node(s) were unschedulable"
ERR_NODE_NAME = "node(s) didn't match the requested node name"
ERR_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
ERR_PORTS = "node(s) didn't have free ports for the requested pod ports"
ERR_TOO_MANY_PODS = "Too many pods"
ERR_TAINT_GENERIC = "node(s) had untolerated taint(s)"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never."
DRA_NO_CLAIMS = "no new claims to deallocate"
NOTE_LENGTH_LIMIT = 1024
SCHEDULING_GATED = "Scheduling is blocked due to non-empty scheduling gates"


def insufficient(resource: str) -> str:
    """NodeResourcesFit's reason for one resource (``Insufficient nvidia.com/gpu``)."""
    return f"Insufficient {resource}"


def taint_reason(traits: VersionTraits, key: str, value: str) -> str:
    """TaintToleration's reason: the first untolerated taint up to 1.34.2, generic from #134740."""
    if traits.generic_taint_text:
        return ERR_TAINT_GENERIC
    return f"node(s) had untolerated taint {{{key}: {value}}}"


def fit_error(n_all: int, histogram: Mapping[str, int], postfilter: Iterable[str] = ()) -> str:
    """``FitError.Error()`` from a reason histogram (already including absent-node counts)."""
    msg = f"0/{n_all} nodes are available:"
    parts = sorted(f"{n} {reason}" for reason, n in histogram.items() if n)
    if parts:
        msg += " " + ", ".join(parts) + "."
    post = ", ".join(p for p in postfilter if p)
    if post:
        msg += " " + post
    return msg


def preemption_message(n_all: int, histogram: Mapping[str, int], evaluated: int) -> str:
    """``preemption: 0/N nodes are available: ...``.

    Args:
        n_all: all nodes.
        histogram: reasons of the ``evaluated`` nodes the dry run looked at (a node may add
            several reasons, e.g. ``Insufficient cpu`` and ``Insufficient memory``).
        evaluated: how many nodes have an explicit status; the others get the absent status
            ``Preemption is not helpful for scheduling``.
    """
    full = dict(histogram)
    if evaluated < n_all:
        full[NOT_HELPFUL] = full.get(NOT_HELPFUL, 0) + (n_all - evaluated)
    return "preemption: " + fit_error(n_all, full)


def truncate_event(message: str) -> str:
    """The event note: at most 1024 bytes, else the first 1020 bytes and ``" ..."``."""
    raw = message.encode("utf-8")
    if len(raw) <= NOTE_LENGTH_LIMIT:
        return message
    return raw[: NOTE_LENGTH_LIMIT - 4].decode("utf-8", errors="ignore") + " ..."


def scheduled_event(namespace: str, name: str, node: str) -> str:
    """The Normal ``Scheduled`` event (schedule_one.go: finishSchedulingCycle)."""
    return f"Successfully assigned {namespace}/{name} to {node}"
