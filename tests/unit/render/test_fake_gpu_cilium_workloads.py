"""fake-gpu-operator objects and values, Cilium Helm values, namespaces/quotas/workloads."""
from __future__ import annotations

from typing import Any

import pytest
import yaml

from ai_infra_ops.render.cilium import HUBBLE_METRICS, helm_commands, render_cilium_values
from ai_infra_ops.render.fake_gpu import helm_values, render_fake_gpu_artifacts, render_fake_gpu_operator, topology_yaml
from ai_infra_ops.render.validation import validate_object
from ai_infra_ops.render.workloads import render_namespaces, render_quotas, render_workload_artifacts
from ai_infra_ops.spec import default_spec, seed_values, spec_from_data

SPEC = default_spec()
OBJS = render_fake_gpu_operator(SPEC)
BY = {(o["kind"], o["metadata"]["name"]): o for o in OBJS}


def test_chart_objects() -> None:
    assert sorted(BY) == sorted([
        ("ServiceAccount", n) for n in ("kwok-gpu-device-plugin", "nvidia-device-plugin", "status-exporter",
                                        "status-updater", "topology-server")] + [
        ("ConfigMap", "topology"),
        ("Deployment", "status-updater"), ("Deployment", "topology-server"), ("Deployment", "kwok-gpu-device-plugin"),
        ("Deployment", "nvidia-dcgm-exporter-kwok"), ("Deployment", "gpu-operator"),
        ("DaemonSet", "device-plugin"), ("DaemonSet", "nvidia-dcgm-exporter"),
        ("Service", "topology-server"), ("Service", "nvidia-dcgm-exporter"), ("RuntimeClass", "nvidia"),
    ])
    assert all(o["metadata"].get("namespace") == "gpu" for o in OBJS if o["kind"] != "RuntimeClass")
    assert BY[("Deployment", "gpu-operator")]["spec"]["replicas"] == 0
    assert BY[("DaemonSet", "device-plugin")]["spec"]["template"]["spec"]["nodeSelector"] == {"nvidia.com/gpu.deploy.device-plugin": "true"}
    assert BY[("DaemonSet", "nvidia-dcgm-exporter")]["spec"]["template"]["spec"]["nodeSelector"] == {"nvidia.com/gpu.deploy.dcgm-exporter": "true"}
    assert BY[("RuntimeClass", "nvidia")]["handler"] == "runc"


