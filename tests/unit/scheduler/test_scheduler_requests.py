"""Pod requests and API validation of resources (twin.scheduler.requests)."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.twin.scheduler import invalid_pod_message, pod_requests, validate_pod_resources
from ai_infra_ops.twin.scheduler.requests import node_resources

GI = 1024**3
MI = 1024**2


def pod(containers: list[dict[str, Any]], init: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"containers": containers, **spec}
    if init:
        s["initContainers"] = init
    return {"metadata": {"name": "p", "namespace": "default"}, "spec": s}


def c(requests: dict[str, Any] | None = None, limits: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {}
    if requests is not None:
        res["requests"] = requests
    if limits is not None:
        res["limits"] = limits
    return {"name": "c", "image": "x", "resources": res, **extra}


@pytest.mark.parametrize("p, want", [
    pytest.param(pod([c(limits={"nvidia.com/gpu": 1})]), {"nvidia.com/gpu": 1}, id="limits-only-defaulting"),
    pytest.param(pod([c({"cpu": "500m"}, {"cpu": "2"})]), {"cpu": 500}, id="request-wins-over-limit"),
    pytest.param(pod([c({"cpu": "1", "memory": "1Gi"}), c({"cpu": "250m", "memory": "512Mi"})]),
                 {"cpu": 1250, "memory": GI + 512 * MI}, id="containers-summed"),
    pytest.param(pod([c({"cpu": "1"})], init=[c({"cpu": "3"}), c({"cpu": "2"})]), {"cpu": 3000}, id="init-max"),
    pytest.param(pod([c({"cpu": "1"})], init=[c({"cpu": "500m"}), c({"cpu": "2"}, restartPolicy="Always"),
                                               c({"cpu": "2"})]),
                 {"cpu": 4000}, id="sidecar-adds-to-sum-and-later-inits"),
    pytest.param(pod([c({"cpu": "1"})], overhead={"cpu": "250m", "memory": "120Mi"}),
                 {"cpu": 1250, "memory": 120 * MI}, id="overhead"),
    pytest.param(pod([c({"cpu": "1", "memory": "1Gi"})], resources={"requests": {"cpu": "3"}}),
                 {"cpu": 3000, "memory": GI}, id="pod-level-cpu-replaces-sum"),
    pytest.param(pod([c({"cpu": "0.1"})]), {"cpu": 100}, id="decimal-cpu"),
    pytest.param(pod([c()]), {}, id="best-effort"),
])
def test_pod_requests(p: dict[str, Any], want: dict[str, int]) -> None:
    assert pod_requests(p) == want


@pytest.mark.parametrize("p, want", [
    pytest.param(pod([c()]), {"cpu": 100, "memory": 200 * MI}, id="defaults-for-missing"),
    pytest.param(pod([c({"cpu": "0"})]), {"cpu": 0, "memory": 200 * MI}, id="explicit-zero-kept"),
    pytest.param(pod([c(), c({"memory": "1Gi"})]), {"cpu": 200, "memory": 200 * MI + GI}, id="per-container"),
])
def test_pod_requests_non_zero(p: dict[str, Any], want: dict[str, int]) -> None:
    got = pod_requests(p, non_zero=True)
    assert {k: got[k] for k in ("cpu", "memory")} == want


def test_pod_level_resources_off_before_1_34() -> None:
    p = pod([c({"cpu": "1"})], resources={"requests": {"cpu": "3"}})
    assert pod_requests(p, pod_level_resources=False) == {"cpu": 1000}


@pytest.mark.parametrize("p, errors", [
    pytest.param(pod([c(limits={"nvidia.com/gpu": 2})]), [], id="valid-limits-only"),
    pytest.param(pod([c(limits={"nvidia.com/gpu": 0.5})]), [
        'spec.containers[0].resources.limits[nvidia.com/gpu]: Invalid value: "500m": must be an integer',
        'spec.containers[0].resources.requests[nvidia.com/gpu]: Invalid value: "500m": must be an integer',
    ], id="non-integer-extended"),
    pytest.param(pod([c(requests={"nvidia.com/gpu": 1})]), [
        "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
    ], id="request-without-limit"),
    pytest.param(pod([c({"nvidia.com/gpu": 1}, {"nvidia.com/gpu": 2})]), [
        'spec.containers[0].resources.requests: Invalid value: "1": must be equal to nvidia.com/gpu limit of 2',
    ], id="request-not-equal-limit"),
    pytest.param(pod([c({"cpu": "2"}, {"cpu": "1"})]), [
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ], id="cpu-request-above-limit"),
    pytest.param(pod([c({"memory": "-1Gi"})]), [
        'spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0',
    ], id="negative"),
    pytest.param(pod([c()], init=[c(limits={"amd.com/gpu": "1500m"})]), [
        'spec.initContainers[0].resources.limits[amd.com/gpu]: Invalid value: "1500m": must be an integer',
        'spec.initContainers[0].resources.requests[amd.com/gpu]: Invalid value: "1500m": must be an integer',
    ], id="init-container-path"),
    pytest.param(pod([c(limits={"gpu": 1})]), [
        'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers',
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers',
    ], id="bare-resource-name"),
    pytest.param(pod([c(limits={"memory": "12Gx"})]), [
        "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ], id="malformed-quantity"),
])
def test_validate_pod_resources(p: dict[str, Any], errors: list[str]) -> None:
    assert validate_pod_resources(p) == errors


@pytest.mark.parametrize("errors, want", [
    (["a: b"], 'The Pod "p" is invalid: a: b'),
    (["a: b", "c: d"], 'The Pod "p" is invalid: [a: b, c: d]'),
    (['Pod in version "v1" cannot be handled as a Pod: x'], 'Pod in version "v1" cannot be handled as a Pod: x'),
])
def test_invalid_pod_message(errors: list[str], want: str) -> None:
    assert invalid_pod_message(pod([c()]), errors) == want


@pytest.mark.parametrize("status, want", [
    ({"allocatable": {"cpu": "3910m", "memory": "8Gi", "pods": "110"}}, {"cpu": 3910, "memory": 8 * GI, "pods": 110}),
    ({"capacity": {"cpu": "1k", "nvidia.com/gpu": "8"}}, {"cpu": 1_000_000, "nvidia.com/gpu": 8}),
])
def test_node_resources(status: dict[str, Any], want: dict[str, int]) -> None:
    assert node_resources({"status": status}) == want
