"""Report tests: a small ValidationReport and ops log built by hand (no backend)."""
from __future__ import annotations

import pytest

from ai_infra_ops.pipeline.opslog import OpsEntry
from ai_infra_ops.pipeline.steps import Evidence
from ai_infra_ops.validate.checks import CheckResult
from ai_infra_ops.validate.suite import NodeRow, ValidationReport


def _flow(uuid: str, verdict: str, src_pod: str, dst: dict, dst_ip: str, port: int | None, drop: str = "",
          t: str = "2026-01-01T00:00:01.000000000Z") -> dict:
    f = {"time": t, "uuid": uuid, "verdict": verdict, "IP": {"source": "10.244.1.5", "destination": dst_ip},
         "l4": {"TCP": {"source_port": 41000, "destination_port": port}} if port else {"ICMPv4": {"type": 8}},
         "source": {"identity": 4242, "namespace": "gpu", "pod_name": src_pod, "labels": [f"k8s:app={src_pod}"],
                    "workloads": [{"name": src_pod, "kind": "Pod"}]},
         "destination": dst, "Type": "L3_L4", "node_name": "ai-infra-ops/node01", "traffic_direction": "EGRESS",
         "Summary": "<script>alert(1)</script>"}
    if drop:
        f["drop_reason_desc"] = drop
    return f


WORLD = {"identity": 2, "labels": ["reserved:world"]}
GW = {"identity": 5000, "namespace": "gpu", "pod_name": "inference-gateway-abc", "labels": ["k8s:app=inference-gateway"],
      "workloads": [{"name": "inference-gateway", "kind": "Deployment"}]}


@pytest.fixture
def sample_flows() -> list[dict]:
    return [
        _flow("u-1", "FORWARDED", "cudatestpod", WORLD, "8.8.8.8", None, t="2026-01-01T00:00:01Z"),
        _flow("u-2", "DROPPED", "cudatestpod", WORLD, "8.8.8.8", None, "POLICY_DENIED", t="2026-01-01T00:00:02Z"),
        _flow("u-3", "FORWARDED", "inference-client", GW, "10.244.2.7", 8080, t="2026-01-01T00:00:03Z"),
    ]


@pytest.fixture
def sample_report(sample_flows) -> ValidationReport:
    results = (
        CheckResult("zt-egress-8.8.8.8", "zero-trust", "egress to 8.8.8.8 dropped", "pass",
                    "gpu/cudatestpod -> ip:8.8.8.8: DROPPED POLICY_DENIED", flow_ids=("u-2",),
                    expected="DROPPED POLICY_DENIED", observed="DROPPED POLICY_DENIED", flows=(sample_flows[1],)),
        CheckResult("gpu-chaos-pending", "gpu", "chaos pod Pending", "fail", "message differs & <b>bold</b>",
                    events=("event/gpu/cudatestpodchaos.1",), expected="0/4 nodes are available: ...", observed="x"),
        CheckResult("conn-pod-to-world", "connectivity", "pod-to-world", "needs Cilium/Hubble", "not probed"),
    )
    return ValidationReport("twin", ("flows", "network"), "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z", 0.5,
                            results, (NodeRow("node01", "worker", True, "192.168.64.11", "default", 8,
                                              "NVIDIA-H100-80GB-HBM3", "81559"),), {"cluster": "ai-infra-ops", "gpus": 24})


@pytest.fixture
def sample_ops() -> list[OpsEntry]:
    return [OpsEntry("2026-01-01T00:00:00.000Z", 1, "kubeadm-init", "kubeadm init", "rendered", 0.01,
                     "rendered, not executed", Evidence(artifacts=("kubeadm/init-config.yaml sha256:abc",))),
            OpsEntry("2026-01-01T00:00:00.100Z", 2, "egress-dropped", "egress dropped", "applied", 0.02,
                     "DROPPED", Evidence(flows=("u-2",)))]
