"""kubectl-style output: Go tabwriter, HumanDuration, get tables, describe node/pod."""
from __future__ import annotations

from datetime import timedelta

import pytest
from twin_fixtures import START, pod

from ai_infra_ops.twin.backend import TwinBackend
from ai_infra_ops.twin.describe import describe_node, describe_pod
from ai_infra_ops.twin.printers import print_json, print_table, print_yaml, to_list
from ai_infra_ops.twin.tabwriter import human_duration, tabwrite


@pytest.mark.parametrize("seconds,text", [
    (-5, "<invalid>"), (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (150, "2m30s"), (600, "10m"),
    (3 * 3600, "3h"), (3 * 3600 + 1200, "3h20m"), (9 * 3600, "9h"), (50 * 3600, "2d2h"), (10 * 86400, "10d"),
    (3 * 365 * 86400 + 20 * 86400, "3y20d"), (9 * 365 * 86400, "9y"),
])
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize("text,minwidth,padding,expected", [
    ("A\tBB\tC\nxxxx\ty\tzz\n", 6, 3, "A      BB    C\nxxxx   y     zz\n"),
    ("Name:\tn\nLabels:\ta=1\n\tb=2\nEvents:\t<none>\n", 0, 2, "Name:    n\nLabels:  a=1\n         b=2\nEvents:  <none>\n"),
    ("Capacity:\n  cpu:\t4\n  nvidia.com/gpu:\t8\n", 0, 2, "Capacity:\n  cpu:             4\n  nvidia.com/gpu:  8\n"),
], ids=["get", "describe-block", "describe-section"])
def test_tabwriter(text: str, minwidth: int, padding: int, expected: str) -> None:
    assert tabwrite(text, minwidth, padding) == expected


def test_get_nodes_table(tb: TwinBackend, clock) -> None:
    clock.advance(3 * 3600 + 600)
    out = print_table("Node", tb.list("nodes"), clock.now())
    header = out.splitlines()[0]
    assert header.split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert out.splitlines()[1].split() == ["cp01", "Ready", "control-plane", "3h10m", "v1.35.0"]
    assert out.splitlines()[2].split() == ["node01", "Ready", "worker", "3h10m", "v1.35.0"]
    assert header.index("STATUS") == 9 and header.index("ROLES") == 18  # NAME col = len("node01") + 3
    wide = print_table("Node", tb.list("nodes"), clock.now(), wide=True).splitlines()
    assert wide[0].split()[5:] == ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    assert "192.168.64.11" in wide[2] and "<none>" in wide[2]


def test_get_pods_all_namespaces_wide(gpu_tb: TwinBackend, clock) -> None:
    gpu_tb.apply([pod("cudatestpod", 1), pod("nine", 9)])
    clock.advance(65)
    lines = print_table("Pod", gpu_tb.list("pods", None, "app=cuda"), clock.now(), wide=True, all_namespaces=True).splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED",
                                "NODE", "READINESS", "GATES"]
    running = lines[1].split()
    assert running[:6] == ["gpu", "cudatestpod", "1/1", "Running", "0", "65s"] and running[6].startswith("10.244.")
    assert lines[2].split() == ["gpu", "nine", "0/1", "Pending", "0", "65s", "<none>", "<none>", "<none>", "<none>"]


