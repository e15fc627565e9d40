"""The built-in default spec IS the seed platform (../shared/seed/PHASES.md and manifests)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ai_infra_ops.spec import PlatformSpec, default_spec, load_spec

SEED = Path(__file__).parent / "data" / "seed"
SPEC = default_spec()


@pytest.mark.parametrize("getter, expected", [
    (lambda s: s.kubernetes_version, "1.35"),
    (lambda s: s.kubernetes_patch, "1.35.0"),
    (lambda s: s.network.pod_cidr, "10.244.0.0/16"),
    (lambda s: s.network.service_cidr, "10.96.0.0/12"),
    (lambda s: s.network.cluster_dns_ip, "10.96.0.10"),
    (lambda s: [n.name for n in s.nodes], ["cp01", "node01", "node02", "node03"]),
    (lambda s: [n.name for n in s.workers()], ["node01", "node02", "node03"]),
    (lambda s: s.control_plane().name, "cp01"),
    (lambda s: s.control_plane().taints, [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
    (lambda s: s.control_plane().labels, {"node-role.kubernetes.io/control-plane": "",
                                          "node.kubernetes.io/exclude-from-external-load-balancers": ""}),
    (lambda s: [n.labels for n in s.workers()], [{"node-role.kubernetes.io/worker": f"worker0{i}"} for i in (1, 2, 3)]),
    (lambda s: (s.cni.name, s.cni.version, s.cni.kube_proxy_replacement), ("cilium", "1.18.6", True)),
    (lambda s: (s.cni.hubble.relay, s.cni.hubble.ui, s.cni.cluster_name), (True, True, "default")),
    (lambda s: [(p.name, p.model, p.gpus_per_node, p.label_key) for p in s.gpu_pools],
     [("default", "h100", 8, "run.ai/simulated-gpu-node-pool")]),
    (lambda s: [n.name for n in s.pool_nodes(s.gpu_pools[0])], ["node01", "node02", "node03"]),
    (lambda s: s.pool_for_node("cp01"), None),
    (lambda s: s.pool_for_node("node02").name, "default"),
    (lambda s: s.node_labels("node03")["run.ai/simulated-gpu-node-pool"], "default"),
    (lambda s: s.total_gpus(), 24),
    (lambda s: [(n.name, n.quota, n.quota_name) for n in s.namespaces], [("gpu", {"requests.nvidia.com/gpu": "64"}, "gpu-quota")]),
    (lambda s: s.fake_gpu_operator.chart_version, "0.0.72"),
    (lambda s: s.fake_gpu_operator.values, None),
    (lambda s: s.node_pod_cidrs()["node01"], "10.244.1.0/24"),
    (lambda s: s.world.dns["dns.google"], ["8.8.8.8", "8.8.4.4"]),
    (lambda s: s.world.dns["one.one.one.one"], ["1.1.1.1", "1.0.0.1"]),
    (lambda s: s.world.dns["c2.evil.example"], ["203.0.113.66"]),
])
def test_default_spec_seed_facts(getter, expected) -> None:
    assert getter(SPEC) == expected


@pytest.mark.parametrize("file, getter", [
    ("cudaTestPod.yaml", lambda s: s.workloads[0]),
    ("cudaTestPodChaos.yaml", lambda s: s.chaos_pod),
])
def test_default_workloads_are_the_seed_manifests(file: str, getter) -> None:
    assert getter(SPEC) == yaml.safe_load((SEED / file).read_text())


@pytest.mark.parametrize("kind, name, check", [
    ("Deployment", "model-server", lambda o: o["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1),
    ("Deployment", "model-server", lambda o: o["spec"]["template"]["spec"]["containers"][0]["ports"][0] == {"name": "grpc", "containerPort": 50051, "protocol": "TCP"}),
    ("Deployment", "inference-gateway", lambda o: o["spec"]["template"]["metadata"]["labels"] == {"app": "inference-gateway"}),
    ("Deployment", "inference-gateway", lambda o: o["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"] == "http"),
    ("Service", "model-server", lambda o: (o["spec"]["selector"], o["spec"]["ports"][0]["port"]) == ({"app": "model-server"}, 50051)),
    ("Service", "inference-gateway", lambda o: o["spec"]["ports"][0]["port"] == 8080),
    ("Pod", "inference-client", lambda o: o["metadata"]["labels"] == {"app": "inference-client"}),
])
def test_default_inference_service(kind: str, name: str, check) -> None:
    obj = next(o for o in SPEC.workloads if o["kind"] == kind and o["metadata"]["name"] == name)
    assert obj["metadata"]["namespace"] == "gpu"
    assert check(obj)


def test_default_zero_trust_intents() -> None:
    zt = SPEC.zero_trust
    assert zt.workload_namespaces == ["gpu"] and zt.kubelet_protection and not zt.allow_intra_namespace
    assert [e.fqdn for e in zt.egress_allow] == ["api.openai.com", "huggingface.co"]
    assert all(e.ports == [443] for e in zt.egress_allow)
    assert "203.0.113.66/32" in zt.c2c_deny.cidrs and "c2.evil.example" in zt.c2c_deny.fqdns
    g = zt.grpc_allow[0]
    assert (g.from_, g.to, g.port, g.service) == ({"app": "inference-gateway"}, {"app": "model-server"}, 50051, "inference.v1.Predictor")
    assert g.paths() == ["/inference.v1.Predictor/Predict", "/inference.v1.Predictor/ModelInfo"]
    assert zt.http_allow[0].to == {"app": "inference-gateway"}


def test_default_fake_gpu_values_are_correct() -> None:
    topo = SPEC.fake_gpu_operator_values()["topology"]
    assert topo["nodePools"] == {"default": {"gpuProduct": "NVIDIA-H100-80GB-HBM3", "gpuCount": 8, "gpuMemory": 81559}}
    assert topo["nodePoolLabelKey"] == "run.ai/simulated-gpu-node-pool"


def test_load_none_is_default_and_instances_are_independent() -> None:
    a, b = load_spec(None), load_spec(None)
    assert a == b == PlatformSpec()
    a.workloads[0]["metadata"]["name"] = "changed"
    a.nodes[1].labels["x"] = "y"
    assert b.workloads[0]["metadata"]["name"] == "cudatestpod"
    assert "x" not in default_spec().nodes[1].labels
