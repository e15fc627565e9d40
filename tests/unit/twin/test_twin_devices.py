"""fake-gpu-operator 0.0.72 in the twin (reference §0, §1.3–§1.6)."""
from __future__ import annotations

from typing import Any

import pytest
import yaml
from twin_fixtures import CORRECT_TOPOLOGY, POOL_KEY, SEED_TOPOLOGY, fake_gpu_objects, gpu_namespace, label_workers, pod

from ai_infra_ops.twin.backend import TwinBackend
from ai_infra_ops.twin.topology import NodeTopology, dump_node_topology, go_yaml_string, gpu_id, new_node_topology, PoolTopology


def _gpu_labels(n: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in n["metadata"]["labels"].items() if k.startswith(("nvidia.com/", "run.ai/fake"))}


@pytest.mark.parametrize("node,index,expected", [
    ("worker01", 0, "GPU-f9a328eb-54ea-5c9a-9e4a-5e7576233eab"),
    ("worker01", 1, "GPU-6a24f808-204f-5a51-bc80-3550a4d7d7d9"),
    ("worker02", 0, "GPU-a05eee3c-fa28-5d20-a5b6-a63ea341d945"),
    ("kwok-node-0", 0, "GPU-78e893ca-f584-5717-ba7f-4e256b599bab"),
])
def test_gpu_ids_match_the_operator(node: str, index: int, expected: str) -> None:
    assert gpu_id(node, index) == expected


@pytest.mark.parametrize("text,expected", [
    ("", '""'), ("true", '"true"'), ("123", '"123"'), ("y", '"y"'), ("a: b", "'a: b'"),
    ("H100", "H100"), ("NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"), ("GPU-1", "GPU-1"), ("#x", "'#x'"),
])
def test_strings_quoted_like_yaml_v3(text: str, expected: str) -> None:
    assert go_yaml_string(text) == expected


# Output of gopkg.in/yaml.v3 v3.0.1 Marshal for the same NodeTopology value (captured with Go).
YAML_V3 = """gpuMemory: 11441
gpuProduct: H100
gpus:
    - id: GPU-a
      status:
        allocatedBy:
            namespace: gpu
            pod: cudatestpod
            container: cudatestpod
        podGpuUsageStatus:
            uid-0:
                utilization:
                    min: 0
                    max: 0
                fbUsed: 5
                useKnativeUtilization: true
            uid-1:
                utilization:
                    min: 100
                    max: 100
                fbUsed: 11441
                useKnativeUtilization: false
    - id: GPU-b
      status:
        allocatedBy:
            namespace: ""
            pod: ""
            container: ""
        podGpuUsageStatus: {}
migStrategy: mixed
"""


def test_node_topology_bytes_match_go() -> None:
    from ai_infra_ops.twin.topology import GpuEntry

    t = NodeTopology(11441, "H100", [
        GpuEntry("GPU-a", "gpu", "cudatestpod", "cudatestpod", {
            "uid-1": {"utilization": {"min": 100, "max": 100}, "fbUsed": 11441, "useKnativeUtilization": False},
            "uid-0": {"utilization": {"min": 0, "max": 0}, "fbUsed": 5, "useKnativeUtilization": True}}),
        GpuEntry("GPU-b")], "mixed")
    assert dump_node_topology(t) == YAML_V3


def test_other_devices_and_empty_gpus() -> None:
    t = new_node_topology("n", PoolTopology(0, 11441, "NVIDIA H100 80GB HBM3", (("amd.com/gpu", 2),)), "mixed")
    assert dump_node_topology(t) == ("gpuMemory: 11441\ngpuProduct: NVIDIA H100 80GB HBM3\ngpus: []\nmigStrategy: mixed\n"
                                     "otherDevices:\n    - name: amd.com/gpu\n      count: 2\n")


