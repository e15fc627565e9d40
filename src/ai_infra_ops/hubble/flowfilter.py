"""``flow.FlowFilter`` and a request's filter set (whitelist, blacklist, since/until).

Field names are ``flow.proto``'s ``FlowFilter`` names, so a ``FlowFilter`` converts losslessly to
the JSON a ``GetFlowsRequest`` carries (``to_dict``/``from_dict``) and to the protobuf message
(``grpc/convert.py``). Semantics (``pkg/hubble/filters/filters.go``): inside one filter all set
fields must match, inside one field any value may match; a flow passes a set when it matches any
whitelist filter (or the whitelist is empty) and no blacklist filter.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class EventTypeFilter:
    """``flow.EventTypeFilter``: ``type``; ``sub_type`` only compared when ``match_sub_type``."""

    type: int
    match_sub_type: bool = False
    sub_type: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.match_sub_type:
            out["match_sub_type"] = True
            out["sub_type"] = self.sub_type
        return out


@dataclass(frozen=True)
class FlowFilter:
    """One ``flow.FlowFilter`` (the subset of fields this toolkit evaluates)."""

    uuid: tuple[str, ...] = ()
    source_ip: tuple[str, ...] = ()
    source_pod: tuple[str, ...] = ()
    source_fqdn: tuple[str, ...] = ()
    source_label: tuple[str, ...] = ()
    source_service: tuple[str, ...] = ()
    source_identity: tuple[int, ...] = ()
    source_port: tuple[str, ...] = ()
    destination_ip: tuple[str, ...] = ()
    destination_pod: tuple[str, ...] = ()
    destination_fqdn: tuple[str, ...] = ()
    destination_label: tuple[str, ...] = ()
    destination_service: tuple[str, ...] = ()
    destination_identity: tuple[int, ...] = ()
    destination_port: tuple[str, ...] = ()
    traffic_direction: tuple[str, ...] = ()
    verdict: tuple[str, ...] = ()
    drop_reason_desc: tuple[str, ...] = ()
    event_type: tuple[EventTypeFilter, ...] = ()
    http_status_code: tuple[str, ...] = ()
    protocol: tuple[str, ...] = ()
    http_method: tuple[str, ...] = ()
    http_path: tuple[str, ...] = ()
    http_url: tuple[str, ...] = ()
    node_name: tuple[str, ...] = ()
    tcp_flags: tuple[tuple[str, ...], ...] = ()
    reply: tuple[bool, ...] = ()

    def add(self, name: str, value: Any) -> FlowFilter:
        """A copy with ``value`` appended to field ``name``."""
        return replace(self, **{name: getattr(self, name) + (value,)})

    def set_fields(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]

    @property
    def empty(self) -> bool:
        return not self.set_fields()

    def to_dict(self) -> dict[str, Any]:
        """protojson form (``{"source_pod":["demo/"],"verdict":["DROPPED"]}``)."""
        out: dict[str, Any] = {}
        for name in self.set_fields():
            value = getattr(self, name)
            if name == "event_type":
                out[name] = [e.to_dict() for e in value]
            elif name == "tcp_flags":
                out[name] = [{flag: True for flag in flags} for flags in value]
            else:
                out[name] = list(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlowFilter:
        """Inverse of ``to_dict`` (also accepts a single value instead of a list).

        Raises:
            ValueError: unknown field name.
        """
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for name, raw in data.items():
            if name not in known:
                raise ValueError(f"unknown FlowFilter field {name!r}")
            values = list(raw) if isinstance(raw, (list, tuple)) else [raw]
            if name == "event_type":
                kwargs[name] = tuple(
                    EventTypeFilter(int(v.get("type", 0)), bool(v.get("match_sub_type", False)), int(v.get("sub_type", 0)))
                    for v in values
                )
            elif name == "tcp_flags":
                kwargs[name] = tuple(tuple(k for k, on in v.items() if on) for v in values)
            elif name in ("source_identity", "destination_identity"):
                kwargs[name] = tuple(int(v) for v in values)
            elif name == "reply":
                kwargs[name] = tuple(bool(v) for v in values)
            else:
                kwargs[name] = tuple(str(v) for v in values)
        return cls(**kwargs)


@dataclass(frozen=True)
class FilterSet:
    """What one ``observe`` asks for: whitelist OR-ed, blacklist OR-ed then negated, time window."""

    whitelist: tuple[FlowFilter, ...] = ()
    blacklist: tuple[FlowFilter, ...] = ()
    since_ns: int | None = None
    until_ns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.whitelist:
            out["whitelist"] = [f.to_dict() for f in self.whitelist]
        if self.blacklist:
            out["blacklist"] = [f.to_dict() for f in self.blacklist]
        return out

    @classmethod
    def from_lists(cls, whitelist: Sequence[Mapping[str, Any]] = (), blacklist: Sequence[Mapping[str, Any]] = (),
                   since_ns: int | None = None, until_ns: int | None = None) -> FilterSet:
        return cls(tuple(FlowFilter.from_dict(f) for f in whitelist), tuple(FlowFilter.from_dict(f) for f in blacklist),
                   since_ns, until_ns)


@dataclass
class ObserveSelection:
    """How many flows and which end: ``--last N`` (default 20), ``--first N``, ``--all``."""

    number: int | None = 20
    first: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
