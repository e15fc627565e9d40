"""Zero trust from intents: ``spec.zeroTrust`` -> CiliumNetworkPolicies (``cilium.io/v2``).

Owns the translation of each intent (meaning: ``spec.zero_trust`` module docstring) into policies,
per workload namespace N, in this fixed order (docs/zero-trust.md says which seed flaw each closes):

``zt-default-deny``
    ``endpointSelector: {}`` with ``ingress: [{}]`` and ``egress: [{}]``: every pod of N is
    default-deny in both directions (Cilium docs, policy/language "Ingress/Egress default deny";
    cilium/cilium: pkg/policy/api/rule.go — an empty rule item still counts for default deny).
``zt-allow-dns``
    egress to kube-dns on 53/UDP+TCP with L7 ``rules.dns`` = ``dnsAllow`` + egress FQDNs, C2C
    names excluded. The peer selector names the namespace (``k8s:io.kubernetes.pod.namespace:
    kube-system``): in a namespaced CNP a selector without a namespace key is scoped to the
    policy's own namespace (cilium/cilium: pkg/k8s/apis/cilium.io/utils/utils.go
    ``getEndpointSelector``: "If omitted, we limit the scope to the namespace the policy lives
    in"), which is why the seed's bare ``k8s-app: kube-dns`` selected nothing in ``gpu``.
``zt-egress-fqdns``
    ``toFQDNs`` (matchName/matchPattern) on the intent's ports: the only internet egress.
``zt-c2c-deny``
    ``egressDeny`` ``toCIDRSet``: deny beats every allow. Deny rules cannot use ``toFQDNs``
    (api/rule.go ``EgressDenyRule`` has no ToFQDNs), so C2C names are resolved to /32s from the
    spec's ``world.dns`` here, and they are kept out of the DNS allow-list so their lookup is
    REFUSED by the DNS proxy before any address is learnt.
``zt-kubelet-deny``
    without the host firewall: ``egressDeny`` to entities ``host``/``remote-node`` on 10250/TCP.
    With ``cni.hostFirewall``: one CCNP ``zt-kubelet-host-firewall`` with ``nodeSelector: {}`` that
    denies 10250/TCP from every pod and from the world, leaving the host and the other nodes (the
    control plane) as the only clients; ``enableDefaultDeny: false`` so the node's other ports
    (SSH, 6443, ...) are untouched.
``zt-fake-gpu-operator-apiserver``
    when N is the fake-gpu-operator release namespace: its controllers keep egress to the
    ``kube-apiserver`` entity on 6443 (the default deny would otherwise stop GPU discovery).
``zt-allow-intra-namespace``
    only if ``allowIntraNamespace``: L3 allow inside N (this wildcards the L7 rules below, which
    ``audit`` reports; that is why the default is off).
``zt-grpc-<from>-to-<to>-{ingress,egress}`` / ``zt-http-...``
    L7 allow-lists: gRPC methods as ``POST /<service>/<method>`` HTTP rules, HTTP (method, path)
    pairs, on both the caller's egress and the callee's ingress.
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import Location, SpecError
from .cilium import host_firewall_enabled

CNP = "CiliumNetworkPolicy"
CCNP = "CiliumClusterwideNetworkPolicy"
API_VERSION = "cilium.io/v2"
MANAGED_BY = {"app.kubernetes.io/managed-by": "ai-infra-ops"}
KUBE_DNS_SELECTOR = {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}
FAKE_GPU_APPS = ["device-plugin", "kwok-gpu-device-plugin", "nvidia-dcgm-exporter", "status-updater", "topology-server"]
KUBELET_PORT = "10250"


def _policy(name: str, intent: str, spec: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = {**MANAGED_BY, "ai-infra-ops/intent": intent}
    return {"apiVersion": API_VERSION, "kind": CNP if namespace is not None else CCNP, "metadata": meta, "spec": spec}


def _ports(ports: list[int] | list[str], protocol: str) -> list[dict[str, str]]:
    return [{"port": str(p), "protocol": protocol} for p in ports]


def _slug(labels: dict[str, str]) -> str:
    text = "-".join(str(v) for _, v in sorted(labels.items())).lower()
    text = re.sub(r"[^a-z0-9-]+", "-", text).strip("-")
    return text or "pods"


def dns_rules(spec: Any) -> list[dict[str, str]]:
    """The ``rules.dns`` list: the intents' DNS rules minus C2C names.

    Raises:
        SpecError: a ``dnsAllow``/egress pattern would also resolve a C2C name (a DNS rule cannot
            except a name, so the lookup would succeed and leak the address).
    """
    zt = spec.zero_trust
    deny = set(zt.c2c_deny.fqdns)
    out = [r for r in zt.dns_rules() if r.get("matchName") not in deny]
    for i, name in enumerate(zt.c2c_deny.fqdns):
        for r in out:
            pattern = r.get("matchPattern")
            if pattern is not None and _pattern_matches(pattern, name):
                raise SpecError(
                    f"C2C name {name!r} is also allowed by DNS pattern {pattern!r}; Cilium DNS rules cannot "
                    "exclude a name, so the lookup would succeed. Narrow the pattern.",
                    Location(field=f"zeroTrust.c2cDeny.fqdns[{i}]"))
    return out


def _pattern_matches(pattern: str, name: str) -> bool:
    from ..spec.zero_trust import fqdn_pattern_matches

    return fqdn_pattern_matches(pattern, name)


def c2c_cidrs(spec: Any) -> tuple[list[str], list[str]]:
    """(sorted deny CIDRs, notes on how each C2C FQDN was resolved).

    Raises:
        SpecError: a C2C FQDN has no address in ``world.dns`` (it could not be denied at all).
    """
    zt = spec.zero_trust
    world = dict(spec.world.dns)
    notes = []
    for i, name in enumerate(zt.c2c_deny.fqdns):
        ips = world.get(name)
        if not ips:
            raise SpecError(
                f"C2C name {name!r} has no known address: Cilium deny rules cannot use toFQDNs, so the name must "
                "be resolved at render time; add it to world.dns (or list its CIDRs in c2cDeny.cidrs)",
                Location(field=f"zeroTrust.c2cDeny.fqdns[{i}]"))
        notes.append(f"{name} -> {', '.join(f'{ip}/32' for ip in ips)}")
    return zt.c2c_deny_cidrs(world), notes


def _namespace_policies(spec: Any, ns: str) -> list[dict[str, Any]]:
    zt = spec.zero_trust
    out = [_policy("zt-default-deny", "default-deny", {
        "description": "Default deny in both directions for every pod of the namespace (seed flaw: only "
                       "app=cuda egress was restricted; ingress and other pods were open).",
        "endpointSelector": {},
        "ingress": [{}],
        "egress": [{}],
    }, ns)]
    out.append(_policy("zt-allow-dns", "dns", {
        "description": "DNS only to kube-dns in kube-system and only for allow-listed names (seed flaws: its "
                       "bare k8s-app=kube-dns selector was scoped to this namespace and matched nothing; with no "
                       "DNS rule any name resolved, leaving DNS tunnelling open).",
        "endpointSelector": {},
        "egress": [{
            "toEndpoints": [KUBE_DNS_SELECTOR],
            "toPorts": [{"ports": _ports([53], "UDP") + _ports([53], "TCP"), "rules": {"dns": dns_rules(spec)}}],
        }],
    }, ns))
    groups: dict[tuple[tuple[int, ...], str], list[dict[str, str]]] = {}
    for e in zt.egress_allow:
        groups.setdefault((tuple(e.ports), e.protocol), []).append(e.dns_rule)
    if groups:
        out.append(_policy("zt-egress-fqdns", "egress-fqdns", {
            "description": "Internet egress only to allow-listed FQDNs (IPs learnt by the DNS proxy from allowed answers).",
            "endpointSelector": {},
            "egress": [{"toFQDNs": names, "toPorts": [{"ports": _ports(list(ports), proto)}]}
                       for (ports, proto), names in groups.items()],
        }, ns))
    cidrs, notes = c2c_cidrs(spec)
    if cidrs:
        resolved = f" C2C names resolved from world.dns (deny rules cannot use toFQDNs): {'; '.join(notes)}." if notes else ""
        out.append(_policy("zt-c2c-deny", "c2c-deny", {
            "description": "Known command-and-control destinations are denied whatever else allows them." + resolved,
            "endpointSelector": {},
            "egressDeny": [{"toCIDRSet": [{"cidr": c} for c in cidrs]}],
        }, ns))
    if zt.kubelet_protection and not host_firewall_enabled(spec):
        out.append(_policy("zt-kubelet-deny", "kubelet-protection", {
            "description": "Pods may not reach any kubelet (10250/TCP); without the host firewall this is the "
                           "pod-side half of kubelet protection.",
            "endpointSelector": {},
            "egressDeny": [{"toEntities": ["host", "remote-node"],
                            "toPorts": [{"ports": _ports([KUBELET_PORT], "TCP")}]}],
        }, ns))
    fgo = spec.fake_gpu_operator
    if fgo.enabled and fgo.namespace == ns:
        out.append(_policy("zt-fake-gpu-operator-apiserver", "fake-gpu-operator", {
            "description": "fake-gpu-operator controllers watch nodes, pods and ConfigMaps: egress to the API server only.",
            "endpointSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": list(FAKE_GPU_APPS)}]},
            "egress": [{"toEntities": ["kube-apiserver"], "toPorts": [{"ports": _ports([6443], "TCP")}]}],
        }, ns))
    if zt.allow_intra_namespace:
        out.append(_policy("zt-allow-intra-namespace", "intra-namespace", {
            "description": "Pods of this namespace may talk to each other on any port (intent allowIntraNamespace).",
            "endpointSelector": {},
            "ingress": [{"fromEndpoints": [{}]}],
            "egress": [{"toEndpoints": [{}]}],
        }, ns))
    return out


def _l7_pair(kind: str, item: Any, http_rules: list[dict[str, str]], used: set[str]) -> list[dict[str, Any]]:
    base = f"zt-{kind}-{_slug(item.from_)}-to-{_slug(item.to)}"
    name = base
    n = 2
    while name in used:
        name = f"{base}-{n}"
        n += 1
    used.add(name)
    port = {"ports": _ports([item.port], "TCP"), "rules": {"http": http_rules}}
    what = "gRPC methods" if kind == "grpc" else "HTTP requests"
    ingress = _policy(f"{name}-ingress", kind, {
        "description": f"Only the allow-listed {what} reach these pods on {item.port}/TCP (L7, Envoy answers 403 otherwise).",
        "endpointSelector": {"matchLabels": dict(item.to)},
        "ingress": [{"fromEndpoints": [{"matchLabels": dict(item.from_)}], "toPorts": [port]}],
    }, item.namespace)
    egress = _policy(f"{name}-egress", kind, {
        "description": f"Callers may send only the allow-listed {what} to their server on {item.port}/TCP.",
        "endpointSelector": {"matchLabels": dict(item.from_)},
        "egress": [{"toEndpoints": [{"matchLabels": dict(item.to)}], "toPorts": [port]}],
    }, item.namespace)
    return [ingress, egress]


def render_policies(spec: Any) -> list[dict[str, Any]]:
    """All zero-trust policies of the spec (empty when ``zeroTrust.enabled`` is false).

    Raises:
        SpecError: C2C names that cannot be resolved or that a DNS pattern would allow.
    """
    zt = spec.zero_trust
    if not zt.enabled:
        return []
    out: list[dict[str, Any]] = []
    for ns in zt.workload_namespaces:
        out.extend(_namespace_policies(spec, ns))
    used: set[str] = set()
    for g in zt.grpc_allow:
        out.extend(_l7_pair("grpc", g, [{"method": "POST", "path": re.escape(p)} for p in g.paths()], used))
    for h in zt.http_allow:
        out.extend(_l7_pair("http", h, [{"method": r.method, "path": r.path} for r in h.rules], used))
    if zt.kubelet_protection and host_firewall_enabled(spec):
        out.append(_policy("zt-kubelet-host-firewall", "kubelet-protection", {
            "description": "Kubelet 10250/TCP only from the host itself and the other nodes (control plane): "
                           "denied from every pod and from outside the cluster.",
            "nodeSelector": {},
            "enableDefaultDeny": {"ingress": False, "egress": False},
            "ingressDeny": [
                {"fromEndpoints": [{}], "toPorts": [{"ports": _ports([KUBELET_PORT], "TCP")}]},
                {"fromEntities": ["world"], "toPorts": [{"ports": _ports([KUBELET_PORT], "TCP")}]},
            ],
        }))
    return out
