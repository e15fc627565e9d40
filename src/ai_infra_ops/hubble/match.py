"""Compile ``FlowFilter``s into predicates, as Hubble's server does (``pkg/hubble/filters/*.go``).

Bad values are rejected when compiling (``UserInputError`` naming the field), never while
matching; after that a filter is a pure function of the flow dict. One helper per filter kind,
each citing the upstream file whose semantics it copies.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..errors import Location, UserInputError
from ..kube_model import parse_selector_string
from .encoding import parse_timestamp_ns
from .flowfilter import FilterSet, FlowFilter

Predicate = Callable[[Mapping[str, Any]], bool]

L4_PROTOCOLS = ("icmp", "icmpv4", "icmpv6", "tcp", "udp", "sctp", "vrrp", "igmp")
L7_PROTOCOLS = ("dns", "http", "kafka")
# filters/http.go: the "full" pattern is unanchored upstream (so "2000" is accepted and never matches).
_HTTP_FULL = re.compile(r"[1-5][0-9]{2}")
_HTTP_PREFIX = re.compile(r"^([1-5][0-9]?\+)$")
_FQDN_RUNE = re.compile(r"[-0-9_a-z.*]")


def _bad(field: str, message: str) -> UserInputError:
    return UserInputError(message, Location(field=field))


def _side(flow: Mapping[str, Any], side: str) -> Mapping[str, Any]:
    return flow.get(side) or {}


# filters/ip.go: exact address or CIDR containment.
def _ip(values: Sequence[str], field: str, key: str) -> Predicate:
    nets = []
    for v in values:
        try:
            nets.append(ipaddress.ip_network(v, strict=False) if "/" in v else ipaddress.ip_network(v))
        except ValueError:
            raise _bad(field, f"invalid IP address in filter: {v!r}") from None

    def pred(flow: Mapping[str, Any]) -> bool:
        text = (flow.get("IP") or {}).get(key)
        if not text:
            return False
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            return False
        return any(addr in n for n in nets)

    return pred


# filters/k8s.go + pkg/hubble/k8s ParseNamespaceName: "ns/prefix" (only the first two "/" parts
# count); no "/" => namespace "default"; "/prefix" => endpoints with an EMPTY namespace; "" and
# "/" are invalid. Matching: namespace equal, name starts with prefix, and an endpoint with neither
# namespace nor name never matches.
def parse_pod_filter(value: str, field: str) -> tuple[str, str]:
    parts = value.split("/")
    if len(parts) > 1:
        ns, prefix = parts[0], parts[1]
    elif parts[0] == "":
        ns, prefix = "", ""
    else:
        ns, prefix = "default", parts[0]
    if not ns and not prefix:
        raise _bad(field, f"invalid filter, must be [namespace/][<name>], got {value!r}")
    return ns, prefix


def _pod(values: Sequence[str], field: str, side: str, name_key: str) -> Predicate:
    parsed = [parse_pod_filter(v, field) for v in values]

    def pred(flow: Mapping[str, Any]) -> bool:
        ep = _side(flow, side)
        ns = ep.get("namespace", "")
        name = ep.get(name_key, "")
        if not ns and not name:
            return False
        return any(want_ns == ns and (not prefix or name.startswith(prefix)) for want_ns, prefix in parsed)

    return pred


def _service(values: Sequence[str], field: str, side: str) -> Predicate:
    parsed = [parse_pod_filter(v, field) for v in values]
    key = "source_service" if side == "source" else "destination_service"

    def pred(flow: Mapping[str, Any]) -> bool:
        svc = flow.get(key) or {}
        ns, name = svc.get("namespace", ""), svc.get("name", "")
        if not ns and not name:
            return False
        return any(want == ns and (not p or name.startswith(p)) for want, p in parsed)

    return pred


# filters/fqdn.go + patterns.go compileFQDNPattern: pattern trimmed, one trailing dot dropped,
# lower-cased; "*" => "[-.0-9a-z]*"; anchored; matched against source_names/destination_names.
def _fqdn(values: Sequence[str], field: str, names_key: str) -> Predicate:
    parts = []
    for v in values:
        body = v.strip()
        body = body[:-1] if body.endswith(".") else body
        body = body.lower()
        if not body:
            raise _bad(field, f"invalid FQDN in filter {v!r}: empty pattern")
        if body.endswith("."):
            raise _bad(field, f"invalid FQDN in filter {v!r}: multiple trailing dots in pattern")
        bad = [ch for ch in body if not _FQDN_RUNE.match(ch)]
        if bad:
            raise _bad(field, f"invalid FQDN in filter {v!r}: {bad[0]!r}: invalid rune in pattern "
                              "(expected letters, digits, '-', '_', '.', '*')")
        parts.append(body.replace(".", r"\.").replace("*", "[-.0-9a-z]*"))
    rx = re.compile(r"\A(?:" + "|".join(parts) + r")\Z")

    def pred(flow: Mapping[str, Any]) -> bool:
        return any(rx.match(str(n)) for n in flow.get(names_key) or ())

    return pred


def label_map(labels: Sequence[str]) -> dict[str, str]:
    """Cilium label strings (``k8s:app=x``) -> selector lookup keys: ``k8s:app``, ``app`` and ``any:app``."""
    out: dict[str, str] = {}
    for text in labels:
        key, _, value = text.partition("=")
        out[key] = value
        if ":" in key:
            bare = key.split(":", 1)[1]
            out.setdefault(bare, value)
            out.setdefault("any:" + bare, value)
    return out


# filters/labels.go: Kubernetes selector syntax; a key without source matches any source.
def _label(values: Sequence[str], field: str, side: str) -> Predicate:
    selectors = []
    for v in values:
        try:
            selectors.append(parse_selector_string(v))
        except ValueError as exc:
            raise _bad(field, f"invalid label selector {v!r}: {exc}") from None

    def pred(flow: Mapping[str, Any]) -> bool:
        labels = label_map(_side(flow, side).get("labels") or ())
        return any(s.matches(labels) for s in selectors)

    return pred


def _port_value(v: str, field: str) -> int:
    try:
        port = int(v, 10)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise _bad(field, f"invalid port {v!r}: expected a number 0-65535")
    return port


def flow_ports(flow: Mapping[str, Any]) -> tuple[int, int] | None:
    l4 = flow.get("l4") or {}
    for key in ("TCP", "UDP", "SCTP"):
        if key in l4:
            body = l4[key] or {}
            return int(body.get("source_port", 0)), int(body.get("destination_port", 0))
    return None


# filters/port.go: TCP/UDP/SCTP port equality; ICMP never matches.
def _port(values: Sequence[str], field: str, index: int) -> Predicate:
    ports = {_port_value(v, field) for v in values}

    def pred(flow: Mapping[str, Any]) -> bool:
        p = flow_ports(flow)
        return p is not None and p[index] in ports

    return pred


# filters/protocol.go
def _protocol(values: Sequence[str], field: str) -> Predicate:
    wanted = []
    for v in values:
        p = v.lower()
        if p not in L4_PROTOCOLS + L7_PROTOCOLS:
            raise _bad(field, f"unknown protocol: {v!r} (expected one of {', '.join(L4_PROTOCOLS + L7_PROTOCOLS)})")
        wanted.append(p)

    def pred(flow: Mapping[str, Any]) -> bool:
        l4 = flow.get("l4") or {}
        l7 = flow.get("l7") or {}
        for p in wanted:
            if p == "icmp" and ("ICMPv4" in l4 or "ICMPv6" in l4):
                return True
            if p in ("icmpv4", "icmpv6") and ("ICMPv" + p[-1]) in l4:
                return True
            if p.upper() in l4:
                return True
            if p in L7_PROTOCOLS and p in l7:
                return True
        return False

    return pred


def _http_status(values: Sequence[str], field: str) -> Predicate:
    full, prefix = set(), []
    for v in values:
        if _HTTP_FULL.search(v):
            full.add(v)
        elif _HTTP_PREFIX.match(v):
            prefix.append(v[:-1])
        else:
            raise _bad(field, f"invalid http status code filter: invalid status code prefix: {v!r} "
                              "(expected e.g. 404, 4+ or 40+)")

    def pred(flow: Mapping[str, Any]) -> bool:
        code = int(((flow.get("l7") or {}).get("http") or {}).get("code", 0))
        if code == 0:
            return False
        text = f"{code:03d}"
        return text in full or any(text.startswith(p) for p in prefix)

    return pred


def _regex(values: Sequence[str], field: str) -> re.Pattern[str]:
    try:
        return re.compile("|".join(f"(?:{v})" for v in values))
    except re.error as exc:
        raise _bad(field, f"invalid regular expression: {exc}") from None


def _http_path(values: Sequence[str], field: str, whole_url: bool) -> Predicate:
    rx = _regex(values, field)

    def pred(flow: Mapping[str, Any]) -> bool:
        http = (flow.get("l7") or {}).get("http") or {}
        url = http.get("url")
        if not url:
            return False
        target = url if whole_url else urlsplit(url).path
        return rx.search(target) is not None

    return pred


def _event_type(flt: FlowFilter) -> Predicate:
    types = flt.event_type

    def pred(flow: Mapping[str, Any]) -> bool:
        ev = flow.get("event_type") or {}
        t, st = int(ev.get("type", 0)), int(ev.get("sub_type", 0))
        return any(e.type == t and (not e.match_sub_type or e.sub_type == st) for e in types)

    return pred


def _http_requires_l7(flt: FlowFilter, field: str, what: str) -> None:
    # filters/http.go httpMatchCompatibleEventFilter: no type filter, or one that includes l7 (129).
    if flt.event_type and not any(e.type == 129 for e in flt.event_type):
        raise _bad(field, f"filtering by {what} requires the event type filter to only match 'l7' events")


def _node_name(values: Sequence[str]) -> Predicate:
    # filters/node.go: "cluster/node" patterns with "*"; a pattern without "/" is a node pattern.
    def pred(flow: Mapping[str, Any]) -> bool:
        name = str(flow.get("node_name", ""))
        node = name.split("/", 1)[1] if "/" in name else name
        return any(fnmatch.fnmatchcase(name if "/" in v else node, v) for v in values)

    return pred


def compile_filter(flt: FlowFilter) -> Predicate:
    """All set fields ANDed (``filters.go`` ``BuildFilter``).

    Raises:
        UserInputError: a value Hubble would reject (bad IP, port, regex, protocol, status...).
    """
    preds: list[Predicate] = []
    f = flt
    if f.uuid:
        uuids = set(f.uuid)
        preds.append(lambda fl: fl.get("uuid") in uuids)
    if f.source_ip:
        preds.append(_ip(f.source_ip, "source_ip", "source"))
    if f.destination_ip:
        preds.append(_ip(f.destination_ip, "destination_ip", "destination"))
    if f.source_pod:
        preds.append(_pod(f.source_pod, "source_pod", "source", "pod_name"))
    if f.destination_pod:
        preds.append(_pod(f.destination_pod, "destination_pod", "destination", "pod_name"))
    if f.source_service:
        preds.append(_service(f.source_service, "source_service", "source"))
    if f.destination_service:
        preds.append(_service(f.destination_service, "destination_service", "destination"))
    if f.source_fqdn:
        preds.append(_fqdn(f.source_fqdn, "source_fqdn", "source_names"))
    if f.destination_fqdn:
        preds.append(_fqdn(f.destination_fqdn, "destination_fqdn", "destination_names"))
    if f.source_label:
        preds.append(_label(f.source_label, "source_label", "source"))
    if f.destination_label:
        preds.append(_label(f.destination_label, "destination_label", "destination"))
    if f.source_identity:
        sid = set(f.source_identity)
        preds.append(lambda fl: int(_side(fl, "source").get("identity", 0)) in sid)
    if f.destination_identity:
        did = set(f.destination_identity)
        preds.append(lambda fl: int(_side(fl, "destination").get("identity", 0)) in did)
    if f.source_port:
        preds.append(_port(f.source_port, "source_port", 0))
    if f.destination_port:
        preds.append(_port(f.destination_port, "destination_port", 1))
    if f.traffic_direction:
        dirs = {d.upper() for d in f.traffic_direction}
        preds.append(lambda fl: fl.get("traffic_direction", "TRAFFIC_DIRECTION_UNKNOWN") in dirs)
    if f.verdict:
        verdicts = set(f.verdict)
        preds.append(lambda fl: fl.get("verdict", "VERDICT_UNKNOWN") in verdicts)
    if f.drop_reason_desc:
        reasons = set(f.drop_reason_desc)
        preds.append(lambda fl: fl.get("drop_reason_desc", "DROP_REASON_UNKNOWN") in reasons)
    if f.event_type:
        preds.append(_event_type(f))
    if f.protocol:
        preds.append(_protocol(f.protocol, "protocol"))
    if f.http_status_code:
        _http_requires_l7(f, "http_status_code", "http status code")
        preds.append(_http_status(f.http_status_code, "http_status_code"))
    if f.http_method:
        _http_requires_l7(f, "http_method", "http method")
        methods = {m.lower() for m in f.http_method}
        preds.append(lambda fl: str(((fl.get("l7") or {}).get("http") or {}).get("method", "")).lower() in methods)
    if f.http_path:
        _http_requires_l7(f, "http_path", "http path")
        preds.append(_http_path(f.http_path, "http_path", whole_url=False))
    if f.http_url:
        _http_requires_l7(f, "http_url", "http url")
        preds.append(_http_path(f.http_url, "http_url", whole_url=True))
    if f.node_name:
        preds.append(_node_name(f.node_name))
    if f.tcp_flags:
        wanted_sets = [set(flags) for flags in f.tcp_flags]
        preds.append(lambda fl: any(
            all(((fl.get("l4") or {}).get("TCP") or {}).get("flags", {}).get(x) for x in ws) for ws in wanted_sets))
    if f.reply:
        replies = set(f.reply)
        preds.append(lambda fl: "is_reply" in fl and bool(fl["is_reply"]) in replies)

    def matches(flow: Mapping[str, Any]) -> bool:
        return all(p(flow) for p in preds)

    return matches


def compile_set(fs: FilterSet) -> Predicate:
    """Whitelist OR, blacklist NOR, and the since/until window (``filters.go`` ``Apply``)."""
    white = [compile_filter(f) for f in fs.whitelist]
    black = [compile_filter(f) for f in fs.blacklist]
    since, until = fs.since_ns, fs.until_ns

    def matches(flow: Mapping[str, Any]) -> bool:
        if since is not None or until is not None:
            t = parse_timestamp_ns(flow["time"]) if flow.get("time") else 0
            if (since is not None and t < since) or (until is not None and t > until):
                return False
        if white and not any(w(flow) for w in white):
            return False
        return not any(b(flow) for b in black)

    return matches
