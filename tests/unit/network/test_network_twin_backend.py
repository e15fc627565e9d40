"""Integration: ``TwinBackend.probe`` runs through ``twin.network`` with the store's objects and
stores the flows; the add-ons (``cluster_addons``) give the twin CoreDNS and the apiserver Service."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.backend import FlowQuery, ProbeRequest
from ai_infra_ops.spec import default_spec
from ai_infra_ops.twin.backend import TwinBackend
from ai_infra_ops.twin.network import cluster_addons


@pytest.fixture(scope="module")
def twin() -> Any:
    spec = default_spec()
    tb = TwinBackend.open(None, spec=spec)
    tb.apply(cluster_addons(dns_ip=spec.network.cluster_dns_ip, service_cidr=spec.network.service_cidr,
                            control_plane_ips=[n.ip for n in spec.nodes if n.role == "control-plane"]))
    tb.apply([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "demo", "labels": {"app": "a"}},
         "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "deny-world", "namespace": "demo"},
         "spec": {"endpointSelector": {}, "egress": [{"toEntities": ["cluster"]}]}},
    ])
    return tb


@pytest.mark.parametrize(
    ("target", "port", "proto", "verdict", "reason"),
    [("ip:8.8.8.8", None, "ICMP", "DROPPED", "POLICY_DENIED"),
     ("svc:kube-system/kube-dns", 53, "UDP", "FORWARDED", None),
     ("entity:kube-apiserver", 443, "TCP", "FORWARDED", None)],
    ids=["world-denied", "kube-dns", "apiserver"],
)
def test_twin_probe(twin: Any, target: str, port: int | None, proto: str, verdict: str, reason: str | None) -> None:
    before = len(twin.observe(FlowQuery()))
    res = twin.probe(ProbeRequest("demo/a", target, port, proto))
    assert (res.verdict, res.drop_reason) == (verdict, reason), res.explanation
    assert res.flow_ids and len(res.flow_ids) == len(res.flows)
    assert len(twin.observe(FlowQuery())) == before + len(res.flows)


def test_coredns_pods_run_in_the_twin(twin: Any) -> None:
    pods = twin.list("Pod", "kube-system")
    assert len([p for p in pods if p["metadata"]["labels"].get("k8s-app") == "kube-dns"]) == 2
    assert all(p["status"].get("podIP") for p in pods)
