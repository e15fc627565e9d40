"""Drive the plan: check each step, apply it only when its goal does not hold yet, stop at the
first failure, and log every step (``pipeline.opslog``).

A second ``up`` finds every goal true, skips every step and says "nothing to do". Progress goes
to a callback one line per step as it happens; no sleeps anywhere (waits are ``wait_for`` inside
the steps).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..backend import Backend
from ..errors import AiInfraOpsError, BackendUnreachable
from .opslog import OpsEntry
from .steps import APPLIED, FAILED, SKIPPED, Condition, Step, StepOutcome

Progress = Callable[[str], None]


def utc_now() -> str:
    """An ops-log timestamp (UTC, milliseconds)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class RunResult:
    """What ``up`` did: the entries, whether every step succeeded, the failure if any."""

    entries: tuple[OpsEntry, ...]
    ok: bool
    failed_step: str | None
    message: str
    flows: tuple[dict[str, Any], ...] = ()

    @property
    def changed(self) -> int:
        """Steps that changed or observed something (not skipped)."""
        return sum(1 for e in self.entries if e.action != SKIPPED)


def _line(i: int, n: int, step: Step, action: str, dt: float, msg: str) -> str:
    return f"[{i:>2}/{n}] phase {step.phase}  {step.name:<20} {action:<10} {dt:6.2f}s  {msg}"


def run_plan(backend: Backend, steps: Sequence[Step], *, progress: Progress | None = None) -> RunResult:
    """Check -> apply each step in order; stop at the first failed step.

    Args:
        backend: the backend every step talks to.
        steps: the plan (``pipeline.phases.build_plan``).
        progress: called with one line per step as it finishes.

    Returns:
        The run's result with its ops-log entries.

    Raises:
        BackendUnreachable: the cluster cannot be reached (exit code 3, not a failed step).
    """
    entries: list[OpsEntry] = []
    flows: list[dict[str, Any]] = []
    say = progress or (lambda _line: None)
    n = len(steps)
    for i, step in enumerate(steps, 1):
        stamp, t0 = utc_now(), time.perf_counter()
        try:
            cond = step.check(backend)
            if cond:
                outcome = StepOutcome(SKIPPED, f"already true: {cond.detail}", cond.evidence)
            else:
                outcome = step.apply(backend)
        except BackendUnreachable:
            raise   # no step can run without the cluster: the CLI says so once, exit code 3
        except AiInfraOpsError as exc:
            outcome = StepOutcome(FAILED, f"{type(exc).__name__}: {exc}")
        dt = time.perf_counter() - t0
        entries.append(OpsEntry(stamp, step.phase, step.name, step.description, outcome.action, dt,
                                outcome.message, outcome.evidence, outcome.changes))
        flows.extend(outcome.flows)
        say(_line(i, n, step, outcome.action, dt, outcome.message))
        if not outcome.ok:
            msg = f"step {step.name} (phase {step.phase}) failed: {outcome.message}"
            return RunResult(tuple(entries), False, step.name, msg, tuple(flows))
    done = sum(1 for e in entries if e.action != SKIPPED)
    msg = (f"nothing to do: all {n} steps already satisfied" if done == 0
           else f"{done} of {n} steps applied or observed, {n - done} already satisfied")
    if any(e.action == APPLIED for e in entries) is False and done:
        msg += " (no objects changed)"
    return RunResult(tuple(entries), True, None, msg, tuple(flows))


def plan_status(backend: Backend, steps: Sequence[Step]) -> list[tuple[Step, Condition]]:
    """Each step with its current condition (read-only: what ``plan`` prints)."""
    out = []
    for step in steps:
        try:
            cond = step.check(backend)
        except BackendUnreachable:
            raise
        except AiInfraOpsError as exc:
            cond = Condition(False, f"cannot check: {exc}")
        out.append((step, cond))
    return out