def test_get_quota_and_events(gpu_tb: TwinBackend, clock) -> None:
    gpu_tb.apply([pod("a", 3)])
    q = print_table("ResourceQuota", gpu_tb.list("quota", "gpu"), clock.now()).splitlines()
    assert q[0].split() == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert q[1].split() == ["gpu-quota", "0s", "requests.nvidia.com/gpu:", "3/24"]
    ev = print_table("Event", gpu_tb.list("events", "gpu"), clock.now()).splitlines()
    assert ev[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert any("pod/a" in ln and "Scheduled" in ln for ln in ev)


def test_json_and_yaml_like_kubectl(tb: TwinBackend) -> None:
    objs = tb.list("namespaces")
    text = print_json(to_list(objs))
    assert text.startswith('{\n    "apiVersion": "v1",\n    "items": [\n')
    assert '"kind": "List"' in text and text.endswith("}\n")
    y = print_yaml(objs[0])
    assert y.startswith("apiVersion: v1\nkind: Namespace\nmetadata:\n")


def test_describe_node_allocated_resources(gpu_tb: TwinBackend, clock) -> None:
    gpu_tb.apply([pod("cudatestpod", 1)])
    p = gpu_tb.get("pod", "cudatestpod", "gpu")
    node_name = p["spec"]["nodeName"]
    node = gpu_tb.get("node", node_name)
    pods = [x for x in gpu_tb.list("pods") if x["spec"].get("nodeName") == node_name]
    text = describe_node(node, pods, [], clock.now() + timedelta(minutes=5))
    lines = text.splitlines()
    for head in ("Name:", "Roles:", "Labels:", "Annotations:", "CreationTimestamp:", "Taints:", "Unschedulable:",
                 "Conditions:", "Addresses:", "Capacity:", "Allocatable:", "System Info:", "PodCIDR:",
                 "Non-terminated Pods:", "Allocated resources:", "Events:"):
        assert any(ln.startswith(head) for ln in lines), head
    assert lines[0] == f"Name:               {node_name}"
    i = lines.index("Allocated resources:")
    assert lines[i + 1:i + 10] == [
        "  (Total limits may be over 100 percent, i.e., overcommitted.)",
        "  Resource           Requests  Limits",
        "  --------           --------  ------",
        "  cpu                0 (0%)    0 (0%)",
        "  memory             0 (0%)    0 (0%)",
        "  ephemeral-storage  0 (0%)    0 (0%)",
        "  hugepages-1Gi      0 (0%)    0 (0%)",
        "  hugepages-2Mi      0 (0%)    0 (0%)",
        "  nvidia.com/gpu     1         1",
    ]
    assert "  nvidia.com/gpu:     8" in lines
    assert any(ln.split()[:2] == ["gpu", "cudatestpod"] and ln.split()[-1] == "5m" for ln in lines)
    # one tabwriter for the whole output: Events aligns with the resource table above it, as in kubectl
    assert lines[-1] == "Events:              <none>"


def test_describe_node_percentages() -> None:
    node = {"metadata": {"name": "n", "labels": {}}, "spec": {},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}, "capacity": {}}}
    p = {"metadata": {"name": "p", "namespace": "d", "creationTimestamp": "2026-01-01T00:00:00Z"},
         "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "250m", "memory": "1Gi"},
                                                             "limits": {"cpu": "1", "memory": "3Gi"}}}]},
         "status": {"phase": "Running"}}
    lines = describe_node(node, [p, p], [], START).splitlines()
    i = lines.index("Allocated resources:")
    assert lines[i + 4].split() == ["cpu", "500m", "(12%)", "2", "(50%)"]
    assert lines[i + 5].split() == ["memory", "2Gi", "(25%)", "6Gi", "(75%)"]


def test_describe_pending_pod_events(gpu_tb: TwinBackend, clock) -> None:
    gpu_tb.apply([pod("nine", 9)])
    text = describe_pod(gpu_tb.get("pod", "nine", "gpu"), gpu_tb.events("gpu", "nine"), clock.now() + timedelta(seconds=7))
    lines = text.splitlines()
    assert "Status:           Pending" in lines and "Node:             <none>" in lines
    i = lines.index("Events:")
    assert lines[i + 1].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert lines[i + 3].startswith("  Warning  FailedScheduling  7s    default-scheduler  0/4 nodes are available: ")
    assert "Limits:" in text and "nvidia.com/gpu:  9" in text


def test_describe_deployment_and_replicaset(gpu_tb: TwinBackend, clock) -> None:
    from ai_infra_ops.twin.describe_workloads import describe_deployment, describe_replicaset

    d = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "big", "namespace": "gpu"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "big"}},
                  "template": {"metadata": {"labels": {"app": "big"}},
                               "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                                                        "resources": {"limits": {"nvidia.com/gpu": 16}}}]}}}}
    gpu_tb.apply([d])
    live = gpu_tb.get("deployment", "big", "gpu")
    rs = gpu_tb.list("rs", "gpu", "app=big")
    text = describe_deployment(live, rs, gpu_tb.events("gpu", "big"), clock.now()).splitlines()
    assert "Replicas:               2 desired | 1 updated | 1 total | 0 available | 2 unavailable" in text
    assert "Annotations:            deployment.kubernetes.io/revision: 1" in text
    assert f"NewReplicaSet:     {rs[0]['metadata']['name']} (1/2 replicas created)" in text
    pods = gpu_tb.list("pods", "gpu", "app=big")
    rs_text = describe_replicaset(rs[0], pods, gpu_tb.events("gpu", rs[0]["metadata"]["name"]), clock.now())
    assert "Pods Status:    0 Running / 1 Waiting / 0 Succeeded / 0 Failed"  # 16 GPUs fit no node in rs_text
    assert "  ReplicaFailure   True    FailedCreate" in rs_text
    assert "  Warning  FailedCreate      0s    replicaset-controller  Error creating: pods " in rs_text
