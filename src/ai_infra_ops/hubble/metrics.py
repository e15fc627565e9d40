"""Hubble's Prometheus metrics for a set of flows, in the text exposition format.

The handlers follow ``cilium/cilium`` ``pkg/hubble/metrics/{flow,drop,policy,dns,http}/handler.go``
with no context options (so only the plugin labels exist) and ``FlowProtocol`` from
``pkg/hubble/api/v1/types.go``. Output is what ``client_golang``'s registry prints: families
sorted by name, ``# HELP`` / ``# TYPE`` lines, label pairs sorted by label name, series sorted by
their label values, counter values in Go's shortest ``%g`` form (``1e+06``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .enums import POLICY_MATCH_NAMES, EventType, TraceObservationPoint, dns_rcode_name


@dataclass(frozen=True)
class _Family:
    name: str
    help: str
    labels: tuple[str, ...]


FLOWS = _Family("hubble_flows_processed_total", "Total number of flows processed", ("protocol", "type", "subtype", "verdict"))
DROPS = _Family("hubble_drop_total", "Number of drops", ("reason", "protocol"))
POLICY = _Family("hubble_policy_verdicts_total", "Total number of Cilium network policy verdicts", ("direction", "match", "action"))
DNS_Q = _Family("hubble_dns_queries_total", "Number of DNS queries observed", ("rcode", "qtypes", "ips_returned"))
DNS_R = _Family("hubble_dns_responses_total", "Number of DNS queries observed", ("rcode", "qtypes", "ips_returned"))
DNS_T = _Family("hubble_dns_response_types_total", "Number of DNS queries observed", ("type", "qtypes"))
HTTP_Q = _Family("hubble_http_requests_total", "Count of HTTP requests", ("method", "protocol", "reporter"))
HTTP_R = _Family("hubble_http_responses_total", "Count of HTTP responses", ("method", "protocol", "status", "reporter"))
FAMILIES = (FLOWS, DROPS, POLICY, DNS_Q, DNS_R, DNS_T, HTTP_Q, HTTP_R)


def flow_protocol_label(flow: Mapping[str, Any]) -> str:
    """``v1.FlowProtocol``: DNS/HTTP/Kafka for L7, the L4 name for datapath events."""
    t = int((flow.get("event_type") or {}).get("type", 0))
    if t == EventType.L7:
        l7 = flow.get("l7") or {}
        for key, name in (("dns", "DNS"), ("http", "HTTP"), ("kafka", "Kafka")):
            if key in l7:
                return name
        return "Unknown L7"
    if t in (EventType.DROP, EventType.TRACE, EventType.POLICY_VERDICT, EventType.CAPTURE):
        l4 = flow.get("l4") or {}
        for key in ("TCP", "UDP", "ICMPv4", "ICMPv6", "SCTP", "VRRP", "IGMP"):
            if key in l4:
                return key
        return "Unknown L4"
    return "Unknown flow"


def _flow_type(flow: Mapping[str, Any]) -> tuple[str, str]:
    ev = flow.get("event_type") or {}
    t, sub = int(ev.get("type", 0)), int(ev.get("sub_type", 0))
    if t == EventType.L7:
        l7 = flow.get("l7") or {}
        for key, name in (("dns", "DNS"), ("http", "HTTP"), ("kafka", "Kafka")):
            if key in l7:
                return "L7", name
        return "L7", ""
    if t == EventType.DROP:
        return "Drop", ""
    if t == EventType.CAPTURE:
        return "Capture", ""
    if t == EventType.TRACE:
        return "Trace", TraceObservationPoint.from_sub_type(sub).cli_name if 0 <= sub <= 13 else ""
    if t == EventType.POLICY_VERDICT:
        return "PolicyVerdict", ""
    return "Unknown", str(t)


def count_metrics(flows: Iterable[Mapping[str, Any]]) -> dict[_Family, Counter[tuple[str, ...]]]:
    """Counters per family, keyed by the label values in the family's declared label order."""
    out: dict[_Family, Counter[tuple[str, ...]]] = {f: Counter() for f in FAMILIES}
    for flow in flows:
        verdict = str(flow.get("verdict", "VERDICT_UNKNOWN"))
        proto = flow_protocol_label(flow)
        typ, sub = _flow_type(flow)
        out[FLOWS][(proto, typ, sub, verdict)] += 1
        if verdict == "DROPPED":
            out[DROPS][(str(flow.get("drop_reason_desc", "DROP_REASON_UNKNOWN")), proto)] += 1
        t = int((flow.get("event_type") or {}).get("type", 0))
        direction = str(flow.get("traffic_direction", "TRAFFIC_DIRECTION_UNKNOWN")).lower()
        if t == EventType.POLICY_VERDICT and int((flow.get("source") or {}).get("identity", 0)) != 1:
            match = POLICY_MATCH_NAMES.get(int(flow.get("policy_match_type", 0)), "unknown").lower()
            out[POLICY][(direction, match, verdict.lower())] += 1
        l7 = flow.get("l7") or {}
        if t == EventType.L7 and l7:
            kind = "dns" if "dns" in l7 else "http" if "http" in l7 else "kafka" if "kafka" in l7 else ""
            out[POLICY][(direction, f"l7/{kind}", verdict.lower())] += 1
            _l7_metrics(flow, l7, verdict, out)
    return out


