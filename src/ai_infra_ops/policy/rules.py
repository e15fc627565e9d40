"""Parse and validate CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy into internal rules.

Owns ``parse_policies(objs) -> (rules, errors)``: every object becomes zero or more :class:`Rule`
values, or one :class:`PolicyError` naming the policy, the field path and Cilium's reason (a policy
with any invalid rule is rejected as a whole, the others are enforced). KNP translation is in
``knp``. Called by ``engine.set_policies`` and the ``policy check`` command.

Upstream: ``pkg/policy/api/rule_validation.go`` (checks and their wording),
``pkg/k8s/apis/cilium.io/utils/utils.go`` ``ParseToCiliumRule`` (namespace scoping of selectors),
``pkg/policy/api/entity.go`` (entities), ``pkg/policy/api/rule.go`` (``enableDefaultDeny``).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from ..errors import Location, PolicyError
from .l7 import DNSRule, HTTPRule, L7Rules
from .labels import CLUSTER_LABEL, NAMESPACE_LABELS_PREFIX, POD_NAMESPACE_LABEL
from .ports import expand_protocol, parse_icmp_type, parse_port, parse_protocol
from .selectors import WILDCARD, CIDRSel, FQDNSel, LabelSel, Req, Selector, ServiceSel
from .types import KIND_CCNP, KIND_CNP, KIND_KNP, PolicyRef, PortProto, PortRule, Rule, RuleEntry

ENTITIES = ("all", "world", "world-ipv4", "world-ipv6", "cluster", "host", "remote-node",
            "kube-apiserver", "ingress", "init", "health", "unmanaged", "none")
_CLUSTER_RESERVED = ("host", "remote-node", "init", "ingress", "health", "unmanaged", "kube-apiserver")

# L3 peer members in rule_validation.go order (used for "Combining X and Y is not supported yet").
_INGRESS_L3 = ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups")
_EGRESS_L3 = ("toCIDR", "toCIDRSet", "toEndpoints", "toEntities", "toServices", "toFQDNs", "toGroups", "toNodes")
_DENY_FIELDS_IN = {"fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups", "toPorts", "icmps"}
_DENY_FIELDS_EG = {"toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toNodes", "toGroups", "toPorts", "icmps"}


class _Invalid(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


class ParseOptions:
    """Agent settings that change parsing: cluster name, SCTP, L7 proxy, host firewall."""

    def __init__(self, cluster: str = "default", enable_sctp: bool = False, enable_l7_proxy: bool = True,
                 host_firewall: bool = False) -> None:
        self.cluster, self.enable_sctp, self.enable_l7_proxy, self.host_firewall = cluster, enable_sctp, enable_l7_proxy, host_firewall


def policy_ref(obj: Mapping[str, Any]) -> PolicyRef:
    meta = obj.get("metadata") or {}
    kind = str(obj.get("kind") or "")
    ns = "" if kind == KIND_CCNP else str(meta.get("namespace") or "default")
    return PolicyRef(kind, ns, str(meta.get("name") or ""), str(meta.get("uid") or ""))


def parse_policies(objs: list[Any], opts: ParseOptions | None = None) -> tuple[list[Rule], list[PolicyError]]:
    """Parse CNP/CCNP/KNP objects (dicts or ``kube_model.Document``s).

    Returns:
        (rules of the valid policies, one PolicyError per rejected policy). Other kinds are ignored.
    """
    from .knp import parse_knp

    opts = opts or ParseOptions()
    rules: list[Rule] = []
    errors: list[PolicyError] = []
    for item in objs:
        obj = getattr(item, "value", item)
        if not isinstance(obj, Mapping):
            continue
        kind = obj.get("kind")
        if kind not in (KIND_CNP, KIND_CCNP, KIND_KNP):
            continue
        ref = policy_ref(obj)
        try:
            rules.extend(parse_knp(obj, ref, opts) if kind == KIND_KNP else _parse_cilium(obj, ref, opts))
        except _Invalid as exc:
            loc = Location(field=exc.path)
            if hasattr(item, "location"):
                try:
                    loc = item.location(exc.path)
                except Exception:  # a path the position table does not know: keep the field only
                    loc = Location(file=getattr(item, "file", None), field=exc.path)
            errors.append(PolicyError(f"{ref.display()}: {exc.path}: {exc.reason}", loc))
    return rules, errors


def invalid(path: str, reason: str) -> _Invalid:
    return _Invalid(path, reason)


def _parse_cilium(obj: Mapping[str, Any], ref: PolicyRef, opts: ParseOptions) -> list[Rule]:
    specs: list[tuple[str, Any]] = []
    if obj.get("spec") is not None:
        specs.append(("spec", obj["spec"]))
    for i, s in enumerate(obj.get("specs") or []):
        specs.append((f"specs[{i}]", s))
    if not specs:
        raise invalid("spec", "Invalid CiliumNetworkPolicy spec(s): empty policy")
    return [_parse_rule(path, s, ref, opts) for path, s in specs]


def _sel(raw: Any, path: str) -> LabelSel:
    try:
        return LabelSel.from_dict(raw)
    except ValueError as exc:
        raise invalid(path, str(exc)) from None


def _parse_rule(path: str, spec: Any, ref: PolicyRef, opts: ParseOptions) -> Rule:
    if not isinstance(spec, Mapping):
        raise invalid(path, "expected an object")
    es, ns = spec.get("endpointSelector"), spec.get("nodeSelector")
    if es is None and ns is None:
        raise invalid(path, "rule must have one of EndpointSelector or NodeSelector")
    if es is not None and ns is not None:
        raise invalid(path, "rule cannot have both EndpointSelector and NodeSelector")
    host = ns is not None
    subject = _sel(ns if host else es, f"{path}.{'nodeSelector' if host else 'endpointSelector'}")
    if ref.kind == KIND_CNP and not host:
        # utils.go: the subject of a namespaced CNP is always confined to its namespace.
        # utils.go ParseToCiliumRule: AddMatch(k8s:io.kubernetes.pod.namespace, ns) replaces a
        # user-written k8s-source namespace match (logged as illegal); other keys stay.
        subject = LabelSel(tuple(sorted(
            {r for r in subject.reqs if not (r.source == "k8s" and r.key == POD_NAMESPACE_LABEL and r.op == "In")}
            | {Req("k8s", POD_NAMESPACE_LABEL, "In", (ref.namespace,))})))
    init_subject = subject.has_key(lambda s, k: s == "reserved" and k == "init")
    sections = {k: spec.get(k) or [] for k in ("ingress", "ingressDeny", "egress", "egressDeny")}
    for k, v in sections.items():
        if not isinstance(v, list):
            raise invalid(f"{path}.{k}", "expected a list")
    edd = spec.get("enableDefaultDeny") or {}
    # rule_validation.go Sanitize: unset => true when the rule has entries in that direction.
    dd_in = bool(edd.get("ingress", True)) if isinstance(edd, Mapping) else True
    dd_eg = bool(edd.get("egress", True)) if isinstance(edd, Mapping) else True
    entries: list[RuleEntry] = []
    for sec, items in sections.items():
        ingress = sec.startswith("ingress")
        deny = sec.endswith("Deny")
        for i, item in enumerate(items):
            p = f"{path}.{sec}[{i}]"
            entries.append(_parse_entry(p, item, ingress, deny, dd_in if ingress else dd_eg, ref, opts, host, init_subject))
    return Rule(ref, subject, tuple(entries), host)


def _count(item: Mapping[str, Any], key: str) -> int:
    v = item.get(key)
    return len(v) if isinstance(v, list) else (1 if v else 0)


def _parse_entry(p: str, item: Any, ingress: bool, deny: bool, default_deny: bool, ref: PolicyRef,
                 opts: ParseOptions, host: bool, init_subject: bool) -> RuleEntry:
    if item is None:
        item = {}
    if not isinstance(item, Mapping):
        raise invalid(p, "expected an object")
    for req in ("fromRequires", "toRequires"):
        if item.get(req):
            # Removed in Cilium 1.19: the CRD schema has MaxItems=0.
            raise invalid(f"{p}.{req}", f"Too many: {len(item[req])}: must have at most 0 items ({req} was removed in Cilium 1.19)")
    if deny:
        allowed = _DENY_FIELDS_IN if ingress else _DENY_FIELDS_EG
        for k in item:
            if k not in allowed:
                raise invalid(f"{p}.{k}", f'unknown field "{k}" (deny rules support only {", ".join(sorted(allowed))})')
    l3 = _INGRESS_L3 if ingress else _EGRESS_L3
    present = [m for m in l3 if _count(item, m) > 0]
    if len(present) > 1:
        raise invalid(p, f"Combining {present[0][0].upper() + present[0][1:]} and {present[1][0].upper() + present[1][1:]} is not supported yet")
    to_ports = item.get("toPorts") or []
    if present == ["toServices"] and to_ports:
        raise invalid(p, "Combining ToServices and ToPorts is not supported yet")
    icmps = item.get("icmps") or []
    port_rules = _parse_ports(p, to_ports, ingress, deny, host, opts) if to_ports else ()
    if icmps and to_ports:
        raise invalid(p, "The ICMPs block may only be present without ToPorts. Define a separate rule to use ToPorts.")
    if icmps:
        port_rules = _parse_icmps(f"{p}.icmps", icmps)
    peers = _parse_peers(p, item, ingress, ref, opts, init_subject, l3)
    auth = ""
    if isinstance(item.get("authentication"), Mapping):
        auth = str(item["authentication"].get("mode") or "")
        if auth not in ("", "disabled", "required", "test-always-fail"):
            raise invalid(f"{p}.authentication.mode", f'Unsupported value: "{auth}": supported values: "disabled", "required", "test-always-fail"')
    section = p.split(".", 1)[1] if p.startswith("spec.") else p
    return RuleEntry(ref, section, "INGRESS" if ingress else "EGRESS", deny, default_deny, peers, port_rules,
                     "" if auth == "disabled" else auth)


def _parse_peers(p: str, item: Mapping[str, Any], ingress: bool, ref: PolicyRef, opts: ParseOptions,
                 init_subject: bool, l3: tuple[str, ...]) -> tuple[Selector, ...]:
    present = [m for m in l3 if m in item and item[m] is not None]
    if not present:
        # No peer field: with toPorts/icmps every identity (incl. world and host); an empty
        # item ``{}`` allows nothing but still puts the endpoint in default deny.
        return (WILDCARD,) if (item.get("toPorts") or item.get("icmps")) else ()
    m = present[0]
    raw = item[m]
    if not isinstance(raw, list):
        raise invalid(f"{p}.{m}", "expected a list")
    out: list[Selector] = []
    for j, v in enumerate(raw):
        fp = f"{p}.{m}[{j}]"
        if m in ("fromEndpoints", "toEndpoints"):
            out.append(scope_peer(_sel(v, fp), ref, opts.cluster, init_subject))
        elif m in ("fromEntities", "toEntities"):
            if str(v) not in ENTITIES:
                raise invalid(fp, f"unsupported entity: {v}")
            out.extend(entity_selectors(str(v), opts.cluster))
        elif m in ("fromCIDR", "toCIDR"):
            out.append(CIDRSel(_cidr(fp, str(v), allow_bare=True)))
        elif m in ("fromCIDRSet", "toCIDRSet"):
            if not isinstance(v, Mapping):
                raise invalid(fp, "expected an object")
            if v.get("cidrGroupRef") or v.get("cidrGroupSelector"):
                raise invalid(fp, "CiliumCIDRGroup references are not modelled by this engine")
            cidr = str(v.get("cidr") or "")
            try:
                net = ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise invalid(f"{fp}.cidr", f'Unable to parse CIDRRule "{cidr}": netip.ParsePrefix("{cidr}"): {exc}') from None
            if "/" not in cidr:
                raise invalid(f"{fp}.cidr", f'Unable to parse CIDRRule "{cidr}": netip.ParsePrefix("{cidr}"): no \'/\'')
            excepts = []
            for k, e in enumerate(v.get("except") or []):
                en = _cidr(f"{fp}.except[{k}]", str(e), allow_bare=False)
                ne = ipaddress.ip_network(en)
                if ne.version != net.version or not ne.subnet_of(net):  # type: ignore[arg-type]
                    raise invalid(f"{fp}.except[{k}]", f"allow CIDR prefix {cidr} does not contain exclude CIDR prefix {e}")
                excepts.append(en)
            out.append(CIDRSel(str(net), tuple(excepts)))
        elif m == "toFQDNs":
            if not isinstance(v, Mapping) or not (v.get("matchName") or v.get("matchPattern")):
                raise invalid(fp, "matchName or matchPattern must be specified")
            out.append(FQDNSel(str(v.get("matchName") or ""), str(v.get("matchPattern") or "")))
        elif m == "toServices":
            out.append(_service(fp, v, ref))
        elif m in ("fromNodes", "toNodes"):
            raise invalid(fp, 'FromNodes/ToNodes rules can only be applied when the "enable-node-selector-labels" flag is set')
        else:
            raise invalid(fp, f"{m} (cloud provider groups) are not modelled by this engine")
    return tuple(out)


def scope_peer(sel: LabelSel, ref: PolicyRef, cluster: str, init_subject: bool) -> LabelSel:
    """utils.go ``ParseToCiliumRule`` namespace scoping of a from/toEndpoints selector."""
    has_ns = sel.has_key(lambda s, k: k == POD_NAMESPACE_LABEL)
    has_reserved = sel.has_key(lambda s, k: s == "reserved")
    has_nslabels = sel.has_key(lambda s, k: k.startswith(NAMESPACE_LABELS_PREFIX))
    if has_reserved:
        return sel
    if not has_ns:
        if ref.kind == KIND_CNP or ref.kind == KIND_KNP:
            if not has_nslabels:
                sel = sel.with_req(Req("k8s", POD_NAMESPACE_LABEL, "In", (ref.namespace,)))
        elif not init_subject:
            sel = sel.with_req(Req("k8s", POD_NAMESPACE_LABEL, "Exists"))
    if not sel.has_key(lambda s, k: k == CLUSTER_LABEL):
        sel = sel.with_req(Req("k8s", CLUSTER_LABEL, "In", (cluster,)))
    return sel


def entity_selectors(entity: str, cluster: str) -> list[Selector]:  # noqa: D401
    """api/entity.go ``EntitySelectorMapping``."""
    if entity == "all":
        return [WILDCARD]
    if entity == "world":
        world: list[Selector] = [LabelSel((Req("reserved", n, "Exists"),)) for n in ("world", "world-ipv4", "world-ipv6")]
        return world
    if entity == "cluster":
        out: list[Selector] = [LabelSel((Req("reserved", n, "Exists"),)) for n in _CLUSTER_RESERVED]
        return out + [LabelSel((Req("k8s", CLUSTER_LABEL, "In", (cluster,)),))]
    return [LabelSel((Req("reserved", entity, "Exists"),))]


def _cidr(path: str, text: str, allow_bare: bool) -> str:
    try:
        if "/" not in text:
            if not allow_bare:
                raise ValueError("no '/'")
            a = ipaddress.ip_address(text)
            return f"{a}/{a.max_prefixlen}"
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError as exc:
        raise invalid(path, f'unable to parse CIDR: netip.ParsePrefix("{text}"): {exc}') from None


def _service(fp: str, v: Any, ref: PolicyRef) -> ServiceSel:
    if not isinstance(v, Mapping):
        raise invalid(fp, "expected an object")
    if isinstance(v.get("k8sService"), Mapping):
        s = v["k8sService"]
        if not s.get("serviceName"):
            raise invalid(f"{fp}.k8sService.serviceName", "serviceName must be specified")
        return ServiceSel(str(s.get("namespace") or ref.namespace or "default"), str(s["serviceName"]))
    if isinstance(v.get("k8sServiceSelector"), Mapping):
        s = v["k8sServiceSelector"]
        sel = _sel(s.get("selector"), f"{fp}.k8sServiceSelector.selector")
        return ServiceSel(str(s.get("namespace") or ref.namespace or "default"), "", sel)
    raise invalid(fp, "one of k8sService or k8sServiceSelector must be specified")


def _parse_ports(p: str, to_ports: Any, ingress: bool, deny: bool, host: bool, opts: ParseOptions) -> tuple[PortRule, ...]:
    if not isinstance(to_ports, list):
        raise invalid(f"{p}.toPorts", "expected a list")
    out: list[PortRule] = []
    for i, pr in enumerate(to_ports):
        pp = f"{p}.toPorts[{i}]"
        if not isinstance(pr, Mapping):
            raise invalid(pp, "expected an object")
        rules = pr.get("rules")
        if deny and rules is not None:
            raise invalid(f"{pp}.rules", 'unknown field "rules": deny rules cannot have L7 rules (PortDenyRule has only "ports")')
        has_dns = isinstance(rules, Mapping) and bool(rules.get("dns"))
        if isinstance(rules, Mapping):
            if host and any(rules.get(k) for k in ("http", "dns", "kafka")):
                raise invalid(f"{pp}.rules", "host policies do not support L7 rules yet")
            if ingress and has_dns:
                raise invalid(f"{pp}.rules.dns", "L7 protocol DNS is not supported on ingress yet")
            if not opts.enable_l7_proxy and any(rules.get(k) for k in ("http", "dns", "kafka")):
                raise invalid(f"{pp}.rules", "L7 policy is not supported since L7 proxy is not enabled")
        ports_raw = pr.get("ports") or []
        if len(ports_raw) > 40:
            raise invalid(f"{pp}.ports", "too many ports, the max is 40")
        ports: list[PortProto] = []
        zero = False
        l7_nonempty = isinstance(rules, Mapping) and any(rules.get(k) is not None for k in ("http", "dns", "kafka", "l7proto"))
        for j, pt in enumerate(ports_raw):
            fp = f"{pp}.ports[{j}]"
            if not isinstance(pt, Mapping):
                raise invalid(fp, "expected an object")
            try:
                port = parse_port(pt.get("port"))
                proto = parse_protocol(pt.get("protocol"))
            except ValueError as exc:
                raise invalid(fp, str(exc)) from None
            end = pt.get("endPort") or 0
            if not isinstance(end, int) or isinstance(end, bool) or end < 0 or end > 65535:
                raise invalid(f"{fp}.endPort", f"Invalid value: {end!r}: must be between 0 and 65535, inclusive")
            if isinstance(port, int):
                zero = zero or port == 0
                if end and end < port:
                    raise invalid(f"{fp}.endPort", f"Invalid value: {end}: must be greater than or equal to port ({port})")
                if has_dns and end > port:
                    raise invalid(fp, "DNS rules do not support port ranges")
            if l7_nonempty and not has_dns and proto != "TCP":
                raise invalid(fp, f"L7 rules can only apply to TCP (not {proto}) except for DNS rules")
            for pr_ in expand_protocol(proto):
                if pr_ == "SCTP" and not opts.enable_sctp:
                    continue  # SCTP policy is ignored unless enable-sctp (l4.go)
                ports.append(PortProto(pr_, port, end if isinstance(port, int) else 0))
        l7 = _parse_l7(pp, rules, zero, bool(ports_raw)) if l7_nonempty and isinstance(rules, Mapping) else None
        if not ports_raw:
            # a port rule without ports: all ports of all protocols (+ L7 validated above)
            ports = [PortProto(x, 0) for x in ("TCP", "UDP") + (("SCTP",) if opts.enable_sctp else ())]
        out.append(PortRule(tuple(ports), l7))
    return tuple(out)


def _parse_l7(pp: str, rules: Mapping[str, Any], zero: bool, has_ports: bool) -> L7Rules:
    kinds = [k for k in ("http", "kafka", "dns", "l7proto") if rules.get(k) is not None]
    if rules.get("l7") is not None and rules.get("l7proto") is None:
        raise invalid(f"{pp}.rules.l7", "'l7' may only be specified when a 'l7proto' is also specified")
    if zero:
        raise invalid(f"{pp}.rules", "L7 rules can not be used when a port is 0")
    if len(kinds) > 1:
        raise invalid(f"{pp}.rules", "multiple L7 protocol rule types specified in single rule")
    kind = kinds[0]
    if kind in ("kafka", "l7proto"):
        raise invalid(f"{pp}.rules.{kind}", f"{kind} rules are not modelled by this engine (deprecated beta parsers)")
    if kind == "dns":
        if not has_ports:
            raise invalid(f"{pp}.rules.dns", "Port 53 must be specified for DNS rules")
        dns = []
        for i, d in enumerate(rules["dns"] or []):
            if not isinstance(d, Mapping) or not (d.get("matchName") or d.get("matchPattern")):
                raise invalid(f"{pp}.rules.dns[{i}]", "matchName or matchPattern must be specified")
            dns.append(DNSRule(str(d.get("matchName") or ""), str(d.get("matchPattern") or "")))
        return L7Rules("dns", dns=tuple(dns))
    http = []
    for i, h in enumerate(rules["http"] or []):
        try:
            http.append(HTTPRule.parse(h if isinstance(h, Mapping) else {}))
        except ValueError as exc:
            raise invalid(f"{pp}.rules.http[{i}].{exc}".split(": ", 1)[0], str(exc).split(": ", 1)[1]) from None
    return L7Rules("http", http=tuple(http))


def _parse_icmps(p: str, icmps: Any) -> tuple[PortRule, ...]:
    if not isinstance(icmps, list):
        raise invalid(p, "expected a list")
    out: list[PortRule] = []
    for i, it in enumerate(icmps):
        fields = (it or {}).get("fields") or [] if isinstance(it, Mapping) else []
        if len(fields) > 40:
            raise invalid(f"{p}[{i}].fields", "too many types, the max is 40")
        ports: list[PortProto] = []
        for j, f in enumerate(fields):
            fam = str(f.get("family") or "IPv4")
            if fam not in ("IPv4", "IPv6"):
                raise invalid(f"{p}[{i}].fields[{j}].family", f"wrong family: {fam}")
            try:
                t = parse_icmp_type(fam, f.get("type"))
            except ValueError as exc:
                raise invalid(f"{p}[{i}].fields[{j}].type", str(exc)) from None
            ports.append(PortProto("ICMP" if fam == "IPv4" else "ICMPV6", t))
        out.append(PortRule(tuple(ports)))
    return tuple(out)
