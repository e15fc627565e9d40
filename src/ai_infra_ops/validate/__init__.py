"""The validation suite: scenarios -> checks with evidence, through the backend protocol only.

    from ai_infra_ops.validate import run_validation, ValidationReport, CheckResult
    report = run_validation(backend, spec)      # connectivity, zero-trust, GPU checks

Layer: below ``pipeline`` (which runs the connectivity part as a Phase 1 step) and ``report``.
Reference: docs/validation.md.
"""
from __future__ import annotations

from .checks import FAIL, NEEDS_NETWORK, PASS, SKIP, CheckResult
from .suite import NodeRow, ValidationReport, run_validation

__all__ = ["FAIL", "NEEDS_NETWORK", "PASS", "SKIP", "CheckResult", "NodeRow", "ValidationReport", "run_validation"]
