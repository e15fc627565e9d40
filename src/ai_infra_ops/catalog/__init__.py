"""The GPU model catalog (20 models): ``get_model("h100")``, ``all_models()``, ``GpuModel``.

Level just above ``kube_model``: imports only ``errors`` and PyYAML. See ``catalog.models``.
"""
from __future__ import annotations

from .models import GpuModel, MigProfile, all_models, get_model, gfd_family, gfd_sanitize

__all__ = ["GpuModel", "MigProfile", "all_models", "get_model", "gfd_family", "gfd_sanitize"]
