"""Cluster DNS: kubeadm's CoreDNS add-on objects and CoreDNS's answers."""
from __future__ import annotations

import pytest

from ai_infra_ops.twin.network.dns import ClusterDNS, cluster_addons, coredns_pods
from ai_infra_ops.twin.network.services import ServiceTable
from ai_infra_ops.twin.network.world import World


def _by(objs: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def test_addons_match_kubeadm() -> None:
    objs = cluster_addons(control_plane_ips=["192.168.64.10"], kubernetes_version="1.33")
    kube_dns = _by(objs, "Service", "kube-dns")
    assert kube_dns["metadata"]["namespace"] == "kube-system"
    assert kube_dns["spec"]["clusterIP"] == "10.96.0.10"
    assert [(p["name"], p["port"], p["protocol"]) for p in kube_dns["spec"]["ports"]] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")]
    assert kube_dns["spec"]["selector"] == {"k8s-app": "kube-dns"}
    dep = _by(objs, "Deployment", "coredns")
    assert dep["spec"]["replicas"] == 2
    tmpl = dep["spec"]["template"]
    assert tmpl["metadata"]["labels"] == {"k8s-app": "kube-dns"}
    assert tmpl["spec"]["containers"][0]["image"] == "registry.k8s.io/coredns/coredns:v1.12.0"
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in tmpl["spec"]["tolerations"]
    api = _by(objs, "Service", "kubernetes")
    assert api["metadata"]["namespace"] == "default" and api["spec"]["clusterIP"] == "10.96.0.1"
    assert api["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]
    eps = _by(objs, "Endpoints", "kubernetes")
    assert eps["subsets"] == [{"addresses": [{"ip": "192.168.64.10"}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]


def test_coredns_pods_are_deterministic_replicas() -> None:
    pods = coredns_pods(cluster_addons())
    again = coredns_pods(cluster_addons())
    assert [p["metadata"]["name"] for p in pods] == [p["metadata"]["name"] for p in again]
    assert len(pods) == 2 and len({p["metadata"]["name"] for p in pods}) == 2
    for p in pods:
        assert p["metadata"]["name"].startswith("coredns-")
        assert p["metadata"]["labels"]["k8s-app"] == "kube-dns"
        assert p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"


def _dns() -> ClusterDNS:
    services = [
        {"kind": "Service", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"clusterIP": "10.96.7.7", "ports": [{"port": 80}]}},
    ]
    return ClusterDNS(ServiceTable(services, []), World.from_dns({"api.example.com": ["203.0.113.10"]}),
                      headless={"shop/db": ("10.244.1.9",)})


@pytest.mark.parametrize(
    ("query", "rcode", "ips", "ttl"),
    [
        ("web.shop.svc.cluster.local", 0, ("10.96.7.7",), 30),
        ("WEB.shop.svc.cluster.local.", 0, ("10.96.7.7",), 30),
        ("db.shop.svc.cluster.local", 0, ("10.244.1.9",), 30),
        ("nope.shop.svc.cluster.local", 3, (), 4294967295),
        ("10-244-1-5.shop.pod.cluster.local", 0, ("10.244.1.5",), 30),
        ("api.example.com", 0, ("203.0.113.10",), 30),
        ("dns.google", 0, ("8.8.4.4", "8.8.8.8"), 30),
        ("unknown.example", 3, (), 4294967295),
    ],
    ids=["service", "case-and-dot", "headless", "no-service", "pod-insecure", "world", "always-present", "nxdomain"],
)
def test_answers(query: str, rcode: int, ips: tuple[str, ...], ttl: int) -> None:
    ans = _dns().answer(query)
    assert (ans.rcode, ans.ips, ans.ttl) == (rcode, ips, ttl)
    assert ans.query.endswith(".") and ans.query == ans.query.lower()


@pytest.mark.parametrize(
    ("name", "ns", "expected"),
    [
        ("api.example.com.", "demo", ["api.example.com."]),
        ("web.shop", "demo", ["web.shop.", "web.shop.demo.svc.cluster.local.", "web.shop.svc.cluster.local.",
                              "web.shop.cluster.local."]),
        ("web", None, ["web."]),
    ],
    ids=["absolute", "search-list", "host-client"],
)
def test_lookup_names(name: str, ns: str | None, expected: list[str]) -> None:
    assert _dns().lookup_names(name, ns) == expected


def test_addons_from_spec_and_settings() -> None:
    from ai_infra_ops.spec import default_spec
    from ai_infra_ops.twin.network import NetworkSettings

    spec = default_spec()
    objs = cluster_addons(spec)
    assert _by(objs, "Endpoints", "kubernetes")["subsets"][0]["addresses"] == [{"ip": spec.control_plane().ip}]
    assert _by(objs, "Service", "kube-dns")["spec"]["clusterIP"] == spec.network.cluster_dns_ip
    custom = cluster_addons(NetworkSettings(dns_ip="10.100.0.10", service_cidr="10.100.0.0/16"))
    assert _by(custom, "Service", "kube-dns")["spec"]["clusterIP"] == "10.100.0.10"
    assert _by(custom, "Service", "kubernetes")["spec"]["clusterIP"] == "10.100.0.1"
