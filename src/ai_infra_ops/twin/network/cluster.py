"""The network of one cluster view, and the policy engine that goes with it, cached by revision.

``NetworkSettings`` gathers what the network and the Cilium agent are configured with (cluster
domain, service CIDR, kube-dns address, policy enforcement mode, audit mode, SCTP, L7 proxy, the
outside world). ``network_for_view`` bundles a view's Services table, address book and DNS;
``engine_for_view`` builds a ``policy.PolicyEngine`` from the view's Namespaces, Pods, Nodes,
Services and policies. Both are cached by ``view.revision()`` (which must therefore identify the
objects: ``InMemoryView`` digests them; a store passes a value unique to its database and state) (Cilium recomputes policy only when
the repository revision changes, ``pkg/policy/distillery.go``), so repeated probes are lookups.
When the revision moves, the IPs the DNS proxy learned for each pod are carried over to the new
engine (the agent's FQDN cache outlives policy changes, ``pkg/fqdn/cache.go``).

Called by ``traffic.probe``, ``TwinBackend.probe`` and ``cli probe``.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import PolicyError
from ...policy.engine import PolicyEngine
from .addresses import AddressBook
from .dns import ClusterDNS
from .services import ServiceTable
from .view import ClusterView
from .world import World

_CACHE_SIZE = 8


@dataclass(frozen=True)
class NetworkSettings:
    """Network and Cilium agent settings the twin's traffic follows (Cilium defaults)."""

    cluster_name: str = "default"            # Cilium cluster name (identity label, Hubble node names)
    cluster_domain: str = "cluster.local"
    service_cidr: str = "10.96.0.0/12"
    dns_ip: str = "10.96.0.10"
    enforcement_mode: str = "default"        # policyEnforcementMode: default | always | never
    audit_mode: bool = False                 # policyAuditMode
    enable_sctp: bool = False                # sctp.enabled (off by default in Cilium)
    enable_l7_proxy: bool = True             # l7Proxy
    host_firewall: bool = False              # hostFirewall.enabled
    world: World = field(default_factory=lambda: World.from_dns(None))

    @classmethod
    def from_spec(cls, spec: Any) -> NetworkSettings:
        """From a ``spec.PlatformSpec`` (network, cni and world sections)."""
        return cls(
            cluster_name=spec.cni.cluster_name,
            cluster_domain=spec.network.cluster_domain,
            service_cidr=spec.network.service_cidr,
            dns_ip=spec.network.cluster_dns_ip,
            enforcement_mode=spec.cni.policy_enforcement_mode,
            audit_mode=bool(spec.cni.policy_audit_mode),
            enable_l7_proxy=bool(spec.cni.enable_l7_proxy),
            world=World.from_dns(spec.world.dns),
        )

    @classmethod
    def from_case(cls, cilium: Mapping[str, Any] | None, world_dns: Mapping[str, Any] | None) -> NetworkSettings:
        """From a conformance case's ``cilium:`` block and ``world.dns`` (FORMAT.md).

        Raises:
            ValueError: an unknown ``cilium`` key or a bad value (the message names the key).
        """
        c = dict(cilium or {})
        known = {"enableSCTP", "policyEnforcementMode", "policyAuditMode", "enableL7Proxy", "clusterName", "hostFirewall"}
        unknown = sorted(set(c) - known)
        if unknown:
            raise ValueError(f"cilium.{unknown[0]}: unknown setting (known: {', '.join(sorted(known))})")
        mode = str(c.get("policyEnforcementMode", "default"))
        if mode not in ("default", "always", "never"):
            raise ValueError(f"cilium.policyEnforcementMode: {mode!r} is not one of default, always, never")
        for key in ("enableSCTP", "policyAuditMode", "enableL7Proxy", "hostFirewall"):
            if key in c and not isinstance(c[key], bool):
                raise ValueError(f"cilium.{key}: expected true or false, got {c[key]!r}")
        return cls(
            cluster_name=str(c.get("clusterName", "default")),
            enforcement_mode=mode,
            audit_mode=bool(c.get("policyAuditMode", False)),
            enable_sctp=bool(c.get("enableSCTP", False)),
            enable_l7_proxy=bool(c.get("enableL7Proxy", True)),
            host_firewall=bool(c.get("hostFirewall", False)),
            world=World.from_dns(world_dns),
        )

    def engine_key(self) -> tuple[Any, ...]:
        return (self.cluster_name, self.enforcement_mode, self.audit_mode, self.enable_sctp,
                self.enable_l7_proxy, self.host_firewall)


