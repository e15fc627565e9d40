"""PodTopologySpread (DoNotSchedule) and InterPodAffinity filters (twin.scheduler.podrules)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ai_infra_ops.twin.scheduler import Scheduler
from ai_infra_ops.twin.scheduler.podrules import selector, spread_constraints, uses_pod_rules
from ai_infra_ops.twin.scheduler.spread import spread_scores

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {HOST: name, **labels}},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}


def pod(name: str, labels: dict[str, str] | None = None, ns: str = "default", node_name: str | None = None,
        **spec: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}], **spec}
    if node_name:
        s["nodeName"] = node_name
    return {"metadata": {"name": name, "namespace": ns, "labels": labels or {}}, "spec": s}


def term(kind: str, sel: dict[str, Any] | None, key: str, **extra: Any) -> dict[str, Any]:
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": sel, "topologyKey": key, **extra}]}}


def spread(key: str, sel: dict[str, Any], skew: int = 1, **extra: Any) -> list[dict[str, Any]]:
    return [{"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": sel, **extra}]


def test_selector_semantics() -> None:
    assert not selector(None).matches({"a": "b"})          # nil selector: nothing
    assert selector({}).matches({"a": "b"})                 # empty selector: everything
    s = selector({"matchLabels": {"app": "x"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
                 {"version": "v2"}, match_keys=["version", "absent"])
    assert s.matches({"app": "x", "version": "v2"})
    assert not s.matches({"app": "x", "version": "v1"})
    assert not s.matches({"app": "x", "version": "v2", "tier": "db"})


def test_fast_path_for_pods_without_rules() -> None:
    s = Scheduler([node("n1")])
    assert not uses_pod_rules(pod("a"))
    assert s._pod_rules(pod("a")) is None
    st = pod("b", topologySpreadConstraints=[{"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "ScheduleAnyway",
                                              "labelSelector": {}}])
    assert not uses_pod_rules(st) and spread_constraints(st) == ()


def test_first_pod_of_an_affinity_group_and_a_lonely_one() -> None:
    s = Scheduler([node("n1", **{ZONE: "a"}), node("n2", **{ZONE: "b"})])
    first = s.schedule(pod("first", {"app": "web"}, affinity=term("podAffinity", {"matchLabels": {"app": "web"}}, ZONE)))
    assert first.node is not None
    lonely = s.schedule(pod("lonely", {"app": "web"}, affinity=term("podAffinity", {"matchLabels": {"app": "cache"}}, ZONE)))
    assert lonely.message == ("0/2 nodes are available: 2 node(s) didn't match pod affinity rules. no new claims to "
                              "deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
    follower = s.schedule(pod("follower", {"app": "x"}, affinity=term("podAffinity", {"matchLabels": {"app": "web"}}, ZONE)))
    assert follower.node == first.node


def test_anti_affinity_is_resolvable_and_existing_anti_affinity_blocks() -> None:
    s = Scheduler([node("n1"), node("n2")])
    s.add_bound_pod(pod("w1", {"app": "web"}, node_name="n1"))
    s.add_bound_pod(pod("guard", {"app": "g"}, node_name="n2",
                        affinity=term("podAntiAffinity", {"matchLabels": {"app": "web"}}, HOST)))
    r = s.schedule(pod("w2", {"app": "web"}, affinity=term("podAntiAffinity", {"matchLabels": {"app": "web"}}, HOST)))
    assert r.message == ("0/2 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 1 node(s) didn't "
                         "satisfy existing pods anti-affinity rules. no new claims to deallocate, preemption: 0/2 nodes "
                         "are available: 2 No preemption victims found for incoming pod.")
    # Another namespace: neither term selects it (terms default to their own pod's namespace).
    assert s.schedule(pod("w3", {"app": "web"}, ns="other")).node is not None


def test_namespace_selector_uses_namespace_labels() -> None:
    s = Scheduler([node("n1"), node("n2")], namespaces=[{"metadata": {"name": "b", "labels": {"team": "b"}}}])
    s.add_bound_pod(pod("db", {"app": "db"}, ns="b", node_name="n2"))
    sel = {"matchLabels": {"app": "db"}}
    assert s.schedule(pod("c1", ns="a", affinity=term("podAffinity", sel, HOST))).node is None
    assert s.schedule(pod("c2", ns="a", affinity=term("podAffinity", sel, HOST,
                                                     namespaceSelector={"matchLabels": {"team": "b"}}))).node == "n2"
    assert s.schedule(pod("c3", ns="a", affinity=term("podAffinity", sel, HOST,
                                                     namespaceSelector={"matchLabels": {"team": "x"}}))).node is None
    assert s.schedule(pod("c4", ns="a", affinity=term("podAntiAffinity", sel, HOST, namespaceSelector={}))).node == "n1"


def test_spread_skew_missing_label_and_min_domains() -> None:
    s = Scheduler([node("n1", **{ZONE: "a"}), node("n2", **{ZONE: "b"}), node("n3")])
    s.add_bound_pod(pod("o1", {"app": "foo"}, node_name="n1"))
    sel = {"matchLabels": {"app": "foo"}}
    r = s.schedule(pod("p1", {"app": "foo"}, topologySpreadConstraints=spread(ZONE, sel)))
    assert r.node == "n2"
    r = s.schedule(pod("p2", {"app": "foo"}, topologySpreadConstraints=spread(ZONE, sel, minDomains=3)))
    assert r.message == ("0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing "
                         "required label), 2 node(s) didn't match pod topology spread constraints. no new claims to "
                         "deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
                         "2 No preemption victims found for incoming pod.")
    # The incoming pod outside its own selector adds nothing to the skew.
    assert s.schedule(pod("p3", {"app": "bar"}, topologySpreadConstraints=spread(ZONE, sel, minDomains=3))).node in ("n1", "n2")


def test_spread_node_affinity_policy() -> None:
    s = Scheduler([node("n1"), node("n2")])
    s.add_bound_pod(pod("o1", {"app": "foo"}, node_name="n1"))
    sel = {"matchLabels": {"app": "foo"}}
    honor = pod("h", {"app": "foo"}, nodeSelector={HOST: "n1"}, topologySpreadConstraints=spread(HOST, sel))
    ignore = pod("i", {"app": "foo"}, nodeSelector={HOST: "n1"},
                 topologySpreadConstraints=spread(HOST, sel, nodeAffinityPolicy="Ignore"))
    assert s.schedule(ignore).node is None
    assert s.schedule(honor).node == "n1"


def test_preemption_resolves_anti_affinity() -> None:
    s = Scheduler([node("n1")], priority_classes=[{"metadata": {"name": "high"}, "value": 1000}])
    s.add_bound_pod(pod("low", {"app": "web"}, node_name="n1"))
    r = s.schedule(pod("high", {"app": "api"}, priorityClassName="high",
                       affinity=term("podAntiAffinity", {"matchLabels": {"app": "web"}}, HOST)))
    assert r.nominated_node == "n1" and r.preempted == ("default/low",)


def test_existing_anti_affinity_array_path_blocks_the_whole_domain() -> None:
    s = Scheduler([node("n1", **{ZONE: "a"}), node("n2", **{ZONE: "a"}), node("n3", **{ZONE: "b"})])
    s.add_bound_pod(pod("guard", node_name="n1", affinity=term("podAntiAffinity", {"matchLabels": {"app": "x"}}, ZONE)))
    for i in range(3):
        assert s.schedule(pod(f"x{i}", {"app": "x"})).node == "n3"
    r = s.schedule(pod("pinned", {"app": "x"}, nodeSelector={ZONE: "a"}))
    assert r.message is not None and "2 node(s) didn't satisfy existing pods anti-affinity rules." in r.message
    s.remove_pod("default/guard")
    assert s.schedule(pod("free", {"app": "x"}, nodeSelector={ZONE: "a"})).node in ("n1", "n2")


def _pref(kind: str, weight: int, sel: dict[str, str], key: str) -> dict[str, Any]:
    return {kind: {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": weight, "podAffinityTerm": {"labelSelector": {"matchLabels": sel}, "topologyKey": key}}]}}


def test_inter_pod_affinity_scores() -> None:
    nodes = [node("n1", **{ZONE: "a"}), node("n2", **{ZONE: "a"}), node("n3", **{ZONE: "b"})]
    s = Scheduler(nodes)
    s.add_bound_pod(pod("db", {"app": "db"}, node_name="n2"))
    idx = np.array([s.table.index[n] for n in ("n1", "n2", "n3")])  # table order is node-tree order
    assert s._affinity_scores(pod("plain"), idx) is None
    near = s._affinity_scores(pod("near", affinity=_pref("podAffinity", 100, {"app": "db"}, HOST)), idx)
    assert near is not None and near.tolist() == [0, 100, 0]
    avoid = s._affinity_scores(pod("avoid", affinity=_pref("podAntiAffinity", 50, {"app": "db"}, ZONE)), idx)
    assert avoid is not None and avoid.tolist() == [0, 0, 100]
    # An existing pod's required affinity counts with hardPodAffinityWeight 1 for a pod it selects.
    s.add_bound_pod(pod("follower", node_name="n3", affinity=term("podAffinity", {"matchLabels": {"app": "leader"}}, HOST)))
    leader = s._affinity_scores(pod("leader", {"app": "leader"}), idx)
    assert leader is not None and leader.tolist() == [0, 0, 100]
    assert s.schedule(pod("leader", {"app": "leader"})).node == "n3"


def test_schedule_anyway_spread_ignores_nodes_without_the_key() -> None:
    s = Scheduler([node("n1", **{ZONE: "a"}), node("n2", **{ZONE: "b"}), node("n3")])
    s.add_bound_pod(pod("o1", {"app": "foo"}, node_name="n1"))
    p = pod("p", {"app": "foo"}, topologySpreadConstraints=[{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "ScheduleAnyway",
                                                             "labelSelector": {"matchLabels": {"app": "foo"}}}])
    idx = np.array([s.table.index[n] for n in ("n1", "n2", "n3")])
    scores = spread_scores(s.table, idx, p)
    assert scores is not None and scores.tolist() == [0, 100, 0]
    assert spread_scores(s.table, idx, pod("q", topologySpreadConstraints=spread(ZONE, {}))) is None
    assert s.schedule(p).node == "n2"
