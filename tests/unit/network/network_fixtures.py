"""Shared helpers for the twin network tests: a small cluster with every pod already placed.

Imported by this name (not as ``conftest``, which clashes with other test directories' conftest
modules when several directories run in one session).

``make_cluster`` builds cp01 (control plane) + node01 + node02, the CoreDNS add-on with its two pods
bound to node01/node02, and the given objects (pods must carry ``spec.nodeName``), through
``build_cluster_network`` (IPs, ClusterIPs, namespaces), so no scheduler is involved.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ai_infra_ops.backend import ProbeRequest, ProbeResult
from ai_infra_ops.twin.network import (
    NetworkSettings,
    build_cluster_network,
    cluster_addons,
    coredns_pods,
    engine_for_view,
    network_for_view,
    probe,
)


def node(name: str, ip: str, cp: bool = False) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name}
    if cp:
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}


def pod(ns: str, name: str, labels: dict[str, str], node_name: str = "node01",
        ports: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"name": "c", "image": "busybox"}
    if ports:
        c["ports"] = ports
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": node_name, "containers": [c], **spec}}


def cnp(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


DNS_EGRESS = {
    "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
    "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchName": "api.example.com"}]}}],
}


@dataclass
class Cluster:
    view: Any
    engine: Any
    settings: NetworkSettings
    stored: list[tuple[str, int]]

    def probe(self, source: str, target: str, port: int | str | None = None, protocol: str = "TCP", **kw: Any) -> ProbeResult:
        def sink(flows: list[dict[str, Any]], probe_id: str) -> list[int]:
            start = len(self.stored)
            self.stored.extend((probe_id, i) for i in range(len(flows)))
            return list(range(start, start + len(flows)))

        req = ProbeRequest(source, target, port, protocol, **kw)
        return probe(self.view, self.engine, req, None, sink, settings=self.settings)

    @property
    def net(self) -> Any:
        return network_for_view(self.view, self.settings)


def make_cluster(objs: list[dict[str, Any]], *, cilium: dict[str, Any] | None = None,
                 world: dict[str, list[str]] | None = None) -> Cluster:
    settings = NetworkSettings.from_case(cilium, world)
    nodes = [node("cp01", "192.168.64.10", cp=True), node("node01", "192.168.64.11"), node("node02", "192.168.64.12")]
    dns_pods = coredns_pods(cluster_addons(control_plane_ips=["192.168.64.10"]))
    for i, p in enumerate(dns_pods):
        p["spec"]["nodeName"] = ("node01", "node02")[i % 2]
    built = build_cluster_network(nodes + dns_pods + objs, settings)
    return Cluster(built.view, engine_for_view(built.view, settings), settings, [])
