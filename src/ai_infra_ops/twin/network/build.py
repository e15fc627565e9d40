"""A small in-memory cluster from a list of objects (a conformance case), ready for traffic.

``build_cluster_network(objects, ...)`` completes what a real cluster would have added around the
objects a case lists, so ``cli probe`` can answer its probes without a state directory:

- Nodes: a case without Nodes gets one default worker ``node01``; a cluster without a
  control-plane node gets ``cp01`` (kubeadm's control plane, tainted NoSchedule) so the apiserver,
  its Service ``kubernetes`` and CoreDNS have somewhere to live. Nodes without addresses get
  ``192.168.64.10+i``, without ``spec.podCIDR`` the i-th /24 of the pod CIDR (IPAM contract).
- Namespaces: every Namespace carries ``kubernetes.io/metadata.name`` (the apiserver adds it since
  1.21); ``default``, ``kube-system`` and namespaces pods use are created when missing.
- Add-ons (``dns.cluster_addons``): CoreDNS (its two pods as the ReplicaSet would create them),
  Service ``kube-dns`` and the apiserver Service ``default/kubernetes`` with its Endpoints.
- Services get ClusterIPs (``services.allocate_cluster_ips``).
- Pods without ``spec.nodeName`` are placed by the twin's scheduler (``twin.scheduler``); bound
  pods get ``status.podIP`` (sequential from ``.2`` of their node's /24, in input order; the
  add-ons first), ``hostIP``, phase Running and Ready. Pods the scheduler cannot place stay
  Pending without an IP (their message is kept in ``pending``).

Called by ``cli probe``. The twin proper (``TwinBackend``) does all of this with its controllers.
"""
from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..nodes import build_node
from .addresses import CONTROL_PLANE_LABEL, is_control_plane, node_internal_ip
from .cluster import NetworkSettings
from .dns import cluster_addons, coredns_pods
from .services import allocate_cluster_ips
from .view import InMemoryView

KubeObject = dict[str, Any]
POD_CIDR = "10.244.0.0/16"
CREATED = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class _NodeSpec:
    """The attributes ``twin.nodes.build_node`` reads from a spec node."""

    name: str
    role: str
    ip: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    cpu: str = "4"
    memory: str = "8Gi"
    pods: str = "110"


@dataclass
class BuiltCluster:
    """The view plus what the build decided (for explanations)."""

    view: InMemoryView
    settings: NetworkSettings
    pending: dict[str, str] = field(default_factory=dict)  # pod -> FailedScheduling message
    added: list[str] = field(default_factory=list)         # what the build added, human-readable


def _md(obj: Mapping[str, Any]) -> dict[str, Any]:
    return obj.setdefault("metadata", {})  # type: ignore[no-any-return, attr-defined]


def build_cluster_network(objects: Iterable[KubeObject], settings: NetworkSettings | None = None, *,
                          kubernetes_version: str = "1.35", pod_cidr: str = POD_CIDR, seed: int = 0) -> BuiltCluster:
    """Complete ``objects`` into a running cluster's objects (module docstring) and wrap them.

    Args:
        objects: the case's objects (not modified).
        settings: network settings (service CIDR, DNS address, domain).
        kubernetes_version: scheduler behaviour and CoreDNS image.
        pod_cidr: the cluster pod CIDR (node i gets its i-th /24).
        seed: scheduler seed.

    Returns:
        ``BuiltCluster`` with an ``InMemoryView`` over every object.

    Raises:
        ValueError: a Service asking for a ClusterIP outside the range or one already taken.
    """
    s = settings or NetworkSettings()
    objs = [copy.deepcopy(o) for o in objects]
    built = BuiltCluster(view=InMemoryView([]), settings=s)
    nodes = [o for o in objs if o.get("kind") == "Node"]
    if not nodes:
        nodes.append(_default_node("node01", "worker", len(nodes)))
        objs.append(nodes[-1])
        built.added.append("node node01 (default worker)")
    if not any(is_control_plane(n) for n in nodes):
        cp = _default_node("cp01", "control-plane", len(nodes))
        nodes.append(cp)
        objs.append(cp)
        built.added.append("node cp01 (control plane, tainted NoSchedule)")
    _complete_nodes(nodes, pod_cidr)
    _complete_namespaces(objs)
    cp_ips = [ip for n in nodes if is_control_plane(n) for ip in [node_internal_ip(n)] if ip]
    existing = {(o.get("kind"), _md(o).get("namespace"), _md(o).get("name")) for o in objs}
    addons = cluster_addons(dns_ip=s.dns_ip, service_cidr=s.service_cidr, domain=s.cluster_domain,
                            control_plane_ips=cp_ips, kubernetes_version=kubernetes_version)
    extra = [a for a in addons + coredns_pods(addons) if (a["kind"], a["metadata"].get("namespace"), a["metadata"]["name"]) not in existing]
    objs = extra + objs
    services = [o for o in objs if o.get("kind") == "Service"]
    ips = allocate_cluster_ips(services, s.service_cidr)
    for svc in services:
        key = (str(_md(svc).get("namespace") or "default"), str(_md(svc)["name"]))
        if key in ips:
            spec = svc.setdefault("spec", {})
            spec["clusterIP"] = ips[key]
            spec["clusterIPs"] = [ips[key]]
            spec.setdefault("type", "ClusterIP")
    pods = [o for o in objs if o.get("kind") == "Pod"]
    built.pending = _place_pods(pods, nodes, kubernetes_version, seed)
    _assign_ips(pods, nodes)
    built.view = InMemoryView(objs)
    return built


