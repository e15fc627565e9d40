"""Runner, object steps, marks, host/probe steps, ops log and down — against the in-test fake backend."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from fakes import FakeBackend, flow

from ai_infra_ops.backend import Backend, ProbeRequest, ProbeResult
from ai_infra_ops.errors import BackendError
from ai_infra_ops.pipeline import Condition, Evidence, Step, StepOutcome, run_down, run_plan
from ai_infra_ops.pipeline.marks import mark_matches, read_mark, write_mark
from ai_infra_ops.pipeline.objectsteps import ApplyObjects, LabelNodes, Wait, WaitFor, differs
from ai_infra_ops.pipeline.observesteps import HostStep, ProbeStep
from ai_infra_ops.pipeline.opslog import from_jsonl, to_jsonl, to_markdown
from ai_infra_ops.validate.probecheck import Expect


def cm(name: str, value: str = "1") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": {"k": value}}


def node(name: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": dict(labels or {})},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


@pytest.mark.parametrize("want,have,diff", [
    ({"a": 1}, {"a": 1, "b": 2}, None),
    ({"a": "1"}, {"a": 1}, None),
    ({"cpu": "1000m"}, {"cpu": "1"}, None),
    ({"a": {"b": [1, 2]}}, {"a": {"b": [1, 2]}}, None),
    ({"a": {"b": [1, 2]}}, {"a": {"b": [1]}}, "a.b"),
    ({"a": 1}, {}, "a"),
    ({"a": True}, {"a": "true"}, None),
    ({"x": {"y": "z"}}, {"x": "str"}, "x"),
])
def test_differs(want, have, diff):
    assert differs(want, have) == diff


def test_second_run_changes_nothing_and_says_so():
    b = FakeBackend()
    steps = [ApplyObjects("cms", 2, "two config maps", (cm("a"), cm("b")))]
    first = run_plan(b, steps)
    assert first.ok and first.entries[0].action == "applied"
    assert set(first.entries[0].changes) == {"configmap/a created", "configmap/b created"}
    applied = list(b.applied)
    second = run_plan(b, steps)
    assert second.ok and [e.action for e in second.entries] == ["skipped"]
    assert second.message.startswith("nothing to do")
    assert b.applied == applied  # nothing was applied again


def test_changed_object_is_reapplied():
    b = FakeBackend()
    run_plan(b, [ApplyObjects("cm", 2, "cm", (cm("a", "1"),))])
    res = run_plan(b, [ApplyObjects("cm", 2, "cm", (cm("a", "2"),))])
    assert res.entries[0].action == "applied" and res.entries[0].changes == ("configmap/a configured",)


@dataclass(frozen=True)
class Boom(Step):
    name: str = "boom"
    phase: int = 1
    description: str = "always fails"

    def check(self, backend: Backend) -> Condition:
        return Condition(False)

    def apply(self, backend: Backend) -> StepOutcome:
        raise BackendError("the API server said no")


def test_stops_at_first_failure_with_message():
    b = FakeBackend()
    lines: list[str] = []
    res = run_plan(b, [ApplyObjects("a", 1, "a", (cm("a"),)), Boom(), ApplyObjects("c", 1, "c", (cm("c"),))],
                   progress=lines.append)
    assert not res.ok and res.failed_step == "boom"
    assert "the API server said no" in res.message
    assert [e.step for e in res.entries] == ["a", "boom"]
    assert b.get("ConfigMap", "c", "default") is None
    assert len(lines) == 2 and "failed" in lines[1]


def test_wait_failure_fails_the_step():
    b = FakeBackend()
    never = Wait("ConfigMap", "a", "default", lambda o: bool(o and o.get("data", {}).get("k") == "ready"), "ready")
    res = run_plan(b, [ApplyObjects("a", 1, "a", (cm("a"),), (never,))])
    assert not res.ok and "ready" in res.message


def test_label_nodes_apply_check_undo():
    b = FakeBackend()
    b.apply([node("n1", {"keep": "x"})])
    step = LabelNodes("pool", 2, "pool labels", {"n1": {"pool": "default"}})
    assert not step.check(b)
    assert step.apply(b).ok
    assert b.get("Node", "n1")["metadata"]["labels"] == {"keep": "x", "pool": "default"}
    assert step.check(b)
    step.undo(b)
    assert b.get("Node", "n1")["metadata"]["labels"] == {"keep": "x"}


def test_label_missing_node_fails():
    res = LabelNodes("pool", 2, "pool", {"ghost": {"a": "b"}}).apply(FakeBackend())
    assert not res.ok and "ghost" in res.message


def test_wait_for_step():
    b = FakeBackend()
    b.apply([node("n1")])
    ready = WaitFor("ready", 1, "ready", (Wait("Node", "n1", None, lambda o: o is not None, "Ready"),))
    assert ready.check(b)
    assert not WaitFor("x", 1, "x", (Wait("Node", "n2", None, lambda o: o is not None, "Ready"),)).apply(b).ok


def test_marks_roundtrip_and_fingerprint():
    b = FakeBackend()
    assert read_mark(b, "s") is None
    write_mark(b, "s", "fp1", Evidence(flows=("1", "2")), "t")
    assert mark_matches(b, "s", "fp1") == Evidence(flows=("1", "2"))
    assert mark_matches(b, "s", "fp2") is None
    write_mark(b, "t", "x", Evidence())
    assert read_mark(b, "s")["fingerprint"] == "fp1"


def test_host_step_rendered_then_skipped_and_failed_goal():
    b = FakeBackend()
    ok_goal = HostStep("init", 1, "kubeadm init", (("kubeadm/init.yaml", "kind: InitConfiguration"),),
                       lambda be: Condition(True, "node registered", Evidence(objects=("node/cp01",))))
    first = run_plan(b, [ok_goal])
    assert first.entries[0].action == "rendered" and "rendered, not executed" in first.entries[0].message
    assert any(a.startswith("kubeadm/init.yaml sha256:") for a in first.entries[0].evidence.artifacts)
    assert run_plan(b, [ok_goal]).entries[0].action == "skipped"
    bad = HostStep("join", 1, "join", (("a", "b"),), lambda be: Condition(False, "node01 not registered"))
    res = run_plan(b, [bad])
    assert not res.ok and "node01 not registered" in res.message


def _probe_backend(verdict: str, drop: str = "") -> FakeBackend:
    b = FakeBackend()
    b.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "gpu", "uid": "u1"}}])
    b.probes[("gpu/p", "ip:8.8.8.8")] = lambda r: ProbeResult(
        r, verdict, drop_reason=drop or None, flows=[flow(verdict, drop=drop, src="gpu/p")], flow_ids=["7"])
    return b


def _pstep(expect: Expect, moot=None) -> ProbeStep:
    return ProbeStep("baseline", 2, "baseline", ProbeRequest("gpu/p", "ip:8.8.8.8", None, "ICMP"), expect,
                     lambda be: (be.get("Pod", "p", "gpu") or {}).get("metadata", {}).get("uid", ""), moot=moot)


def test_probe_step_observes_once_per_pod():
    b = _probe_backend("FORWARDED")
    step = _pstep(Expect(allowed=True))
    res = run_plan(b, [step])
    assert res.entries[0].action == "applied" and res.entries[0].evidence.flows == ("f-1",)  # Hubble uuid
    assert len(res.flows) == 1
    assert run_plan(b, [step]).entries[0].action == "skipped"
    b.objects[("Pod", "gpu", "p")]["metadata"]["uid"] = "u2"  # pod recreated -> observed again
    assert run_plan(b, [step]).entries[0].action == "applied"
    assert len(b.probed) == 2


def test_probe_step_fails_on_wrong_verdict_and_moot():
    b = _probe_backend("DROPPED", "POLICY_DENIED")
    assert not run_plan(b, [_pstep(Expect(allowed=True))]).ok
    moot = _pstep(Expect(allowed=True), moot=lambda be: Condition(True, "policies already enforced"))
    assert run_plan(b, [moot]).entries[0].action == "skipped"
    assert run_plan(b, [_pstep(Expect(allowed=False, drop_reason="POLICY_DENIED"))]).ok


def test_probe_step_without_network():
    b = _probe_backend("FORWARDED")
    b.caps = {"objects"}
    res = run_plan(b, [_pstep(Expect(allowed=True))])
    assert res.ok and res.entries[0].action == "needs Cilium/Hubble"
    assert b.probed == []


def test_opslog_jsonl_roundtrip_and_markdown():
    b = FakeBackend()
    res = run_plan(b, [ApplyObjects("cms", 2, "config maps", (cm("a"),))])
    text = to_jsonl(res.entries)
    back = from_jsonl(text)[0]
    e = res.entries[0]
    assert (back.step, back.action, back.evidence, back.changes, back.timestamp) == (e.step, e.action, e.evidence, e.changes, e.timestamp)
    assert abs(back.duration_s - e.duration_s) < 1e-3
    md = to_markdown(res.entries)
    assert "## Phase 2" in md and "**cms**" in md and "configmap/default/a" in md
    assert res.entries[0].timestamp.endswith("Z")


def test_down_undoes_in_reverse_order():
    b = FakeBackend()
    steps = [ApplyObjects("first", 1, "first", (cm("a"),)), ApplyObjects("second", 2, "second", (cm("b"), cm("c")))]
    run_plan(b, steps)

    class Spec:  # the fixture removal only needs workers/control plane
        def workers(self):
            return []

        def control_plane(self):
            return type("N", (), {"name": "cp01"})()

    entries = run_down(b, steps, Spec())
    assert b.deleted == ["ConfigMap/c", "ConfigMap/b", "ConfigMap/a"]
    assert [e.step for e in entries][:2] == ["second", "first"]
    assert entries[0].action == "deleted"
