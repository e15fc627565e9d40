"""Priority and preemption through the twin's controllers: a higher-priority GPU pod evicts a
lower-priority one (victim deleted with upstream's ``Preempted`` event, GPUs freed) and then runs."""
from __future__ import annotations

from twin_fixtures import pod

from ai_infra_ops.twin.backend import TwinBackend


def test_high_priority_pod_preempts_a_low_priority_one(gpu_tb: TwinBackend) -> None:
    gpu_tb.delete("ResourceQuota", "gpu-quota", "gpu")
    gpu_tb.apply([pod(f"low{i}", gpus=8) for i in range(3)])
    assert all(p["status"]["phase"] == "Running" for p in gpu_tb.list("pods", "gpu"))
    gpu_tb.apply([{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                   "metadata": {"name": "high"}, "value": 1000}])
    high = pod("high", gpus=4)
    high["spec"]["priorityClassName"] = "high"
    gpu_tb.apply([high])

    pods = {p["metadata"]["name"]: p for p in gpu_tb.list("pods", "gpu")}
    assert pods["high"]["status"]["phase"] == "Running"
    assert len([n for n in pods if n.startswith("low")]) == 2  # exactly one victim
    victims = [e for e in gpu_tb.events("gpu") if e["reason"] == "Preempted"]
    assert len(victims) == 1
    assert victims[0]["message"].startswith(f"Preempted by pod {pods['high']['metadata']['uid']} on node ")
    assert victims[0]["involvedObject"]["name"] not in pods


def test_equal_priority_pod_does_not_preempt(gpu_tb: TwinBackend) -> None:
    gpu_tb.delete("ResourceQuota", "gpu-quota", "gpu")
    gpu_tb.apply([pod(f"low{i}", gpus=8) for i in range(3)])
    gpu_tb.apply([pod("same", gpus=4)])
    same = gpu_tb.get("Pod", "same", "gpu")
    assert same is not None and same["status"]["phase"] == "Pending"
    assert "No preemption victims found for incoming pod" in same["status"]["conditions"][-1]["message"]
    assert not [e for e in gpu_tb.events("gpu") if e["reason"] == "Preempted"]
