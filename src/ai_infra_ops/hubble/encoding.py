"""protojson rules for flows: key order, timestamps, and the byte-exact JSON line.

``hubble observe -o json`` encodes each ``observer.GetFlowsResponse`` with Go ``protojson``
(``UseProtoNames``) and re-encodes it with ``encoding/json`` (``hubble/pkg/printer/printer.go``
``jsonEncoder``; ``api/v1/observer/observer.pb.json.go``). That gives:

- keys in .proto *declaration* order (``FIELD_ORDER`` below, from ``api/v1/flow/flow.proto``
  v1.19), not field-number order;
- zero values omitted (the caller builds dicts without them; ``canonical`` drops them);
- 64-bit integers as JSON strings, 32-bit as numbers; timestamps RFC 3339 UTC with 0/3/6/9
  fractional digits;
- no whitespace, ``<`` ``>`` ``&`` escaped as ``\\u003c`` ``\\u003e`` ``\\u0026`` (and U+2028/U+2029),
  other non-ASCII characters as UTF-8.

Who calls it: ``flow`` (json lines, envelopes), ``reader`` (round trip), ``grpc.convert``.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

FlowDict = dict[str, Any]

# Declaration order of each message's fields (flow.proto v1.19; observer.proto for the envelope).
FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "Flow": (
        "time", "uuid", "emitter", "verdict", "drop_reason", "auth_type", "ethernet", "IP", "l4",
        "tunnel", "source", "destination", "Type", "node_name", "node_labels", "source_names",
        "destination_names", "l7", "reply", "event_type", "source_service", "destination_service",
        "traffic_direction", "policy_match_type", "trace_observation_point", "trace_reason", "file",
        "ip_trace_id", "drop_reason_desc", "is_reply", "debug_capture_point", "interface",
        "proxy_port", "trace_context", "sock_xlate_point", "socket_cookie", "cgroup_id", "Summary",
        "extensions", "egress_allowed_by", "ingress_allowed_by", "egress_denied_by",
        "ingress_denied_by", "policy_log", "aggregate",
    ),
    "Emitter": ("name", "version"),
    "Ethernet": ("source", "destination"),
    "IP": ("source", "source_xlated", "destination", "ipVersion", "encrypted"),
    "Layer4": ("TCP", "UDP", "ICMPv4", "ICMPv6", "SCTP", "VRRP", "IGMP"),
    "TCP": ("source_port", "destination_port", "flags"),
    "TCPFlags": ("FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"),
    "UDP": ("source_port", "destination_port"),
    "SCTP": ("source_port", "destination_port"),
    "ICMP": ("type", "code"),
    "Tunnel": ("protocol", "IP", "l4", "vni"),
    "Endpoint": ("ID", "identity", "cluster_name", "namespace", "labels", "pod_name", "workloads"),
    "Workload": ("name", "kind"),
    "Layer7": ("type", "latency_ns", "dns", "http", "kafka"),
    "HTTP": ("code", "method", "url", "protocol", "headers"),
    "HTTPHeader": ("key", "value"),
    "DNS": ("query", "ips", "ttl", "cnames", "observation_source", "rcode", "qtypes", "rrtypes"),
    "Kafka": ("error_code", "api_version", "api_key", "correlation_id", "topic"),
    "CiliumEventType": ("type", "sub_type"),
    "Service": ("name", "namespace"),
    "NetworkInterface": ("index", "name"),
    "FileInfo": ("name", "line"),
    "IPTraceID": ("trace_id", "ip_option_type"),
    "TraceContext": ("parent",),
    "TraceParent": ("trace_id",),
    "Policy": ("name", "namespace", "labels", "revision", "kind"),
    "GetFlowsResponse": ("flow", "node_status", "lost_events", "node_name", "time"),
}

# Which message type each key of a message holds (only message-typed keys are listed).
_CHILDREN: dict[str, dict[str, str]] = {
    "Flow": {
        "emitter": "Emitter", "ethernet": "Ethernet", "IP": "IP", "l4": "Layer4", "tunnel": "Tunnel",
        "source": "Endpoint", "destination": "Endpoint", "l7": "Layer7", "event_type": "CiliumEventType",
        "source_service": "Service", "destination_service": "Service", "file": "FileInfo",
        "ip_trace_id": "IPTraceID", "interface": "NetworkInterface", "trace_context": "TraceContext",
        "egress_allowed_by": "Policy", "ingress_allowed_by": "Policy", "egress_denied_by": "Policy",
        "ingress_denied_by": "Policy",
    },
    "Layer4": {"TCP": "TCP", "UDP": "UDP", "SCTP": "SCTP", "ICMPv4": "ICMP", "ICMPv6": "ICMP"},
    "TCP": {"flags": "TCPFlags"},
    "Tunnel": {"IP": "IP", "l4": "Layer4"},
    "Endpoint": {"workloads": "Workload"},
    "Layer7": {"dns": "DNS", "http": "HTTP"},
    "HTTP": {"headers": "HTTPHeader"},
    "TraceContext": {"parent": "TraceParent"},
    "GetFlowsResponse": {"flow": "Flow"},
}

# Keys whose zero value still prints: BoolValue wrappers (is_reply) and set sub-messages ({}).
_KEEP_ZERO = {("Flow", "is_reply")}


def _is_zero(value: Any) -> bool:
    return value is None or value is False or value == 0 or value == "" or value == []


def canonical(message: dict[str, Any], kind: str = "Flow") -> dict[str, Any]:
    """Return ``message`` with keys in declaration order and proto3 zero values dropped.

    Unknown keys are kept after the known ones in their original order (forward compatibility
    with fields newer than this table). Sub-messages that are present stay present even when all
    their fields are zero (``"ICMPv4":{}`` for an echo reply), as protojson prints them.
    """
    order = FIELD_ORDER.get(kind, ())
    children = _CHILDREN.get(kind, {})
    out: dict[str, Any] = {}
    keys = [k for k in order if k in message] + [k for k in message if k not in order]
    for key in keys:
        value = message[key]
        if value is None:
            continue
        child = children.get(key)
        if isinstance(value, dict):
            out[key] = canonical(value, child) if child else value
            continue
        if isinstance(value, list) and child:
            value = [canonical(v, child) if isinstance(v, dict) else v for v in value]
        if _is_zero(value) and (kind, key) not in _KEEP_ZERO:
            continue
        out[key] = value
    return out


_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def dumps_go(value: Any) -> str:
    """Compact JSON as Go's ``encoding/json`` (HTML-escaping on) writes it; no trailing newline."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


