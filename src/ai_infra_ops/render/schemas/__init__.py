"""JSON Schemas for what ``render`` emits that Kubernetes' own schemas do not cover.

Owns the CiliumNetworkPolicy/CiliumClusterwideNetworkPolicy schema (``schemas.cilium``) and the
CRD documents written to ``crds/`` (issue 5 item 6: installed on a real API server before the
rendered policies are dry-run). Called by ``render.artifacts`` and ``render.validation``.
"""
from __future__ import annotations

from typing import Any

from ...kube_model.cilium_crd import crd, crd_schema, json_schema, structural_problems

CILIUM_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")

__all__ = ["CILIUM_KINDS", "crd", "crd_documents", "crd_schema", "json_schema", "structural_problems"]


def crd_documents() -> dict[str, list[dict[str, Any]]]:
    """File stem -> documents: ``ciliumnetworkpolicies`` and ``ciliumclusterwidenetworkpolicies``."""
    return {
        "ciliumnetworkpolicies": [crd("CiliumNetworkPolicy")],
        "ciliumclusterwidenetworkpolicies": [crd("CiliumClusterwideNetworkPolicy")],
    }
