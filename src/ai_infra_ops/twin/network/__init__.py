"""The twin's network: addresses, Services, cluster DNS, the outside world, and traffic.

Public surface (``docs/contracts.md`` "twin network", ``docs/network.md``):

- ``ClusterView`` / ``InMemoryView``: the read-only view of a cluster the network works on;
- ``probe(view, engine, request, clock, flow_sink)``: run one ``backend.ProbeRequest``;
- ``engine_for_view(view, settings)``: the policy engine for a view, cached by revision;
- ``network_for_view`` / ``NetworkSettings`` / ``World``: Services, addresses, DNS, the world;
- ``cluster_addons(...)``: CoreDNS, Service ``kube-dns`` and Service ``kubernetes`` objects;
- ``build_cluster_network(objects, ...)``: a small running cluster from a case's objects.

Level 4 (twin): uses ``policy`` (verdicts), ``hubble`` (flow shapes) and ``backend`` (types).
"""
from __future__ import annotations

from .build import BuiltCluster, build_cluster_network
from .cluster import ClusterNetwork, NetworkSettings, engine_for_view, network_for_view, rejected_policies
from .dns import ClusterDNS, DnsAnswer, cluster_addons, coredns_pods
from .services import ServiceTable, allocate_cluster_ips, compute_endpoints
from .traffic import probe
from .view import ClusterView, InMemoryView
from .world import World

__all__ = [
    "BuiltCluster",
    "ClusterDNS",
    "ClusterNetwork",
    "ClusterView",
    "DnsAnswer",
    "InMemoryView",
    "NetworkSettings",
    "ServiceTable",
    "World",
    "allocate_cluster_ips",
    "build_cluster_network",
    "cluster_addons",
    "compute_endpoints",
    "coredns_pods",
    "engine_for_view",
    "network_for_view",
    "probe",
    "rejected_policies",
]
