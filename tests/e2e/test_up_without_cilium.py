"""`up` against a cluster without Cilium/Hubble (what `up --kubeconfig` meets on the test bed):
the twin behind a backend that has no network capability and is not the twin. The Phase 2 GPU
steps and the non-network checks run; network steps and checks say "needs Cilium/Hubble" instead
of failing or faking; host and Helm steps are "rendered, not executed"."""
from __future__ import annotations

from typing import Any

from ai_infra_ops.pipeline import build_plan, run_plan
from ai_infra_ops.render.fake_gpu import render_fake_gpu_operator
from ai_infra_ops.spec import default_spec
from ai_infra_ops.twin.backend import TwinBackend
from ai_infra_ops.validate import run_validation


class ClusterWithoutCilium:
    """A backend seen through the protocol only: objects, scheduling, GPUs — no network, no flows."""

    name = "kube"

    def __init__(self, inner: TwinBackend):
        self._inner = inner

    def capabilities(self) -> set[str]:
        return {"objects", "scheduling", "gpu"}

    def __getattr__(self, attr: str) -> Any:
        if attr in ("probe", "observe"):
            raise AssertionError(f"{attr} must not be called without the network capability")
        return getattr(self._inner, attr)


def test_gpu_steps_run_and_network_needs_cilium():
    spec = default_spec()
    twin = TwinBackend.open(None, spec=spec)
    for ns in ("gpu",):
        twin.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}])
    twin.apply(render_fake_gpu_operator(spec))  # installed by Helm on that cluster
    backend = ClusterWithoutCilium(twin)
    result = run_plan(backend, build_plan(spec))  # type: ignore[arg-type]
    actions = {e.step: e.action for e in result.entries}
    assert result.ok, result.message
    assert actions["kubeadm-init"] == "rendered" and actions["cilium"] == "rendered" and actions["hubble"] == "rendered"
    assert actions["fake-gpu-operator"] == "skipped"
    assert actions["cuda-test-pod"] == "applied" and actions["chaos-pod"] == "applied"
    for step in ("connectivity", "baseline-egress", "zero-trust-policies", "egress-dropped"):
        assert actions[step] == "needs Cilium/Hubble", (step, actions[step])
    assert twin.list("CiliumNetworkPolicy", "gpu") == []
    report = run_validation(backend, spec)  # type: ignore[arg-type]
    status = {r.id: r.status for r in report.results}
    assert report.ok
    assert status["gpu-allocatable"] == status["gpu-test-pod"] == status["gpu-chaos-pending"] == "pass"
    net = [r for r in report.results if r.group in ("connectivity", "zero-trust")]
    assert net and {r.status for r in net} == {"needs Cilium/Hubble"}
