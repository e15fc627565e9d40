"""Receipts of a run: ops log (JSONL + Markdown), JUnit XML, flows, and the self-contained HTML
report with the flow table and the service map.

    from ai_infra_ops.report import write_receipts, latest, load_receipt, rerender

Layer: above ``pipeline`` and ``validate``; sees no backend. Reference: docs/receipts.md.
"""
from __future__ import annotations

from pathlib import Path

from .receipts import FILES, Receipt, load_receipt, receipts_dirs, rerender, write_receipts


def latest(state_dir: Path) -> Path | None:
    """The newest receipts directory under ``state_dir`` (None: none yet)."""
    dirs = receipts_dirs(state_dir)
    return dirs[-1] if dirs else None


__all__ = ["FILES", "Receipt", "latest", "load_receipt", "receipts_dirs", "rerender", "write_receipts"]
