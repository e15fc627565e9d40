"""Test-wide setup: where the shared reference material (``shared/``) lives.

CI clones the repository into a fresh folder with a copy of ``shared/`` beside it; developers have
it at ``/work/shared``. ``AI_INFRA_OPS_SHARED`` (set here if unset) points at whichever exists, so
tests never hard-code one location.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> str:
    candidates = [os.environ.get("AI_INFRA_OPS_SHARED", ""), str(ROOT.parent / "shared"), "/work/shared"]
    for c in candidates:
        if c and (Path(c) / "conformance").is_dir():
            return c
    return str(ROOT.parent / "shared")


os.environ["AI_INFRA_OPS_SHARED"] = _find_shared()
