"""Schema validation: Kubernetes objects (kubernetes-validate), the Cilium policy schema and CRD."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.render import Artifact, validate_artifacts, validate_object
from ai_infra_ops.render.schemas import crd, crd_schema, json_schema, structural_problems
from ai_infra_ops.render.validation import kubernetes_schema_version


def _cnp(spec: dict[str, Any], kind: str = "CiliumNetworkPolicy") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "p"}
    if kind == "CiliumNetworkPolicy":
        meta["namespace"] = "gpu"
    return {"apiVersion": "cilium.io/v2", "kind": kind, "metadata": meta, "spec": spec}


EGRESS_ALL = {"endpointSelector": {}, "egress": [{}]}


@pytest.mark.parametrize("obj,field,needle", [
    ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containerz": []}}, "spec", "containers"),
    ({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "image": "i", "bogus": 1}]}},
     "spec.containers[0]", "bogus"),
    ({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": []}}, "spec.hard", "object"),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": "one"}}, "spec.replicas", "integer"),
    ({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, "apiVersion", "Widget"),
    (_cnp({"endpointSelector": {}, "egress": [{"toFQDN": [{"matchName": "a.b"}]}]}), "spec.egress[0]", "toFQDN"),
    (_cnp({"endpointSelector": {}}), "spec", "not valid"),
    (_cnp({"egress": [{}]}), "spec", "endpointSelector"),
    (_cnp({"endpointSelector": {}, "egress": [{"toEntities": ["internet"]}]}), "spec.egress[0].toEntities[0]", "internet"),
    (_cnp({"endpointSelector": {}, "egress": [{"toPorts": [{"ports": [{"port": "99999"}]}]}]}),
     "spec.egress[0].toPorts[0].ports[0].port", "match"),
    (_cnp({"endpointSelector": {}, "egress": [{"toEndpoints": [{}], "toCIDR": ["1.1.1.1/32"]}]}), "spec.egress[0]", "combining"),
    (_cnp({"endpointSelector": {}, "egress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "UDP"}],
                                                          "rules": {"http": [{}]}}]}]}),
     "spec.egress[0].toPorts[0].ports[0]", "only apply to TCP"),
    (_cnp({"endpointSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}],
                                                           "rules": {"dns": [{"matchName": "a"}]}}]}]}),
     "spec.ingress[0].toPorts[0]", "not allowed on ingress"),
    (_cnp({"endpointSelector": {}, "egress": [{"icmps": [{"fields": [{"type": 8}]}],
                                               "toPorts": [{"ports": [{"port": "80"}]}]}]}), "spec.egress[0]", "ICMPs"),
    (_cnp({"nodeSelector": {}, "egress": [{}]}), "spec", ""),
    (_cnp({"endpointSelector": {}, "nodeSelector": {}, "egress": [{}]}, "CiliumClusterwideNetworkPolicy"), "spec", ""),
    ({**_cnp(EGRESS_ALL), "metadata": {"name": "Bad_Name", "namespace": "gpu"}}, "metadata.name", "match"),
], ids=["pod-missing-containers", "unknown-container-field", "quota-hard-list", "replicas-string", "unknown-kind",
        "cnp-typo", "cnp-no-sections", "cnp-no-selector", "cnp-bad-entity", "cnp-bad-port", "cnp-two-peer-kinds",
        "cnp-http-on-udp", "cnp-dns-on-ingress", "cnp-icmp-with-ports", "cnp-node-selector", "ccnp-both-selectors",
        "cnp-bad-name"])
def test_invalid_objects(obj: dict[str, Any], field: str, needle: str) -> None:
    problems = validate_object(obj)
    assert problems, "expected a problem"
    assert any(f == field and needle in m for f, m in problems), problems


@pytest.mark.parametrize("obj", [
    _cnp(EGRESS_ALL),
    _cnp({"nodeSelector": {"matchLabels": {"node-role.kubernetes.io/control-plane": ""}},
          "ingressDeny": [{"fromEntities": ["world"], "toPorts": [{"ports": [{"port": "10250", "protocol": "TCP"}]}]}]},
         "CiliumClusterwideNetworkPolicy"),
    _cnp({"endpointSelector": {}, "egress": [{"icmps": [{"fields": [{"type": "EchoRequest", "family": "IPv4"}]}]}]}),
    {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "s", "namespace": "gpu"},
     "specs": [EGRESS_ALL, {"endpointSelector": {"matchLabels": {"app": "x"}}, "ingress": [{"fromEndpoints": [{}]}]}]},
], ids=["cnp", "ccnp-host", "cnp-icmp-named", "cnp-specs"])
def test_valid_policies(obj: dict[str, Any]) -> None:
    assert validate_object(obj) == []


@pytest.mark.parametrize("kind", ["CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"])
def test_crd_is_structural_and_valid(kind: str) -> None:
    assert structural_problems(crd_schema(kind)) == []
    doc = crd(kind)
    assert validate_object(doc) == []
    assert doc["spec"]["scope"] == ("Cluster" if kind.startswith("CiliumCluster") else "Namespaced")


@pytest.mark.parametrize("schema,needle", [
    ({"type": "object", "properties": {"a": {"properties": {}}}}, "a: missing type"),
    ({"type": "object", "anyOf": [{"type": "string"}]}, "may not set type"),
    ({"type": "object", "properties": {}, "additionalProperties": {"type": "string"}}, "mutually exclusive"),
], ids=["untyped", "typed-junctor", "props-and-additional"])
def test_structural_checker_catches(schema: dict[str, Any], needle: str) -> None:
    assert any(needle in p for p in structural_problems(schema))


def test_json_schema_closes_objects_but_crd_does_not() -> None:
    assert json_schema("CiliumNetworkPolicy")["properties"]["spec"]["additionalProperties"] is False
    assert "additionalProperties" not in crd_schema("CiliumNetworkPolicy")["properties"]["spec"]


@pytest.mark.parametrize("version,expect_note", [("1.35.0", False), ("1.35", False), ("v1.33.4", False), ("1.99.0", True)])
def test_schema_version_selection(version: str, expect_note: bool) -> None:
    chosen, note = kubernetes_schema_version(version)
    assert (note is not None) is expect_note
    if not expect_note:
        assert chosen.startswith(version.lstrip("v")[:4])


def test_validate_artifacts_reports_file_and_document() -> None:
    bad = Artifact("manifests/x.yaml", "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n"
                                       "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: gpu}\nspec: {}\n")
    broken = Artifact("manifests/y.yaml", "a: [unterminated\n")
    script = Artifact("bootstrap/x.sh", "#!/bin/bash\n")
    problems = validate_artifacts([bad, broken, script])
    assert [(p.path, p.index, p.obj) for p in problems] == [("manifests/x.yaml", 1, "Pod/gpu/p"), ("manifests/y.yaml", 0, "<yaml>")]
    assert "manifests/x.yaml[1] Pod/gpu/p: spec:" in problems[0].render()
