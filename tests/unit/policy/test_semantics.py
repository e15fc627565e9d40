"""Identities, label filtering, selector scoping, L7 matching and verdict details."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.policy import Endpoint
from ai_infra_ops.policy.l7 import HTTPRule, fqdn_matches
from ai_infra_ops.policy.labels import identity_relevant, pod_identity_labels
from ai_infra_ops.policy.loader import engine_from_objects


@pytest.mark.parametrize(("key", "kept"), [
    pytest.param("app", True, id="plain"), pytest.param("app.kubernetes.io/name", True, id="app-k8s-io"),
    pytest.param("pod-template-hash", False, id="pod-template-hash"), pytest.param("controller-revision-hash", False, id="crh"),
    pytest.param("kubernetes.io/hostname", False, id="kubernetes.io"), pytest.param("io.kubernetes.pod.namespace", True, id="ns"),
    pytest.param("statefulset.kubernetes.io/pod-name", False, id="sts"), pytest.param("annotation.x", False, id="annotation")])
def test_identity_label_filter(key: str, kept: bool) -> None:
    assert identity_relevant(key) == kept


def test_pod_labels() -> None:
    pod = {"metadata": {"name": "c", "namespace": "demo", "labels": {"app": "client", "pod-template-hash": "x"}}, "spec": {}}
    assert pod_identity_labels(pod, {}, "default") == (
        "k8s:app=client", "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=demo",
        "k8s:io.cilium.k8s.policy.cluster=default", "k8s:io.cilium.k8s.policy.serviceaccount=default",
        "k8s:io.kubernetes.pod.namespace=demo")


@pytest.mark.parametrize(("rule", "method", "path", "ok"), [
    pytest.param({"path": "/"}, "GET", "/public", False, id="anchored"),
    pytest.param({"path": "/v1/.*"}, "GET", "/v1/a/b", True, id="regex"),
    pytest.param({"method": "GET"}, "get", "/", False, id="method-case"),
    pytest.param({"path": "/healthz"}, "GET", "/healthz?x=1", False, id="query-in-path"),
    pytest.param({"headers": ["X-Token: 42"]}, "GET", "/", True, id="header")])
def test_http_rule(rule: dict[str, Any], method: str, path: str, ok: bool) -> None:
    assert HTTPRule.parse(rule).matches(method, path, "", {"x-token": "42"}) == ok


@pytest.mark.parametrize(("pattern", "name", "ok"), [
    pytest.param("*.cilium.io", "a.cilium.io", True, id="one-label"), pytest.param("*.cilium.io", "cilium.io", False, id="not-apex"),
    pytest.param("*.cilium.io", "a.b.cilium.io", False, id="not-two-labels"), pytest.param("**.cilium.io", "a.b.cilium.io", True, id="double-star"),
    pytest.param("*cilium.io", "cilium.io", True, id="leading-star"), pytest.param("*", "anything.example.", True, id="star"),
    pytest.param("sub*.cilium.io", "SUBx.Cilium.io", True, id="case-insensitive")])
def test_match_pattern(pattern: str, name: str, ok: bool) -> None:
    assert fqdn_matches("", pattern, name) == ok


OBJS: list[dict[str, Any]] = [
    {"kind": "Namespace", "metadata": {"name": "a"}},
    {"kind": "Node", "metadata": {"name": "cp01", "labels": {"node-role.kubernetes.io/control-plane": ""}},
     "status": {"addresses": [{"type": "InternalIP", "address": "192.168.64.10"}]}},
    {"kind": "Node", "metadata": {"name": "node01"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.64.11"}]}},
    {"kind": "Pod", "metadata": {"name": "x", "namespace": "a", "labels": {"app": "same"}}, "spec": {"nodeName": "node01"}},
    {"kind": "Pod", "metadata": {"name": "y", "namespace": "a", "labels": {"app": "same", "pod-template-hash": "q"}}, "spec": {"nodeName": "node01"}},
    {"kind": "Pod", "metadata": {"name": "z", "namespace": "a", "labels": {"app": "other"}}, "spec": {"nodeName": "node01"}},
    {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "p", "namespace": "a", "uid": "u1"},
     "spec": {"endpointSelector": {"matchLabels": {"app": "same"}}, "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "other"}}],
              "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}]}]}],
              "ingressDeny": [{"fromEntities": ["world"]}]}},
]


def test_identities_and_ips() -> None:
    eng, errors = engine_from_objects(OBJS)
    assert not errors
    assert eng.identity_of_pod("a/x").id == eng.identity_of_pod("a/y").id >= 256  # filtered label ignored
    assert eng.identity_of_pod("a/z").id != eng.identity_of_pod("a/x").id
    assert eng.identity_of_ip("192.168.64.11", observer_node="node01").id == 1
    assert eng.identity_of_ip("192.168.64.10", observer_node="node01").id == 7
    assert eng.identity_of_ip("8.8.8.8").id == 2


@pytest.mark.parametrize(("src", "port", "verdict", "reason", "match"), [
    pytest.param("a/z", 80, "ALLOW", None, 2, id="l3-l4-allow"),
    pytest.param("a/z", 81, "DENY", 133, 0, id="default-deny"),
    pytest.param("ip:8.8.8.8", 80, "DENY", 181, 1, id="explicit-deny"),
    pytest.param("node:node01", 9999, "ALLOW", None, 1, id="allow-localhost")])
def test_decide_ingress(src: str, port: int, verdict: str, reason: int | None, match: int) -> None:
    eng, _ = engine_from_objects(OBJS)
    s = Endpoint.ip(src[3:]) if src.startswith("ip:") else Endpoint.node(src[5:]) if src.startswith("node:") else Endpoint.pod(src)
    d = eng.decide(s, Endpoint.pod("a/x"), "TCP", port, "INGRESS")
    assert (d.verdict, d.drop_reason, d.match_type) == (verdict, reason, match), d.explanation


def test_hubble_policy_object_and_explanation() -> None:
    eng, _ = engine_from_objects(OBJS)
    d = eng.decide(Endpoint.pod("a/z"), Endpoint.pod("a/x"), "TCP", 80, "INGRESS")
    assert d.policies == [{"name": "p", "namespace": "a", "labels": [
        "k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy", "k8s:io.cilium.k8s.policy.name=p",
        "k8s:io.cilium.k8s.policy.namespace=a", "k8s:io.cilium.k8s.policy.uid=u1"], "revision": str(eng.revision), "kind": "CiliumNetworkPolicy"}]
    assert "ingress[0] of CiliumNetworkPolicy a/p allows a/z" in d.explanation
    d2 = eng.decide(Endpoint.pod("a/z"), Endpoint.pod("a/x"), "TCP", 81, "INGRESS")
    assert "default deny: no ingress rule of the 1 policy selecting a/x" in d2.explanation


def test_maps_cached_until_revision_changes() -> None:
    eng, _ = engine_from_objects(OBJS)
    ident = eng.identity_of_pod("a/x").id
    m1 = eng.policy_map(ident, "INGRESS")
    assert eng.policy_map(ident, "INGRESS") is m1
    eng.set_policies([])
    m2 = eng.policy_map(ident, "INGRESS")
    assert m2 is not m1 and not m2.enforced


def test_fqdn_learning_enables_ip() -> None:
    objs = OBJS[:6] + [{"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "f", "namespace": "a"},
                        "spec": {"endpointSelector": {"matchLabels": {"app": "other"}}, "egress": [{"toFQDNs": [{"matchPattern": "*.example.com"}]}]}}]
    eng, _ = engine_from_objects(objs)
    before = eng.decide(Endpoint.pod("a/z"), Endpoint.ip("203.0.113.5"), "TCP", 443)
    eng.learn_fqdn("a/z", "api.example.com", ["203.0.113.5"])
    after = eng.decide(Endpoint.pod("a/z"), Endpoint.ip("203.0.113.5"), "TCP", 443)
    assert (before.verdict, after.verdict) == ("DENY", "ALLOW")


def test_pod_ip_endpoint_is_the_pod() -> None:
    eng, _ = engine_from_objects(OBJS)
    ip = eng.pods["a/x"].ip
    by_ip = eng.decide(Endpoint.pod("a/z"), Endpoint.ip(ip), "TCP", 81, "INGRESS")
    by_pod = eng.decide(Endpoint.pod("a/z"), Endpoint.pod("a/x"), "TCP", 81, "INGRESS")
    assert (by_ip.verdict, by_ip.drop_reason) == (by_pod.verdict, by_pod.drop_reason) == ("DENY", 133)


@pytest.mark.parametrize(("host_firewall", "verdict"), [pytest.param(False, "ALLOW", id="host-firewall-off"),
                                                       pytest.param(True, "DENY", id="host-firewall-on")])
def test_node_selector_rules_need_host_firewall(host_firewall: bool, verdict: str) -> None:
    hf = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "host-fw"},
          "spec": {"nodeSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}
    eng, errors = engine_from_objects(OBJS[:6] + [hf], {"hostFirewall": host_firewall})
    assert not errors
    d = eng.decide(Endpoint.ip("8.8.8.8"), Endpoint.node("node01"), "TCP", 22, "INGRESS")
    assert d.verdict == verdict, d.explanation
    ok = eng.decide(Endpoint.pod("a/x"), Endpoint.node("node01"), "TCP", 22, "INGRESS")
    assert ok.verdict == "ALLOW", ok.explanation
