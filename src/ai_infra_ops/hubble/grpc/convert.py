"""Flow dicts <-> protobuf messages, keeping ``hubble observe -o json``'s JSON exactly.

``json_format.ParseDict`` reads our dicts (proto field names, enum names, 64-bit integers as
strings, RFC 3339 timestamps). ``json_format.MessageToDict(preserving_proto_field_name=True)`` gives
the same zero-value rules as Go's protojson (unset and zero scalars omitted, set sub-messages kept
even when empty, ``BoolValue`` as a bare boolean, uint64 as strings) but orders keys by field
*number*; ``encoding.canonical`` restores declaration order, so the round trip is byte-exact.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from ..encoding import canonical
from ..flowfilter import FilterSet, FlowFilter
from .gen import flow_pb2, observer_pb2


def flow_to_proto(flow: Mapping[str, Any]) -> flow_pb2.Flow:
    """A flow dict as a ``flow.Flow`` message (fields unknown to our .proto are skipped)."""
    return json_format.ParseDict(dict(flow), flow_pb2.Flow(), ignore_unknown_fields=True)


def flow_from_proto(msg: flow_pb2.Flow) -> dict[str, Any]:
    """A ``flow.Flow`` message as the dict ``hubble observe -o json`` prints (declaration order)."""
    raw = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    return canonical(raw, "Flow")


def filter_to_proto(flt: FlowFilter) -> flow_pb2.FlowFilter:
    return json_format.ParseDict(flt.to_dict(), flow_pb2.FlowFilter())


def filter_from_proto(msg: flow_pb2.FlowFilter) -> FlowFilter:
    """Raises ValueError for filter fields this toolkit does not evaluate (e.g. workloads)."""
    return FlowFilter.from_dict(json_format.MessageToDict(msg, preserving_proto_field_name=True))


def request_to_proto(fs: FilterSet, number: int | None, first: bool = False) -> observer_pb2.GetFlowsRequest:
    """A ``GetFlowsRequest`` for a filter set (``number=None`` = all, as ``--all`` sends 2^64-1)."""
    req = observer_pb2.GetFlowsRequest(
        number=(2**64 - 1) if number is None else number,
        first=first,
        whitelist=[filter_to_proto(f) for f in fs.whitelist],
        blacklist=[filter_to_proto(f) for f in fs.blacklist],
    )
    if fs.since_ns is not None:
        req.since.FromNanoseconds(fs.since_ns)
    if fs.until_ns is not None:
        req.until.FromNanoseconds(fs.until_ns)
    return req


def request_from_proto(req: observer_pb2.GetFlowsRequest) -> tuple[FilterSet, int | None, bool]:
    """(filters, number or None for all, first) of a ``GetFlowsRequest``.

    Raises:
        ValueError: a filter field this toolkit does not evaluate.
    """
    fs = FilterSet(
        tuple(filter_from_proto(f) for f in req.whitelist),
        tuple(filter_from_proto(f) for f in req.blacklist),
        req.since.ToNanoseconds() if req.HasField("since") else None,
        req.until.ToNanoseconds() if req.HasField("until") else None,
    )
    number = None if req.number == 0 or req.number >= 2**63 else int(req.number)
    return fs, number, bool(req.first)
