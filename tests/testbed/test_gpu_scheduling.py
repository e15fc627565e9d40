"""The seed's GPU phase on real Kubernetes: KWOK nodes shaped like the default spec, real kube-scheduler.

The CUDA test pod (1 GPU) must be scheduled onto a worker and become Running (kwok plays the
kubelet); the chaos pod (48 GPUs) must stay Pending with the real FailedScheduling message. That
message is recorded as the conformance case ``tests/conformance/scheduling/cases/real-v1.35-seed-chaos.yaml``
(``AI_INFRA_OPS_RECORD=1`` rewrites it) and the twin must print exactly the same for that case.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import KWOK_TOLERATION, K8S_VERSION, kwok_node, node_settled

from ai_infra_ops.kube.events import scheduling_message
from ai_infra_ops.spec import default_spec
from ai_infra_ops.twin.scheduler import run_case
from ai_infra_ops.twin.scheduler.cases import check_expectations

CASE = Path(__file__).resolve().parents[1] / "conformance" / "scheduling" / "cases" / "real-v1.35-seed-chaos.yaml"


def seed_nodes() -> list[dict[str, Any]]:
    """KWOK nodes for the default spec: kubeadm taint on the control plane, 8 GPUs per pool worker."""
    spec = default_spec()
    nodes = []
    for n in spec.nodes:
        alloc = {"cpu": str(n.cpu), "memory": str(n.memory), "pods": str(n.pods)}
        labels = dict(n.labels)
        pool = spec.pool_for_node(n.name)
        if pool is not None:
            alloc["nvidia.com/gpu"] = str(pool.gpus_per_node)
            labels[pool.label_key] = pool.name
        nodes.append(kwok_node(n.name, alloc, labels, [dict(t) for t in n.taints]))
    return nodes


def tolerating(pod: dict[str, Any]) -> dict[str, Any]:
    """The pod with a toleration for the KWOK taint (every test bed node carries it)."""
    out = copy.deepcopy(pod)
    out["spec"].setdefault("tolerations", []).append(dict(KWOK_TOLERATION))
    return out


NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gpu"}}


@pytest.fixture(scope="module")
def seed_cluster(kube: Any) -> list[dict[str, Any]]:
    """The seed's nodes, Ready and untainted by the lifecycle controller, and namespace ``gpu``."""
    nodes = seed_nodes()
    kube.apply(nodes + [NS])
    for n in nodes:
        assert kube.wait_for("Node", n["metadata"]["name"], None, node_settled, timeout_s=60).ok
    return nodes


def test_seed_gpu_phase_on_real_scheduler(kube: Any, seed_cluster: list[dict[str, Any]]) -> None:
    spec = default_spec()
    nodes = seed_cluster
    for n in nodes[1:]:
        live = kube.get("Node", n["metadata"]["name"])
        assert live["status"]["allocatable"]["nvidia.com/gpu"] == "8"

    ns = NS
    test_pod = tolerating(spec.workloads[0])
    chaos = tolerating(spec.chaos_pod)
    kube.apply([test_pod])
    running = kube.wait_for("Pod", "cudatestpod", "gpu",
                            lambda p: bool(p) and p.get("status", {}).get("phase") == "Running", timeout_s=60)
    assert running.ok, running.message
    assert running.object["spec"]["nodeName"] in {"node01", "node02", "node03"}

    kube.apply([chaos])
    pending = kube.wait_for("Pod", "cudatestpodchaos", "gpu", lambda p: scheduling_message(p) is not None,
                            timeout_s=60)
    assert pending.ok, pending.message
    assert pending.object["status"]["phase"] == "Pending"
    real = scheduling_message(pending.object)
    events = [e for e in kube.events("gpu", "cudatestpodchaos") if e["reason"] == "FailedScheduling"]
    assert events and events[-1]["message"] == real
    assert "3 Insufficient nvidia.com/gpu" in real

    case = {
        "name": "real-v1.35-seed-chaos",
        "kubernetesVersion": "1.35",
        "source": (f"Captured from kube-scheduler {K8S_VERSION} (k8s.io/kubernetes built from the Go module proxy) "
                   "on the ai-infra-ops test bed (testbed/, kine + kube-apiserver + kube-controller-manager + "
                   "kwok): the default spec's nodes as KWOK nodes (kubeadm control-plane taint on cp01, 8 "
                   "nvidia.com/gpu per worker, KWOK's own NoSchedule taint on every node, tolerated by both "
                   "pods); message = the pod's PodScheduled condition = the FailedScheduling event. "
                   "Recorded by tests/testbed/test_gpu_scheduling.py."),
        "objects": [ns] + [_case_node(n) for n in nodes] + [test_pod, chaos],
        "expect_schedule": [
            {"pod": "gpu/cudatestpod", "phase": "Running"},
            {"pod": "gpu/cudatestpodchaos", "phase": "Pending", "message_contains": real},
        ],
    }
    if os.environ.get("AI_INFRA_OPS_RECORD") == "1" or not CASE.exists():
        CASE.write_text(yaml.safe_dump(case, sort_keys=False, width=120))
    recorded = yaml.safe_load(CASE.read_text())
    assert recorded["expect_schedule"][1]["message_contains"] == real, "kube-scheduler's message changed"

    # The twin, given the same case, must print the real scheduler's message.
    from ai_infra_ops.kube_model import load_yaml_file

    doc = load_yaml_file(CASE)[0]
    problems = check_expectations(run_case(doc.value, doc), doc.value["expect_schedule"])
    assert problems == [], f"twin differs from kube-scheduler {K8S_VERSION}: {problems}"


def _case_node(node: dict[str, Any]) -> dict[str, Any]:
    """The node as the case states it (labels, taints, allocatable; no status noise)."""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node["metadata"]["name"], "labels": node["metadata"]["labels"],
                         "annotations": node["metadata"]["annotations"]},
            "spec": node["spec"], "status": {"allocatable": node["status"]["allocatable"]}}


@pytest.mark.parametrize("gpus", [8, 9])
def test_gpu_request_against_one_node(kube: Any, seed_cluster: list[dict[str, Any]], gpus: int) -> None:
    """A pod asking for a whole node's 8 GPUs fits on a worker; 9 fit nowhere."""
    name = f"whole-node-{gpus}"
    pod = tolerating({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "gpu"},
                      "spec": {"containers": [{"name": "c", "image": "cuda",
                                               "resources": {"limits": {"nvidia.com/gpu": gpus}}}]}})
    kube.apply([pod])
    got = kube.wait_for("Pod", name, "gpu",
                        lambda p: bool(p) and (bool(p["spec"].get("nodeName")) or scheduling_message(p) is not None),
                        timeout_s=60)
    assert got.ok
    if gpus == 8:
        assert got.object["spec"]["nodeName"] in {"node01", "node02", "node03"}
    else:
        assert "Insufficient nvidia.com/gpu" in scheduling_message(got.object)
    assert kube.delete("Pod", name, "gpu")
