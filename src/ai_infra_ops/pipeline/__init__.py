"""The phases and steps of ``up``/``down``: idempotent check -> apply, waits on conditions, ops log.

    from ai_infra_ops.pipeline import build_plan, run_plan, plan_status, run_down
    steps = build_plan(spec, phases=(1, 2), addons=..., token_secret=...)
    result = run_plan(backend, steps, progress=print)

Layer: above ``validate`` (the connectivity suite and the chaos scenario are steps), below
``report`` and ``cli``. Sees only the ``Backend`` protocol. Reference: docs/pipeline.md.
"""
from __future__ import annotations

from .down import run_down
from .opslog import OpsEntry
from .phases import build_plan
from .runner import RunResult, plan_status, run_plan
from .steps import Condition, Evidence, Step, StepOutcome

__all__ = ["Condition", "Evidence", "OpsEntry", "RunResult", "Step", "StepOutcome", "build_plan", "plan_status",
           "run_down", "run_plan"]
