"""Policy audit: the seed's policy gaps, the generated policies' cleanliness, each finding kind."""
from __future__ import annotations

import os
from typing import Any

import pytest

from ai_infra_ops.errors import PolicyError
from ai_infra_ops.kube_model import load_documents, load_yaml_text
from ai_infra_ops.policy.audit import audit_objects, has_high
from ai_infra_ops.render.fake_gpu import helm_values, render_fake_gpu_operator
from ai_infra_ops.render.policies import render_policies
from ai_infra_ops.render.workloads import render_namespaces, render_workloads
from ai_infra_ops.spec import default_spec, seed_values

SEED = os.environ["AI_INFRA_OPS_SHARED"] + "/seed/manifests"
SPEC = default_spec()


def _codes(findings: list[Any]) -> set[tuple[str, str]]:
    return {(f.severity, f.code) for f in findings}


def _pod(ns: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "x"}]}}


def _cnp(name: str, spec: dict[str, Any], ns: str = "gpu") -> dict[str, Any]:
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


DENY_ALL = _cnp("deny", {"endpointSelector": {}, "ingress": [{}], "egress": [{}]})
APP = _pod("gpu", "app", {"app": "a"})
WEB = _pod("gpu", "web", {"app": "web"})


def test_seed_policy_gaps() -> None:
    import os
    if not os.path.exists(SEED):
        pytest.skip("seed manifests not present")
    docs = load_documents([f"{SEED}/ztpCudaTestPod.yaml", f"{SEED}/cudaTestPod.yaml"])
    findings = audit_objects(docs, helm_values=seed_values(), pools=SPEC.gpu_pools)
    assert {("high", "dns-without-l7"), ("high", "selects-nothing"), ("high", "no-default-deny-ingress"),
            ("medium", "helm-values"), ("low", "no-default-deny-egress-namespace")} <= _codes(findings)
    scoped = [f for f in findings if f.code == "selects-nothing"][0]
    assert scoped.field == "spec.egress[0].toEndpoints[0]"
    assert "kube-system" in scoped.message and "'gpu'" in scoped.message and "getEndpointSelector" in scoped.message
    assert scoped.location.endswith("ztpCudaTestPod.yaml:13:11")
    assert {f.field for f in findings if f.code == "helm-values"} == {
        "topology.nodePoolLabel", "topology.nodePools.default.gpuMemory", "topology.nodePools.default.gpuProduct"}
    assert has_high(findings)


def test_generated_policies_audit_clean() -> None:
    objs = [*render_namespaces(SPEC), *render_workloads(SPEC), *render_fake_gpu_operator(SPEC), *render_policies(SPEC)]
    findings = audit_objects(objs, helm_values=helm_values(SPEC), pools=SPEC.gpu_pools)
    assert [f for f in findings if f.severity in ("high", "medium")] == []


