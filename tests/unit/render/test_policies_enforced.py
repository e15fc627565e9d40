"""The generated policies, run through the policy engine: each intent holds, each seed flaw is closed."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.policy import Endpoint
from ai_infra_ops.policy.loader import engine_from_objects
from ai_infra_ops.render.policies import render_policies
from ai_infra_ops.render.workloads import render_namespaces
from ai_infra_ops.spec import default_spec

SPEC = default_spec()


def _pod(ns: str, name: str, labels: dict[str, str], node: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]}}


@pytest.fixture(scope="module")
def engine() -> Any:
    nodes = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": n.name},
              "status": {"addresses": [{"type": "InternalIP", "address": n.ip}]}} for n in SPEC.nodes]
    pods = [
        _pod("gpu", "cudatestpod", {"app": "cuda"}, "node01"),
        _pod("gpu", "model-server", {"app": "model-server"}, "node02"),
        _pod("gpu", "inference-gateway", {"app": "inference-gateway"}, "node03"),
        _pod("gpu", "inference-client", {"app": "inference-client"}, "node01"),
        _pod("kube-system", "coredns", {"k8s-app": "kube-dns"}, "cp01"),
        _pod("other", "intruder", {"app": "x"}, "node02"),
    ]
    eng, errors = engine_from_objects([*nodes, *render_namespaces(SPEC), *pods, *render_policies(SPEC)])
    assert errors == []
    return eng


@pytest.mark.parametrize("src,dst,proto,port,forwarded", [
    ("gpu/cudatestpod", "ip:8.8.8.8", "ICMP", 0, False),                 # Phase 2 step 8
    ("gpu/cudatestpod", "ip:8.8.8.8", "UDP", 53, False),                 # no DNS around kube-dns
    ("gpu/cudatestpod", "kube-system/coredns", "UDP", 53, True),         # DNS works (seed: blocked)
    ("gpu/cudatestpod", "ip:203.0.113.66", "TCP", 443, False),           # C2C
    ("gpu/cudatestpod", "node:node02", "TCP", 10250, False),             # kubelet
    ("other/intruder", "gpu/model-server", "TCP", 50051, False),         # cross-namespace
    ("gpu/cudatestpod", "gpu/model-server", "TCP", 50051, False),        # no intra-namespace allow
    ("gpu/inference-gateway", "gpu/model-server", "TCP", 50051, True),   # the gRPC path
    ("gpu/inference-client", "gpu/inference-gateway", "TCP", 8080, True),
    ("gpu/inference-client", "gpu/model-server", "TCP", 50051, False),   # client must go through the gateway
], ids=lambda v: str(v))
def test_l3_l4_verdicts(engine: Any, src: str, dst: str, proto: str, port: int, forwarded: bool) -> None:
    def ep(ref: str) -> Endpoint:
        kind, _, rest = ref.partition(":")
        if kind == "ip":
            return Endpoint.ip(rest)
        if kind == "node":
            return Endpoint.node(rest)
        return Endpoint.pod(ref)

    fd = engine.decide_flow(ep(src), ep(dst), proto, port)
    assert fd.forwarded is forwarded, (fd.egress.explanation, fd.ingress.explanation)


@pytest.mark.parametrize("query,allowed", [
    ("model-server.gpu.svc.cluster.local", True),
    ("api.openai.com", True),
    ("c2.evil.example", False),
    ("aGVsbG8gd29ybGQ.exfil.example.net", False),     # DNS tunnelling attempt
])
def test_dns_l7(engine: Any, query: str, allowed: bool) -> None:
    d = engine.decide(Endpoint.pod("gpu/cudatestpod"), Endpoint.pod("kube-system/coredns"), "UDP", 53)
    assert d.verdict == "REDIRECT"
    assert engine.check_l7(d, dns={"query": query}).allowed is allowed


@pytest.mark.parametrize("method,allowed", [("Predict", True), ("ModelInfo", True), ("AdminShutdown", False)])
def test_grpc_methods(engine: Any, method: str, allowed: bool) -> None:
    fd = engine.decide_flow(Endpoint.pod("gpu/inference-gateway"), Endpoint.pod("gpu/model-server"), "TCP", 50051)
    assert len(fd.redirects) == 2
    verdicts = [engine.check_l7(d, grpc={"service": "inference.v1.Predictor", "method": method}) for d in fd.redirects]
    assert all(v.allowed is allowed for v in verdicts)
    if not allowed:
        assert all(v.http_status == 403 for v in verdicts)