class ClusterNetwork:
    """Services, addresses and DNS of one view (immutable once built)."""

    def __init__(self, view: ClusterView, settings: NetworkSettings, node_of: Mapping[str, str] | None = None) -> None:
        self.view = view
        self.settings = settings
        self.services = ServiceTable(view.services(), view.endpoints())
        self.addresses = AddressBook(view.pods(), view.nodes(), node_of)
        headless: dict[str, tuple[str, ...]] = {}
        for svc in view.services():
            if (svc.get("spec") or {}).get("clusterIP") == "None":
                ref = f"{svc['metadata'].get('namespace') or 'default'}/{svc['metadata']['name']}"
                ips = sorted({b.ip for f in self.services.ports_of(ref) for b in f.backends})
                headless[ref] = tuple(ips)
        self.dns = ClusterDNS(self.services, settings.world, settings.cluster_domain, headless)
        self.last_flow_ns = 0  # keeps flow times increasing across probes on this network

    @property
    def kube_dns(self) -> str:
        """``ns/name`` of the cluster DNS Service (the Service whose ClusterIP is the DNS address)."""
        return self.services.service_of_ip(self.settings.dns_ip) or "kube-system/kube-dns"


_networks: OrderedDict[tuple[Any, ...], ClusterNetwork] = OrderedDict()
_engines: OrderedDict[tuple[Any, ...], tuple[PolicyEngine, list[PolicyError]]] = OrderedDict()
_last_engine: OrderedDict[tuple[Any, ...], PolicyEngine] = OrderedDict()


def network_for_view(view: ClusterView, settings: NetworkSettings | None = None,
                     node_of: Mapping[str, str] | None = None) -> ClusterNetwork:
    """The (cached) ``ClusterNetwork`` of ``view`` at its current revision."""
    settings = settings or NetworkSettings()
    key = (view.revision(), settings, tuple(sorted((node_of or {}).items())))
    net = _networks.get(key)
    if net is None:
        net = ClusterNetwork(view, settings, node_of)
        _networks[key] = net
        while len(_networks) > _CACHE_SIZE:
            _networks.popitem(last=False)
    else:
        _networks.move_to_end(key)
    return net


def _settings_of(cilium_settings: NetworkSettings | Mapping[str, Any] | Any | None) -> NetworkSettings:
    if cilium_settings is None:
        return NetworkSettings()
    if isinstance(cilium_settings, NetworkSettings):
        return cilium_settings
    if isinstance(cilium_settings, Mapping):
        return NetworkSettings.from_case(cilium_settings, None)
    return NetworkSettings.from_spec(cilium_settings)


def engine_for_view(view: ClusterView, cilium_settings: NetworkSettings | Mapping[str, Any] | Any | None = None) -> PolicyEngine:
    """A ``PolicyEngine`` loaded with the view's cluster state and policies, cached by revision.

    Args:
        view: the cluster view.
        cilium_settings: ``NetworkSettings``, a case's ``cilium:`` mapping, or a ``PlatformSpec``.

    Returns:
        The engine; policies Cilium would reject are left out (see ``rejected_policies``).
    """
    return _engine_entry(view, _settings_of(cilium_settings))[0]


def rejected_policies(view: ClusterView, cilium_settings: NetworkSettings | Mapping[str, Any] | Any | None = None) -> list[PolicyError]:
    """The policies of ``view`` that the engine rejected (as Cilium's agent would), with reasons."""
    return list(_engine_entry(view, _settings_of(cilium_settings))[1])


def _engine_entry(view: ClusterView, s: NetworkSettings) -> tuple[PolicyEngine, list[PolicyError]]:
    key = (view.revision(), s.engine_key())
    entry = _engines.get(key)
    if entry is not None:
        _engines.move_to_end(key)
        return entry
    eng = PolicyEngine(cluster_name=s.cluster_name, audit_mode=s.audit_mode, enforcement_mode=s.enforcement_mode,
                       enable_sctp=s.enable_sctp, host_firewall=s.host_firewall, enable_l7_proxy=s.enable_l7_proxy)
    eng.set_namespaces(view.namespaces())
    eng.set_nodes(view.nodes())
    eng.set_pods(view.pods())
    eng.set_services(view.services())
    errors = eng.set_policies(view.policies())
    scope = (str(getattr(view, "scope", "")), s.engine_key())
    previous = _last_engine.get(scope)
    if previous is not None:
        pods = {f"{p['metadata'].get('namespace') or 'default'}/{p['metadata']['name']}" for p in view.pods()}
        for pod, names in sorted(previous.fqdn_learned.items()):
            if pod in pods:
                for name, ips in sorted(names.items()):
                    eng.learn_fqdn(pod, name, sorted(ips))
    _last_engine[scope] = eng
    _last_engine.move_to_end(scope)
    while len(_last_engine) > _CACHE_SIZE:
        _last_engine.popitem(last=False)
    entry = (eng, errors)
    _engines[key] = entry
    while len(_engines) > _CACHE_SIZE:
        _engines.popitem(last=False)
    return entry
