"""build_cluster_network (cases -> running cluster), InMemoryView, and the engine/network caches."""
from __future__ import annotations

from typing import Any

import pytest
from network_fixtures import DNS_EGRESS, cnp, make_cluster, node, pod

from ai_infra_ops.twin.network import InMemoryView, NetworkSettings, build_cluster_network, engine_for_view, network_for_view


def _kinds(view: Any, kind: str) -> list[str]:
    return [f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}".lstrip("/") for o in view.objects(kind)]


def test_case_without_nodes_gets_worker_control_plane_and_addons() -> None:
    objs = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "demo"},
             "spec": {"containers": [{"name": "c", "image": "x"}]}}]
    built = build_cluster_network(objs)
    v = built.view
    assert _kinds(v, "Node") == ["cp01", "node01"]
    assert {"default", "demo", "kube-system"} <= set(_kinds(v, "Namespace"))
    assert all(n["metadata"]["labels"]["kubernetes.io/metadata.name"] == n["metadata"]["name"] for n in v.namespaces())
    pods = {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p for p in v.pods()}
    assert pods["demo/a"]["spec"]["nodeName"] == "node01"  # cp01 is tainted
    assert pods["demo/a"]["status"]["podIP"].startswith("10.244.")
    dns = [p for p in v.pods() if p["metadata"].get("labels", {}).get("k8s-app") == "kube-dns"]
    assert len(dns) == 2 and all(p["status"]["podIP"] for p in dns)
    ips = [p["status"]["podIP"] for p in v.pods()]
    assert len(ips) == len(set(ips))
    svcs = {f"{s['metadata']['namespace']}/{s['metadata']['name']}": s["spec"]["clusterIP"] for s in v.services()}
    assert svcs == {"default/kubernetes": "10.96.0.1", "kube-system/kube-dns": "10.96.0.10"}
    assert "node node01 (default worker)" in built.added and built.pending == {}


def test_case_pod_ips_follow_node_slices_in_order() -> None:
    objs = [node("n1", "192.168.64.21"), node("n2", "192.168.64.22"),
            pod("x", "a", {}, "n2"), pod("x", "b", {}, "n2"), pod("x", "c", {}, "n1")]
    v = build_cluster_network(objs).view
    nodes = {n["metadata"]["name"]: n["spec"]["podCIDR"] for n in v.nodes()}
    assert nodes["n1"] == "10.244.0.0/24" and nodes["n2"] == "10.244.1.0/24"
    by_node: dict[str, list[int]] = {}
    for p in v.pods():
        net = nodes[p["spec"]["nodeName"]].rsplit(".", 1)[0]
        assert p["status"]["podIP"].startswith(net + ".")
        by_node.setdefault(p["spec"]["nodeName"], []).append(int(p["status"]["podIP"].rsplit(".", 1)[1]))
    for octets in by_node.values():  # sequential from .2 on every node
        assert sorted(octets) == list(range(2, 2 + len(octets)))
    ips = {p["metadata"]["name"]: int(p["status"]["podIP"].rsplit(".", 1)[1]) for p in v.pods() if p["metadata"]["namespace"] == "x"}
    assert ips["a"] < ips["b"]  # input order


def test_unschedulable_pod_stays_pending_and_cannot_send() -> None:
    big = pod("demo", "huge", {}, "")
    del big["spec"]["nodeName"]
    big["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "500"}}
    built = build_cluster_network([big])
    assert "demo/huge" in built.pending and "Insufficient cpu" in built.pending["demo/huge"]
    from ai_infra_ops.backend import ProbeRequest
    from ai_infra_ops.twin.network import probe

    res = probe(built.view, engine_for_view(built.view), ProbeRequest("demo/huge", "ip:8.8.8.8", None, "ICMP"))
    assert res.supported is False and "cannot send" in res.explanation


def test_view_revision_and_scope() -> None:
    objs = [node("n1", "192.168.64.21")]
    a, b = InMemoryView(objs), InMemoryView(objs)
    assert a.revision() != b.revision()  # different clusters
    assert a.revision().split("@")[1] == b.revision().split("@")[1]  # same content
    s1, s2 = InMemoryView(objs, revision=7, scope="twin"), InMemoryView(objs, revision=7, scope="twin")
    assert s1.revision() == s2.revision() == "twin@7"


@pytest.fixture()
def fqdn_objs() -> list[dict[str, Any]]:
    return [pod("demo", "c", {"app": "c"}, "node01"),
            cnp("demo", "out", {"endpointSelector": {}, "egress": [DNS_EGRESS, {"toFQDNs": [{"matchName": "api.example.com"}]}]})]


def test_engine_cached_per_scope_and_learned_ips_carried_over(fqdn_objs: list[dict[str, Any]]) -> None:
    world = {"api.example.com": ["203.0.113.10"]}
    cl = make_cluster(fqdn_objs, world=world)
    objs = list(cl.view.objects("Pod")) + list(cl.view.objects("Node")) + list(cl.view.objects("Namespace")) \
        + list(cl.view.objects("Service")) + list(cl.view.objects("Endpoints")) + cl.view.policies()
    v1 = InMemoryView(objs, revision=1, scope="t")
    s = NetworkSettings.from_case(None, world)
    e1 = engine_for_view(v1, s)
    assert engine_for_view(InMemoryView(objs, revision=1, scope="t"), s) is e1
    assert network_for_view(v1, s) is network_for_view(InMemoryView(objs, revision=1, scope="t"), s)
    from ai_infra_ops.backend import ProbeRequest
    from ai_infra_ops.twin.network import probe

    assert probe(v1, e1, ProbeRequest("demo/c", "ip:203.0.113.10", 443, "TCP"), settings=s).verdict == "DROPPED"
    assert probe(v1, e1, ProbeRequest("demo/c", "fqdn:api.example.com", 443, "TCP"), settings=s).verdict == "FORWARDED"
    v2 = InMemoryView(objs, revision=2, scope="t")
    e2 = engine_for_view(v2, s)
    assert e2 is not e1
    assert probe(v2, e2, ProbeRequest("demo/c", "ip:203.0.113.10", 443, "TCP"), settings=s).verdict == "FORWARDED"
    other = InMemoryView(objs, revision=2, scope="other-twin")
    assert probe(other, engine_for_view(other, s), ProbeRequest("demo/c", "ip:203.0.113.10", 443, "TCP"), settings=s).verdict == "DROPPED"
