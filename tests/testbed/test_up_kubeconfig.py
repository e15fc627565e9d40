"""``ai-infra-ops --kubeconfig K up --phase 2`` against the test bed (issue 5, item 5).

The test bed plays "a cluster after phase 1": the spec's four nodes exist as KWOK nodes (Ready)
with 8 ``nvidia.com/gpu`` on each worker, as fake-gpu-operator's kwok-gpu-device-plugin would
set them. The phase-2 GPU steps then run for real (namespaces, pool labels, the CUDA test pod
scheduled by kube-scheduler, the chaos pod Pending with its real message), and every network
step and check says "needs Cilium/Hubble" instead of failing or faking.

Two GPU checks fail here, correctly: they look for what fake-gpu-operator's status-updater writes
(node labels ``nvidia.com/gpu.product``/``.memory`` and the ``topology-<node>`` ConfigMaps), and
that component does not run on the test bed (its module is not served by the Go proxy here).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness import Testbed, kwok_node, node_settled

from ai_infra_ops.cli.main import main
from ai_infra_ops.spec import default_spec

OPERATOR_CHECKS = {"gpu-node-labels", "gpu-test-pod"}


def test_up_phase_2_on_the_testbed(kube: Any, testbed: Testbed, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    spec = default_spec()
    nodes = []
    for n in spec.nodes:
        alloc = {"cpu": str(n.cpu), "memory": str(n.memory), "pods": str(n.pods)}
        if spec.pool_for_node(n.name) is not None:
            alloc["nvidia.com/gpu"] = "8"
        nodes.append(kwok_node(n.name, alloc, dict(n.labels), [dict(t) for t in n.taints], kwok_taint=False))
    kube.apply(nodes)
    for n in nodes:
        assert kube.wait_for("Node", n["metadata"]["name"], None, node_settled, timeout_s=60).ok

    rc = main(["--kubeconfig", str(testbed.kubeconfig), "--state-dir", str(tmp_path / "state"), "up", "--phase", "2"])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "steps on backend kube (phase 2)" in text
    for step in ("pool-labels", "gpus-allocatable", "cuda-test-pod", "chaos-pod"):
        line = next(ln for ln in text.splitlines() if f"  {step} " in ln)
        assert "failed" not in line and "needs Cilium" not in line, line
    assert "24 nvidia.com/gpu allocatable" in text
    assert "3 Insufficient nvidia.com/gpu" in text  # the real scheduler's chaos-pod message
    for step in ("baseline-egress", "zero-trust-policies", "egress-dropped"):
        line = next(ln for ln in text.splitlines() if f"  {step} " in ln)
        assert "needs Cilium/Hubble" in line, line
    assert "PASS  gpu-allocatable" in text and "PASS  gpu-chaos-pending" in text
    failed = {ln.split()[1] for ln in text.splitlines() if ln.strip().startswith("FAIL  ")}
    assert failed == OPERATOR_CHECKS, failed
    assert rc == 1

    live = kube.get("Pod", "cudatestpod", "gpu")
    assert live["status"]["phase"] == "Running" and live["spec"]["nodeName"] in {"node01", "node02", "node03"}
    assert kube.get("Pod", "cudatestpodchaos", "gpu") is None  # deleted after it was observed Pending
    assert all(kube.get("Node", w)["metadata"]["labels"].get("run.ai/simulated-gpu-node-pool") == "default"
               for w in ("node01", "node02", "node03"))
