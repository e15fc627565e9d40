"""Admission: strict decoding, names, quantities, pod resources, quota text (reference §4.6, §4.12)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from ai_infra_ops.errors import AdmissionError, ManifestError
from ai_infra_ops.kube_model import load_yaml_text
from ai_infra_ops.twin.admission import check_quota, embedded_yaml_error, validate_object
from twin_fixtures import SEED, pod

POD_YAML = """apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: busybox
      {extra}
"""


@pytest.mark.parametrize("extra,needle,line", [
    ("imagePullPolicyX: Always", 'unknown field "spec.containers[0].imagePullPolicyX"', 9),
    ("resources: {limits: {memory: 12Gx}}", "quantities must match the regular expression", 9),
    ("resources: {limits: {nvidia.com/gpu: 500m}}", 'Invalid value: "500m": must be an integer', 9),
    ("resources: {requests: {nvidia.com/gpu: 1}, limits: {nvidia.com/gpu: 2}}", "must be equal to nvidia.com/gpu limit", 9),
    ("resources: {requests: {nvidia.com/gpu: 1}}", "Limit must be set for non overcommitable resources", 9),
], ids=["unknown-field", "bad-quantity", "fractional-gpu", "request-ne-limit", "request-without-limit"])
def test_pod_rejections_name_file_line_field(extra: str, needle: str, line: int) -> None:
    doc = load_yaml_text(POD_YAML.format(extra=extra), "pod.yaml")[0]
    with pytest.raises(ManifestError) as ei:
        validate_object(doc.value, doc)
    assert needle in str(ei.value)
    assert ei.value.location.file == "pod.yaml"
    assert ei.value.location.line == line
    assert ei.value.location.field and ei.value.location.field.startswith("spec.containers[0]")


@pytest.mark.parametrize("obj,needle", [
    ({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}, 'no matches for kind "Widget"'),
    ({"apiVersion": "apps/v2", "kind": "Deployment", "metadata": {"name": "d"}}, 'in version "apps/v2"'),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "resource name may not be empty"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}, "RFC 1123"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dataX": {}}, 'unknown field "dataX"'),
    ({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
      "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": "x", "portz": []}]}}}},
     'unknown field "spec.template.spec.containers[0].portz"'),
    ({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"pods": "12Gx"}}},
     "quantities must match"),
], ids=["unknown-kind", "bad-apiversion", "no-name", "bad-name", "unknown-top-field", "deployment-strict", "quota-quantity"])
def test_object_rejections(obj: dict, needle: str) -> None:
    with pytest.raises(ManifestError) as ei:
        validate_object(obj)
    assert needle in str(ei.value)


@pytest.mark.parametrize("path", sorted(SEED.glob("*.yaml")), ids=lambda p: p.name)
def test_seed_manifests_decode(path: Path) -> None:
    """The seed's own manifests pass strict decoding (validate_object raises on any problem)."""
    docs = load_yaml_text(path.read_text(), str(path))
    assert docs, f"{path} holds no object"
    for doc in docs:
        assert validate_object(doc.value, doc) is None


def _quota(hard: dict) -> dict:
    return {"metadata": {"name": "gpu-quota", "namespace": "gpu"}, "spec": {"hard": hard}}


@pytest.mark.parametrize("gpus,used,hard,message", [
    (48, 1, "24", 'pods "cudatestpodchaos" is forbidden: exceeded quota: gpu-quota, requested: '
                  "requests.nvidia.com/gpu=48, used: requests.nvidia.com/gpu=1, limited: requests.nvidia.com/gpu=24"),
    (24, 1, "24", 'pods "cudatestpodchaos" is forbidden: exceeded quota: gpu-quota, requested: '
                  "requests.nvidia.com/gpu=24, used: requests.nvidia.com/gpu=1, limited: requests.nvidia.com/gpu=24"),
    (23, 1, "24", None),
])
def test_quota_text(gpus: int, used: int, hard: str, message: str | None) -> None:
    q = _quota({"requests.nvidia.com/gpu": hard})
    p = pod("cudatestpodchaos", gpus)
    if message is None:
        check_quota(p, [q], {"gpu-quota": {"requests.nvidia.com/gpu": Fraction(used)}})
        return
    with pytest.raises(AdmissionError) as ei:
        check_quota(p, [q], {"gpu-quota": {"requests.nvidia.com/gpu": Fraction(used)}})
    assert str(ei.value) == message


def test_quota_must_specify_cpu() -> None:
    q = _quota({"requests.cpu": "2", "limits.memory": "1Gi"})
    with pytest.raises(AdmissionError) as ei:
        check_quota(pod("p", 1), [q], {"gpu-quota": {}})
    assert str(ei.value) == 'pods "p" is forbidden: failed quota: gpu-quota: must specify limits.memory,requests.cpu'


def test_seed_broken_configmap_is_reported_with_inner_position() -> None:
    path = SEED / "h100ConfigMap.yaml"
    doc = load_yaml_text(path.read_text(), str(path))[0]
    err = embedded_yaml_error(doc)
    assert err is not None
    assert (err.location.line, err.location.column, err.location.field) == (10, 19, "data.topology")
    assert "found unexpected end of stream" in str(err)


def test_valid_embedded_yaml_passes() -> None:
    doc = load_yaml_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  t.yml: |\n    a: 1\n", "c.yaml")[0]
    assert embedded_yaml_error(doc) is None


@pytest.mark.parametrize(("body", "needle", "line"), [
    ("spec:\n  endpointSelector: {}\n  egres:\n    - toEntities: [world]\n", 'unknown field "spec.egres"', 6),
    ("spec:\n  endpointSelector: {}\n  egress:\n    - toFQDN: [{matchName: x.io}]\n", 'unknown field "spec.egress[0].toFQDN"', 7),
], ids=["top-level-typo", "peer-typo"])
def test_cilium_policy_unknown_fields_are_refused(body: str, needle: str, line: int) -> None:
    """kubectl's default strict field validation makes the API server refuse unknown CR fields."""
    text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: default}\n" + body
    doc = load_yaml_text(text, "cnp.yaml")[0]
    with pytest.raises(ManifestError) as info:
        validate_object(doc.value, doc)
    assert needle in str(info.value)
    assert f"cnp.yaml:{line}:" in str(info.value)
