"""Validation: scheduler message per version, probe judging, GPU checks, no-network behaviour."""
from __future__ import annotations

import pytest
import yaml
from fakes import FakeBackend, flow

from ai_infra_ops.backend import ProbeRequest, ProbeResult
from ai_infra_ops.spec import default_spec
from ai_infra_ops.validate import run_validation
from ai_infra_ops.validate.evidence import expected_failed_scheduling, pod_unschedulable
from ai_infra_ops.validate.gpu import allocatable_check, chaos_check, cuda_pod_check
from ai_infra_ops.validate.probecheck import Expect, probe_check

CP = {"metadata": {"name": "cp01"}, "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
      "status": {"allocatable": {"cpu": "4"}}}


def worker(name: str, gpus: int = 8) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {}},
            "status": {"allocatable": {"cpu": "4", "nvidia.com/gpu": str(gpus)},
                       "conditions": [{"type": "Ready", "status": "True"}]}}


CHAOS = default_spec().chaos_pod


@pytest.mark.parametrize("version,text", [
    ("1.35", "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient nvidia.com/gpu. no new claims "
             "to deallocate, preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."),
    ("1.34", "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
             "3 Insufficient nvidia.com/gpu. no new claims to deallocate, preemption: 0/4 nodes are available: "
             "4 Preemption is not helpful for scheduling."),
    ("1.33", "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
             "3 Insufficient nvidia.com/gpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for "
             "scheduling, 3 No preemption victims found for incoming pod."),
])
def test_expected_failed_scheduling_matches_reference(version, text):
    nodes = [CP, worker("node01"), worker("node02"), worker("node03")]
    assert expected_failed_scheduling(nodes, CHAOS, version) == text


def test_expected_failed_scheduling_none_when_a_node_fits():
    assert expected_failed_scheduling([CP, worker("node01", 64)], CHAOS, "1.35") is None


def _backend(result: ProbeResult | None) -> FakeBackend:
    b = FakeBackend()
    if result is not None:
        b.probes[("gpu/p", "ip:8.8.8.8")] = lambda r: ProbeResult(r, **{k: v for k, v in result.__dict__.items() if k != "request"})
    return b


REQ = ProbeRequest("gpu/p", "ip:8.8.8.8", None, "ICMP")


def res(verdict: str, drop: str = "", flows: int = 1, **kw) -> ProbeResult:
    return ProbeResult(REQ, verdict, drop_reason=drop or None,
                       flows=[flow(verdict, drop=drop, uuid=f"u{i}") for i in range(flows)], **kw)


@pytest.mark.parametrize("result,expect,status", [
    (res("FORWARDED"), Expect(allowed=True), "pass"),
    (res("FORWARDED", flows=0), Expect(allowed=True), "fail"),              # no flows = no evidence
    (res("DROPPED", "POLICY_DENIED"), Expect(allowed=True), "fail"),
    (res("DROPPED", "POLICY_DENIED"), Expect(allowed=False, drop_reason="POLICY_DENIED"), "pass"),
    (res("DROPPED", "POLICY_DENY"), Expect(allowed=False, drop_reason="POLICY_DENIED"), "fail"),
    (res("FORWARDED"), Expect(allowed=False), "fail"),
    (res("FORWARDED", http_status=403), Expect(allowed=False, l7_denied=True), "pass"),
    (res("FORWARDED", grpc_status="PERMISSION_DENIED", http_status=403), Expect(allowed=False, l7_denied=True), "pass"),
    (res("FORWARDED", dns_rcode="REFUSED"), Expect(allowed=False, dns_rcode="REFUSED"), "pass"),
    (res("FORWARDED", dns_rcode="NOERROR"), Expect(allowed=False, dns_rcode="REFUSED"), "fail"),
])
def test_probe_check_judges_evidence(result, expect, status):
    out = probe_check(_backend(result), id="x", group="g", title="t", request=REQ, expect=expect)
    assert out.status == status, out.message
    if result.flows:
        assert out.flow_ids and len(out.flows) == len(result.flows)


def test_probe_check_needs_network():
    b = _backend(res("FORWARDED"))
    b.caps = {"objects", "scheduling"}
    out = probe_check(b, id="x", group="g", title="t", request=REQ, expect=Expect(allowed=True))
    assert out.status == "needs Cilium/Hubble" and b.probed == []


def test_suite_without_network_reports_needs_cilium_hubble():
    spec = default_spec()
    b = FakeBackend(caps={"objects", "scheduling", "gpu"})
    report = run_validation(b, spec, groups=("connectivity", "zero-trust"))
    assert report.results and {r.status for r in report.results} == {"needs Cilium/Hubble"}
    assert report.ok and b.probed == [] and b.applied == []


def test_allocatable_check():
    spec = default_spec()
    b = FakeBackend()
    b.apply([worker("node01"), worker("node02"), worker("node03", 4)])
    out = allocatable_check(b, spec)
    assert out.status == "fail" and "node03: 4 (want 8)" in out.message
    b.apply([worker("node03")])
    assert allocatable_check(b, spec).status == "pass"


def _pod(name: str, phase: str, node: str | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "gpu", "uid": name},
            "spec": {"nodeName": node} if node else {}, "status": {"phase": phase}}


def test_cuda_pod_check_reads_topology():
    spec = default_spec()
    b = FakeBackend()
    b.apply([_pod("cudatestpod", "Running", "node02")])
    assert cuda_pod_check(b, spec).status == "fail"  # no topology ConfigMap: no proof of a GPU
    topo = {"gpus": [{"id": "GPU-a", "status": {"allocatedBy": {"namespace": "", "pod": ""}}},
                     {"id": "GPU-b", "status": {"allocatedBy": {"namespace": "gpu", "pod": "cudatestpod"}}}]}
    b.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "topology-node02", "namespace": "gpu"},
              "data": {"topology.yml": yaml.safe_dump(topo)}}])
    out = cuda_pod_check(b, spec)
    assert out.status == "pass" and "GPU index 1 (GPU-b)" in out.message


def _scheduler(message: str):
    def settle(b: FakeBackend) -> None:
        pod = b.objects.get(("Pod", "gpu", "cudatestpodchaos"))
        if pod is not None and "status" not in pod:
            pod["status"] = {"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}]}
            b.event_list.append({"metadata": {"name": "cudatestpodchaos.1", "namespace": "gpu"}, "reason": "FailedScheduling",
                                 "type": "Warning", "message": message,
                                 "involvedObject": {"kind": "Pod", "name": "cudatestpodchaos", "namespace": "gpu"}})
    return settle


@pytest.mark.parametrize("message,status", [
    ("0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient nvidia.com/gpu. no new claims to "
     "deallocate, preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.", "pass"),
    ("0/4 nodes are available: 4 Insufficient cpu.", "fail"),
])
def test_chaos_check_compares_the_scheduler_text(message, status):
    spec = default_spec()
    b = FakeBackend(settle=_scheduler(message))
    cp = {"apiVersion": "v1", "kind": "Node", **CP}
    b.apply([cp, worker("node01"), worker("node02"), worker("node03"), _pod("cudatestpod", "Running", "node01")])
    out = chaos_check(b, spec)
    assert out.status == status, out.message
    assert out.observed == message and out.events[0] == "event/gpu/cudatestpodchaos.1"
    assert b.get("Pod", "cudatestpodchaos", "gpu") is None  # deleted afterwards
    assert pod_unschedulable({"status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}})