def _l7_metrics(flow: Mapping[str, Any], l7: Mapping[str, Any], verdict: str,
                out: dict[_Family, Counter[tuple[str, ...]]]) -> None:
    is_reply = bool(flow.get("is_reply", False))
    dns = l7.get("dns")
    if dns is not None:
        qtypes = ",".join(dns.get("qtypes") or ())
        ips = str(len(dns.get("ips") or ()))
        if verdict == "DROPPED":
            out[DNS_Q][("Policy denied", qtypes, ips)] += 1
        elif not is_reply:
            out[DNS_Q][("", qtypes, ips)] += 1
        else:
            out[DNS_R][(dns_rcode_name(int(dns.get("rcode", 0))), qtypes, ips)] += 1
            for rr in dns.get("rrtypes") or ():
                out[DNS_T][(str(rr), qtypes)] += 1
    http = l7.get("http")
    if http is not None:
        direction = flow.get("traffic_direction")
        reporter = {"EGRESS": "client", "INGRESS": "server"}.get(str(direction), "unknown")
        method, protocol = str(http.get("method", "")), str(http.get("protocol", ""))
        if l7.get("type") == "REQUEST":
            out[HTTP_Q][(method, protocol, reporter)] += 1
        elif l7.get("type") == "RESPONSE":
            out[HTTP_R][(method, protocol, str(http.get("code", 0)), reporter)] += 1


def go_float(value: float) -> str:
    """Go ``strconv.FormatFloat(v, 'g', -1, 64)`` as client_golang prints sample values."""
    if value == int(value) and abs(value) < 1e21:
        digits = str(int(abs(value)))
        exp = len(digits) - 1
        if exp >= 6:  # shortest %g switches to %e at exponent >= 6
            mant = digits.rstrip("0") or "0"
            mant = mant[0] + ("." + mant[1:] if len(mant) > 1 else "")
            return ("-" if value < 0 else "") + f"{mant}e+{exp:02d}"
        return ("-" if value < 0 else "") + digits
    return repr(value)


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_metrics(flows: Iterable[Mapping[str, Any]]) -> str:
    """The Prometheus text exposition of Hubble's metrics over ``flows``.

    Families with no series are omitted, as client_golang omits label-vector families that were
    never incremented.
    """
    counts = count_metrics(flows)
    lines: list[str] = []
    for fam in sorted(FAMILIES, key=lambda f: f.name):
        series = counts[fam]
        if not series:
            continue
        lines.append(f"# HELP {fam.name} {fam.help}")
        lines.append(f"# TYPE {fam.name} counter")
        order = sorted(range(len(fam.labels)), key=lambda i: fam.labels[i])
        rows = sorted(((tuple(key[i] for i in order), n) for key, n in series.items()))
        for values, n in rows:
            pairs = ",".join(f'{fam.labels[i]}="{_escape(v)}"' for i, v in zip(order, values))
            lines.append(f"{fam.name}{{{pairs}}} {go_float(float(n))}")
    return "\n".join(lines) + ("\n" if lines else "")
