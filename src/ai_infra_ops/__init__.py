"""ai-infra-ops: one platform spec -> real artifacts, an embedded twin or a real cluster, and receipts.

The public surface is small on purpose; everything else is internal and may change.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
