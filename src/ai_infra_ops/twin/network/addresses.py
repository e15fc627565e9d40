"""Which endpoint an address is: a pod, a node's host network namespace, a Service, or the world.

Owns the twin's answer to "what is at this IP, and does it listen on this port?":

- pod IPs (``status.podIP``; ``hostNetwork`` pods share their node's address and are the host);
- node addresses (``status.addresses`` InternalIP): every node's kubelet listens on 10250, the
  cilium-health responder on 4240 and the Hubble server on 4244 (Cilium defaults); control-plane
  nodes (label ``node-role.kubernetes.io/control-plane``) also run kube-apiserver on 6443 and
  etcd on 2379/2380 (kubeadm static pods bind the advertise address); controller-manager and
  scheduler bind 127.0.0.1 only and are not reachable from outside the node;
- ClusterIPs (handled by ``services.ServiceTable``);
- everything else is outside the cluster (``world.World``).

Listening rule for pods (documented in docs/network.md): a pod that declares container ports
listens only on those (port + protocol); a pod that declares none is taken to listen on any port
(Kubernetes does not require ports to be declared). Connecting to a port nobody listens on gets
a TCP RST (UDP: ICMP port unreachable) from the pod's own stack -- no policy drop.

Called by ``traffic``. Knows nothing of policy.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .services import container_ports

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
NODE_PORTS: tuple[tuple[int, str], ...] = ((10250, "TCP"), (4240, "TCP"), (4244, "TCP"))
CONTROL_PLANE_PORTS: tuple[tuple[int, str], ...] = ((6443, "TCP"), (2379, "TCP"), (2380, "TCP"))


def _md(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def node_internal_ip(node: Mapping[str, Any]) -> str | None:
    """The node's InternalIP from ``status.addresses`` (first one)."""
    for a in (node.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return str(a["address"])
    return None


def is_control_plane(node: Mapping[str, Any]) -> bool:
    return CONTROL_PLANE_LABEL in (_md(node).get("labels") or {})


def pod_key(pod: Mapping[str, Any]) -> str:
    md = _md(pod)
    return f"{md.get('namespace') or 'default'}/{md.get('name')}"


@dataclass(frozen=True)
class Place:
    """What lives at an address.

    ``kind``: ``pod`` (a Cilium endpoint), ``host`` (a node's host netns, incl. hostNetwork pods),
    ``service`` (a ClusterIP) or ``world``.
    """

    kind: str
    ip: str
    pod: str | None = None      # "ns/name" for pods (and for hostNetwork pods reached by name)
    node: str | None = None     # node the endpoint lives on (None for world/service)
    service: str | None = None  # "ns/name" for ClusterIPs


class AddressBook:
    """Pods, nodes and their addresses, and who listens where."""

    def __init__(self, pods: Iterable[Mapping[str, Any]], nodes: Iterable[Mapping[str, Any]],
                 node_of: Mapping[str, str] | None = None) -> None:
        self.pods: dict[str, Mapping[str, Any]] = {}
        self.pod_node: dict[str, str | None] = {}
        self._pod_ips: dict[str, str] = {}
        self.node_ips: dict[str, str] = {}
        self._ip_nodes: dict[str, str] = {}
        self.control_planes: list[str] = []
        self._host_ports: dict[str, set[tuple[int, str]]] = {}
        for node in sorted(nodes, key=lambda n: str(_md(n).get("name"))):
            name = str(_md(node).get("name"))
            ip = node_internal_ip(node)
            ports = set(NODE_PORTS)
            if is_control_plane(node):
                self.control_planes.append(name)
                ports |= set(CONTROL_PLANE_PORTS)
            self._host_ports[name] = ports
            if ip:
                self.node_ips[name] = ip
                self._ip_nodes[ip] = name
        overrides = dict(node_of or {})
        for pod in pods:
            key = pod_key(pod)
            pspec: Mapping[str, Any] = pod.get("spec") or {}
            self.pods[key] = pod
            on = overrides.get(key) or pspec.get("nodeName")
            self.pod_node[key] = str(on) if on else None
            ip = (pod.get("status") or {}).get("podIP")
            if pspec.get("hostNetwork"):
                if on and str(on) in self._host_ports:
                    for p in container_ports(pod):
                        self._host_ports[str(on)].add((int(p.get("hostPort") or p["containerPort"]),
                                                         str(p.get("protocol") or "TCP").upper()))
            elif ip:
                self._pod_ips[str(ip)] = key

    def place_of_pod(self, key: str) -> Place | None:
        """The pod as a traffic endpoint (a hostNetwork pod is its node's host); None: unknown."""
        pod = self.pods.get(key)
        if pod is None:
            return None
        node = self.pod_node.get(key)
        if (pod.get("spec") or {}).get("hostNetwork"):
            return Place("host", self.node_ips.get(node or "", ""), pod=key, node=node)
        return Place("pod", str((pod.get("status") or {}).get("podIP") or ""), pod=key, node=node)

    def place_of_node(self, name: str) -> Place | None:
        ip = self.node_ips.get(name)
        if name not in self._host_ports:
            return None
        return Place("host", ip or "", node=name)

    def place_of_ip(self, ip: str, service: str | None = None) -> Place:
        """What is at ``ip``: a pod, a node, the ClusterIP of ``service`` (if given) or the world."""
        if ip in self._pod_ips:
            key = self._pod_ips[ip]
            return Place("pod", ip, pod=key, node=self.pod_node.get(key))
        if ip in self._ip_nodes:
            return Place("host", ip, node=self._ip_nodes[ip])
        if service is not None:
            return Place("service", ip, service=service)
        return Place("world", ip)

    def listens(self, place: Place, port: int, protocol: str) -> bool:
        """Whether something accepts ``port/protocol`` at ``place`` (module docstring rule)."""
        proto = protocol.upper()
        if proto in ("ICMP", "ICMPV4", "ICMPV6"):
            return True  # every Linux stack answers echo requests
        if place.kind == "host":
            return (port, proto) in self._host_ports.get(place.node or "", set())
        if place.kind == "pod" and place.pod:
            declared = container_ports(self.pods[place.pod])
            if not declared:
                return True
            return any(int(p["containerPort"]) == port and str(p.get("protocol") or "TCP").upper() == proto
                       for p in declared)
        return False

    def pods_on(self, node: str) -> list[str]:
        return sorted(k for k, n in self.pod_node.items() if n == node)
