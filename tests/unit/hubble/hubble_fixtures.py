"""Shared helpers for the hubble tests: the real sample files and the reference §6 endpoints."""
from __future__ import annotations

import os
from pathlib import Path

from ai_infra_ops.hubble.flow import FlowBuilder, Peer, endpoint_dict

# tests/conftest.py sets AI_INFRA_OPS_SHARED to the shared tree beside the repository.
SAMPLES = Path(os.environ["AI_INFRA_OPS_SHARED"]) / "reference" / "hubble-samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))
assert len(SAMPLE_FILES) == 3, f"expected the 3 real Hubble captures under {SAMPLES}"

CL = ["k8s:app=client", "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=demo",
      "k8s:io.cilium.k8s.policy.cluster=default", "k8s:io.cilium.k8s.policy.serviceaccount=default",
      "k8s:io.kubernetes.pod.namespace=demo"]
SV = [label.replace("app=client", "app=server") for label in CL]
DNSL = ["k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=kube-system",
        "k8s:io.cilium.k8s.policy.cluster=default", "k8s:io.cilium.k8s.policy.serviceaccount=coredns",
        "k8s:io.kubernetes.pod.namespace=kube-system", "k8s:k8s-app=kube-dns"]
T0 = 1_748_943_667_482_901_117  # 2025-06-03T09:41:07.482901117Z


def client() -> Peer:
    return Peer("10.0.1.23", endpoint_dict(ID=1337, identity=48312, cluster_name="default", namespace="demo",
                                           labels=CL, pod_name="client"), "node01")


def server(node: str = "node02") -> Peer:
    return Peer("10.0.2.41", endpoint_dict(ID=602, identity=21001, cluster_name="default", namespace="demo",
                                           labels=SV, pod_name="server"), node)


def coredns() -> Peer:
    return Peer("10.0.0.12", endpoint_dict(ID=77, identity=1921, cluster_name="default", namespace="kube-system",
                                           labels=DNSL, pod_name="coredns-7c65d6cfc9-q8m2z",
                                           workloads=[{"name": "coredns", "kind": "Deployment"}]), "node01")


def make_builder(seed: int = 42) -> FlowBuilder:
    return FlowBuilder(seed=seed, clock=lambda: T0)
