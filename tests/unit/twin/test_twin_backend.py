"""TwinBackend: the seed manifests as they are, all-or-nothing apply, kubectl apply semantics,
cascading deletes, waits without sleeping, persistence, probes and flow queries."""
from __future__ import annotations

from pathlib import Path

import pytest
from twin_fixtures import SEED, gpu_namespace, pod

from ai_infra_ops.backend import Backend, FlowQuery, ProbeRequest
from ai_infra_ops.errors import AdmissionError, ManifestError, PolicyError
from ai_infra_ops.kube_model import load_yaml_file
from ai_infra_ops.spec import PlatformSpec
from ai_infra_ops.twin.backend import TwinBackend

CHAOS_135 = ("0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient nvidia.com/gpu. "
             "no new claims to deallocate, preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")


def test_is_a_backend(tb: TwinBackend) -> None:
    assert isinstance(tb, Backend)
    assert tb.capabilities() == {"objects", "scheduling", "network", "flows", "gpu"}


def test_bootstrap_nodes_from_spec(tb: TwinBackend) -> None:
    nodes = {n["metadata"]["name"]: n for n in tb.list("nodes")}
    assert sorted(nodes) == ["cp01", "node01", "node02", "node03"]
    cp = nodes["cp01"]
    assert cp["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert cp["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert nodes["node02"]["metadata"]["labels"]["node-role.kubernetes.io/worker"] == "worker02"
    assert nodes["node02"]["status"]["nodeInfo"]["kubeletVersion"] == "v1.35.0"
    assert nodes["node02"]["status"]["addresses"][0] == {"address": "192.168.64.12", "type": "InternalIP"}
    assert next(c for c in nodes["node02"]["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
    assert [n["metadata"]["name"] for n in tb.list("namespaces")] == ["default", "kube-node-lease", "kube-public", "kube-system"]


def test_seed_cuda_pod_without_gpus_stays_pending(tb: TwinBackend) -> None:
    tb.apply(gpu_namespace(None))
    res = tb.apply(load_yaml_file(SEED / "cudaTestPod.yaml"))
    assert [str(r) for r in res] == ["pod/cudatestpod created"]
    p = tb.get("pod", "cudatestpod", "gpu")
    assert p["status"]["phase"] == "Pending"
    assert next(c for c in p["status"]["conditions"] if c["type"] == "PodScheduled")["message"] == CHAOS_135


def test_seed_cuda_pod_with_gpus_runs(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply(load_yaml_file(SEED / "cudaTestPod.yaml"))
    p = gpu_tb.get("pod", "cudatestpod", "gpu")
    assert p["status"]["phase"] == "Running"
    assert p["spec"]["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": 1}, "requests": {"nvidia.com/gpu": 1}}


def test_seed_chaos_pod_refused_by_quota(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply(load_yaml_file(SEED / "cudaTestPod.yaml"))
    with pytest.raises(AdmissionError) as ei:
        gpu_tb.apply(load_yaml_file(SEED / "cudaTestPodChaos.yaml"))
    assert str(ei.value).endswith(
        'pods "cudatestpodchaos" is forbidden: exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=48, '
        "used: requests.nvidia.com/gpu=1, limited: requests.nvidia.com/gpu=24")
    assert gpu_tb.get("pod", "cudatestpodchaos", "gpu") is None


def test_seed_chaos_pod_pending_without_quota(tb: TwinBackend) -> None:
    from twin_fixtures import SEED_TOPOLOGY, fake_gpu_objects, label_workers

    tb.apply(gpu_namespace(None))
    label_workers(tb)
    tb.apply(fake_gpu_objects(SEED_TOPOLOGY))
    tb.apply(load_yaml_file(SEED / "cudaTestPodChaos.yaml"))
    p = tb.get("pod", "cudatestpodchaos", "gpu")
    assert p["status"]["phase"] == "Pending"
    assert tb.events("gpu", "cudatestpodchaos")[0]["message"] == CHAOS_135


@pytest.mark.parametrize("bad,error", [
    (pod("two", 1, imagePullPolicyX="Always"), ManifestError),
    ({"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}, ManifestError),
    (pod("one", 1), ManifestError),  # duplicate of the first object
    (pod("ghost", 1, ns="nowhere"), AdmissionError),
    (pod("greedy", 30), AdmissionError),
], ids=["unknown-field", "unknown-kind", "duplicate", "missing-namespace", "quota"])
def test_all_or_nothing(gpu_tb: TwinBackend, bad: dict, error: type) -> None:
    before = {k: len(gpu_tb.store.list_objects(k)) for k in gpu_tb.store.kinds()}
    events = len(gpu_tb.events())
    rv = gpu_tb.store.get_meta("counter:resourceVersion")
    with pytest.raises(error):
        gpu_tb.apply([pod("one", 1), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "gpu"}}, bad])
    assert {k: len(gpu_tb.store.list_objects(k)) for k in gpu_tb.store.kinds()} == before
    assert len(gpu_tb.events()) == events and gpu_tb.store.get_meta("counter:resourceVersion") == rv


def test_apply_actions_and_three_way_merge(tb: TwinBackend) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1", "b": "2"}},
          "data": {"x": "1"}}
    assert [r.action for r in tb.apply([cm])] == ["created"]
    assert [r.action for r in tb.apply([cm])] == ["unchanged"]
    cm2 = {**cm, "metadata": {"name": "c", "labels": {"a": "1"}}, "data": {"x": "2"}}
    assert [r.action for r in tb.apply([cm2])] == ["configured"]
    live = tb.get("configmap", "c")
    assert live["metadata"]["labels"] == {"a": "1"} and live["data"] == {"x": "2"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in live["metadata"]["annotations"]


def test_reapplied_pod_is_unchanged_and_spec_is_immutable(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply([pod("p", 1)])
    assert [r.action for r in gpu_tb.apply([pod("p", 1)])] == ["unchanged"]
    with pytest.raises(AdmissionError, match=r'The Pod "p" is invalid: spec: Forbidden: pod updates may not change'):
        gpu_tb.apply([pod("p", 2)])
    assert [r.action for r in gpu_tb.apply([pod("p", 1, image="nvidia/cuda:13.2")])] == ["configured"]


def test_dry_run_writes_nothing(tb: TwinBackend) -> None:
    res = tb.apply(gpu_namespace(None), dry_run=True)
    assert [str(r) for r in res] == ["namespace/gpu created"]
    assert tb.get("namespace", "gpu") is None


def test_invalid_policy_rejected_others_applied(tb: TwinBackend) -> None:
    good = load_yaml_file(SEED / "ztpCudaTestPod.yaml")[0].value
    bad = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "bad", "namespace": "gpu"},
           "spec": {"endpointSelector": {}, "egress": [{"toCIDR": ["10.0.0.0/33"]}]}}
    with pytest.raises(PolicyError) as ei:
        tb.apply(gpu_namespace(None) + [good, bad])
    assert "bad" in str(ei.value)
    assert [str(r) for r in ei.value.applied] == ["namespace/gpu created", "ciliumnetworkpolicy/ztp-cuda-rule created"]
    cnp = tb.get("cnp", "ztp-cuda-rule", "gpu")
    assert cnp["status"]["conditions"][0] == {"lastTransitionTime": "2026-01-01T00:00:00Z",
                                              "message": "Policy validation succeeded", "status": "True", "type": "Valid"}
    assert tb.get("cnp", "bad", "gpu") is None


def test_delete_cascades_and_frees(gpu_tb: TwinBackend) -> None:
    assert gpu_tb.delete("deployment", "status-updater", "gpu")
    assert gpu_tb.list("replicasets", "gpu") == [] and gpu_tb.list("pods", "gpu") == []
    assert not gpu_tb.delete("pod", "nothing", "gpu")
    gpu_tb.delete("namespace", "gpu")
    assert gpu_tb.list("configmaps", "gpu") == [] and gpu_tb.get("namespace", "gpu") is None


@pytest.mark.parametrize("phase,ok", [("Running", True), ("Succeeded", False)])
def test_wait_for_evaluates_settled_state(gpu_tb: TwinBackend, phase: str, ok: bool) -> None:
    gpu_tb.apply([pod("w", 1)])
    res = gpu_tb.wait_for("pod", "w", "gpu", lambda o: o is not None and o["status"]["phase"] == phase,
                          timeout_s=30, description=f"phase {phase}")
    assert res.ok is ok and res.waited_s == 0.0
    assert (res.message == "") is ok
    if not ok:
        assert "pod/w (phase Succeeded)" in res.message


def test_state_persists_across_open(tmp_path: Path, clock) -> None:
    a = TwinBackend.open(tmp_path, spec=PlatformSpec(), clock=clock)
    a.apply(gpu_namespace())
    a.close()
    b = TwinBackend.open(tmp_path, clock=clock)
    assert b.get("resourcequota", "gpu-quota", "gpu")["status"]["hard"] == {"requests.nvidia.com/gpu": "24"}
    assert len(b.list("nodes")) == 4
    b.reset()
    assert b.get("namespace", "gpu") is None
    b.close()


def test_list_selectors_and_kind_spellings(gpu_tb: TwinBackend) -> None:
    gpu_tb.apply([pod("a", 1), pod("b", None)])
    assert [p["metadata"]["name"] for p in gpu_tb.list("po", "gpu", "app=cuda")] == ["a", "b"]
    assert gpu_tb.list("pods", "gpu", "app=cuda,!x,app notin (web)")[0]["metadata"]["name"] == "a"
    assert len(gpu_tb.list("cm", "gpu", "node-topology=true")) == 3


def test_probe_and_observe_through_the_network(tb: TwinBackend) -> None:
    tb.apply(gpu_namespace(None) + [pod("client", None)])
    res = tb.probe(ProbeRequest(source="gpu/client", target="ip:8.8.8.8", port=53, protocol="UDP"))
    assert res.verdict == "FORWARDED"
    assert res.flows
    flows = tb.observe(FlowQuery())
    assert len(flows) == len(res.flows) and flows[0]["verdict"] == "FORWARDED"
    assert len(tb.observe(FlowQuery(last=1))) == 1
    assert tb.observe(FlowQuery(filters={"whitelist": [{"verdict": ["DROPPED"]}]})) == []
    fwd = tb.observe(FlowQuery(filters={"whitelist": [{"verdict": ["FORWARDED"], "source_pod": ["gpu/client"]}]}))
    assert fwd and all(f["verdict"] == "FORWARDED" for f in fwd)
    assert tb.observe(FlowQuery(since="2030-01-01T00:00:00Z")) == []


def test_pending_gpu_pod_scheduled_once_gpus_appear(tb: TwinBackend) -> None:
    from twin_fixtures import SEED_TOPOLOGY, fake_gpu_objects, label_workers

    tb.apply(gpu_namespace())
    tb.apply(load_yaml_file(SEED / "cudaTestPod.yaml"))
    assert tb.get("pod", "cudatestpod", "gpu")["status"]["phase"] == "Pending"
    label_workers(tb)
    tb.apply(fake_gpu_objects(SEED_TOPOLOGY))
    p = tb.get("pod", "cudatestpod", "gpu")
    assert p["status"]["phase"] == "Running"
    assert [e["reason"] for e in tb.events("gpu", "cudatestpod")] == ["FailedScheduling", "Scheduled"]


def test_list_objects_and_secret_string_data(tb: TwinBackend) -> None:
    lst = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"token": "abc"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}]}
    assert [str(r) for r in tb.apply([lst])] == ["configmap/c created", "secret/s created"]
    s = tb.get("secret", "s")
    assert s["data"] == {"token": "YWJj"} and s["type"] == "Opaque" and "stringData" not in s


def test_relabelling_a_node_read_back_with_get(tb: TwinBackend) -> None:
    import json

    key = "run.ai/simulated-gpu-node-pool"
    for value in ("default", None, "default"):
        n = tb.get("node", "node01")
        if value is None:
            del n["metadata"]["labels"][key]
        else:
            n["metadata"]["labels"][key] = value
        tb.apply([n])
        live = tb.get("node", "node01")
        assert live["metadata"]["labels"].get(key) == value
        applied = json.loads(live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
        assert "kubectl.kubernetes.io/last-applied-configuration" not in (applied["metadata"].get("annotations") or {})


def test_spec_node_added_later_joins(tmp_path: Path, clock) -> None:
    spec = PlatformSpec()
    TwinBackend.open(tmp_path, spec=spec, clock=clock).close()
    data = spec.model_dump(by_alias=True)
    data["nodes"].append({"name": "node04", "role": "worker", "ip": "192.168.64.14"})
    bigger = PlatformSpec.model_validate(data)
    tb = TwinBackend.open(tmp_path, spec=bigger, clock=clock)
    n = tb.get("node", "node04")
    assert n["spec"]["podCIDR"] == "10.244.4.0/24" and len(tb.list("nodes")) == 5
    tb.close()
