"""The service map of a run: who talks to whom, from Hubble flows (what the Hubble UI draws).

Nodes are workloads (``namespace/workload`` from the flow endpoint's ``workloads`` or pod name),
reserved identities (``host``, ``remote-node``, ``kube-apiserver``) and the world (by DNS name
when Hubble knows it, else by IP). Edges aggregate flows per (source, destination, port/proto):
counts per verdict; an edge with any drop is a drop edge (drawn red). Also the flat rows of the
report's flow table. Pure functions; the page renders them (``report.html``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def _workload(ep: Mapping[str, Any]) -> str:
    wl = ep.get("workloads") or []
    if wl:
        return str(wl[0].get("name", ""))
    return str(ep.get("pod_name", ""))


def endpoint_name(flow: Mapping[str, Any], side: str) -> tuple[str, str]:
    """(node id, group) of the flow's ``source`` or ``destination`` endpoint."""
    ep = flow.get(side) or {}
    ns = ep.get("namespace")
    if ns:
        return f"{ns}/{_workload(ep) or '?'}", ns
    labels = [str(x) for x in ep.get("labels") or []]
    reserved = sorted(x.split(":", 1)[1] for x in labels if x.startswith("reserved:"))
    ip = str(((flow.get("IP") or {}).get("source" if side == "source" else "destination")) or "")
    if "world" in reserved or not reserved:
        names = flow.get("destination_names" if side == "destination" else "source_names") or []
        return (f"world:{names[0]}" if names else f"world:{ip or '?'}"), "world"
    if "host" in reserved or "remote-node" in reserved:
        node = str(flow.get("node_name", "")).split("/")[-1]
        return (f"{reserved[0]}:{node}" if "host" in reserved and node else reserved[0]), "reserved"
    return reserved[0], "reserved"


def _port(flow: Mapping[str, Any]) -> str:
    l4 = flow.get("l4") or {}
    for proto, body in l4.items():
        if isinstance(body, Mapping) and "destination_port" in body:
            return f"{body['destination_port']}/{proto}"
        if str(proto).startswith("ICMP"):
            return str(proto)
    return ""


def service_map(flows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"nodes": [{id, group}], "edges": [{source, target, port, counts, dropped}]}`` sorted."""
    nodes: dict[str, str] = {}
    edges: dict[tuple[str, str, str], dict[str, int]] = {}
    for f in flows:
        if (f.get("Type") or "L3_L4") not in ("L3_L4", "L7"):
            continue
        if f.get("is_reply") is True:
            continue
        s, sg = endpoint_name(f, "source")
        d, dg = endpoint_name(f, "destination")
        nodes.setdefault(s, sg)
        nodes.setdefault(d, dg)
        key = (s, d, _port(f))
        counts = edges.setdefault(key, {})
        v = str(f.get("verdict", "UNKNOWN"))
        counts[v] = counts.get(v, 0) + 1
    return {
        "nodes": [{"id": n, "group": g} for n, g in sorted(nodes.items())],
        "edges": [{"source": s, "target": d, "port": p, "counts": dict(sorted(c.items())),
                   "dropped": c.get("DROPPED", 0) > 0}
                  for (s, d, p), c in sorted(edges.items())],
    }


def flow_rows(flows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per flow for the table: time, verdict, drop reason, source, destination, port,
    type, summary, node, uuid."""
    rows = []
    for f in flows:
        s, _ = endpoint_name(f, "source")
        d, _ = endpoint_name(f, "destination")
        ip = f.get("IP") or {}
        rows.append({
            "time": str(f.get("time", "")), "verdict": str(f.get("verdict", "")),
            "drop": str(f.get("drop_reason_desc", "") or ""), "src": s, "src_ip": str(ip.get("source", "")),
            "dst": d, "dst_ip": str(ip.get("destination", "")), "port": _port(f),
            "type": str(f.get("Type", "")), "direction": str(f.get("traffic_direction", "")),
            "summary": str(f.get("Summary", "")), "node": str(f.get("node_name", "")),
            "uuid": str(f.get("uuid", "")),
        })
    return rows
