"""The flow model's public face: JSON lines, envelopes and the store's index columns.

A flow is a plain dict in proto declaration order, exactly the ``flow`` member of the
``GetFlowsResponse`` that ``hubble observe -o json`` prints. ``FlowBuilder`` (``builder.py``) makes
them; ``reader.py`` reads real ones; this module writes them and extracts the columns the twin's
SQLite ``flows`` table indexes (``docs/contracts.md``, "Flows table").
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .builder import FlowBuilder, Peer, PolicyOutcome, endpoint_dict
from .encoding import FlowDict, canonical, dumps_go, format_timestamp, parse_timestamp_ns

__all__ = [
    "FlowBuilder",
    "FlowDict",
    "Peer",
    "PolicyOutcome",
    "endpoint_dict",
    "envelope",
    "flow_protocol",
    "flow_time_ns",
    "flow_to_json",
    "flow_to_json_line",
    "index_columns",
    "l7_kind",
]


def envelope(flow: Mapping[str, Any]) -> dict[str, Any]:
    """``{"flow": ..., "node_name": ..., "time": ...}`` as GetFlowsResponse prints it."""
    env: dict[str, Any] = {"flow": flow}
    if flow.get("node_name"):
        env["node_name"] = flow["node_name"]
    if flow.get("time"):
        env["time"] = flow["time"]
    return env


def flow_to_json_line(flow: Mapping[str, Any]) -> str:
    """One ``hubble observe -o json`` line (envelope, compact, Go escaping) with ``\\n``."""
    return dumps_go(envelope(flow)) + "\n"


def flow_to_json(flow: Mapping[str, Any]) -> str:
    """The bare flow object as compact Go-escaped JSON (what the store's ``json`` column holds)."""
    return dumps_go(flow)


def flow_time_ns(flow: Mapping[str, Any]) -> int:
    """The flow's ``time`` in nanoseconds since the epoch (0 when absent)."""
    text = flow.get("time")
    return parse_timestamp_ns(text) if isinstance(text, str) and text else 0


_L4_KEYS = ("TCP", "UDP", "ICMPv4", "ICMPv6", "SCTP", "VRRP", "IGMP")


def flow_protocol(flow: Mapping[str, Any]) -> str:
    """The L4 protocol key of the flow (``TCP``/``UDP``/``ICMPv4``/...), '' when none."""
    l4 = flow.get("l4") or {}
    for key in _L4_KEYS:
        if key in l4:
            return key
    return ""


def l7_kind(flow: Mapping[str, Any]) -> str:
    """``http`` / ``dns`` / ``kafka`` for L7 records, '' otherwise."""
    l7 = flow.get("l7") or {}
    for key in ("http", "dns", "kafka"):
        if key in l7:
            return key
    return ""


def _ports(flow: Mapping[str, Any]) -> tuple[int | None, int | None]:
    l4 = flow.get("l4") or {}
    for key in ("TCP", "UDP", "SCTP"):
        if key in l4:
            body = l4[key] or {}
            return int(body.get("source_port", 0)), int(body.get("destination_port", 0))
    return None, None


def index_columns(flow: Mapping[str, Any]) -> dict[str, Any]:
    """The ``flows`` table columns for one flow (all but ``id`` and ``probe``), incl. ``json``.

    Column semantics match what ``filters.compile_sql`` pushes down: ``src_namespace`` etc. are ''
    when the side has none (never NULL), ports NULL for port-less protocols, ``http_code`` 0 on
    requests.
    """
    src = flow.get("source") or {}
    dst = flow.get("destination") or {}
    ip = flow.get("IP") or {}
    l7 = flow.get("l7") or {}
    http = l7.get("http") or {}
    sport, dport = _ports(flow)
    ev = flow.get("event_type") or {}
    time_ns = flow_time_ns(flow)
    return {
        "time_ns": time_ns,
        "time": flow.get("time") or format_timestamp(time_ns),
        "node_name": flow.get("node_name", ""),
        "verdict": flow.get("verdict", "VERDICT_UNKNOWN"),
        "drop_reason_desc": flow.get("drop_reason_desc", ""),
        "type": flow.get("Type", "UNKNOWN_TYPE"),
        "event_type": int(ev.get("type", 0)),
        "traffic_direction": flow.get("traffic_direction", "TRAFFIC_DIRECTION_UNKNOWN"),
        "src_namespace": src.get("namespace", ""),
        "src_pod": src.get("pod_name", ""),
        "dst_namespace": dst.get("namespace", ""),
        "dst_pod": dst.get("pod_name", ""),
        "src_ip": ip.get("source", ""),
        "dst_ip": ip.get("destination", ""),
        "src_identity": int(src.get("identity", 0)),
        "dst_identity": int(dst.get("identity", 0)),
        "protocol": flow_protocol(flow),
        "src_port": sport,
        "dst_port": dport,
        "l7_type": l7_kind(flow),
        "http_code": int(http.get("code", 0)),
        "http_method": http.get("method", ""),
        "json": flow_to_json(flow),
    }


def normalize(flow: Mapping[str, Any]) -> FlowDict:
    """Any flow dict (e.g. converted from protobuf) in declaration order without zero values."""
    return canonical(dict(flow), "Flow")
