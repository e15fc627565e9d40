"""`ai-infra-ops metrics`."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("metrics", help="(not built yet)")
