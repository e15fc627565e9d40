"""Node objects of the twin, as a kubeadm cluster's API server shows them once every node joined
and Cilium made it Ready: labels (kubernetes.io/*, kubeadm's control-plane label), the kubeadm
control-plane taint, capacity/allocatable, podCIDR (node i in spec order gets slice i),
addresses, the Ready condition and nodeInfo (kubeletVersion = the spec's patch release).

Called by ``twin.backend`` when a twin is opened with a spec and holds no nodes yet.
GPU pool labels are NOT set here: labelling workers is a step of ``up`` (pipeline), as in the seed.
"""
from __future__ import annotations

from typing import Any

from ..kube_model import parse_quantity
from ..kube_model.quantity import format_quantity

__all__ = ["build_node", "build_nodes", "CONTROL_PLANE_TAINT"]

# kubeadm (cmd/kubeadm/app/constants: ControlPlaneTaint, LabelNodeRoleControlPlane,
# LabelExcludeFromExternalLB) — the taint has no value.
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
_CP_LABELS = {"node-role.kubernetes.io/control-plane": "", "node.kubernetes.io/exclude-from-external-load-balancers": ""}


def _memory_quantities(memory: str) -> tuple[str, str]:
    """Capacity and allocatable memory: kubelet's default eviction threshold memory.available<100Mi
    is subtracted from capacity (pkg/kubelet/cm: GetNodeAllocatableReservation)."""
    cap = parse_quantity(memory)
    alloc = cap - 100 * 2**20
    return format_quantity(cap, binary=True), format_quantity(max(alloc, parse_quantity(0)), binary=True)


def build_node(spec_node: Any, index: int, pod_cidr: str, kubelet_version: str, created: str,
               arch: str = "amd64") -> dict[str, Any]:
    """One Node object from a spec ``NodeSpec`` (attributes name, role, ip, labels, taints, cpu,
    memory, pods)."""
    name = spec_node.name
    labels = {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    if spec_node.role == "control-plane":
        labels.update(_CP_LABELS)
    labels.update({k: "" if v is None else str(v) for k, v in (spec_node.labels or {}).items()})
    taints = [dict(CONTROL_PLANE_TAINT)] if spec_node.role == "control-plane" else []
    for t in spec_node.taints or []:
        if not any(x["key"] == t["key"] and x["effect"] == t["effect"] for x in taints):
            taints.append({k: t[k] for k in ("key", "value", "effect") if k in t and t[k] is not None})
    mem_cap, mem_alloc = _memory_quantities(spec_node.memory)
    capacity = {"cpu": str(spec_node.cpu), "ephemeral-storage": "61202244Ki", "hugepages-1Gi": "0",
                "hugepages-2Mi": "0", "memory": mem_cap, "pods": str(spec_node.pods)}
    allocatable = dict(capacity, memory=mem_alloc, **{"ephemeral-storage": "56403987978"})
    cond_times = {"lastHeartbeatTime": created, "lastTransitionTime": created}
    node: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            "labels": dict(sorted(labels.items())),
            "name": name,
        },
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]},
        "status": {
            "addresses": [{"address": spec_node.ip, "type": "InternalIP"}, {"address": name, "type": "Hostname"}],
            "allocatable": allocatable,
            "capacity": capacity,
            "conditions": [
                {"type": "NetworkUnavailable", "status": "False", "reason": "CiliumIsUp",
                 "message": "Cilium is running on this node", "lastHeartbeatTime": created, "lastTransitionTime": created},
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "message": "kubelet has sufficient memory available", **cond_times},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
                 "message": "kubelet has no disk pressure", **cond_times},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
                 "message": "kubelet has sufficient PID available", **cond_times},
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status", **cond_times},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": arch,
                "containerRuntimeVersion": "containerd://2.1.5",
                "kernelVersion": "6.8.0-88-generic",
                "kubeProxyVersion": "",
                "kubeletVersion": f"v{kubelet_version}",
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04.3 LTS",
            },
        },
    }
    if taints:
        node["spec"]["taints"] = taints
    return node


def build_nodes(spec: Any, created: str) -> list[dict[str, Any]]:
    """Every node of the spec, in spec order."""
    cidrs = spec.node_pod_cidrs()
    version = spec.kubernetes_patch or f"{spec.kubernetes_version}.0"
    return [build_node(n, i, cidrs[n.name], version, created) for i, n in enumerate(spec.nodes)]
