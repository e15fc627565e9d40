"""``down``: undo the plan in reverse order — policies, workloads, the test pod, the operator,
quotas and namespaces, labels, Hubble, Cilium's recorded config — then the connectivity fixture
and the step marks. Host steps (kubeadm, node preparation) are not undone through the API: on a
real machine that is ``kubeadm reset``, which ``down`` names instead of pretending.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..backend import Backend
from ..validate.fixture import remove_fixture
from .marks import clear_marks
from .observesteps import HostStep
from .opslog import OpsEntry
from .runner import Progress, utc_now
from .steps import Evidence, Step


def run_down(backend: Backend, steps: Sequence[Step], spec: Any, *, progress: Progress | None = None) -> list[OpsEntry]:
    """Undo ``steps`` in reverse order; returns one ops-log entry per step (action ``deleted`` or
    ``skipped`` when nothing was there)."""
    say = progress or (lambda _l: None)
    entries: list[OpsEntry] = []

    def log(phase: int, name: str, desc: str, removed: list[str], t0: float, note: str = "") -> None:
        action = "deleted" if removed else "skipped"
        msg = note or (f"removed {len(removed)}" if removed else "nothing to remove")
        e = OpsEntry(utc_now(), phase, name, desc, action, time.perf_counter() - t0, msg, Evidence(objects=tuple(removed)))
        entries.append(e)
        say(f"down  {name:<20} {action:<8} {msg}")

    for step in reversed(list(steps)):
        t0 = time.perf_counter()
        if isinstance(step, HostStep):
            log(step.phase, step.name, step.description, [], t0,
                "host step: not undone through the API (on machines: kubeadm reset, see render output)")
            continue
        if step.name == "connectivity":
            log(step.phase, step.name, step.description, remove_fixture(backend, spec), t0)
            continue
        log(step.phase, step.name, step.description, step.undo(backend), t0)
    t0 = time.perf_counter()
    log(0, "step-marks", "the ai-infra-ops state ConfigMap", ["configmap/kube-system/ai-infra-ops-state"]
        if clear_marks(backend) else [], t0)
    return entries
