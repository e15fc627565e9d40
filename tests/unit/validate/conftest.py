"""Validate tests reuse the in-test fake backend of tests/unit/pipeline/fakes.py."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pipeline"))
