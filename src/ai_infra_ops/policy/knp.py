"""Kubernetes NetworkPolicy as Cilium translates and enforces it.

Owns ``parse_knp``: one NetworkPolicy -> one :class:`Rule` whose entries are all allow entries
with default deny. Called by ``rules.parse_policies``.

Upstream: ``pkg/k8s/network_policy.go`` ``ParseNetworkPolicy`` (podSelector gets the policy
namespace; ``namespaceSelector`` keys are rewritten to ``io.cilium.k8s.namespace.labels.<key>``;
``namespaceSelector: {}`` becomes ``io.kubernetes.pod.namespace`` Exists; empty ``from``/``to`` =
wildcard; ``ipBlock`` becomes a CIDR rule with ``except``; ports default to TCP; a missing port
is port 0 = all ports). Field errors use the API server's wording (``k8s.io/kubernetes``
``pkg/apis/networking/validation``).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from .labels import NAMESPACE_LABELS_PREFIX, POD_NAMESPACE_LABEL
from .ports import is_svc_name
from .rules import ParseOptions, invalid, scope_peer
from .selectors import WILDCARD, CIDRSel, LabelSel, Req, Selector
from .types import PolicyRef, PortProto, PortRule, Rule, RuleEntry


def _k8s_sel(raw: Any, path: str, key_prefix: str = "") -> LabelSel:
    try:
        sel = LabelSel.from_dict(raw, default_source="k8s")
    except ValueError as exc:
        raise invalid(path, str(exc)) from None
    if key_prefix:
        sel = LabelSel(tuple(sorted(Req(r.source, key_prefix + r.key, r.op, r.values) for r in sel.reqs)))
    return sel


def parse_knp(obj: Mapping[str, Any], ref: PolicyRef, opts: ParseOptions) -> list[Rule]:
    spec = obj.get("spec") or {}
    if not isinstance(spec, Mapping):
        raise invalid("spec", "expected an object")
    subject = _k8s_sel(spec.get("podSelector"), "spec.podSelector")
    subject = subject.with_req(Req("k8s", POD_NAMESPACE_LABEL, "In", (ref.namespace,)))
    ingress = spec.get("ingress") or []
    egress = spec.get("egress") or []
    types = spec.get("policyTypes")
    if not types:  # API server defaulting (what Cilium receives from a real cluster)
        types = ["Ingress"] + (["Egress"] if egress else [])
    for i, t in enumerate(types):
        if t not in ("Ingress", "Egress"):
            raise invalid(f"spec.policyTypes[{i}]", f'Unsupported value: "{t}": supported values: "Ingress", "Egress"')
    # network_policy.go ParseNetworkPolicy: every ingress and egress rule is translated whatever
    # policyTypes says (upstream Kubernetes would ignore the rules of an unlisted direction);
    # policyTypes only decides the "deny all" entries added when a direction has no rules.
    entries: list[RuleEntry] = []
    for i, r in enumerate(ingress):
        entries.append(_entry(f"spec.ingress[{i}]", r or {}, "from", "INGRESS", ref, opts))
    for i, r in enumerate(egress):
        entries.append(_entry(f"spec.egress[{i}]", r or {}, "to", "EGRESS", ref, opts))
    if not ingress and ("Ingress" in types or "Egress" not in types):
        entries.append(RuleEntry(ref, "spec.policyTypes[Ingress]", "INGRESS", False, True, ()))
    if not egress and "Egress" in types:
        entries.append(RuleEntry(ref, "spec.policyTypes[Egress]", "EGRESS", False, True, ()))
    return [Rule(ref, subject, tuple(entries))]


def _entry(p: str, rule: Mapping[str, Any], peer_key: str, direction: str, ref: PolicyRef, opts: ParseOptions) -> RuleEntry:
    peers_raw = rule.get(peer_key) or []
    peers: list[Selector] = []
    for j, peer in enumerate(peers_raw):
        pp = f"{p}.{peer_key}[{j}]"
        if not isinstance(peer, Mapping):
            raise invalid(pp, "expected an object")
        ps, nss, ipb = peer.get("podSelector"), peer.get("namespaceSelector"), peer.get("ipBlock")
        if ipb is not None:
            if ps is not None or nss is not None:
                raise invalid(pp, "may not specify more than 1 peer type")
            peers.append(_ipblock(f"{pp}.ipBlock", ipb))
            continue
        if ps is None and nss is None:
            raise invalid(pp, "must specify a peer")
        sel = _k8s_sel(ps, f"{pp}.podSelector")
        if nss is not None:
            ns_sel = _k8s_sel(nss, f"{pp}.namespaceSelector", NAMESPACE_LABELS_PREFIX)
            reqs = set(sel.reqs) | set(ns_sel.reqs)
            if not ns_sel.reqs:
                reqs.add(Req("k8s", POD_NAMESPACE_LABEL, "Exists"))
            sel = LabelSel(tuple(sorted(reqs)))
        peers.append(scope_peer(sel, ref, opts.cluster, False))
    ports: list[PortProto] = []
    for j, pt in enumerate(rule.get("ports") or []):
        fp = f"{p}.ports[{j}]"
        proto = str(pt.get("protocol") or "TCP")
        if proto not in ("TCP", "UDP", "SCTP"):
            raise invalid(f"{fp}.protocol", f'Unsupported value: "{proto}": supported values: "TCP", "UDP", "SCTP"')
        raw = pt.get("port")
        end = pt.get("endPort")
        port: int | str
        if raw is None:
            port = 0
            if end is not None:
                raise invalid(f"{fp}.endPort", "may not be specified when `port` is not specified")
        elif isinstance(raw, int) and not isinstance(raw, bool):
            if not 1 <= raw <= 65535:
                raise invalid(f"{fp}.port", f"Invalid value: {raw}: must be between 1 and 65535, inclusive")
            port = raw
        else:
            if not is_svc_name(str(raw)):
                raise invalid(f"{fp}.port", f'Invalid value: "{raw}": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
            port = str(raw).lower()
        if end is not None:
            if isinstance(port, str):
                raise invalid(f"{fp}.endPort", "may not be specified when `port` is non-numeric")
            if not isinstance(end, int) or not 1 <= end <= 65535:
                raise invalid(f"{fp}.endPort", f"Invalid value: {end}: must be between 1 and 65535, inclusive")
            if isinstance(port, int) and end < port:
                raise invalid(f"{fp}.endPort", f"Invalid value: {end}: must be greater than or equal to `port`")
        if proto == "SCTP" and not opts.enable_sctp:
            continue
        ports.append(PortProto(proto, port, int(end or 0)))
    port_rules = (PortRule(tuple(ports)),) if rule.get("ports") else ()
    if rule.get("ports") and not ports:
        port_rules = (PortRule(()),)  # only SCTP ports while SCTP is disabled: allows nothing
    return RuleEntry(ref, p.split(".", 1)[1], direction, False, True,
                     tuple(peers) if peers_raw else (WILDCARD,), port_rules)


def _ipblock(p: str, ipb: Any) -> CIDRSel:
    if not isinstance(ipb, Mapping):
        raise invalid(p, "expected an object")
    cidr = str(ipb.get("cidr") or "")
    try:
        if "/" not in cidr:
            raise ValueError
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise invalid(f"{p}.cidr", f'Invalid value: "{cidr}": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)') from None
    excepts = []
    for k, e in enumerate(ipb.get("except") or []):
        try:
            ne = ipaddress.ip_network(str(e), strict=False)
        except ValueError:
            raise invalid(f"{p}.except[{k}]", f'Invalid value: "{e}": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)') from None
        if ne.version != net.version or not ne.subnet_of(net) or ne == net:  # type: ignore[arg-type]
            raise invalid(f"{p}.except[{k}]", f'Invalid value: "{e}": must be a strict subset of `cidr`')
        excepts.append(str(ne))
    return CIDRSel(str(net), tuple(excepts))
