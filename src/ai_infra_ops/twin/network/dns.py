"""Cluster DNS: the CoreDNS add-on kubeadm installs, and the answers it gives.

Objects (``cluster_addons``): what ``kubeadm init`` applies in its ``addon/coredns`` phase
(``cmd/kubeadm/app/phases/addons/dns/manifests.go``): ServiceAccount ``coredns``, ConfigMap
``coredns`` (Corefile), Deployment ``coredns`` (2 replicas, ``k8s-app=kube-dns``, tolerates the
control-plane taint) and Service ``kube-dns`` (``10.96.0.10``: 53/UDP ``dns``, 53/TCP ``dns-tcp``,
9153/TCP ``metrics``); plus the apiserver's own Service ``default/kubernetes`` (first address of
the service CIDR, 443 -> 6443) and its Endpoints (the control-plane node addresses).

Answers (``ClusterDNS.answer``) follow the kubeadm Corefile: the ``kubernetes`` plugin answers
``<svc>.<ns>.svc.<domain>`` (ClusterIP; ready endpoint IPs for headless Services) and
``<a-b-c-d>.<ns>.pod.<domain>`` (``pods insecure``) with ``ttl 30``; other names in the cluster
domain are NXDOMAIN; everything else is forwarded upstream (the ``World``).

Client side (``lookup_names``): probes name absolute hosts the way cilium-cli's connectivity
test does (``one.one.one.one.``): the name is queried as given first; only when that is NXDOMAIN
and the name has no trailing dot does the client walk the pod's search list
(``<ns>.svc.<domain> svc.<domain> <domain>``), so ``server.demo`` finds
``server.demo.svc.cluster.local``. (A glibc/musl client with ``ndots:5`` walks the search list
first; see docs/network.md.)
"""
from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .services import ServiceTable
from .world import WORLD_TTL, World, normalize_name

KubeObject = dict[str, Any]

CLUSTER_TTL = 30          # Corefile: kubernetes { ttl 30 }
NO_ANSWER_TTL = 4294967295  # Hubble's ttl when a response carries no answer (hubble-flows.md §2.2)
RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}

# kubeadm's CoreDNS image per Kubernetes minor (cmd/kubeadm/app/constants/constants.go CoreDNSVersion).
COREDNS_VERSIONS = {"1.33": "v1.12.0", "1.34": "v1.12.1", "1.35": "v1.13.1"}
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand SafeEncodeString alphabet

COREFILE = """.:53 {{
    errors
    health {{
       lameduck 5s
    }}
    ready
    kubernetes {domain} in-addr.arpa ip6.arpa {{
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    prometheus :9153
    forward . /etc/resolv.conf {{
       max_concurrent 1000
    }}
    cache 30 {{
       disable success {domain}
       disable denial {domain}
    }}
    loop
    reload
    loadbalance
}}
"""


def _safe(seed: str, n: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:n])


def cluster_addons(
    spec_or_settings: Any = None,
    *,
    dns_ip: str = "10.96.0.10",
    service_cidr: str = "10.96.0.0/12",
    domain: str = "cluster.local",
    control_plane_ips: Iterable[str] = (),
    kubernetes_version: str = "1.35",
) -> list[KubeObject]:
    """The objects kubeadm creates for cluster DNS and the apiserver Service.

    Args:
        spec_or_settings: a ``PlatformSpec`` (network, nodes, version are taken from it) or a
            ``NetworkSettings`` (DNS address, service CIDR, domain); keywords given explicitly win.
        dns_ip: ClusterIP of ``kube-dns`` (spec ``network.clusterDnsIp``).
        service_cidr: its first address becomes ``default/kubernetes``'s ClusterIP.
        domain: the cluster domain.
        control_plane_ips: apiserver advertise addresses (Endpoints of ``kubernetes``, port 6443).
        kubernetes_version: picks kubeadm's CoreDNS image tag.

    Returns:
        ServiceAccount, ConfigMap, Deployment, Service ``kube-dns``, Service and Endpoints
        ``kubernetes``, in apply order.
    """
    src = spec_or_settings
    if src is not None and hasattr(src, "network"):  # PlatformSpec
        dns_ip, service_cidr, domain = src.network.cluster_dns_ip, src.network.service_cidr, src.network.cluster_domain
        control_plane_ips = list(control_plane_ips) or [n.ip for n in src.nodes if n.role == "control-plane"]
        kubernetes_version = src.kubernetes_version
    elif src is not None and hasattr(src, "dns_ip"):  # NetworkSettings
        dns_ip, service_cidr, domain = src.dns_ip, src.service_cidr, src.cluster_domain
    control_plane_ips = list(control_plane_ips)
    api_ip = str(ipaddress.IPv4Network(service_cidr).network_address + 1)
    version = COREDNS_VERSIONS.get(kubernetes_version, COREDNS_VERSIONS["1.35"])
    ns = "kube-system"
    labels = {"k8s-app": "kube-dns"}
    deployment: KubeObject = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": ns, "labels": dict(labels)},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": coredns_pod_spec(version),
            },
        },
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": ns}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": ns},
         "data": {"Corefile": COREFILE.format(domain=domain)}},
        deployment,
        {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": "kube-dns", "namespace": ns,
                "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
                "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
            },
            "spec": {
                "type": "ClusterIP", "clusterIP": dns_ip, "clusterIPs": [dns_ip], "selector": dict(labels),
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
                ],
            },
        },
        {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": api_ip, "clusterIPs": [api_ip],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
        },
        {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": ip} for ip in sorted(control_plane_ips, key=_ipkey)],
                         "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
            if list(control_plane_ips) else [],
        },
    ]


