"""The pure parts of ``ai_infra_ops.kube``: URL paths, apply order, probe commands, messages."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.backend import ProbeRequest
from ai_infra_ops.kube.apply import order_objects
from ai_infra_ops.kube.client import ResourceInfo
from ai_infra_ops.kube.events import scheduling_message
from ai_infra_ops.kube.probes import NEEDS, probe_command, unsupported

POD = ResourceInfo("", "v1", "Pod", "pods", True)
CNP = ResourceInfo("cilium.io", "v2", "CiliumNetworkPolicy", "ciliumnetworkpolicies", True)
NODE = ResourceInfo("", "v1", "Node", "nodes", False)


@pytest.mark.parametrize(("info", "args", "path"), [
    (POD, ("gpu", None, None), "/api/v1/namespaces/gpu/pods"),
    (POD, (None, None, None), "/api/v1/pods"),
    (POD, ("gpu", "p", "status"), "/api/v1/namespaces/gpu/pods/p/status"),
    (CNP, ("gpu", "deny", None), "/apis/cilium.io/v2/namespaces/gpu/ciliumnetworkpolicies/deny"),
    (NODE, ("ignored", "node01", None), "/api/v1/nodes/node01"),
])
def test_paths(info: ResourceInfo, args: tuple[Any, Any, Any], path: str) -> None:
    assert info.path(*args) == path


def test_order_puts_crds_then_namespaces_first_and_keeps_the_rest() -> None:
    objs = [{"kind": k, "metadata": {"name": str(i)}} for i, k in
            enumerate(["Pod", "Namespace", "ConfigMap", "CustomResourceDefinition", "Namespace"])]
    assert [(o["kind"], o["metadata"]["name"]) for o in order_objects(objs)] == [
        ("CustomResourceDefinition", "3"), ("Namespace", "1"), ("Namespace", "4"), ("Pod", "0"), ("ConfigMap", "2")]


@pytest.mark.parametrize(("req", "argv"), [
    (ProbeRequest("a/b", "ip:8.8.8.8", 53, "UDP"), ["nc", "-zu", "-w", "3", "8.8.8.8", "53"]),
    (ProbeRequest("a/b", "svc:gpu/gw", 8080, http={"method": "POST", "path": "/v1/predict"}),
     ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-X", "POST",
      "http://gw.gpu.svc.cluster.local:8080/v1/predict"]),
    (ProbeRequest("a/b", "ip:1.1.1.1", None, "ICMP"), ["ping", "-c", "1", "-W", "3", "1.1.1.1"]),
    (ProbeRequest("a/b", "svc:kube-system/kube-dns", 53, "UDP", dns={"query": "dns.google"}),
     ["nslookup", "dns.google", "kube-dns.kube-system.svc.cluster.local"]),
])
def test_probe_commands(req: ProbeRequest, argv: list[str]) -> None:
    assert probe_command(req) == argv


def test_unsupported_probe_says_why() -> None:
    res = unsupported(ProbeRequest("a/b", "ip:8.8.8.8"), "no cilium")
    assert res.supported is False and res.explanation.startswith(NEEDS) and not res.flows


@pytest.mark.parametrize(("pod", "msg"), [
    (None, None),
    ({"status": {"conditions": [{"type": "PodScheduled", "status": "True"}]}}, None),
    ({"status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                 "message": "0/4 nodes are available"}]}}, "0/4 nodes are available"),
])
def test_scheduling_message(pod: dict[str, Any] | None, msg: str | None) -> None:
    assert scheduling_message(pod) == msg
