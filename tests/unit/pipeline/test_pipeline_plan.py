"""The plan built from the default spec: the seed's steps, in order, with the right artifacts."""
from __future__ import annotations

import yaml

from ai_infra_ops.pipeline import build_plan
from ai_infra_ops.pipeline.objectsteps import ApplyObjects
from ai_infra_ops.pipeline.observesteps import HostStep, InstallStep, NetworkGated
from ai_infra_ops.pipeline.phases import cilium_config
from ai_infra_ops.spec import default_spec

PHASE1 = ["prepare-nodes", "kubeadm-init", "kubeadm-join", "cilium", "hubble", "worker-labels", "nodes-ready",
          "connectivity"]
PHASE2 = ["namespaces", "pool-labels", "fake-gpu-operator", "gpus-allocatable", "cuda-test-pod", "chaos-pod",
          "workloads", "baseline-egress", "zero-trust-policies", "egress-dropped"]


def by_name(steps):
    return {s.name: s for s in steps}


def test_default_plan_order_and_phases():
    steps = build_plan(default_spec())
    assert [s.name for s in steps] == PHASE1 + PHASE2
    assert {s.phase for s in steps[:8]} == {1} and {s.phase for s in steps[8:]} == {2}
    assert [s.name for s in build_plan(default_spec(), phases=(2,))] == PHASE2
    assert [s.name for s in build_plan(default_spec(), phases=(1,))] == PHASE1


def test_fake_gpu_operator_gets_correct_values():
    step = by_name(build_plan(default_spec()))["fake-gpu-operator"]
    assert isinstance(step, InstallStep)
    topo_cm = next(o for o in step.inner.objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "topology")
    topo = yaml.safe_load(topo_cm["data"]["topology.yml"])
    pool = topo["nodePools"]["default"]
    assert (pool["gpuProduct"], pool["gpuMemory"], pool["gpuCount"]) == ("NVIDIA-H100-80GB-HBM3", 81559, 8)
    assert any(o["kind"] == "Deployment" and o["metadata"]["name"] == "status-updater" for o in step.inner.objects)


def test_kubeadm_steps_render_artifacts_and_never_show_the_token():
    steps = by_name(build_plan(default_spec(), token_secret=b"s3cret"))
    init, join = steps["kubeadm-init"], steps["kubeadm-join"]
    assert isinstance(init, HostStep) and isinstance(join, HostStep)
    init_docs = list(yaml.safe_load_all(init.artifacts[0][1]))
    assert init_docs[0]["skipPhases"] == ["addon/kube-proxy"]
    assert [p for p, _ in join.artifacts] == ["kubeadm/join-node01.yaml", "kubeadm/join-node02.yaml", "kubeadm/join-node03.yaml"]
    doc = next(d for d in yaml.safe_load_all(join.artifacts[0][1]) if d and d.get("kind") == "JoinConfiguration")
    token = doc["discovery"]["bootstrapToken"]["token"]
    assert token.split(".")[1] not in " ".join(join.notes) and token.split(".")[0] in join.notes[0]
    other = by_name(build_plan(default_spec(), token_secret=b"other"))["kubeadm-join"]
    assert other.artifacts != join.artifacts  # derived per installation secret, never a fixed token


def test_cilium_config_replaces_kube_proxy():
    data = cilium_config(default_spec())["data"]
    assert data["kube-proxy-replacement"] == "true" and data["enable-hubble"] == "true"
    assert data["cluster-name"] == "default" and data["k8s-service-host"] == "192.168.64.10"


def test_workloads_step_excludes_the_test_pod_and_policies_come_from_intents():
    steps = by_name(build_plan(default_spec()))
    wl = steps["workloads"]
    assert isinstance(wl, ApplyObjects)
    names = [o["metadata"]["name"] for o in wl.objects]
    assert "cudatestpod" not in names and "model-server" in names
    pols = steps["zero-trust-policies"]
    assert isinstance(pols, NetworkGated) and isinstance(pols.inner, ApplyObjects)
    assert all(o["kind"].startswith("Cilium") for o in pols.inner.objects)
    assert steps["cuda-test-pod"].objects[0]["metadata"]["name"] == "cudatestpod"  # type: ignore[attr-defined]