@pytest.mark.parametrize("obj", OBJS, ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_chart_objects_validate(obj: dict[str, Any]) -> None:
    assert validate_object(obj) == []


def test_image_tags_are_the_chart_version() -> None:
    images = [c["image"] for o in OBJS if o["kind"] in ("Deployment", "DaemonSet")
              for c in o["spec"]["template"]["spec"]["containers"] if "fake-gpu-operator" in c["image"]]
    assert images and all(i.endswith(":0.0.72") for i in images)


def test_topology_configmap_holds_the_effective_topology() -> None:
    topo = yaml.safe_load(BY[("ConfigMap", "topology")]["data"]["topology.yml"])
    assert topo == {"migStrategy": "mixed", "nodePoolLabelKey": "run.ai/simulated-gpu-node-pool",
                    "nodePools": {"default": {"gpuCount": 8, "gpuMemory": 81559, "gpuProduct": "NVIDIA-H100-80GB-HBM3"}}}


def test_seed_values_reproduce_the_chart_behaviour() -> None:
    spec = SPEC.model_copy(update={"fake_gpu_operator": SPEC.fake_gpu_operator.model_copy(update={"values": seed_values()})})
    topo = yaml.safe_load(topology_yaml(spec))
    assert topo["nodePools"]["default"] == {"gpuCount": 8, "gpuMemory": 11441, "gpuProduct": "H100"}
    assert topo["nodePoolLabel"] == "run.ai/simulated-gpu-node-pool"   # rendered verbatim, ignored by the operator
    assert helm_values(spec) == seed_values()


@pytest.mark.parametrize("values,absent", [
    ({"devicePlugin": {"enabled": False}}, [("DaemonSet", "device-plugin"), ("ServiceAccount", "nvidia-device-plugin")]),
    ({"statusExporter": {"enabled": False}}, [("DaemonSet", "nvidia-dcgm-exporter"), ("Service", "nvidia-dcgm-exporter")]),
    ({"runtimeClass": {"enabled": False}}, [("RuntimeClass", "nvidia")]),
])
def test_disabled_components_are_not_rendered(values: dict[str, Any], absent: list[tuple[str, str]]) -> None:
    spec = SPEC.model_copy(update={"fake_gpu_operator": SPEC.fake_gpu_operator.model_copy(update={"values": values})})
    names = {(o["kind"], o["metadata"]["name"]) for o in render_fake_gpu_operator(spec)}
    assert not names & set(absent)


def test_disabled_operator_renders_nothing() -> None:
    spec = spec_from_data({"fakeGpuOperator": {"enabled": False}})
    assert render_fake_gpu_operator(spec) == [] and render_fake_gpu_artifacts(spec) == []


def test_values_file_and_helm_command() -> None:
    values = yaml.safe_load([a for a in render_fake_gpu_artifacts(SPEC) if a.path.startswith("helm/")][0].content)
    assert values == helm_values(SPEC)
    assert helm_commands(SPEC)[-1] == [
        "helm", "upgrade", "--install", "gpu-operator", "oci://ghcr.io/run-ai/fake-gpu-operator/fake-gpu-operator",
        "--version", "0.0.72", "--namespace", "gpu", "--values", "fake-gpu-operator-values.yaml", "--wait"]


@pytest.mark.parametrize("data,checks", [
    ({}, {"kubeProxyReplacement": True, "k8sServiceHost": "192.168.64.10", "k8sServicePort": 6443,
          "l7Proxy": True, "policyEnforcementMode": "default", "policyAuditMode": False}),
    ({"cni": {"policyAuditMode": True, "policyEnforcementMode": "always"}},
     {"policyAuditMode": True, "policyEnforcementMode": "always"}),
    ({"cni": {"hubble": {"ui": False}}}, {}),
], ids=["default", "audit-always", "no-ui"])
def test_cilium_values(data: dict[str, Any], checks: dict[str, Any]) -> None:
    spec = spec_from_data(data)
    v = render_cilium_values(spec)
    for k, want in checks.items():
        assert v[k] == want
    assert v["ipam"] == {"mode": "kubernetes"} and v["cluster"] == {"name": "default"}
    assert v["hubble"]["relay"]["enabled"] is True
    assert v["hubble"]["ui"]["enabled"] is spec.cni.hubble.ui
    assert v["hubble"]["metrics"]["enabled"] == HUBBLE_METRICS
    assert helm_commands(spec)[1][:5] == ["helm", "upgrade", "--install", "cilium", "cilium/cilium"]
    assert "1.18.6" in helm_commands(spec)[1]


def test_namespaces_quotas_and_chaos_file() -> None:
    ns = render_namespaces(SPEC)
    assert ns == [{"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "gpu", "labels": {"kubernetes.io/metadata.name": "gpu"}}}]
    assert render_quotas(SPEC) == [{"apiVersion": "v1", "kind": "ResourceQuota",
                                    "metadata": {"name": "gpu-quota", "namespace": "gpu"},
                                    "spec": {"hard": dict(SPEC.namespace("gpu").quota)}}]
    assert "requests.nvidia.com/gpu" in SPEC.namespace("gpu").quota
    paths = [a.path for a in render_workload_artifacts(SPEC)]
    assert "manifests/chaos/cudatestpodchaos.yaml" in paths
    workloads = yaml.safe_load_all([a for a in render_workload_artifacts(SPEC) if a.path.endswith("30-workloads.yaml")][0].content)
    names = [w["metadata"]["name"] for w in workloads if w]
    assert names == ["cudatestpod", "model-server", "model-server", "inference-gateway", "inference-gateway", "inference-client"]
