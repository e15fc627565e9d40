"""The scheduling cycle: sampling, ties, binding, retries, priority and preemption (twin.scheduler.Scheduler)."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.twin.scheduler import Scheduler
from ai_infra_ops.twin.scheduler.priority import UnknownPriorityClass
from ai_infra_ops.twin.scheduler.scheduler import num_feasible_nodes_to_find


def node(name: str, gpus: int = 8, cpu: str = "4", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}},
            "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110", "nvidia.com/gpu": str(gpus)}}}


def gpu_pod(name: str, gpus: int = 1, node_name: str | None = None, **spec: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"containers": [{"name": "c", "image": "cuda",
                                         "resources": {"limits": {"nvidia.com/gpu": gpus}}}], **spec}
    if node_name:
        s["nodeName"] = node_name
    return {"metadata": {"name": name, "namespace": "gpu"}, "spec": s}


@pytest.mark.parametrize("n, want", [(1, 1), (99, 99), (100, 100), (1000, 420), (2000, 680), (5000, 500), (20000, 1000)])
def test_num_feasible_nodes_to_find(n: int, want: int) -> None:
    assert num_feasible_nodes_to_find(n) == want


def test_success_binds_and_counts() -> None:
    s = Scheduler([node("n1", gpus=2)], seed=1)
    r = s.schedule(gpu_pod("a", 2))
    assert (r.node, r.reason, r.message) == ("n1", "Scheduled", None)
    assert r.event_message == "Successfully assigned gpu/a to n1"
    assert int(s.table.requested("nvidia.com/gpu")[0]) == 2
    again = s.schedule(gpu_pod("b", 1))
    assert again.node is None and again.reason == "Unschedulable"
    assert again.message is not None and again.message.startswith("0/1 nodes are available: 1 Insufficient nvidia.com/gpu.")


def test_remove_and_retry_pending() -> None:
    s = Scheduler([node("n1", gpus=1)])
    s.schedule(gpu_pod("a"))
    assert s.schedule(gpu_pod("b")).node is None
    s.remove_pod("gpu/a")
    [r] = s.retry_pending([gpu_pod("b")])
    assert r.node == "n1"


def test_add_bound_pod_consumes_capacity() -> None:
    s = Scheduler([node("n1", gpus=8)], kubernetes_version="1.33")
    s.add_bound_pod(gpu_pod("held", 8, node_name="n1"))
    r = s.schedule(gpu_pod("x"))
    assert r.message == ("0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are "
                         "available: 1 No preemption victims found for incoming pod.")


def test_no_nodes() -> None:
    r = Scheduler([]).schedule(gpu_pod("x"))
    assert (r.node, r.reason, r.message) == (None, "SchedulerError", "no nodes available to schedule pods")


@pytest.mark.parametrize("seed", range(6))
def test_tie_break_is_seeded_and_among_top(seed: int) -> None:
    nodes = [node(f"n{i}") for i in range(4)]
    a = Scheduler(nodes, seed=seed).schedule(gpu_pod("x")).node
    b = Scheduler(nodes, seed=seed).schedule(gpu_pod("x")).node
    assert a == b and a in {"n0", "n1", "n2", "n3"}


def test_tie_break_reaches_every_top_node() -> None:
    nodes = [node(f"n{i}") for i in range(3)]
    seen = {Scheduler(nodes, seed=s).schedule(gpu_pod("x")).node for s in range(40)}
    assert seen == {"n0", "n1", "n2"}


def test_least_allocated_prefers_emptier_node() -> None:
    s = Scheduler([node("busy"), node("idle")])
    s.add_bound_pod({"metadata": {"name": "load", "namespace": "d"},
                     "spec": {"nodeName": "busy", "containers": [{"name": "c", "resources": {"requests": {"cpu": "2"}}}]}})
    assert s.schedule(gpu_pod("x")).node == "idle"


def test_sampling_rotates_start_over_large_fleets() -> None:
    nodes = [node(f"n{i:03d}", gpus=100) for i in range(300)]
    s = Scheduler(nodes, seed=0)
    s.schedule(gpu_pod("first"))
    # 300 nodes -> 48 % -> 144 feasible nodes examined; the next cycle starts after them.
    assert s._next_start == 144
    s.schedule(gpu_pod("second"))
    assert s._next_start == 288


def test_queue_order_by_priority() -> None:
    classes = [{"metadata": {"name": "high"}, "value": 1000}]
    s = Scheduler([node("n1", gpus=1)], priority_classes=classes)
    low, high = gpu_pod("low"), gpu_pod("high", priorityClassName="high")
    results = s.schedule_many([low, high])
    assert [r.node for r in results] == [None, "n1"]


def test_unknown_priority_class() -> None:
    with pytest.raises(UnknownPriorityClass, match='pods "p" is forbidden: no PriorityClass with name nope was found'):
        Scheduler([node("n1")]).schedule(gpu_pod("p", priorityClassName="nope"))


def test_preemption_evicts_minimal_victims() -> None:
    classes = [{"metadata": {"name": "low"}, "value": 10}, {"metadata": {"name": "high"}, "value": 100}]
    s = Scheduler([node("n1", gpus=4)], priority_classes=classes)
    for name in ("a", "b", "c", "d"):
        s.add_bound_pod(gpu_pod(name, 1, node_name="n1", priorityClassName="low"))
    [r] = s.schedule_many([gpu_pod("urgent", 2, priorityClassName="high")])
    assert r.node == "n1" and r.nominated_node == "n1"
    # Most important victims (earliest counted) are reprieved first: c and d go.
    assert r.preempted == ("gpu/c", "gpu/d")


def test_preemption_not_helpful_when_request_exceeds_allocatable() -> None:
    classes = [{"metadata": {"name": "high"}, "value": 100}]
    s = Scheduler([node("n1", gpus=4)], kubernetes_version="1.35", priority_classes=classes)
    s.add_bound_pod(gpu_pod("a", 4, node_name="n1"))
    r = s.schedule(gpu_pod("big", 5, priorityClassName="high"))
    assert r.preempted == () and r.message is not None
    assert r.message.endswith("preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
    old = Scheduler([node("n1", gpus=4)], kubernetes_version="1.33", priority_classes=classes)
    old.add_bound_pod(gpu_pod("a", 4, node_name="n1"))
    r = old.schedule(gpu_pod("big", 5, priorityClassName="high"))
    assert r.message is not None and r.message.endswith(
        "preemption: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu.")


def test_long_message_event_truncated_condition_full() -> None:
    nodes = [node(f"n{i}", **{f"label-{i}": "x"}) for i in range(3)]
    pod = gpu_pod("x", 1, nodeSelector={"k": "v"})
    s = Scheduler(nodes, kubernetes_version="1.33")
    # Make the message long: one distinct taint per node, each printed with its key on 1.33.
    for i, n in enumerate(nodes):
        n["spec"] = {"taints": [{"key": "k" * 300 + str(i), "value": "v", "effect": "NoSchedule"}]}
    s.set_nodes(nodes)
    r = s.schedule(pod)
    assert r.message is not None and len(r.message.encode()) > 1024
    assert len(r.event_message.encode()) == 1024 and r.event_message.endswith(" ...")
    assert r.message.startswith(r.event_message[:-4])


def test_shape_cache_shared_by_equal_pods() -> None:
    s = Scheduler([node("n1"), node("n2", zone="b")])
    s.schedule_many([gpu_pod(f"p{i}", nodeSelector={"zone": "b"}) for i in range(3)])
    assert len(s._shapes) == 1


def replica(name: str, app: str = "web") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "d", "labels": {"app": app},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "web-1", "controller": True}]},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def test_default_spread_puts_replicas_on_distinct_nodes() -> None:
    s = Scheduler([node(f"n{i}", cpu="64") for i in range(3)], seed=3)
    results = s.schedule_many([replica(f"web-{i}") for i in range(3)])
    assert sorted(r.node or "" for r in results) == ["n0", "n1", "n2"]


@pytest.mark.parametrize("pod, applies", [
    (replica("a"), True),
    ({"metadata": {"name": "bare", "labels": {"app": "x"}}, "spec": {}}, False),
    ({**replica("c"), "spec": {"topologySpreadConstraints": [{"maxSkew": 1}]}}, False),
])
def test_default_spread_applies_to_owned_pods_only(pod: dict[str, Any], applies: bool) -> None:
    from ai_infra_ops.twin.scheduler.spread import default_selector
    assert (default_selector(pod) is not None) is applies


def test_spread_scores_prefer_empty_domains() -> None:
    import numpy as np

    from ai_infra_ops.twin.scheduler.spread import spread_scores
    s = Scheduler([node("n0", zone_label="x"), node("n1")])
    s.add_bound_pod({**replica("old"), "spec": {"nodeName": "n0", "containers": [{"name": "c"}]}})
    scores = spread_scores(s.table, np.array([0, 1]), replica("new"))
    # n0: 1 * log(4) + 2 = 3.39 -> 3; n1: 0 + 2 = 2 -> normalised 100*(3+2-s)/3
    assert scores is not None and scores.tolist() == [66, 100]


@pytest.mark.parametrize("version, dra, prefix", [
    ("1.35", None, True), ("1.35", False, False), ("1.33", None, False), ("1.33", True, True)])
def test_dra_postfilter_switch(version: str, dra: bool | None, prefix: bool) -> None:
    r = Scheduler([node("n1", gpus=1)], kubernetes_version=version, dra_postfilter=dra).schedule(gpu_pod("x", 2))
    assert r.message is not None and ("no new claims to deallocate, preemption:" in r.message) is prefix


def test_kubelet_admission_of_bound_pods() -> None:
    s = Scheduler([node("n1", gpus=8, cpu="2")])
    assert s.admit(gpu_pod("a", 8, node_name="n1")) is None
    rej = s.admit(gpu_pod("b", 1, node_name="n1"))
    assert rej is not None and rej.reason == "OutOfnvidia.com/gpu"
    assert rej.message == ("Pod was rejected: Node didn't have enough resource: nvidia.com/gpu, "
                           "requested: 1, used: 8, capacity: 8")
    cpu = s.admit({"metadata": {"name": "c", "namespace": "d"},
                   "spec": {"nodeName": "n1", "containers": [{"name": "c", "resources": {"requests": {"cpu": "3"}}}]}})
    assert cpu is not None and cpu.message.endswith("cpu, requested: 3000, used: 0, capacity: 2000")
    assert s.admit(gpu_pod("elsewhere", 1, node_name="missing")) is None


def test_nominated_node_tried_first() -> None:
    nodes = [node(f"n{i}") for i in range(4)]
    picks = set()
    for seed in range(8):
        s = Scheduler(nodes, seed=seed)
        pod = gpu_pod("x")
        pod["status"] = {"nominatedNodeName": "n2"}
        picks.add(s.schedule(pod).node)
    assert picks == {"n2"}