@pytest.mark.parametrize("topology,product,memory", [
    (SEED_TOPOLOGY, "H100", "11441"),
    (CORRECT_TOPOLOGY, "NVIDIA-H100-80GB-HBM3", "81559"),
], ids=["seed-values", "correct-values"])
def test_workers_get_gpus_and_labels(tb: TwinBackend, topology: dict, product: str, memory: str) -> None:
    tb.apply(gpu_namespace())
    label_workers(tb)
    tb.apply(fake_gpu_objects(topology))
    nodes = {n["metadata"]["name"]: n for n in tb.list("nodes")}
    assert "nvidia.com/gpu" not in nodes["cp01"]["status"]["allocatable"]
    assert _gpu_labels(nodes["cp01"]) == {}
    for name in ("node01", "node02", "node03"):
        n = nodes[name]
        assert n["status"]["capacity"]["nvidia.com/gpu"] == "8"
        assert n["status"]["allocatable"]["nvidia.com/gpu"] == "8"
        assert _gpu_labels(n) == {
            "nvidia.com/gpu.count": "8", "nvidia.com/gpu.deploy.compute-domain-dra-plugin": "true",
            "nvidia.com/gpu.deploy.dcgm-exporter": "true", "nvidia.com/gpu.deploy.device-plugin": "true",
            "nvidia.com/gpu.deploy.dra-plugin-gpu": "true", "nvidia.com/gpu.memory": memory,
            "nvidia.com/gpu.present": "true", "nvidia.com/gpu.product": product,
            "nvidia.com/mig.strategy": "mixed", "run.ai/fake.gpu": "true"}
        cm = tb.get("configmap", f"topology-{name}", "gpu")
        assert cm["metadata"]["labels"] == {"node-name": name, "node-topology": "true"}
        topo = yaml.safe_load(cm["data"]["topology.yml"])
        assert topo["gpuProduct"] == product and topo["gpuMemory"] == int(memory)
        assert [g["id"] for g in topo["gpus"]] == [gpu_id(name, i) for i in range(8)]


@pytest.mark.parametrize("missing", ["topology", "status-updater"])
def test_inactive_without_both_objects(tb: TwinBackend, missing: str) -> None:
    tb.apply(gpu_namespace())
    label_workers(tb)
    tb.apply([o for o in fake_gpu_objects(SEED_TOPOLOGY) if o["metadata"]["name"] != missing])
    assert all("nvidia.com/gpu" not in n["status"]["allocatable"] for n in tb.list("nodes"))
    assert tb.list("configmaps", "gpu", "node-topology=true") == []


def test_node_pool_label_key_is_what_counts(tb: TwinBackend) -> None:
    topo = dict(SEED_TOPOLOGY, nodePoolLabelKey="example.com/pool")
    tb.apply(gpu_namespace())
    label_workers(tb)  # labelled with run.ai/simulated-gpu-node-pool, which this topology does not watch
    tb.apply(fake_gpu_objects(topo))
    assert all("nvidia.com/gpu" not in n["status"]["allocatable"] for n in tb.list("nodes"))


def test_unknown_pool_gets_nothing(tb: TwinBackend) -> None:
    tb.apply(gpu_namespace())
    label_workers(tb, pool="h100")
    tb.apply(fake_gpu_objects(SEED_TOPOLOGY))
    assert all("nvidia.com/gpu" not in n["status"]["allocatable"] for n in tb.list("nodes"))


def _topology(tb: TwinBackend, node: str) -> dict:
    return yaml.safe_load(tb.get("configmap", f"topology-{node}", "gpu")["data"]["topology.yml"])