def coredns_pod_spec(version: str) -> dict[str, Any]:
    """The CoreDNS pod spec of kubeadm's manifest (``manifests.go`` ``CoreDNSDeployment``)."""
    return {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "coredns",
        "tolerations": [
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
        ],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "podAffinityTerm": {
                "labelSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                "topologyKey": "kubernetes.io/hostname",
            },
        }]}},
        "containers": [{
            "name": "coredns",
            "image": f"registry.k8s.io/coredns/coredns:{version}",
            "args": ["-conf", "/etc/coredns/Corefile"],
            "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
            "ports": [
                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
                {"name": "liveness-probe", "containerPort": 8080, "protocol": "TCP"},
                {"name": "readiness-probe", "containerPort": 8181, "protocol": "TCP"},
            ],
            "livenessProbe": {"httpGet": {"path": "/health", "port": "liveness-probe", "scheme": "HTTP"}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": "readiness-probe", "scheme": "HTTP"}},
        }],
        "dnsPolicy": "Default",
    }


def coredns_pods(addons: Iterable[KubeObject]) -> list[KubeObject]:
    """Pods of the CoreDNS Deployment as its ReplicaSet would create them (unbound: no node).

    Used where no Deployment controller runs (``build_cluster_network`` for conformance cases).
    Names follow ``<deployment>-<pod-template-hash>-<5 chars>``, derived deterministically.
    """
    out: list[KubeObject] = []
    for obj in addons:
        if obj.get("kind") != "Deployment":
            continue
        md, spec = obj["metadata"], obj["spec"]
        tmpl_hash = _safe(repr(spec["template"]), 10)
        rs = f"{md['name']}-{tmpl_hash}"
        for i in range(int(spec.get("replicas", 1))):
            labels = {**spec["template"]["metadata"].get("labels", {}), "pod-template-hash": tmpl_hash}
            out.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "name": f"{rs}-{_safe(f'{rs}/{i}', 5)}", "namespace": md["namespace"], "labels": labels,
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                                         "controller": True, "blockOwnerDeletion": True}],
                },
                "spec": dict(spec["template"]["spec"]),
            })
    return out


def _ipkey(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))


@dataclass(frozen=True)
class DnsAnswer:
    """CoreDNS's answer to one A query."""

    query: str                 # lower-case FQDN with trailing dot, as Hubble prints it
    rcode: int                 # 0 NOERROR, 3 NXDOMAIN, 5 REFUSED (from the proxy)
    ips: tuple[str, ...] = ()
    ttl: int = NO_ANSWER_TTL
    source: str = ""           # "cluster" | "world" | "none"

    @property
    def rcode_name(self) -> str:
        return RCODES.get(self.rcode, str(self.rcode))


class ClusterDNS:
    """CoreDNS with the kubeadm Corefile, over Services, pods and the world."""

    def __init__(self, services: ServiceTable, world: World,
                 domain: str = "cluster.local", headless: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.services = services
        self.world = world
        self.domain = normalize_name(domain)
        self._headless = dict(headless or {})

    def search_list(self, namespace: str) -> list[str]:
        """The pod's resolv.conf search list (kubelet, ``dnsPolicy: ClusterFirst``)."""
        return [f"{namespace}.svc.{self.domain}", f"svc.{self.domain}", self.domain]

    def lookup_names(self, name: str, namespace: str | None) -> list[str]:
        """Names (FQDN, trailing dot) the client queries for ``name``, in order (module docstring)."""
        absolute = normalize_name(name) + "."
        if name.endswith(".") or namespace is None:
            return [absolute]
        return [absolute] + [f"{normalize_name(name)}.{s}." for s in self.search_list(namespace)]

    def answer(self, qname: str, *, upstream_only: bool = False) -> DnsAnswer:
        """CoreDNS's answer to an A query for ``qname`` (``upstream_only``: an outside resolver's
        answer, which knows nothing of the cluster domain)."""
        name = normalize_name(qname)
        fq = name + "."
        suffix = "." + self.domain
        if not upstream_only and (name == self.domain or name.endswith(suffix)):
            rel = name[: -len(suffix)].split(".") if name != self.domain else []
            if len(rel) == 3 and rel[2] == "svc":
                svc = f"{rel[1]}/{rel[0]}"
                ip = self.services.cluster_ip(svc)
                if ip:
                    return DnsAnswer(fq, 0, (ip,), CLUSTER_TTL, "cluster")
                if svc in self._headless and self._headless[svc]:
                    return DnsAnswer(fq, 0, self._headless[svc], CLUSTER_TTL, "cluster")
            if len(rel) == 3 and rel[2] == "pod":
                ip = rel[0].replace("-", ".")
                try:
                    ipaddress.IPv4Address(ip)
                except ValueError:
                    return DnsAnswer(fq, 3, (), NO_ANSWER_TTL, "cluster")
                # `pods insecure`: any well-formed address is answered without checking pods.
                return DnsAnswer(fq, 0, (ip,), CLUSTER_TTL, "cluster")
            return DnsAnswer(fq, 3, (), NO_ANSWER_TTL, "cluster")
        ips = self.world.resolve(name)
        if ips:
            return DnsAnswer(fq, 0, ips, WORLD_TTL, "world")
        return DnsAnswer(fq, 3, (), NO_ANSWER_TTL, "none")
