"""Controllers: Deployment -> ReplicaSet -> Pods, quota FailedCreate, scheduling events and
conditions (reference §4.4), kubelet fast stage, IPAM, retries when capacity frees."""
from __future__ import annotations

import re

import pytest
from twin_fixtures import gpu_namespace, pod

from ai_infra_ops.twin.backend import TwinBackend
from ai_infra_ops.twin.workloads import template_hash

CHAOS_135 = ("0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient nvidia.com/gpu. "
             "no new claims to deallocate, preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")


def deployment(name: str = "web", replicas: int = 3, gpus: int | None = None, image: str = "nginx:1.27") -> dict:
    c: dict = {"name": "app", "image": image}
    if gpus:
        c["resources"] = {"limits": {"nvidia.com/gpu": gpus}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "gpu"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [c]}}}}


def test_deployment_creates_replicaset_and_pods(tb: TwinBackend) -> None:
    tb.apply(gpu_namespace(None) + [deployment()])
    rs = tb.list("replicasets", "gpu")
    assert len(rs) == 1
    rs_name = rs[0]["metadata"]["name"]
    assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{6,10}", rs_name)
    h = rs_name.split("-", 1)[1]
    assert rs[0]["metadata"]["labels"]["pod-template-hash"] == h
    assert rs[0]["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    pods = tb.list("pods", "gpu", "app=web")
    assert len(pods) == 3
    for p in pods:
        assert re.fullmatch(rf"{rs_name}-[bcdfghjklmnpqrstvwxz2456789]{{5}}", p["metadata"]["name"])
        assert p["status"]["phase"] == "Running"
        assert p["metadata"]["ownerReferences"][0]["name"] == rs_name
    d = tb.get("deployment", "web", "gpu")
    assert (d["status"]["readyReplicas"], d["status"]["availableReplicas"], d["status"]["updatedReplicas"]) == (3, 3, 3)
    reasons = [(e["reason"], e["message"]) for e in tb.events("gpu", "web")]
    assert ("ScalingReplicaSet", f"Scaled up replica set {rs_name} from 0 to 3") in reasons


def test_names_are_deterministic_from_seed(tmp_path, clock) -> None:
    from ai_infra_ops.spec import PlatformSpec

    names = []
    for i in range(2):
        b = TwinBackend.open(tmp_path / f"s{i}", spec=PlatformSpec(), clock=clock, seed=7)
        b.apply(gpu_namespace(None) + [deployment()])
        names.append(sorted((p["metadata"]["name"], p["metadata"]["uid"], p["status"]["podIP"]) for p in b.list("pods", "gpu")))
        b.close()
    assert names[0] == names[1]


@pytest.mark.parametrize("replicas", [1, 5, 0])
def test_scale(tb: TwinBackend, replicas: int) -> None:
    tb.apply(gpu_namespace(None) + [deployment(replicas=2)])
    tb.apply([deployment(replicas=replicas)])
    assert len(tb.list("pods", "gpu", "app=web")) == replicas
    assert len(tb.list("replicasets", "gpu")) == 1


def test_template_change_rolls_to_new_replicaset(tb: TwinBackend) -> None:
    tb.apply(gpu_namespace(None) + [deployment(replicas=2)])
    tb.apply([deployment(replicas=2, image="nginx:1.28")])
    rs = {r["metadata"]["name"]: r["spec"]["replicas"] for r in tb.list("replicasets", "gpu")}
    assert sorted(rs.values()) == [0, 2]
    assert all(p["spec"]["containers"][0]["image"] == "nginx:1.28" for p in tb.list("pods", "gpu"))
    assert template_hash({"a": 1}) == template_hash({"a": 1}) != template_hash({"a": 1}, 1)


def test_quota_failedcreate_through_deployment(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply([deployment("big", replicas=2, gpus=16)])  # 16 fits the 24 quota, 32 does not
    pods = gpu_tb.list("pods", "gpu", "app=big")
    assert len(pods) == 1
    rs = gpu_tb.list("replicasets", "gpu", "app=big")[0]
    fails = [e for e in gpu_tb.events("gpu", rs["metadata"]["name"]) if e["reason"] == "FailedCreate"]
    assert len(fails) == 1 and fails[0]["type"] == "Warning" and fails[0]["count"] == 1
    assert re.fullmatch(
        rf'Error creating: pods "{rs["metadata"]["name"]}-[a-z0-9]{{5}}" is forbidden: exceeded quota: gpu-quota, '
        r"requested: requests.nvidia.com/gpu=16, used: requests.nvidia.com/gpu=16, limited: requests.nvidia.com/gpu=24",
        fails[0]["message"])
    d = gpu_tb.get("deployment", "big", "gpu")
    assert any(c["type"] == "ReplicaFailure" and c["reason"] == "FailedCreate" for c in d["status"]["conditions"])
    q = gpu_tb.get("resourcequota", "gpu-quota", "gpu")
    assert q["status"]["used"] == {"requests.nvidia.com/gpu": "16"}


def test_unschedulable_pod_condition_and_event(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply([pod("nine", 9)])   # 9 > 8 per node: unresolvable everywhere
    p = gpu_tb.get("pod", "nine", "gpu")
    cond = next(c for c in p["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")
    assert cond["message"] == CHAOS_135
    ev = [e for e in gpu_tb.events("gpu", "nine")]
    assert [(e["type"], e["reason"], e["reportingComponent"], e["action"]) for e in ev] == [
        ("Warning", "FailedScheduling", "default-scheduler", "Scheduling")]
    assert ev[0]["message"] == CHAOS_135


def test_scheduled_pod_runs_with_ip_and_event(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply([pod("cudatestpod", 1)])
    p = gpu_tb.get("pod", "cudatestpod", "gpu")
    node = p["spec"]["nodeName"]
    assert node in ("node01", "node02", "node03")
    idx = int(node[-1])
    assert p["status"]["phase"] == "Running"
    assert p["status"]["podIP"].startswith(f"10.244.{idx}.")
    assert p["status"]["hostIP"] == f"192.168.64.{10 + idx}"
    assert [c["type"] for c in p["status"]["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    ev = gpu_tb.events("gpu", "cudatestpod")
    assert (ev[0]["reason"], ev[0]["message"], ev[0]["action"]) == (
        "Scheduled", f"Successfully assigned gpu/cudatestpod to {node}", "Binding")


def test_pending_pod_retried_when_capacity_frees(gpu_tb: TwinBackend) -> None:
    gpu_tb.delete("resourcequota", "gpu-quota", "gpu")  # 25 GPUs asked: only capacity should stop it
    for i in range(3):
        gpu_tb.apply([pod(f"full{i}", 8)])
    gpu_tb.apply([pod("late", 1)])
    assert gpu_tb.get("pod", "late", "gpu")["status"]["phase"] == "Pending"
    gpu_tb.delete("pod", "full1", "gpu")
    late = gpu_tb.get("pod", "late", "gpu")
    assert late["status"]["phase"] == "Running"
    assert [e["reason"] for e in gpu_tb.events("gpu", "late")] == ["FailedScheduling", "Scheduled"]


def test_repeated_failures_aggregate(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply([pod("nine", 9)])
    gpu_tb.apply([pod("other", 1)])
    gpu_tb.delete("pod", "other", "gpu")  # capacity changed: the pending pod is tried again
    ev = gpu_tb.events("gpu", "nine")
    assert len(ev) == 1 and ev[0]["series"]["count"] == 2


def _pinned(name: str, node: str) -> dict:
    p = pod(name, None, ns="ipam")
    p["spec"]["nodeName"] = node
    return p


def test_pod_ips_are_lowest_free(tb: TwinBackend) -> None:
    # node03 holds no other pod, so its slice starts empty (.1 is Cilium's router address)
    tb.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ipam"}}])
    tb.apply([_pinned(f"p{i}", "node03") for i in range(3)])
    assert tb.get("node", "node03")["spec"]["podCIDR"] == "10.244.3.0/24"
    ips = sorted(p["status"]["podIP"] for p in tb.list("pods", "ipam"))
    assert ips == ["10.244.3.2", "10.244.3.3", "10.244.3.4"]
    tb.delete("pod", "p0", "ipam")
    tb.apply([_pinned("p9", "node03")])
    assert tb.get("pod", "p9", "ipam")["status"]["podIP"] == "10.244.3.2"


def test_daemonset_one_pod_per_admitted_node(tb: TwinBackend) -> None:
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "kube-system"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"metadata": {"labels": {"app": "agent"}},
                                "spec": {"containers": [{"name": "a", "image": "busybox:1.36"}]}}}}
    tb.apply([ds])
    nodes = sorted(p["spec"]["nodeName"] for p in tb.list("pods", "kube-system", "app=agent"))
    assert nodes == ["node01", "node02", "node03"]  # the control plane's taint is not tolerated
    assert tb.get("daemonset", "agent", "kube-system")["status"]["numberReady"] == 3
