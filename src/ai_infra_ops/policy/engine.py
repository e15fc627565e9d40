"""The policy engine facade: cluster state in, Cilium verdicts with explanations out.

Owns :class:`PolicyEngine`: it takes Namespaces, Pods, Nodes, Services and policies, derives
identities, keeps the repository and selector cache, computes per-identity policy maps lazily and
caches them until the repository or identity revision changes, and answers ``decide`` /
``check_l7`` by map lookup. Called by the twin (``twin.network``), ``policy trace``/``matrix``/
``check`` and the audit code. Knows nothing of stores, flows or the CLI.

Upstream shape: ``pkg/policy/distillery.go`` (per-identity cache, recomputed only when stale),
``pkg/policy/repository.go`` (revision), reference procedure in ``cilium-policy.md`` §4.9.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import PolicyError
from .endpoints import Decision, Endpoint, FlowDecision, L7Verdict
from .identities import Identity, IdentityRegistry
from ..kube_model.dnsnames import to_fqdn
from .labels import pod_identity_labels
from .policymap import Lookup, PolicyMap, compute_map
from .repository import Repository
from .rules import ParseOptions, parse_policies
from .selectors import CIDRSel, SelectorCache
from .types import Rule

_PROTO = {"TCP": "TCP", "UDP": "UDP", "SCTP": "SCTP", "ICMP": "ICMP", "ICMPV4": "ICMP", "ICMPV6": "ICMPV6"}
_DIR_WORD = {"INGRESS": "ingress", "EGRESS": "egress"}


@dataclass(frozen=True)
class PodInfo:
    key: str
    namespace: str
    name: str
    identity: int
    ip: str
    node: str
    host_network: bool
    named_ports: tuple[tuple[str, str, int], ...]  # (name, proto, number)


class PolicyEngine:
    """Cilium's policy decisions for one cluster (contract: docs/contracts.md "policy engine")."""

    def __init__(self, cluster_name: str = "default", audit_mode: bool = False, enforcement_mode: str = "default",
                 enable_sctp: bool = False, host_firewall: bool = False, enable_l7_proxy: bool = True) -> None:
        if enforcement_mode not in ("default", "always", "never"):
            raise PolicyError(f"policyEnforcementMode: unsupported value {enforcement_mode!r} (default, always, never)")
        self.cluster = cluster_name
        self.audit_mode = audit_mode
        self.mode = enforcement_mode
        self.opts = ParseOptions(cluster_name, enable_sctp, enable_l7_proxy, host_firewall)
        self.registry = IdentityRegistry()
        self.cache = SelectorCache(self.registry)
        self.repo = Repository()
        self._namespaces: dict[str, dict[str, str]] = {}
        self._raw_pods: list[Mapping[str, Any]] = []
        self._pods: dict[str, PodInfo] = {}
        self._ip_to_pod: dict[str, str] = {}
        self.nodes: dict[str, tuple[str, ...]] = {}
        self._ip_to_node: dict[str, str] = {}
        self.apiserver_nodes: set[str] = set()
        self.named_ports: dict[int, dict[tuple[str, str], frozenset[int]]] = {}
        self.fqdn_learned: dict[str, dict[str, set[str]]] = {}
        self.rules: list[Rule] = []
        self._maps: dict[tuple[int, str], PolicyMap] = {}
        self._maps_key: tuple[int, int, int] = (-1, -1, -1)
        self._aux_rev = 0
        self._dirty = False

    # ---- cluster state -------------------------------------------------------------------
    def set_namespaces(self, namespaces: list[dict[str, Any]]) -> None:
        self._namespaces = {str(n["metadata"]["name"]): dict((n["metadata"].get("labels") or {})) for n in namespaces}
        self._dirty = True

    def set_pods(self, pods: list[dict[str, Any]]) -> None:
        self._raw_pods = list(pods)
        self._dirty = True

    def set_nodes(self, nodes: list[dict[str, Any]]) -> None:
        """Nodes: names, InternalIPs (``status.addresses``) and the control-plane role (apiserver)."""
        self.nodes, self._ip_to_node, self.apiserver_nodes = {}, {}, set()
        for n in nodes:
            name = str(n["metadata"]["name"])
            ips = tuple(str(a["address"]) for a in (n.get("status") or {}).get("addresses") or []
                        if a.get("type") in ("InternalIP", "ExternalIP"))
            self.nodes[name] = ips
            for ip in ips:
                self._ip_to_node[ip] = name
            if "node-role.kubernetes.io/control-plane" in ((n.get("metadata") or {}).get("labels") or {}):
                self.apiserver_nodes.add(name)

    def set_services(self, services: list[dict[str, Any]]) -> None:
        """Services, for ``toServices`` (their pod selectors)."""
        self.cache.services = {
            (str(s["metadata"].get("namespace") or "default"), str(s["metadata"]["name"])):
                (dict((s.get("spec") or {}).get("selector") or {}), dict(s["metadata"].get("labels") or {}))
            for s in services}
        self.cache.invalidate()
        self._aux_rev += 1

    def set_policies(self, objs: list[Any]) -> list[PolicyError]:
        """Replace the policy set; invalid policies are rejected (returned), the others enforced."""
        rules, errors = parse_policies(objs, self.opts)
        self.rules = rules
        self.repo.replace(rules)
        self._sync_prefixes()
        return errors

    def learn_fqdn(self, pod_key: str, name: str, ips: list[str]) -> None:
        """The DNS proxy saw an allowed answer: toFQDNs selectors now select these (outside) IPs."""
        self._refresh()
        fq = to_fqdn(name)
        outside = {ip for ip in ips if ip not in self._ip_to_pod and ip not in self._ip_to_node}
        self.fqdn_learned.setdefault(pod_key, {}).setdefault(fq, set()).update(outside)
        self.cache.fqdn_ips.setdefault(fq, set()).update(outside)
        self.cache.invalidate()
        self._aux_rev += 1
        self._sync_prefixes()

    def _sync_prefixes(self) -> None:
        prefixes: set[Any] = set()
        for r in self.rules:
            for e in r.entries:
                for p in e.peers:
                    if isinstance(p, CIDRSel):
                        prefixes.add(ipaddress.ip_network(p.cidr))
                        prefixes.update(ipaddress.ip_network(x) for x in p.excepts)
        for ips in self.cache.fqdn_ips.values():
            for ip in ips:
                a = ipaddress.ip_address(ip)
                prefixes.add(ipaddress.ip_network(f"{a}/{a.max_prefixlen}"))
        self.registry.set_prefixes(prefixes)

    def _refresh(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        infos: list[tuple[Mapping[str, Any], tuple[str, ...]]] = []
        for p in self._raw_pods:
            ns = str(p["metadata"].get("namespace") or "default")
            infos.append((p, pod_identity_labels(p, self._namespaces.get(ns, {}), self.cluster)))
        self.registry.allocate([ls for p, ls in infos if not (p.get("spec") or {}).get("hostNetwork")])
        self._pods, self._ip_to_pod = {}, {}
        named: dict[int, dict[tuple[str, str], set[int]]] = {}
        for p, ls in infos:
            meta, spec, status = p["metadata"], p.get("spec") or {}, p.get("status") or {}
            key = f"{meta.get('namespace') or 'default'}/{meta['name']}"
            hostnet = bool(spec.get("hostNetwork"))
            ident = 0 if hostnet else self.registry.id_for_labels(ls)
            ports = tuple(sorted(
                (str(cp["name"]).lower(), str(cp.get("protocol") or "TCP").upper(), int(cp["containerPort"]))
                for c in (spec.get("containers") or []) + (spec.get("initContainers") or [])
                for cp in (c.get("ports") or []) if cp.get("name")))
            info = PodInfo(key, str(meta.get("namespace") or "default"), str(meta["name"]), ident,
                           str(status.get("podIP") or ""), str(spec.get("nodeName") or ""), hostnet, ports)
            self._pods[key] = info
            if info.ip and not hostnet:
                self._ip_to_pod[info.ip] = key
            for name, proto, num in ports:
                named.setdefault(ident, {}).setdefault((name, proto), set()).add(num)
        self.named_ports = {i: {k: frozenset(v) for k, v in d.items()} for i, d in named.items()}
        self._aux_rev += 1

    @property
    def pods(self) -> dict[str, PodInfo]:
        """Pods by ``ns/name`` with their identity, IP, node and named ports."""
        self._refresh()
        return self._pods

    # ---- identities ----------------------------------------------------------------------
    def identity(self, num: int) -> Identity:
        self._refresh()
        return self.registry.get(num)

    def identity_of_pod(self, key: str) -> Identity:
        self._refresh()
        info = self._pods.get(key)
        if info is None:
            raise PolicyError(f"unknown pod {key!r}")
        if info.host_network:
            return self.registry.get(1)
        return self.registry.get(info.identity)

    def identity_of_ip(self, ip: str, observer_node: str | None = None) -> Identity:
        """Pod IP -> pod identity; node IP -> host (1) on the observing node, kube-apiserver (7)
        for a control-plane node, else remote-node (6); outside IP -> CIDR identity or world."""
        self._refresh()
        if ip in self._ip_to_pod:
            return self.identity_of_pod(self._ip_to_pod[ip])
        if ip in self._ip_to_node:
            return self.registry.get(self._node_identity(self._ip_to_node[ip], observer_node))
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            raise PolicyError(f"not an IP address: {ip!r}") from None
        return self.registry.get(self.registry.cidr_identity(addr))

    def _node_identity(self, node: str, observer: str | None) -> int:
        if observer is not None and node == observer:
            return 1
        return 7 if node in self.apiserver_nodes else 6

    def _node_of(self, ep: Endpoint) -> str | None:
        if ep.kind == "pod":
            return self._pods[ep.ref].node if ep.ref in self._pods else None
        if ep.kind == "node":
            return ep.ref
        if ep.kind == "ip" and ep.ref in self._ip_to_pod:
            return self._pods[self._ip_to_pod[ep.ref]].node
        if ep.kind == "ip" and ep.ref in self._ip_to_node:
            return self._ip_to_node[ep.ref]
        return None

    def identity_of_endpoint(self, ep: Endpoint, observer_node: str | None = None) -> Identity:
        self._refresh()
        if ep.kind == "pod":
            info = self._pods.get(ep.ref)
            if info is None:
                raise PolicyError(f"unknown pod {ep.ref!r}")
            if info.host_network:
                return self.registry.get(self._node_identity(info.node, observer_node))
            return self.registry.get(info.identity)
        if ep.kind == "node":
            if ep.ref not in self.nodes:
                raise PolicyError(f"unknown node {ep.ref!r}")
            return self.registry.get(self._node_identity(ep.ref, observer_node))
        if ep.kind == "ip":
            return self.identity_of_ip(ep.ref, observer_node)
        ls = pod_identity_labels({"metadata": {"namespace": ep.namespace, "labels": dict(ep.labels)}},
                                 self._namespaces.get(ep.namespace, {}), self.cluster)
        self.registry.allocate([ls])
        return self.registry.get(self.registry.id_for_labels(ls))

    def describe(self, ep: Endpoint) -> str:
        return ep.ref if ep.kind in ("pod", "labels") else (f"node {ep.ref}" if ep.kind == "node" else ep.ref)

    # ---- policy maps ---------------------------------------------------------------------
    @property
    def revision(self) -> int:
        return self.repo.revision

    def policy_map(self, identity: int, direction: str) -> PolicyMap:
        """The cached resolved map of ``identity`` for ``direction`` (recomputed only when stale)."""
        self._refresh()
        key = (self.repo.revision, self.registry.revision, self._aux_rev)
        if key != self._maps_key:
            self._maps, self._maps_key = {}, key
        pm = self._maps.get((identity, direction))
        if pm is None:
            pm = compute_map(identity, direction, self.repo, self.cache, self.named_ports, self.mode, self.opts.host_firewall)
            self._maps[(identity, direction)] = pm
        return pm

    def compute_all_maps(self) -> int:
        """Compute the maps of every pod identity, both directions; returns the number of entries."""
        self._refresh()
        ids = sorted({p.identity for p in self._pods.values() if not p.host_network})
        return sum(self.policy_map(i, d).size() for i in ids for d in ("INGRESS", "EGRESS"))

    # ---- verdicts ------------------------------------------------------------------------
    def decide(self, src: Endpoint, dst: Endpoint, protocol: str, port: int, direction: str = "EGRESS") -> Decision:
        """One side of a flow: the source's egress (``EGRESS``) or the destination's ingress."""
        self._refresh()
        proto = _PROTO.get(protocol.upper())
        if proto is None:
            raise PolicyError(f"unsupported protocol {protocol!r} (TCP, UDP, SCTP, ICMP, ICMPv6)")
        if proto in ("ICMP", "ICMPV6") and not port:
            port = 8 if proto == "ICMP" else 128  # echo request
        direction = direction.upper()
        src, dst = self._normalize(src), self._normalize(dst)
        subject, peer = (src, dst) if direction == "EGRESS" else (dst, src)
        sub_node = self._node_of(subject)
        peer_id = self.identity_of_endpoint(peer, sub_node).id
        what = f"{_DIR_WORD[direction]} {self.describe(src)} -> {self.describe(dst)} {port}/{protocol.upper()}"
        if src.kind == "pod" and dst.kind == "pod" and src.ref == dst.ref:
            return Decision("ALLOW", direction, explanation=f"{what}: a pod reaching itself never leaves its network namespace; policy does not apply",
                            protocol=proto, port=port)
        sub_is_endpoint = subject.kind in ("pod", "labels") or (subject.kind == "node" and self.opts.host_firewall)
        if subject.kind == "pod" and self._pods[subject.ref].host_network:
            sub_is_endpoint = self.opts.host_firewall
        if not sub_is_endpoint:
            sid = self.identity_of_endpoint(subject, sub_node).id
            ids = (sid, peer_id) if direction == "EGRESS" else (peer_id, sid)
            return Decision("ALLOW", direction, explanation=f"{what}: {self.describe(subject)} is not a Cilium-managed endpoint; {_DIR_WORD[direction]} is not enforced",
                            src_identity=ids[0], dst_identity=ids[1], protocol=proto, port=port)
        sub_id = self.identity_of_endpoint(subject, sub_node).id
        pm = self.policy_map(sub_id, direction)
        res = pm.lookup(peer_id, proto, port)
        ids = (sub_id, peer_id) if direction == "EGRESS" else (peer_id, sub_id)
        return self._decision(res, pm, direction, what, subject, peer, peer_id, ids, proto, port)

    def _normalize(self, ep: Endpoint) -> Endpoint:
        """An IP endpoint that is a pod's or node's address is that pod or node (ipcache)."""
        if ep.kind == "ip":
            if ep.ref in self._ip_to_pod:
                return Endpoint.pod(self._ip_to_pod[ep.ref])
            if ep.ref in self._ip_to_node:
                return Endpoint.node(self._ip_to_node[ep.ref])
        return ep

    def _decision(self, res: Lookup, pm: PolicyMap, direction: str, what: str, subject: Endpoint, peer: Endpoint,
                  peer_id: int, ids: tuple[int, int], proto: str, port: int) -> Decision:
        d = _DIR_WORD[direction]
        rev = self.repo.revision
        refs = sorted({c.entry.policy for c in res.winners if c.entry is not None})
        pols = [r.hubble(rev) for r in refs]
        rules_txt = ", ".join(sorted({c.entry.describe() for c in res.winners if c.entry is not None}))
        peer_txt = f"{self.describe(peer)} (identity {peer_id})"
        common = dict(direction=direction, match_type=res.match_type, enforced=res.enforced,
                      src_identity=ids[0], dst_identity=ids[1], protocol=proto, port=port)
        if not res.enforced:
            return Decision("ALLOW", explanation=f"{what}: no policy selects {self.describe(subject)} for {d}; {d} is not enforced", **common)  # type: ignore[arg-type]
        if res.verdict == "DENY":
            if res.deny_kind == "explicit":
                text, reason = f"{what}: {rules_txt} denies {peer_txt}", 181
            elif res.deny_kind == "auth":
                text, reason = f"{what}: {rules_txt} requires authentication ({res.winners[0].entry.auth if res.winners[0].entry else ''}) which the twin cannot perform", 189
                pols = [r.hubble(rev) for r in sorted({c.entry.policy for c in res.winners if c.entry})]
            else:
                n = len(pm.policies)
                text = (f"{what}: default deny: no {d} rule of the {n} polic{'y' if n == 1 else 'ies'} selecting "
                        f"{self.describe(subject)} allows {peer_txt} ({'; '.join(pm.policies) or 'policyEnforcementMode=' + self.mode})")
                reason, pols = 133, []
            if self.audit_mode:
                return Decision("AUDIT", policies=pols, explanation=f"{text} (policy audit mode: forwarded, verdict AUDIT)", **common)  # type: ignore[arg-type]
            return Decision("DENY", drop_reason=reason, policies=pols, explanation=text, **common)  # type: ignore[arg-type]
        if res.note == "allow-localhost":
            return Decision("ALLOW", explanation=f"{what}: ingress from the local host is always allowed (allow-localhost)", **common)  # type: ignore[arg-type]
        if res.note and not res.winners:
            return Decision("ALLOW", explanation=f"{what}: allowed: {res.note} ({'; '.join(pm.policies)})", **common)  # type: ignore[arg-type]
        if res.verdict == "REDIRECT":
            assert res.l7 is not None
            return Decision("REDIRECT", policies=pols, l7=res.l7,
                            explanation=f"{what}: {rules_txt} allows {peer_txt} and redirects to the {res.l7.kind.upper()} proxy ({res.l7.render()})", **common)  # type: ignore[arg-type]
        return Decision("ALLOW", policies=pols, explanation=f"{what}: {rules_txt} allows {peer_txt}", **common)  # type: ignore[arg-type]

    def decide_flow(self, src: Endpoint, dst: Endpoint, protocol: str, port: int) -> FlowDecision:
        """Both sides of a flow (source egress, then destination ingress)."""
        return FlowDecision(self.decide(src, dst, protocol, port, "EGRESS"), self.decide(src, dst, protocol, port, "INGRESS"))

    def dns_lookup(self, src: Endpoint, server: Endpoint, name: str, answer_ips: list[str], protocol: str = "UDP",
                   port: int = 53) -> tuple[FlowDecision, L7Verdict | None, bool]:
        """A DNS query from ``src`` to ``server``: L3/L4 verdicts, the DNS proxy's verdict, and
        whether the answer was learned for toFQDNs (only when the query went through the DNS
        proxy — a ``rules.dns`` redirect — and was allowed; ``dnsproxy.go``)."""
        flow = self.decide_flow(src, server, protocol, port)
        if not flow.forwarded:
            return flow, None, False
        dns_sides = [d for d in flow.redirects if d.l7 is not None and d.l7.kind == "dns"]
        verdict: L7Verdict | None = None
        for d in dns_sides:
            verdict = self.check_l7(d, dns={"query": name})
            if not verdict.allowed:
                return flow, verdict, False
        if dns_sides and src.kind == "pod":
            self.learn_fqdn(src.ref, name, answer_ips)
            return flow, verdict, True
        return flow, verdict, False

    def check_l7(self, decision: Decision, http: Mapping[str, Any] | None = None, dns: Mapping[str, Any] | None = None,
                 grpc: Mapping[str, Any] | None = None) -> L7Verdict:
        """The proxy's verdict on a request over a REDIRECT decision (403 / DNS REFUSED when denied)."""
        if grpc is not None:  # gRPC = HTTP/2 POST /<package>.<Service>/<Method>
            http = {"method": "POST", "path": f"/{grpc.get('service')}/{grpc.get('method')}", "headers": {}}
        l7 = decision.l7
        if decision.verdict != "REDIRECT" or l7 is None:
            return L7Verdict(decision.forwarded, "no L7 rules apply: the request is not proxied" if decision.forwarded else "dropped at L3/L4", decision.policies)
        if dns is not None:
            q = str(dns.get("query") or "")
            if l7.kind != "dns":
                return L7Verdict(True, f"{l7.kind.upper()} proxy: DNS query not inspected", decision.policies)
            ok, rule = l7.allows_dns(q)
            if ok:
                return L7Verdict(True, f"DNS query {to_fqdn(q)} allowed by {rule.render() if rule else 'a rule without DNS restrictions (L7 wildcard)'}", decision.policies)
            return L7Verdict(False, f"DNS query {to_fqdn(q)} matches none of: {l7.render()}; the DNS proxy answers REFUSED", decision.policies, dns_rcode=5)
        if http is not None:
            if l7.kind != "http":
                return L7Verdict(True, f"{l7.kind.upper()} proxy: HTTP request not inspected", decision.policies)
            method, path = str(http.get("method") or "GET"), str(http.get("path") or "/")
            host = str(http.get("host") or "")
            headers = {str(k): str(v) for k, v in (http.get("headers") or {}).items()}
            ok, hrule = l7.allows_http(method, path, host, headers)
            if ok:
                return L7Verdict(True, f"{method} {path} allowed by {hrule.render() if hrule else 'an allow without L7 rules on the same port (L7 wildcard)'}", decision.policies)
            return L7Verdict(False, f"{method} {path} matches none of: {l7.render()}; Envoy answers 403 Forbidden", decision.policies, http_status=403)
        return L7Verdict(True, "no request to inspect", decision.policies)
