"""fake-gpu-operator Helm values: --set parsing, helm-style merge, and lint of the seed's values."""
from __future__ import annotations

import pytest

from ai_infra_ops.spec import (
    CHART_DEFAULTS_0_0_72,
    default_spec,
    effective_values,
    generated_values,
    lint_values,
    parse_set_args,
    seed_values,
    spec_from_text,
)

POOLS = default_spec().gpu_pools


@pytest.mark.parametrize("args, expected", [
    (["a.b=8"], {"a": {"b": 8}}),
    (["a.b=H100"], {"a": {"b": "H100"}}),
    (["a=true,b=false,c=null"], {"a": True, "b": False, "c": None}),
    (["a=0", "b=007", "c=-3", "d=1.5"], {"a": 0, "b": "007", "c": -3, "d": "1.5"}),
    (["a={x,y,3}"], {"a": ["x", "y", 3]}),
    (["l[1]=v"], {"l": [None, "v"]}),
    (["l[0].name=amd.com/gpu", "l[0].count=8"], {"l": [{"name": "amd.com/gpu", "count": 8}]}),
    ([r"nodeSelector.kubernetes\.io/role=gpu"], {"nodeSelector": {"kubernetes.io/role": "gpu"}}),
    ([r"a=x\,y"], {"a": "x,y"}),
    (["a.b=1", "a.c=2", "a.b=3"], {"a": {"b": 3, "c": 2}}),
    (["a="], {"a": ""}),
])
def test_parse_set_args_like_helm(args: list[str], expected: dict) -> None:
    assert parse_set_args(args) == expected


@pytest.mark.parametrize("args", [["novalue"], ["a.b"]])
def test_parse_set_args_rejects_missing_value(args: list[str]) -> None:
    with pytest.raises(ValueError, match="has no value"):
        parse_set_args(args)


def test_seed_values_are_the_seed_set_args() -> None:
    assert seed_values() == {"topology": {"nodePools": {"default": {"gpuCount": 8, "gpuProduct": "H100"}},
                                          "nodePoolLabel": "run.ai/simulated-gpu-node-pool"}}


def test_effective_seed_values_keep_k80_memory() -> None:
    eff = effective_values(seed_values())
    assert eff["topology"]["nodePools"]["default"] == {"gpuProduct": "H100", "gpuCount": 8, "gpuMemory": 11441}
    assert eff["topology"]["nodePoolLabelKey"] == "run.ai/simulated-gpu-node-pool"
    assert eff["topology"]["nodePoolLabel"] == "run.ai/simulated-gpu-node-pool"   # rendered, never read
    assert eff["topology"]["migStrategy"] == "mixed"
    assert CHART_DEFAULTS_0_0_72["topology"]["nodePools"]["default"]["gpuProduct"] == "Tesla-K80"   # not mutated


@pytest.mark.parametrize("user, path, expected", [
    ({}, ("topology", "nodePools", "default", "gpuCount"), 2),
    ({"topology": {"nodePools": {"h100": {"gpuCount": 8}}}}, ("topology", "nodePools", "default", "gpuProduct"), "Tesla-K80"),
    ({"topology": {"nodePools": {"default": None}}}, ("topology", "nodePools"), {}),
    ({"topology": {"migStrategy": "none"}}, ("topology", "migStrategy"), "none"),
    ({"statusUpdater": {"disableNodeLabeling": True}}, ("statusUpdater", "enabled"), True),
])
def test_effective_values_merge_like_helm(user: dict, path: tuple, expected: object) -> None:
    v = effective_values(user)
    for p in path:
        v = v[p]
    assert v == expected


def test_lint_seed_values() -> None:
    warnings = lint_values(seed_values(), POOLS)
    got = {(w.path, w.severity) for w in warnings}
    assert got == {
        ("topology.nodePoolLabel", "warning"),
        ("topology.nodePools.default.gpuMemory", "warning"),
        ("topology.nodePools.default.gpuProduct", "warning"),
    }
    text = "\n".join(w.render() for w in warnings)
    assert "topology.nodePoolLabelKey" in text
    assert "Tesla-K80 default 11441 MiB is used; h100 has 81559 MiB" in text
    assert "'H100' is not the product label a real h100 node shows ('NVIDIA-H100-80GB-HBM3')" in text


def test_generated_values_lint_clean() -> None:
    assert lint_values(generated_values(POOLS), POOLS) == []


@pytest.mark.parametrize("values, path, severity, fragment", [
    ({"topology": {"nodePools": {"default": {"gpuProduct": "NVIDIA-H100-80GB-HBM3", "gpuCount": 4, "gpuMemory": 81559}}}},
     "topology.nodePools.default.gpuCount", "warning", "4 differs from pool 'default': 8 per node"),
    ({"topology": {"nodePools": {"default": {"gpuProduct": "NVIDIA H100 80GB HBM3", "gpuCount": 8, "gpuMemory": 81559}}}},
     "topology.nodePools.default.gpuProduct", "error", "not a valid label value"),
    ({"topology": {"nodePools": {"default": {"gpuProduct": "NVIDIA-H100-80GB-HBM3", "gpuCount": 8, "gpuMemory": 81920}}}},
     "topology.nodePools.default.gpuMemory", "warning", "81920 MiB differs from h100's 81559 MiB"),
    ({"topology": {"nodePools": {"default": None, "h100": {"gpuCount": 8}}}},
     "topology.nodePools.default", "warning", "missing: nodes of spec pool 'default'"),
    ({"topology": {"nodePools": {"gpu": {"gpuProduct": "NVIDIA-H100-80GB-HBM3", "gpuCount": 8, "gpuMemory": 81559}}}},
     "topology.nodePools.gpu", "info", "no spec GPU pool is called 'gpu'"),
    ({"topology": {"nodePoolLabelKey": "example.com/pool"}},
     "topology.nodePoolLabelKey", "warning", "labels its nodes with 'run.ai/simulated-gpu-node-pool'"),
    ({"topology": {"migStrategy": "sometimes"}}, "topology.migStrategy", "warning", "is not one of none, single, mixed"),
    ({"topology": {"nodePools": {"default": {"gpuType": "h100"}}}}, "topology.nodePools.default.gpuType", "warning", "ignored by the chart"),
    ({"devicePlugn": {"enabled": True}}, "devicePlugn", "info", "no effect"),
])
def test_lint_findings(values: dict, path: str, severity: str, fragment: str) -> None:
    found = [w for w in lint_values(values, POOLS) if w.path == path]
    assert any(w.severity == severity and fragment in w.message for w in found), found


def test_lint_non_nvidia_pool_uses_other_devices() -> None:
    spec = spec_from_text("gpuPools:\n  - {name: amd, model: mi300x}\n", "p.yaml")
    values = generated_values(spec.gpu_pools)
    assert values["topology"]["nodePools"]["default"] is None
    assert values["topology"]["nodePools"]["amd"] == {"gpuProduct": "AMD-Instinct-MI300X", "gpuCount": 0, "gpuMemory": 196592,
                                                      "otherDevices": [{"name": "amd.com/gpu", "count": 8}]}
    assert lint_values(values, spec.gpu_pools) == []


def test_spec_with_seed_values_reproduces_the_seed() -> None:
    spec = default_spec()
    spec.fake_gpu_operator.values = seed_values()
    pool = spec.fake_gpu_operator_values()["topology"]["nodePools"]["default"]
    assert (pool["gpuProduct"], pool["gpuMemory"], pool["gpuCount"]) == ("H100", 11441, 8)