def _default_node(name: str, role: str, index: int) -> KubeObject:
    spec = _NodeSpec(name=name, role=role, ip=f"192.168.64.{10 + index}")
    return build_node(spec, index, str(list(ipaddress.IPv4Network(POD_CIDR).subnets(new_prefix=24))[index]), "1.35.0", CREATED)


def _complete_nodes(nodes: list[KubeObject], pod_cidr: str) -> None:
    slices = list(ipaddress.IPv4Network(pod_cidr).subnets(new_prefix=24))
    used_ips = {ip for n in nodes for ip in [node_internal_ip(n)] if ip}
    used_cidrs = {str((n.get("spec") or {}).get("podCIDR")) for n in nodes if (n.get("spec") or {}).get("podCIDR")}
    free_slices = [str(c) for c in slices if str(c) not in used_cidrs]
    next_host = 10
    for n in nodes:
        md, spec, st = _md(n), n.setdefault("spec", {}), n.setdefault("status", {})
        labels = md.setdefault("labels", {})
        labels.setdefault("kubernetes.io/hostname", md["name"])
        labels.setdefault("kubernetes.io/os", "linux")
        if not node_internal_ip(n):
            while f"192.168.64.{next_host}" in used_ips:
                next_host += 1
            ip = f"192.168.64.{next_host}"
            used_ips.add(ip)
            st["addresses"] = [{"address": ip, "type": "InternalIP"}, {"address": md["name"], "type": "Hostname"}] + list(st.get("addresses") or [])
        if not spec.get("podCIDR"):
            spec["podCIDR"] = free_slices.pop(0)
            spec["podCIDRs"] = [spec["podCIDR"]]
        alloc = st.setdefault("allocatable", {})
        for k, v in (("cpu", "4"), ("memory", "8Gi"), ("pods", "110")):
            alloc.setdefault(k, v)
        st.setdefault("capacity", dict(alloc))
        if not any(c.get("type") == "Ready" for c in st.get("conditions") or []):
            st.setdefault("conditions", []).append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                                                    "message": "kubelet is posting ready status"})
        if CONTROL_PLANE_LABEL in labels and not spec.get("taints"):
            spec["taints"] = [{"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}]


def _complete_namespaces(objs: list[KubeObject]) -> None:
    have = {str(_md(o)["name"]): o for o in objs if o.get("kind") == "Namespace"}
    wanted = {"default", "kube-system"} | {str(_md(o).get("namespace") or "default") for o in objs
                                           if o.get("kind") in ("Pod", "Service", "CiliumNetworkPolicy", "NetworkPolicy")}
    for ns in sorted(wanted - set(have)):
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        objs.append(obj)
        have[ns] = obj
    for name, ns_obj in have.items():
        _md(ns_obj).setdefault("labels", {})["kubernetes.io/metadata.name"] = name


def _place_pods(pods: list[KubeObject], nodes: list[KubeObject], version: str, seed: int) -> dict[str, str]:
    unbound = [p for p in pods if not (p.get("spec") or {}).get("nodeName")]
    if not unbound:
        return {}
    from ..scheduler import Scheduler

    sched = Scheduler(nodes, kubernetes_version=version, seed=seed)
    for pod in pods:
        if (pod.get("spec") or {}).get("nodeName"):
            sched.add_bound_pod(pod)
    pending: dict[str, str] = {}
    for pod, res in zip(unbound, sched.schedule_many(unbound)):
        key = f"{_md(pod).get('namespace') or 'default'}/{_md(pod)['name']}"
        if res.node:
            pod.setdefault("spec", {})["nodeName"] = res.node
        else:
            pending[key] = res.message or res.event_message
            pod.setdefault("status", {}).update({"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": res.message or ""}]})
    return pending


def _assign_ips(pods: list[KubeObject], nodes: list[KubeObject]) -> None:
    by_node = {str(_md(n)["name"]): n for n in nodes}
    taken = {str((p.get("status") or {}).get("podIP")) for p in pods if (p.get("status") or {}).get("podIP")}
    cursor: dict[str, int] = {}
    for pod in pods:
        spec, st = pod.setdefault("spec", {}), pod.setdefault("status", {})
        node = by_node.get(str(spec.get("nodeName") or ""))
        if node is None:
            continue
        host_ip = node_internal_ip(node) or ""
        if not st.get("podIP"):
            if spec.get("hostNetwork"):
                ip = host_ip
            else:
                net = ipaddress.IPv4Network(str(node["spec"]["podCIDR"]))
                i = cursor.get(str(_md(node)["name"]), 2)
                while str(net.network_address + i) in taken:
                    i += 1
                ip = str(net.network_address + i)
                cursor[str(_md(node)["name"])] = i + 1
                taken.add(ip)
            st["podIP"] = ip
            st["podIPs"] = [{"ip": ip}]
        st.setdefault("hostIP", host_ip)
        st.setdefault("phase", "Running")
        if not any(c.get("type") == "Ready" for c in st.get("conditions") or []):
            st.setdefault("conditions", []).append({"type": "Ready", "status": "True"})
