"""``-o json|jsonpb|compact|table|dict`` exactly as ``hubble/pkg/printer/printer.go`` writes them.

- ``json``/``jsonpb``: one GetFlowsResponse per line (``json`` is an alias of ``jsonpb`` unless
  Hubble's legacy-JSON compat option is set; ``observe.go``).
- ``compact``: ``<time>[ [node]]: <src> <srcid> <arrow> <dst> <dstid> <type> <verdict> (<summary>)``.
- ``table``: Go ``text/tabwriter`` (minwidth 2, tabwidth 0, padding 3, ' ') with a header line.
- ``dict``: ``  TIMESTAMP: …`` blocks separated by ``------------``.

Hostnames (``Hostname``): ``ns/pod``, else ``ns/service``, else DNS names joined by ``,``, else the
IP; ``:port`` when the L4 has a non-zero TCP/UDP/SCTP port; IPv6 bracketed (``net.JoinHostPort``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from .encoding import format_rfc3339, format_stamp_milli, parse_timestamp_ns
from .enums import POLICY_MATCH_NAMES, EventType, TraceObservationPoint, drop_reason_text, identity_name
from .flow import flow_to_json_line

OUTPUTS = ("compact", "dict", "json", "jsonpb", "table", "tab")


@dataclass(frozen=True)
class PrintOptions:
    """Formatting flags of ``hubble observe``."""

    output: str = "compact"
    node_name: bool = False  # --print-node-name
    ip_translation: bool = True  # --ip-translation
    time_format: str = "StampMilli"  # --time-format: StampMilli | RFC3339 | RFC3339Nano


def _ports(flow: Mapping[str, Any]) -> tuple[str, str]:
    l4 = flow.get("l4") or {}
    for key in ("TCP", "UDP", "SCTP"):
        if key in l4:
            body = l4[key] or {}
            return str(body.get("source_port", 0)), str(body.get("destination_port", 0))
    return "", ""


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def hostname(ip: str, port: str, ns: str, pod: str, svc: str, names: list[str], translate: bool = True) -> str:
    """printer.go ``Hostname``."""
    host = ip
    if translate:
        if pod:
            host = f"{ns}/{pod}" if ns else pod
        elif svc:
            host = f"{ns}/{svc}" if ns else svc
        elif names:
            host = ",".join(names)
    if port and port != "0":
        return _join_host_port(host, port)
    return host


def host_names(flow: Mapping[str, Any], translate: bool = True) -> tuple[str, str]:
    """printer.go ``GetHostNames``: the SOURCE and DESTINATION columns."""
    ip = flow.get("IP")
    if not ip:
        eth = flow.get("ethernet") or {}
        if eth:
            return eth.get("source", ""), eth.get("destination", "")
        return "", ""
    src, dst = flow.get("source") or {}, flow.get("destination") or {}
    src_ns, dst_ns = src.get("namespace", ""), dst.get("namespace", "")
    src_svc = dst_svc = ""
    if flow.get("source_service"):
        src_ns, src_svc = flow["source_service"].get("namespace", ""), flow["source_service"].get("name", "")
    if flow.get("destination_service"):
        dst_ns, dst_svc = flow["destination_service"].get("namespace", ""), flow["destination_service"].get("name", "")
    sport, dport = _ports(flow)
    return (
        hostname(ip.get("source", ""), sport, src_ns, src.get("pod_name", ""), src_svc,
                 list(flow.get("source_names") or ()), translate),
        hostname(ip.get("destination", ""), dport, dst_ns, dst.get("pod_name", ""), dst_svc,
                 list(flow.get("destination_names") or ()), translate),
    )


def flow_type(flow: Mapping[str, Any]) -> str:
    """printer.go ``GetFlowType``: the TYPE column."""
    l7 = flow.get("l7")
    if l7:
        l7_type = str(l7.get("type", "UNKNOWN_L7_TYPE")).lower()
        proto = "l7"
        if "http" in l7:
            proto = "http"
        elif "dns" in l7:
            proto = "dns"
            l7_type += " " + str((l7.get("dns") or {}).get("observation_source", ""))
        elif "kafka" in l7:
            proto = "kafka"
        return f"{proto}-{l7_type}"
    ev = flow.get("event_type") or {}
    t, sub = int(ev.get("type", 0)), int(ev.get("sub_type", 0))
    if t == EventType.TRACE:
        return TraceObservationPoint.from_sub_type(sub).cli_name if sub in range(0, 14) else str(sub)
    if t == EventType.DROP:
        return drop_reason_text(sub & 0xFF)
    if t == EventType.POLICY_VERDICT:
        match = POLICY_MATCH_NAMES.get(int(flow.get("policy_match_type", 0)), str(flow.get("policy_match_type")))
        return f"policy-verdict:{match} {flow.get('traffic_direction', 'TRAFFIC_DIRECTION_UNKNOWN')}"
    if t == EventType.CAPTURE:
        return str(flow.get("debug_capture_point", "DBG_CAPTURE_POINT_UNKNOWN"))
    if t == EventType.TRACE_SOCK:
        return {
            "SOCK_XLATE_POINT_POST_DIRECTION_FWD": "post-xlate-fwd",
            "SOCK_XLATE_POINT_POST_DIRECTION_REV": "post-xlate-rev",
            "SOCK_XLATE_POINT_PRE_DIRECTION_FWD": "pre-xlate-fwd",
            "SOCK_XLATE_POINT_PRE_DIRECTION_REV": "pre-xlate-rev",
        }.get(str(flow.get("sock_xlate_point", "")), str(flow.get("sock_xlate_point", "SOCK_XLATE_POINT_UNKNOWN")))
    return "UNKNOWN"


def verdict_text(flow: Mapping[str, Any]) -> str:
    """printer.go ``getVerdict``: policy-verdict events say ALLOWED / DENIED / AUDITED."""
    verdict = str(flow.get("verdict", "VERDICT_UNKNOWN"))
    is_pv = int((flow.get("event_type") or {}).get("type", 0)) == EventType.POLICY_VERDICT
    if is_pv:
        return {"FORWARDED": "ALLOWED", "REDIRECTED": "ALLOWED", "DROPPED": "DENIED", "ERROR": "DENIED",
                "AUDIT": "AUDITED"}.get(verdict, verdict)
    return verdict


def summary_text(flow: Mapping[str, Any]) -> str:
    """printer.go ``getSummary``: IP trace id prefix and auth suffix around ``Summary``."""
    out = ""
    trace_id = int(((flow.get("ip_trace_id") or {}).get("trace_id", 0)) or 0)
    if trace_id > 0:
        out += f"IP Trace ID: {trace_id}; "
    out += str(flow.get("Summary", ""))
    auth = flow.get("auth_type")
    if auth and auth != "DISABLED":
        out += f"; {auth}"
    return out


def _time(flow: Mapping[str, Any], fmt: str) -> str:
    text = flow.get("time")
    if not text:
        return "N/A"
    ns = parse_timestamp_ns(str(text))
    if fmt == "RFC3339":
        return format_rfc3339(ns)
    if fmt == "RFC3339Nano":
        return str(text)
    return format_stamp_milli(ns)


def compact_line(flow: Mapping[str, Any], opts: PrintOptions = PrintOptions()) -> str:
    """One compact line (with ``\\n``)."""
    src, dst = host_names(flow, opts.ip_translation)
    src_id = identity_name(int((flow.get("source") or {}).get("identity", 0)))
    dst_id = identity_name(int((flow.get("destination") or {}).get("identity", 0)))
    node = f" [{flow.get('node_name', '')}]" if opts.node_name else ""
    arrow = "->"
    if "is_reply" not in flow:
        arrow = "<>"
    elif flow["is_reply"]:
        src, dst, src_id, dst_id, arrow = dst, src, dst_id, src_id, "<-"
    return (f"{_time(flow, opts.time_format)}{node}: {src} {src_id} {arrow} {dst} {dst_id} "
            f"{flow_type(flow)} {verdict_text(flow)} ({summary_text(flow)})\n")


def dict_block(flow: Mapping[str, Any], first: bool, opts: PrintOptions = PrintOptions()) -> str:
    src, dst = host_names(flow, opts.ip_translation)
    lines = [] if first else ["------------"]
    lines.append(f"  TIMESTAMP: {_time(flow, opts.time_format)}")
    if opts.node_name:
        lines.append(f"       NODE: {flow.get('node_name', '')}")
    lines += [f"     SOURCE: {src}", f"DESTINATION: {dst}", f"       TYPE: {flow_type(flow)}",
              f"    VERDICT: {verdict_text(flow)}", f"    SUMMARY: {summary_text(flow)}"]
    return "\n".join(lines) + "\n"


def tabwrite(rows: list[list[str]], minwidth: int = 2, padding: int = 3) -> str:
    """Go ``text/tabwriter`` for cells that are tab-terminated except the last of each row."""
    widths: list[int] = []
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            w = max(minwidth, len(cell) + padding)
            if i == len(widths):
                widths.append(w)
            else:
                widths[i] = max(widths[i], w)
    out = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        out.append("".join(cells) + row[-1] + "\n")
    return "".join(out)


def table_text(flows: Iterable[Mapping[str, Any]], opts: PrintOptions = PrintOptions()) -> str:
    header = ["TIMESTAMP"] + (["NODE"] if opts.node_name else []) + ["SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"]
    rows = [header]
    for flow in flows:
        src, dst = host_names(flow, opts.ip_translation)
        rows.append([_time(flow, opts.time_format)] + ([str(flow.get("node_name", ""))] if opts.node_name else [])
                    + [src, dst, flow_type(flow), verdict_text(flow), summary_text(flow)])
    return tabwrite(rows) if len(rows) > 1 else ""


def print_flows(flows: Iterable[Mapping[str, Any]], out: IO[str], opts: PrintOptions | str = "compact") -> int:
    """Write ``flows`` to ``out`` in the chosen format; returns the number written.

    Raises:
        ValueError: unknown output format (the CLI validates it first).
    """
    o = PrintOptions(output=opts) if isinstance(opts, str) else opts
    count = 0
    if o.output in ("table", "tab"):
        items = list(flows)
        out.write(table_text(items, o))
        return len(items)
    for flow in flows:
        if o.output in ("json", "jsonpb"):
            out.write(flow_to_json_line(flow))
        elif o.output == "compact":
            out.write(compact_line(flow, o))
        elif o.output == "dict":
            out.write(dict_block(flow, count == 0, o))
        else:
            raise ValueError(f"invalid output format: {o.output}")
        count += 1
    return count
