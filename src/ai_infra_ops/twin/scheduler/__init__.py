"""The twin's kube-scheduler: filters, scores, preemption and FailedScheduling text on node arrays.

Public surface (docs/contracts.md, "twin scheduler"): ``Scheduler``, ``SchedulingResult``,
``pod_requests``, ``validate_pod_resources``; plus ``invalid_pod_message`` (kubectl's line for a
rejected pod), ``parse_version`` and ``run_case`` (a conformance case -> one outcome per pod).
Pure: no store access. Semantics and the upstream sources behind them: docs/scheduler.md.
"""
from __future__ import annotations

from .cases import CaseOutcome, run_case
from .requests import invalid_pod_message, pod_requests, validate_pod_resources
from .scheduler import Scheduler, SchedulingResult
from .versions import VersionTraits, parse_version

__all__ = [
    "CaseOutcome",
    "Scheduler",
    "SchedulingResult",
    "VersionTraits",
    "invalid_pod_message",
    "parse_version",
    "pod_requests",
    "run_case",
    "validate_pod_resources",
]
