"""Services: ClusterIP allocation, Endpoints (named targetPort), the load-balancer table."""
from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from ai_infra_ops.twin.network.services import (
    ServiceTable,
    allocate_cluster_ips,
    compute_endpoints,
    find_port,
    pick_backend,
    static_band_size,
)


def svc(name: str, ns: str = "demo", ip: str | None = None, selector: dict[str, str] | None = None,
        ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": ports or [{"name": "http", "port": 80, "targetPort": 8080}]}
    if ip is not None:
        spec["clusterIP"] = ip
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def pod(name: str, ip: str | None, labels: dict[str, str], ports: list[dict[str, Any]] | None = None,
        ready: bool = True, ns: str = "demo") -> dict[str, Any]:
    p: dict[str, Any] = {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
                         "spec": {"nodeName": "node01", "containers": [{"name": "c", "ports": ports or []}]}, "status": {}}
    if ip:
        p["status"] = {"podIP": ip, "phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return p


def test_static_band() -> None:
    assert static_band_size(ipaddress.IPv4Network("10.96.0.0/12")) == 256
    assert static_band_size(ipaddress.IPv4Network("10.96.0.0/24")) == 16


def test_allocation_is_deterministic_and_in_upper_band() -> None:
    services = [svc("a"), svc("b"), svc("kube-dns", "kube-system", "10.96.0.10")]
    first = allocate_cluster_ips(services, "10.96.0.0/12")
    again = allocate_cluster_ips(list(reversed(services)) + [svc("c")], "10.96.0.0/12")
    assert first[("kube-system", "kube-dns")] == "10.96.0.10"
    assert first[("demo", "a")] == again[("demo", "a")] and first[("demo", "b")] == again[("demo", "b")]
    for key in (("demo", "a"), ("demo", "b")):
        off = int(ipaddress.IPv4Address(first[key])) - int(ipaddress.IPv4Address("10.96.0.0"))
        assert 256 <= off < 2**20 - 1


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ([svc("a", ip="10.200.0.1")], "not in the valid range"),
        ([svc("a", ip="10.96.0.10"), svc("b", ip="10.96.0.10")], "already allocated"),
    ],
    ids=["outside-cidr", "duplicate"],
)
def test_allocation_errors(services: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        allocate_cluster_ips(services, "10.96.0.0/12")


def test_headless_and_external_name_get_no_ip() -> None:
    ext = svc("ext")
    ext["spec"]["type"] = "ExternalName"
    out = allocate_cluster_ips([svc("h", ip="None"), ext], "10.96.0.0/12")
    assert out == {}


@pytest.mark.parametrize(
    ("target", "protocol", "expected"),
    [(8080, "TCP", 8080), ("8080", "TCP", 8080), ("web", "TCP", 9000), ("web", "UDP", None), ("nope", "TCP", None)],
    ids=["number", "numeric-string", "named", "named-wrong-protocol", "unknown-name"],
)
def test_find_port(target: int | str, protocol: str, expected: int | None) -> None:
    p = pod("p", "10.244.1.2", {}, [{"name": "web", "containerPort": 9000, "protocol": "TCP"}])
    assert find_port(p, target, protocol) == expected


def test_endpoints_named_target_port_groups_and_readiness() -> None:
    service = svc("web", selector={"app": "web"}, ports=[{"name": "http", "port": 80, "targetPort": "http"}])
    pods = [
        pod("a", "10.244.1.3", {"app": "web"}, [{"name": "http", "containerPort": 8080}]),
        pod("b", "10.244.1.2", {"app": "web"}, [{"name": "http", "containerPort": 9090}]),
        pod("c", "10.244.1.4", {"app": "web"}, [{"name": "http", "containerPort": 8080}], ready=False),
        pod("d", "10.244.1.5", {"app": "web"}, [{"name": "other", "containerPort": 8080}]),
        pod("e", None, {"app": "web"}, [{"name": "http", "containerPort": 8080}]),
        pod("f", "10.244.1.6", {"app": "db"}, [{"name": "http", "containerPort": 8080}]),
        pod("g", "10.244.2.6", {"app": "web"}, [{"name": "http", "containerPort": 8080}], ns="other"),
    ]
    (ep,) = compute_endpoints([service], pods)
    subsets = ep["subsets"]
    assert [s["ports"] for s in subsets] == [[{"name": "http", "port": 8080, "protocol": "TCP"}],
                                             [{"name": "http", "port": 9090, "protocol": "TCP"}]]
    assert [a["ip"] for a in subsets[0]["addresses"]] == ["10.244.1.3"]
    assert [a["ip"] for a in subsets[0]["notReadyAddresses"]] == ["10.244.1.4"]
    assert [a["targetRef"]["name"] for a in subsets[1]["addresses"]] == ["b"]


def test_service_table_and_backend_choice() -> None:
    service = svc("web", ip="10.96.5.5", selector={"app": "web"})
    pods = [pod(n, f"10.244.1.{i + 2}", {"app": "web"}) for i, n in enumerate("abc")]
    table = ServiceTable([service], compute_endpoints([service], pods))
    fe = table.frontend("10.96.5.5", 80, "TCP")
    assert fe is not None and fe.service == "demo/web" and len(fe.backends) == 3
    assert {b.port for b in fe.backends} == {8080}
    assert table.frontend("10.96.5.5", 80, "UDP") is None
    assert table.service_of_ip("10.96.5.5") == "demo/web"
    assert table.cluster_ip("demo/web") == "10.96.5.5"
    chosen = pick_backend(fe, "demo/client")
    assert chosen == pick_backend(fe, "demo/client")
    assert len({pick_backend(fe, f"demo/c{i}") for i in range(30)}) > 1


def test_service_without_backends() -> None:
    service = svc("web", ip="10.96.5.5", selector={"app": "web"})
    table = ServiceTable([service], compute_endpoints([service], []))
    fe = table.frontend("10.96.5.5", 80, "TCP")
    assert fe is not None and pick_backend(fe, "x") is None
