"""SQL pushdown of a ``FilterSet`` over the twin's ``flows`` table (``docs/contracts.md``).

``compile_sql(filters)`` returns ``(where_sql, params, residual)``: ``where_sql`` selects a superset
of the matching rows using the indexed columns that ``flow.index_columns`` fills; ``residual`` is
None when that superset is exact, else the full Python predicate (``match.compile_set``) to apply
to the decoded rows. Use it like this::

    where, params, residual = compile_sql(fs)
    rows = store.query_flows(where, params, order="DESC", limit=None if residual else n)
    flows = [f for _, f in rows if residual is None or residual(f)][:n]

Per field, only conditions that are exactly equivalent to Hubble's semantics are marked exact;
anything else (CIDRs, labels, FQDN patterns, regexes, sub-types) becomes residual.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import Location, UserInputError
from .flowfilter import FilterSet, FlowFilter
from .match import Predicate, compile_set, parse_pod_filter

_L4_COLUMN_VALUES = {
    "tcp": ("TCP",), "udp": ("UDP",), "sctp": ("SCTP",), "vrrp": ("VRRP",), "igmp": ("IGMP",),
    "icmp": ("ICMPv4", "ICMPv6"), "icmpv4": ("ICMPv4",), "icmpv6": ("ICMPv6",),
}


def _in(column: str, values: list[Any], params: list[Any]) -> str:
    params.extend(values)
    return f"{column} IN ({','.join('?' * len(values))})"


def _pod_sql(values: tuple[str, ...], ns_col: str, pod_col: str, field: str, params: list[Any]) -> str:
    alts = []
    for v in values:
        ns, prefix = parse_pod_filter(v, field)
        parts = [f"{ns_col} = ?"]
        params.append(ns)  # "" (for "/prefix") only matches with a non-empty prefix, as upstream
        if prefix:
            parts.append(f"substr({pod_col}, 1, {len(prefix)}) = ?")
            params.append(prefix)
        alts.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alts) + ")"


def _ip_sql(values: tuple[str, ...], column: str, params: list[Any]) -> tuple[str | None, bool]:
    if any("/" in v for v in values):
        return None, False
    try:
        canon = [str(ipaddress.ip_address(v)) for v in values]
    except ValueError:
        return None, False  # compile_set reports the bad value
    return _in(column, canon, params), True


def _filter_sql(f: FlowFilter, params: list[Any]) -> tuple[str, bool]:
    """SQL for one FlowFilter (AND of its pushable fields) and whether it is exact."""
    conds: list[str] = []
    exact = True
    handled: set[str] = set()

    def done(name: str) -> None:
        handled.add(name)

    if f.verdict:
        conds.append(_in("verdict", list(f.verdict), params))
        done("verdict")
    if f.drop_reason_desc:
        vals = ["" if v == "DROP_REASON_UNKNOWN" else v for v in f.drop_reason_desc]
        conds.append(_in("drop_reason_desc", vals, params))
        done("drop_reason_desc")
    if f.traffic_direction:
        conds.append(_in("traffic_direction", [d.upper() for d in f.traffic_direction], params))
        done("traffic_direction")
    if f.source_pod:
        conds.append(_pod_sql(f.source_pod, "src_namespace", "src_pod", "source_pod", params))
        done("source_pod")
    if f.destination_pod:
        conds.append(_pod_sql(f.destination_pod, "dst_namespace", "dst_pod", "destination_pod", params))
        done("destination_pod")
    if f.source_identity:
        conds.append(_in("src_identity", list(f.source_identity), params))
        done("source_identity")
    if f.destination_identity:
        conds.append(_in("dst_identity", list(f.destination_identity), params))
        done("destination_identity")
    for name, column in (("source_ip", "src_ip"), ("destination_ip", "dst_ip")):
        values = getattr(f, name)
        if values:
            sql, ok = _ip_sql(values, column, params)
            if sql:
                conds.append(sql)
            if ok:
                done(name)
    for name, column in (("source_port", "src_port"), ("destination_port", "dst_port")):
        values = getattr(f, name)
        if values and all(v.isdigit() and int(v) <= 65535 for v in values):
            conds.append(_in(column, [int(v) for v in values], params))
            done(name)
    if f.protocol and all(p.lower() in _L4_COLUMN_VALUES or p.lower() in ("http", "dns", "kafka") for p in f.protocol):
        alts = []
        l4 = sorted({c for p in f.protocol for c in _L4_COLUMN_VALUES.get(p.lower(), ())})
        l7 = sorted({p.lower() for p in f.protocol if p.lower() in ("http", "dns", "kafka")})
        if l4:
            alts.append(_in("protocol", l4, params))
        if l7:
            alts.append(_in("l7_type", l7, params))
        conds.append("(" + " OR ".join(alts) + ")")
        done("protocol")
    if f.event_type:
        types = sorted({e.type for e in f.event_type})
        conds.append(_in("event_type", types, params))
        if not any(e.match_sub_type for e in f.event_type):
            done("event_type")
    if f.http_status_code:
        full = [int(v) for v in f.http_status_code if len(v) == 3 and v.isdigit() and v[0] in "12345"]
        if len(full) == len(f.http_status_code):
            conds.append(_in("http_code", full, params))
            done("http_status_code")
        else:
            conds.append("http_code > 0")
    if f.http_method:
        conds.append(_in("lower(http_method)", sorted({m.lower() for m in f.http_method}), params))
        done("http_method")
    if any(name not in handled for name in f.set_fields()):
        exact = False
    return ("(" + " AND ".join(conds) + ")" if conds else "1"), exact


def filter_set_from_dict(data: Mapping[str, Any]) -> FilterSet:
    """``{"whitelist": [...], "blacklist": [...], "since_ns": n, "until_ns": n}`` -> FilterSet
    (the form ``backend.FlowQuery.filters`` carries).

    Raises:
        UserInputError: an unknown FlowFilter field.
    """
    try:
        return FilterSet.from_lists(data.get("whitelist", ()), data.get("blacklist", ()),
                                    data.get("since_ns"), data.get("until_ns"))
    except ValueError as exc:
        raise UserInputError(str(exc), Location(field="filters")) from None


def select_flows(
    query_flows: Callable[..., Iterable[tuple[int, dict[str, Any]]]],
    filters: FilterSet | Mapping[str, Any],
    number: int | None = 20,
    *,
    first: bool = False,
) -> list[dict[str, Any]]:
    """Run a filtered observe against ``Store.query_flows(where_sql, params, *, order, limit)``.

    Returns the flows oldest first, as ``hubble observe`` prints them: the last ``number`` matches
    (or the first ones with ``first``; all of them with ``number=None``).
    """
    where, params, residual = compile_sql(filters)
    order = "ASC" if first or number is None else "DESC"
    rows = query_flows(where, params, order=order, limit=number if residual is None else None)
    out: list[dict[str, Any]] = []
    for _, flow in rows:
        if residual is not None and not residual(flow):
            continue
        out.append(flow)
        if number is not None and len(out) >= number:
            break
    if order == "DESC":
        out.reverse()
    return out


def compile_sql(
    filters: FilterSet | Mapping[str, Any],
    *,
    since_ns: int | None = None,
    until_ns: int | None = None,
) -> tuple[str, list[Any], Predicate | None]:
    """``(where_sql, params, residual_predicate)`` for the contract's ``flows`` table.

    ``filters`` is a ``FilterSet`` or its dict form (``{"whitelist": [...], "blacklist": [...]}``,
    FlowFilter dicts as ``GetFlowsRequest`` JSON has them). ``since_ns``/``until_ns`` override the
    set's window. Bad values raise ``UserInputError`` here, before any query runs.
    """
    fs = filters if isinstance(filters, FilterSet) else filter_set_from_dict(filters)
    if since_ns is not None or until_ns is not None:
        fs = FilterSet(fs.whitelist, fs.blacklist, since_ns if since_ns is not None else fs.since_ns,
                       until_ns if until_ns is not None else fs.until_ns)
    full_predicate = compile_set(fs)  # validates every value (raises UserInputError)
    params: list[Any] = []
    clauses: list[str] = []
    exact = True
    if fs.since_ns is not None:
        clauses.append("time_ns >= ?")
        params.append(fs.since_ns)
    if fs.until_ns is not None:
        clauses.append("time_ns <= ?")
        params.append(fs.until_ns)
    if fs.whitelist:
        alts = []
        for f in fs.whitelist:
            sql, ok = _filter_sql(f, params)
            alts.append(sql)
            exact = exact and ok
        if "1" not in alts:
            clauses.append("(" + " OR ".join(alts) + ")")
    for f in fs.blacklist:
        local: list[Any] = []
        sql, ok = _filter_sql(f, local)
        if ok and sql != "1":
            clauses.append(f"NOT COALESCE({sql}, 0)")
            params.extend(local)
        else:
            exact = False
    where = " AND ".join(clauses) if clauses else "1"
    return where, params, None if exact else full_predicate