def test_gpu_assignment_recorded_and_freed(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply([pod("a", 2), pod("b", 1)])
    placed = {p["metadata"]["name"]: p for p in gpu_tb.list("pods", "gpu", "app=cuda")}
    for name, want in (("a", 2), ("b", 1)):
        p = placed[name]
        node = p["spec"]["nodeName"]
        topo = _topology(gpu_tb, node)
        mine = [g for g in topo["gpus"] if g["status"]["allocatedBy"]["pod"] == name]
        assert len(mine) == want
        for g in mine:
            assert g["status"]["allocatedBy"] == {"namespace": "gpu", "pod": name, "container": name}
            assert g["status"]["podGpuUsageStatus"] == {p["metadata"]["uid"]: {
                "utilization": {"min": 100, "max": 100}, "fbUsed": 11441, "useKnativeUtilization": False}}
    node_a = placed["a"]["spec"]["nodeName"]
    first = [g["status"]["allocatedBy"]["pod"] for g in _topology(gpu_tb, node_a)["gpus"]]
    assert first[:2] == ["a", "a"]  # first free indexes
    gpu_tb.delete("pod", "a", "gpu")
    assert all(g["status"] == {"allocatedBy": {"namespace": "", "pod": "", "container": ""}, "podGpuUsageStatus": {}}
               for g in _topology(gpu_tb, node_a)["gpus"] if g["status"]["allocatedBy"]["pod"] != "b")


def test_unlabel_removes_configmap_and_deploy_labels_only(gpu_tb: TwinBackend) -> None:
    n = gpu_tb.get("node", "node01")
    del n["metadata"]["labels"][POOL_KEY]
    gpu_tb.apply([n])
    n = gpu_tb.get("node", "node01")
    assert gpu_tb.get("configmap", "topology-node01", "gpu") is None
    assert not any(k.startswith("nvidia.com/gpu.deploy.") for k in n["metadata"]["labels"])
    assert n["metadata"]["labels"]["nvidia.com/gpu.product"] == "H100"  # status-exporter labels stay
    assert n["status"]["allocatable"]["nvidia.com/gpu"] == "8"          # kubelet keeps the resource


def test_product_with_spaces_fails_the_label_patch(tb: TwinBackend) -> None:
    topo = {"nodePoolLabelKey": POOL_KEY, "migStrategy": "mixed",
            "nodePools": {"default": {"gpuCount": 8, "gpuMemory": 81559, "gpuProduct": "NVIDIA H100 80GB HBM3"}}}
    tb.apply(gpu_namespace())
    label_workers(tb)
    tb.apply(fake_gpu_objects(topo))
    n = tb.get("node", "node01")
    assert "nvidia.com/gpu.product" not in n["metadata"]["labels"]
    assert n["status"]["allocatable"]["nvidia.com/gpu"] == "8"


@pytest.mark.parametrize("topology,label_key,gpus", [
    # the seed's `--set topology.nodePoolLabel=example.com/pool`: rendered, ignored; the real key keeps its default
    ({"nodePoolLabel": "example.com/pool", "nodePoolLabelKey": POOL_KEY, "migStrategy": "mixed",
      "nodePools": {"default": {"gpuCount": 8, "gpuMemory": 11441, "gpuProduct": "H100"}}}, "example.com/pool", None),
    ({"nodePoolLabelKey": "example.com/pool", "migStrategy": "mixed",
      "nodePools": {"default": {"gpuCount": 4, "gpuMemory": 11441, "gpuProduct": "H100"}}}, "example.com/pool", "4"),
    # a value of the wrong type: yaml.v3 Unmarshal fails, status-updater never starts
    ({"nodePoolLabelKey": POOL_KEY, "nodePools": {"default": {"gpuCount": "eight"}}}, POOL_KEY, None),
], ids=["nodePoolLabel-ignored", "custom-key", "bad-type"])
def test_topology_parsing_like_the_operator(tb: TwinBackend, topology: dict, label_key: str, gpus: str | None) -> None:
    tb.apply(gpu_namespace())
    n = tb.get("node", "node01")
    n["metadata"]["labels"][label_key] = "default"
    tb.apply([n])
    tb.apply(fake_gpu_objects(topology))
    assert tb.get("node", "node01")["status"]["allocatable"].get("nvidia.com/gpu") == gpus


def test_new_pool_without_memory_reports_zero(tb: TwinBackend) -> None:
    topo = {"nodePoolLabelKey": POOL_KEY, "migStrategy": "mixed", "nodePools": {"h100": {"gpuCount": 8, "gpuProduct": "H100"}}}
    tb.apply(gpu_namespace())
    label_workers(tb, pool="h100")
    tb.apply(fake_gpu_objects(topo))
    assert tb.get("node", "node02")["metadata"]["labels"]["nvidia.com/gpu.memory"] == "0"


def test_kwok_node_gets_only_the_exporter_label_and_annotated_configmap(tb: TwinBackend) -> None:
    kwok = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "kwok-node-0", "annotations": {"kwok.x-k8s.io/node": "fake"},
                         "labels": {"type": "kwok", POOL_KEY: "default"}},
            "spec": {"taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]}}
    tb.apply(gpu_namespace() + [kwok])
    tb.apply(fake_gpu_objects(SEED_TOPOLOGY))
    n = tb.get("node", "kwok-node-0")
    assert [k for k in n["metadata"]["labels"] if k.startswith("nvidia.com/gpu.deploy.")] == ["nvidia.com/gpu.deploy.dcgm-exporter"]
    assert n["status"]["capacity"]["nvidia.com/gpu"] == "8" and n["status"]["capacity"]["cpu"] == "1k"
    cm = tb.get("configmap", "topology-kwok-node-0", "gpu")
    assert cm["metadata"]["annotations"] == {"kwok.x-k8s.io/node": "fake"}
    assert _topology(tb, "kwok-node-0")["gpus"][0]["id"] == "GPU-78e893ca-f584-5717-ba7f-4e256b599bab"
