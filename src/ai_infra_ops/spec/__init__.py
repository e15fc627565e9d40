"""The platform spec (``platform.yaml``): models, defaults (the seed platform), loading, and the
fake-gpu-operator Helm values helpers.

    from ai_infra_ops.spec import PlatformSpec, load_spec, default_spec, dump_spec_yaml
    spec = load_spec(path_or_None)      # None -> the built-in default (the seed platform)

Layer: above ``catalog`` and ``kube_model``; used by render, policy generation, the twin, pipeline
and the CLI. Reference: docs/spec.md.
"""
from __future__ import annotations

from .fake_gpu import (
    CHART_DEFAULTS_0_0_72,
    ValueWarning,
    effective_values,
    generated_values,
    lint_values,
    parse_set_args,
    seed_values,
)
from .load import default_spec, dump_spec_yaml, load_spec, spec_from_data, spec_from_text
from .model import (
    CniSpec,
    FakeGpuOperatorSpec,
    GpuPool,
    HubbleSpec,
    NamespaceSpec,
    NetworkSpec,
    NodeSpec,
    PlatformSpec,
    WorldSpec,
)
from .zero_trust import C2cDeny, EgressAllow, GrpcAllow, HttpAllow, HttpRule, ZeroTrustSpec

__all__ = [
    "CHART_DEFAULTS_0_0_72", "C2cDeny", "CniSpec", "EgressAllow", "FakeGpuOperatorSpec", "GpuPool",
    "GrpcAllow", "HttpAllow", "HttpRule", "HubbleSpec", "NamespaceSpec", "NetworkSpec", "NodeSpec",
    "PlatformSpec", "ValueWarning", "WorldSpec", "ZeroTrustSpec", "default_spec", "dump_spec_yaml",
    "effective_values", "generated_values", "lint_values", "load_spec", "parse_set_args",
    "seed_values", "spec_from_data", "spec_from_text",
]