@pytest.mark.parametrize("objs,expected", [
    ([APP, DENY_ALL, _cnp("w", {"endpointSelector": {}, "egress": [{"toEntities": ["world"]}]})], ("high", "world-egress")),
    ([APP, DENY_ALL, _cnp("w", {"endpointSelector": {}, "egress": [{"toCIDR": ["0.0.0.0/0"]}]})], ("high", "world-egress")),
    ([APP, DENY_ALL, _cnp("w", {"endpointSelector": {}, "egress": [{"toPorts": [{"ports": [{"port": "443"}]}]}]})],
     ("high", "world-egress")),
    ([APP, DENY_ALL, _cnp("w", {"endpointSelector": {}, "egress": [{"toEntities": ["all"]}]})], ("high", "world-egress")),
    ([APP, DENY_ALL, _cnp("d", {"endpointSelector": {}, "egress": [{"toEndpoints": [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
        "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}]}]}]})], ("high", "dns-without-l7")),
    ([APP, DENY_ALL, _cnp("s", {"endpointSelector": {"matchLabels": {"app": "nope"}}, "ingress": [{}]})],
     ("medium", "selects-nothing")),
    ([APP, DENY_ALL, _cnp("p", {"endpointSelector": {}, "egress": [{"toEndpoints": [{"matchLabels": {"app": "ghost"}}]}]})],
     ("medium", "selects-nothing")),
    ([APP, _cnp("e", {"endpointSelector": {}, "egress": [{}]})], ("high", "no-default-deny-ingress")),
    ([APP, _cnp("i", {"endpointSelector": {}, "ingress": [{}]})], ("high", "no-default-deny-egress")),
    ([APP, _cnp("i", {"endpointSelector": {}, "ingress": [{}], "enableDefaultDeny": {"ingress": False}, "egress": [{}]})],
     ("high", "no-default-deny-ingress")),
    ([APP, DENY_ALL, _cnp("d", {"endpointSelector": {}, "egress": [{"toEndpoints": [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system"}}]}]})], ("high", "dns-without-l7")),
], ids=["entity-world", "cidr-all", "ports-only", "entity-all", "dns-no-l7-any", "subject-nothing", "peer-nothing",
        "no-ingress-deny", "no-egress-deny", "default-deny-disabled", "dns-l3-only-kube-system"])
def test_findings(objs: list[Any], expected: tuple[str, str]) -> None:
    assert expected in _codes(audit_objects(objs))


L7_INGRESS = _cnp("l7", {"endpointSelector": {"matchLabels": {"app": "web"}}, "ingress": [{
    "fromEndpoints": [{"matchLabels": {"app": "a"}}],
    "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}], "rules": {"http": [{"method": "GET", "path": "/ok"}]}}]}]})


@pytest.mark.parametrize("other,bypassed", [
    ({"endpointSelector": {"matchLabels": {"app": "web"}},
      "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "a"}}], "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]}]}, True),
    ({"endpointSelector": {}, "ingress": [{"fromEndpoints": [{}]}]}, True),
    ({"endpointSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"toPorts": [{"ports": [{"port": "0", "protocol": "TCP"}]}]}]}, True),
    ({"endpointSelector": {"matchLabels": {"app": "web"}},
      "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "a"}}], "toPorts": [{"ports": [{"port": "9090", "protocol": "TCP"}]}]}]}, False),
    ({"endpointSelector": {"matchLabels": {"app": "a"}}, "ingress": [{"fromEndpoints": [{}]}]}, False),
], ids=["l4-same-port", "l3-intra-namespace", "all-ports", "other-port", "other-subject"])
def test_l7_bypass(other: dict[str, Any], bypassed: bool) -> None:
    findings = audit_objects([APP, WEB, DENY_ALL, L7_INGRESS, _cnp("other", other)])
    hits = [f for f in findings if f.code == "l7-bypass"]
    assert bool(hits) is bypassed
    if bypassed:
        assert hits[0].subject == "CiliumNetworkPolicy gpu/l7" and "8080/TCP" in hits[0].message


def test_deployment_templates_are_workloads() -> None:
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "gpu"},
           "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {"metadata": {"labels": {"app": "d"}},
                                                                         "spec": {"containers": []}}}}
    findings = audit_objects([dep, _cnp("x", {"endpointSelector": {"matchLabels": {"app": "d"}}, "ingress": [{}], "egress": [{}]})])
    assert not any(f.code.startswith("no-default-deny-") and f.severity == "high" for f in findings)
    assert ("low", "no-default-deny-ingress-namespace") in _codes(findings)


def test_invalid_policy_strict_and_lenient() -> None:
    docs = load_yaml_text("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: bad, namespace: gpu}\n"
                          "spec:\n  endpointSelector: {}\n  egress:\n    - toEntities: [internet]\n", "bad.yaml")
    with pytest.raises(PolicyError) as exc:
        audit_objects(docs)
    assert "unsupported entity" in str(exc.value) and exc.value.location.file == "bad.yaml"
    assert exc.value.location.line == 7
    lenient = audit_objects(docs, strict=False)
    assert ("high", "invalid-policy") in _codes(lenient)


def test_findings_are_sorted_by_severity() -> None:
    findings = audit_objects([APP, _cnp("w", {"endpointSelector": {}, "egress": [{"toEntities": ["world"]}]})],
                             helm_values={"topology": {"nodePoolLabel": "x"}}, pools=SPEC.gpu_pools)
    order = ["high", "medium", "low", "info"]
    assert [order.index(f.severity) for f in findings] == sorted(order.index(f.severity) for f in findings)


@pytest.mark.parametrize("kwargs,present,absent", [
    ({"enforcement_mode": "always"}, set(), {("high", "no-default-deny-ingress")}),
    ({"enforcement_mode": "never"}, {("high", "enforcement-disabled")}, set()),
    ({"audit_mode": True}, {("high", "audit-mode"), ("high", "no-default-deny-ingress")}, set()),
], ids=["always", "never", "audit-mode"])
def test_cilium_modes(kwargs: dict[str, Any], present: set[tuple[str, str]], absent: set[tuple[str, str]]) -> None:
    codes = _codes(audit_objects([APP, _cnp("e", {"endpointSelector": {}, "egress": [{}]})], **kwargs))
    assert present <= codes and not (absent & codes)
