"""Cilium and Hubble Helm values, and the ``helm upgrade --install`` lines of both charts.

Owns ``helm/cilium-values.yaml`` and ``helm/install.sh``. The seed ran ``cilium install --set
kubeProxyReplacement=true`` and then ``cilium hubble enable [--ui]`` by hand; here every setting
is one Helm value of the ``cilium/cilium`` chart (names from cilium/cilium:
install/kubernetes/cilium/values.yaml, 1.18 branch):

- ``kubeProxyReplacement: true`` with ``k8sServiceHost``/``k8sServicePort`` = the control plane's
  IP and 6443: without kube-proxy the agent cannot reach the API through the ``kubernetes``
  Service ClusterIP, so it must be told the real endpoint;
- ``ipam.mode: kubernetes``: pods get addresses from each node's ``spec.podCIDR``, which
  kube-controller-manager carves from kubeadm's ``podSubnet`` (``render.kubeadm``) — one source
  of truth for the pod CIDR instead of Cilium's own ``cluster-pool`` default 10.0.0.0/8;
- ``hubble.relay.enabled``/``hubble.ui.enabled`` and Hubble metrics;
- ``l7Proxy`` (needed by the L7 HTTP/gRPC/DNS rules of ``render.policies``),
  ``policyEnforcementMode``, ``policyAuditMode``, ``cluster.name``;
- ``hostFirewall.enabled`` only when the spec asks for the host firewall (kubelet protection with
  a ``nodeSelector`` policy, see ``render.policies``).
"""
from __future__ import annotations

import shlex
from typing import Any

from .artifacts import HEADER, Artifact, yaml_documents
from .kubeadm import API_SERVER_PORT

CILIUM_REPO = "https://helm.cilium.io/"
HUBBLE_METRICS = ["dns", "drop", "tcp", "flow", "icmp", "http", "policy"]


def host_firewall_enabled(spec: Any) -> bool:
    """Whether the spec enables Cilium's host firewall (``cni.hostFirewall``; absent -> False)."""
    return bool(getattr(spec.cni, "host_firewall", False))


def render_cilium_values(spec: Any) -> dict[str, Any]:
    """The Helm values for ``cilium/cilium`` at ``spec.cni.version``."""
    cni = spec.cni
    hubble = cni.hubble
    return {
        "cluster": {"name": cni.cluster_name},
        "kubeProxyReplacement": bool(cni.kube_proxy_replacement),
        "k8sServiceHost": spec.control_plane().ip,
        "k8sServicePort": API_SERVER_PORT,
        "ipam": {"mode": "kubernetes"},
        "l7Proxy": bool(cni.enable_l7_proxy),
        "policyEnforcementMode": cni.policy_enforcement_mode,
        "policyAuditMode": bool(cni.policy_audit_mode),
        "hostFirewall": {"enabled": host_firewall_enabled(spec)},
        "hubble": {
            "enabled": bool(hubble.enabled),
            "relay": {"enabled": bool(hubble.enabled and hubble.relay)},
            "ui": {"enabled": bool(hubble.enabled and hubble.ui)},
            "metrics": {"enabled": list(HUBBLE_METRICS) if hubble.enabled else []},
        },
        "operator": {"replicas": 1 if len(spec.nodes) < 3 else 2},
    }


def helm_commands(spec: Any) -> list[list[str]]:
    """The helm command lines (argv lists), run from the render output's ``helm/`` directory."""
    fgo = spec.fake_gpu_operator
    cmds = [
        ["helm", "repo", "add", "cilium", CILIUM_REPO, "--force-update"],
        ["helm", "upgrade", "--install", "cilium", "cilium/cilium", "--version", spec.cni.version,
         "--namespace", "kube-system", "--values", "cilium-values.yaml", "--wait"],
    ]
    if fgo.enabled:
        cmds.append(["helm", "upgrade", "--install", fgo.release_name, fgo.chart, "--version", fgo.chart_version,
                     "--namespace", fgo.namespace, "--values", "fake-gpu-operator-values.yaml", "--wait"])
    return cmds


def render_install_script(spec: Any) -> str:
    """``helm/install.sh``: the commands, idempotent by nature (``upgrade --install``)."""
    lines = [
        "#!/usr/bin/env bash",
        HEADER.rstrip("\n"),
        "# Installs Cilium (with Hubble) and fake-gpu-operator. Needs KUBECONFIG of the cluster and",
        f"# the namespace {spec.fake_gpu_operator.namespace} (manifests/00-namespaces.yaml) applied first.",
        "set -euo pipefail",
        'cd "$(dirname "$0")"',
    ]
    lines += [shlex.join(c) for c in helm_commands(spec)]
    return "\n".join(lines) + "\n"


def render_cilium(spec: Any) -> list[Artifact]:
    """``helm/cilium-values.yaml`` and ``helm/install.sh``."""
    values = render_cilium_values(spec)
    comment = ("helm upgrade --install cilium cilium/cilium --version "
               f"{spec.cni.version} --namespace kube-system --values cilium-values.yaml")
    return [
        Artifact("helm/cilium-values.yaml", yaml_documents([values], comment=comment)),
        Artifact("helm/install.sh", render_install_script(spec), mode=0o755),
    ]

