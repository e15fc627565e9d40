"""Filter plugins and scores on node columns (twin.scheduler.filters / scoring)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ai_infra_ops.twin.scheduler import parse_version
from ai_infra_ops.twin.scheduler import scoring
from ai_infra_ops.twin.scheduler.filters import (
    Requirement, Toleration, first_untolerated, pod_shape, ports_conflict, static_filter)
from ai_infra_ops.twin.scheduler.nodeinfo import NodeTable, Taint, tree_order

NS, NE, PNS = "NoSchedule", "NoExecute", "PreferNoSchedule"


def node(name: str, labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None,
         unschedulable: bool = False, **alloc: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110", **alloc}}}


@pytest.mark.parametrize("tol, taint, want", [
    (Toleration("", "Exists", "", ""), Taint("any", "v", NE), True),
    (Toleration("k", "Exists", "", ""), Taint("k", "v", NS), True),
    (Toleration("k", "Exists", "", NS), Taint("k", "v", NE), False),
    (Toleration("k", "", "v", ""), Taint("k", "v", NS), True),
    (Toleration("k", "Equal", "v", NS), Taint("k", "w", NS), False),
    (Toleration("k", "Equal", "", NS), Taint("k", "", NS), True),
    (Toleration("other", "Exists", "", ""), Taint("k", "", NS), False),
    (Toleration("k", "Gt", "1", ""), Taint("k", "2", NS), False),
])
def test_toleration(tol: Toleration, taint: Taint, want: bool) -> None:
    assert tol.tolerates(taint) is want


def test_first_untolerated_in_node_order_and_effects() -> None:
    taints = (Taint("soft", "", PNS), Taint("a", "1", NS), Taint("b", "2", NE))
    assert first_untolerated(taints, ()) == Taint("a", "1", NS)
    assert first_untolerated(taints, (Toleration("a", "Exists", "", ""),)) == Taint("b", "2", NE)
    assert first_untolerated(taints, (Toleration("", "Exists", "", ""),)) is None


@pytest.mark.parametrize("req, labels, want", [
    (Requirement("k", "In", ("a", "b")), {"k": "b"}, True),
    (Requirement("k", "In", ("a",)), {}, False),
    (Requirement("k", "NotIn", ("a",)), {}, True),
    (Requirement("k", "NotIn", ("a",)), {"k": "a"}, False),
    (Requirement("k", "Exists", ()), {"k": ""}, True),
    (Requirement("k", "DoesNotExist", ()), {"k": ""}, False),
    (Requirement("k", "Gt", ("4",)), {"k": "8"}, True),
    (Requirement("k", "Gt", ("4",)), {"k": "4"}, False),
    (Requirement("k", "Lt", ("4",)), {"k": "3"}, True),
    (Requirement("k", "Lt", ("4",)), {"k": "x"}, False),
    (Requirement("k", "Gt", ("4", "5")), {"k": "9"}, False),
])
def test_requirement(req: Requirement, labels: dict[str, str], want: bool) -> None:
    assert req.matches(labels) is want


def _shape(**spec: Any) -> Any:
    return pod_shape({"spec": spec})


NODES = [
    node("cp01", {"role": "cp"}, [{"key": "node-role.kubernetes.io/control-plane", "effect": NS}]),
    node("n1", {"pool": "a"}),
    node("n2", {"pool": "b"}, [{"key": "spot", "value": "1", "effect": PNS}]),
    node("n3", {"pool": "b"}, unschedulable=True),
]


@pytest.mark.parametrize("spec, passing, hist", [
    ({}, ["n1", "n2"], {"node(s) had untolerated taint(s)": 1, "node(s) were unschedulable": 1}),
    ({"nodeSelector": {"pool": "b"}}, ["n2"], {"node(s) had untolerated taint(s)": 1, "node(s) were unschedulable": 1,
                                               "node(s) didn't match Pod's node affinity/selector": 1}),
    ({"nodeName": "n2"}, ["n2"], {"node(s) didn't match the requested node name": 2, "node(s) were unschedulable": 1}),
    ({"tolerations": [{"operator": "Exists"}]}, ["cp01", "n1", "n2", "n3"], {}),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}},
     ["n1"], {"node(s) had untolerated taint(s)": 1, "node(s) were unschedulable": 1,
              "node(s) didn't match Pod's node affinity/selector": 1}),
    ({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}}}},
     [], {"node(s) had untolerated taint(s)": 1, "node(s) were unschedulable": 1,
          "node(s) didn't match Pod's node affinity/selector": 2}),
])
def test_static_filter(spec: dict[str, Any], passing: list[str], hist: dict[str, int]) -> None:
    table = NodeTable(NODES)
    sf = static_filter(table, _shape(**spec), parse_version("1.35"))
    assert [table.names[i] for i in sf.passing] == passing
    assert sf.histogram == hist


def test_static_scores() -> None:
    table = NodeTable(NODES)
    spec = {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 30, "preference": {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["b"]}]}},
        {"weight": 5, "preference": {"matchExpressions": [{"key": "pool", "operator": "Exists"}]}}]}}}
    sf = static_filter(table, _shape(**spec), parse_version("1.35"))
    assert sf.prefer_no_schedule.tolist() == [0, 0, 1, 0]
    assert sf.preferred_weight.tolist() == [0, 5, 35, 35]
    tolerant = static_filter(table, _shape(tolerations=[{"key": "spot", "operator": "Exists", "effect": PNS}]),
                             parse_version("1.35"))
    assert tolerant.prefer_no_schedule.tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("used, wanted, want", [
    ({("0.0.0.0", "TCP", 80)}, (("10.0.0.1", "TCP", 80),), True),
    ({("10.0.0.2", "TCP", 80)}, (("10.0.0.1", "TCP", 80),), False),
    ({("10.0.0.2", "TCP", 80)}, (("0.0.0.0", "TCP", 80),), True),
    ({("0.0.0.0", "UDP", 80)}, (("0.0.0.0", "TCP", 80),), False),
    (set(), (("0.0.0.0", "TCP", 80),), False),
])
def test_ports_conflict(used: set[tuple[str, str, int]], wanted: tuple[tuple[str, str, int], ...], want: bool) -> None:
    assert ports_conflict(used, wanted) is want


def test_tree_order_round_robin_over_zones() -> None:
    nodes = [node(f"n{i}", {"topology.kubernetes.io/zone": z}) for i, z in enumerate("aabbbc")]
    assert tree_order(nodes) == [0, 2, 5, 1, 3, 4]


@pytest.mark.parametrize("alloc_cpu, used_cpu, pod_cpu, want", [
    ("4", 0, 100, (3900 * 100 // 4000 + (8 * 1024**3 - 200 * 1024**2) * 100 // (8 * 1024**3)) // 2),
    ("1", 2000, 100, (0 + (8 * 1024**3 - 200 * 1024**2) * 100 // (8 * 1024**3)) // 2),
])
def test_least_allocated(alloc_cpu: str, used_cpu: int, pod_cpu: int, want: int) -> None:
    table = NodeTable([node("n", cpu=alloc_cpu)])
    table.nz_cpu[0] = used_cpu
    assert scoring.least_allocated(table, np.array([0]), pod_cpu, 200 * 1024**2).tolist() == [want]


def test_balanced_allocation() -> None:
    table = NodeTable([node("n", cpu="4", memory="8Gi")])
    # cpu 2/4 = 0.5, memory 1/8 = 0.125 -> std 0.1875 -> int(81.25) = 81
    assert scoring.balanced_allocation(table, np.array([0]), 2000, 1024**3).tolist() == [81]


@pytest.mark.parametrize("raw, reverse, want", [
    ([0, 0], True, [100, 100]),
    ([0, 0], False, [0, 0]),
    ([1, 2, 0], True, [50, 0, 100]),
    ([10, 30], False, [33, 100]),
])
def test_normalize(raw: list[int], reverse: bool, want: list[int]) -> None:
    assert scoring.normalize(np.array(raw, dtype=np.int64), reverse).tolist() == want


def test_image_locality() -> None:
    n1 = node("n1")
    n1["status"]["images"] = [{"names": ["registry/app:1"], "sizeBytes": 500 * 1024**2}]
    table = NodeTable([n1, node("n2")])
    pod = {"spec": {"containers": [{"name": "c", "image": "registry/app:1"}]}}
    # 500 MiB x spread 1/2 = 250 MiB -> 100 * (250 - 23) / (1000 - 23) = 23
    assert scoring.image_locality(table, np.array([0, 1]), pod).tolist() == [23, 0]
