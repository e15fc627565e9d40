"""`ai-infra-ops plan`."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("plan", help="(not built yet)")
