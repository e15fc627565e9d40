"""Catalog lookups, GFD rules and usability of the 20 GPU models."""
from __future__ import annotations

import pytest

from ai_infra_ops.catalog import all_models, get_model, gfd_family, gfd_sanitize
from ai_infra_ops.errors import UserInputError

EXPECTED_IDS = [
    "gb200", "b200", "b100", "h200", "h100", "a100", "a30", "v100", "l4", "t4",
    "mi355x", "mi350x", "mi325x", "mi300x", "mi300a",
    "jaguar-shores", "falcon-shores", "crescent-island", "max-1550", "b580",
]


def test_catalog_has_the_20_models_in_order() -> None:
    assert [m.id for m in all_models()] == EXPECTED_IDS


@pytest.mark.parametrize("name, expected", [
    ("h100", "h100"), ("H100", "h100"), ("  h100 ", "h100"), ("NVIDIA H100 80GB HBM3", "h100"),
    ("nvidia-h100-80gb-hbm3", "h100"), ("H100-SXM5", "h100"), ("MI300X", "mi300x"),
    ("Falcon Shores", "falcon-shores"), ("falcon_shores", "falcon-shores"), ("Tesla T4", "t4"),
    ("Intel(R) Arc(TM) B580 Graphics", "b580"),
])
def test_get_model_accepts_ids_aliases_and_products(name: str, expected: str) -> None:
    assert get_model(name).id == expected


@pytest.mark.parametrize("name", ["x100", "", "h100x", "nvidia"])
def test_unknown_model_lists_known_ids(name: str) -> None:
    with pytest.raises(UserInputError) as exc:
        get_model(name)
    assert "known models: gb200, b200" in str(exc.value)
    assert "b580" in str(exc.value)


@pytest.mark.parametrize("model", [m for m in all_models() if m.vendor == "nvidia"], ids=lambda m: m.id)
def test_nvidia_gfd_product_and_family_follow_gfd_rules(model) -> None:
    assert model.gfd_product == gfd_sanitize(model.product)
    assert model.family == gfd_family(model.compute_capability)
    assert model.resource == "nvidia.com/gpu"


@pytest.mark.parametrize("vendor, resources", [
    ("nvidia", {"nvidia.com/gpu"}), ("amd", {"amd.com/gpu"}),
    ("intel", {"gpu.intel.com/i915", "gpu.intel.com/xe", None}),
])
def test_resource_names_per_vendor(vendor: str, resources: set) -> None:
    got = {m.resource for m in all_models() if m.vendor == vendor}
    assert got <= resources and got


@pytest.mark.parametrize("model_id, usable, status", [
    ("falcon-shores", False, "cancelled"), ("jaguar-shores", False, "announced"),
    ("crescent-island", True, "announced"), ("h100", True, "shipping"), ("b100", True, "announced"),
])
def test_unpublished_models_are_kept_but_not_usable(model_id: str, usable: bool, status: str) -> None:
    m = get_model(model_id)
    assert (m.usable, m.status) == (usable, status)
    assert (m.unusable_reason is None) == usable


@pytest.mark.parametrize("text, expected", [
    ("NVIDIA H100 80GB HBM3", "NVIDIA-H100-80GB-HBM3"), ("Tesla V100-SXM2-32GB", "Tesla-V100-SXM2-32GB"),
    ("Intel(R) Arc(TM) B580  Graphics", "IntelR-ArcTM-B580-Graphics"), ("a/b c", "ab-c"),
])
def test_gfd_sanitize(text: str, expected: str) -> None:
    assert gfd_sanitize(text) == expected


@pytest.mark.parametrize("cc, family", [
    ("7.0", "volta"), ("7.5", "turing"), ("8.0", "ampere"), ("8.6", "ampere"), ("8.9", "ada-lovelace"),
    ("9.0", "hopper"), ("10.0", "blackwell"), ("12.0", "blackwell"), ("6.1", "pascal"), ("4.0", "undefined"),
])
def test_gfd_family(cc: str, family: str) -> None:
    assert gfd_family(cc) == family


def test_h100_gfd_labels_as_a_real_node() -> None:
    labels = get_model("h100").gfd_labels(8)
    assert labels["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"
    assert labels["nvidia.com/gpu.memory"] == "81559"
    assert labels["nvidia.com/gpu.count"] == "8"
    assert labels["nvidia.com/gpu.family"] == "hopper"
    assert (labels["nvidia.com/gpu.compute.major"], labels["nvidia.com/gpu.compute.minor"]) == ("9", "0")
    assert labels["nvidia.com/cuda.driver-version.full"] == "580.159.04"
    assert labels["nvidia.com/cuda.runtime-version.full"] == "13.0"
    assert labels["nvidia.com/mig.capable"] == "true"
    assert "nvidia.com/mig.strategy" not in labels
    assert get_model("h100").gfd_labels(2, mig_strategy="mixed")["nvidia.com/mig.strategy"] == "mixed"
    assert get_model("t4").gfd_labels(1)["nvidia.com/mig.capable"] == "false"
    assert "nvidia.com/gpu.present" not in labels
    with_operator = get_model("h100").gfd_labels(8, gpu_operator=True)
    assert with_operator["nvidia.com/gpu.present"] == "true"
    assert with_operator["nvidia.com/gpu.deploy.mig-manager"] == "true"
    assert len(with_operator) == len(labels) + 10


@pytest.mark.parametrize("model_id, count", [("mi300x", 8), ("h100", 0), ("b580", 1)])
def test_gfd_labels_refused(model_id: str, count: int) -> None:
    with pytest.raises(ValueError):
        get_model(model_id).gfd_labels(count)


@pytest.mark.parametrize("profile, resource", [("1g.10gb", "nvidia.com/mig-1g.10gb"), ("1g.10gb+me", "nvidia.com/mig-1g.10gb.me")])
def test_mig_mixed_resource_names(profile: str, resource: str) -> None:
    p = next(p for p in get_model("h100").mig_profile_details if p.name == profile)
    assert p.resource == resource


@pytest.mark.parametrize("model_id, default", [("h100", 8), ("gb200", 4), ("a30", 4), ("l4", 8), ("b580", 1), ("mi300a", 4)])
def test_default_gpus_per_node_is_first_value(model_id: str, default: int) -> None:
    assert get_model(model_id).gpus_per_node == default