# ---------------------------------------------------------------------------- timestamps

_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp_ns(text: str) -> int:
    """RFC 3339 (as protojson writes Timestamps) -> nanoseconds since the epoch.

    Raises:
        ValueError: not an RFC 3339 timestamp.
    """
    m = _TS_RE.match(text)
    if not m:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, sec, frac, tz = m.groups()
    tzinfo = timezone.utc
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        from datetime import timedelta

        tzinfo = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(sec), tzinfo=tzinfo)
    nanos = int((frac or "").ljust(9, "0")) if frac else 0
    return int(dt.timestamp()) * 1_000_000_000 + nanos


def format_timestamp(ns: int) -> str:
    """Nanoseconds -> protojson Timestamp text: UTC, ``Z``, 0/3/6/9 fractional digits."""
    secs, nanos = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos == 0:
        return base + "Z"
    if nanos % 1_000_000 == 0:
        return f"{base}.{nanos // 1_000_000:03d}Z"
    if nanos % 1_000 == 0:
        return f"{base}.{nanos // 1_000:06d}Z"
    return f"{base}.{nanos:09d}Z"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_stamp_milli(ns: int) -> str:
    """Go ``time.StampMilli`` (``Jan _2 15:04:05.000``) in UTC; fractions truncated like Go."""
    secs, nanos = divmod(ns, 1_000_000_000)
    dt = datetime.fromtimestamp(secs, tz=timezone.utc)
    return f"{_MONTHS[dt.month - 1]} {dt.day:2d} {dt:%H:%M:%S}.{nanos // 1_000_000:03d}"


def format_rfc3339(ns: int) -> str:
    """Go ``time.RFC3339`` (seconds precision) in UTC."""
    secs = ns // 1_000_000_000
    return datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
