"""``hubble observe`` flags -> ``FilterSet`` (``hubble/cmd/observe/flows_filter.go``), and applying it.

Flags are recorded in command-line order (``--not`` sends the *next* flag to the blacklist).
Symmetric flags (``--pod``, ``--ip``, ``--label``, ``--fqdn``, ``--identity``, ``--port``) fill a
"left" filter on the source field and a "right" one on the destination field; all other flags go
to both; namespace flags are folded into the pod fields at the end (``--namespace demo`` ⇒
``source_pod ["demo/"]`` | ``destination_pod ["demo/"]``). Conflicting flags fail as Hubble fails:
``filters --a and --b cannot be combined``. Every value is checked when the set is built
(``match.compile_set``), so bad input is a ``UserInputError`` before any flow is read.
"""
from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from ..errors import Location, UserInputError
from .enums import RESERVED_IDENTITY_IDS, DropReason, EventType, TraceObservationPoint, Verdict
from .flowfilter import EventTypeFilter, FilterSet, FlowFilter
from .match import Predicate, compile_set
from .sql import compile_sql

__all__ = [
    "FILTER_FLAGS",
    "FilterSet",
    "FlowFilter",
    "ObserveRequest",
    "add_filter_arguments",
    "apply_filters",
    "build_filter_set",
    "compile_sql",
    "parse_observe_args",
    "parse_time",
]

# flag -> help. Symmetric flags are in _SYMMETRIC; their from-/to- forms hit one side only.
FILTER_FLAGS: dict[str, str] = {
    "verdict": "only flows with this verdict (FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED)",
    "drop-reason-desc": "only drops with this reason (e.g. POLICY_DENIED, POLICY_DENY)",
    "namespace": "flows from or to pods in this namespace", "from-namespace": "flows from this namespace",
    "to-namespace": "flows to this namespace",
    "pod": "flows from or to pods with this [namespace/]name prefix (no namespace = default)",
    "from-pod": "flows from this [namespace/]pod prefix", "to-pod": "flows to this [namespace/]pod prefix",
    "label": "flows from or to endpoints matching this label selector (k8s:app=x, reserved:world)",
    "from-label": "flows from endpoints matching this selector", "to-label": "flows to endpoints matching this selector",
    "ip": "flows from or to this IP or CIDR", "from-ip": "flows from this IP/CIDR", "to-ip": "flows to this IP/CIDR",
    "fqdn": "flows from or to this DNS name (* wildcards)", "from-fqdn": "flows from this FQDN", "to-fqdn": "flows to this FQDN",
    "identity": "flows from or to this security identity (number or reserved name)",
    "from-identity": "flows from this identity", "to-identity": "flows to this identity",
    "port": "flows from or to this L4 port", "from-port": "flows from this port", "to-port": "flows to this port",
    "protocol": "L4/L7 protocol: tcp, udp, sctp, icmp, icmpv4, icmpv6, http, dns, kafka",
    "type": "event type: drop, trace[:to-endpoint...], policy-verdict, l7, capture, trace-sock, or numbers",
    "http-status": "HTTP status code (404) or prefix (4+, 40+)", "http-method": "HTTP method",
    "http-path": "regular expression on the HTTP path", "http-url": "regular expression on the full URL",
    "traffic-direction": "ingress or egress", "node-name": "node name pattern ([cluster/]node, * wildcards)",
    "uuid": "flow UUID", "tcp-flags": "all of these comma-separated TCP flags set (syn,ack)",
}
_SYMMETRIC = {"pod": "pod", "ip": "ip", "label": "label", "fqdn": "fqdn", "identity": "identity", "port": "port"}
_CONFLICTS: tuple[tuple[str, ...], ...] = (
    ("from-fqdn", "from-ip", "ip", "fqdn", "from-namespace", "namespace", "from-all-namespaces", "all-namespaces"),
    ("from-fqdn", "from-ip", "ip", "fqdn", "from-pod", "pod"),
    ("to-fqdn", "to-ip", "ip", "fqdn", "to-namespace", "namespace", "to-all-namespaces", "all-namespaces"),
    ("to-fqdn", "to-ip", "ip", "fqdn", "to-pod", "pod"),
    ("to-pod", "namespace", "all-namespaces"), ("from-pod", "namespace", "all-namespaces"),
    ("label", "from-label"), ("label", "to-label"), ("port", "to-port"), ("port", "from-port"),
    ("identity", "to-identity"), ("identity", "from-identity"),
)
_FIELD = {"pod": "pod", "ip": "ip", "label": "label", "fqdn": "fqdn", "identity": "identity", "port": "port"}


def _err(flag: str, message: str) -> UserInputError:
    return UserInputError(message, Location(field=f"--{flag}"))


@dataclass
class _Tracker:
    """One side (whitelist or blacklist) while flags are applied (flows_filter.go filterTracker)."""

    left: FlowFilter | None = None
    right: FlowFilter | None = None
    ns: list[str] = field(default_factory=list)
    src_ns: list[str] = field(default_factory=list)
    dst_ns: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def add(self, side: str, name: str, value: Any) -> None:
        if side in ("left", "both"):
            self.left = (self.left or FlowFilter()).add(name, value)
        if side in ("right", "both"):
            self.right = (self.right or FlowFilter()).add(name, value)

    def flow_filters(self) -> tuple[FlowFilter, ...]:
        if self.left is None and self.right is None and not (self.ns or self.src_ns or self.dst_ns):
            return ()
        left, right = self.left or FlowFilter(), self.right or FlowFilter()
        if self.dst_ns:
            left, right = _apply_ns(left, self.dst_ns, "destination"), _apply_ns(right, self.dst_ns, "destination")
        if self.src_ns:
            left, right = _apply_ns(left, self.src_ns, "source"), _apply_ns(right, self.src_ns, "source")
        if self.ns:
            left, right = _apply_ns(left, self.ns, "source"), _apply_ns(right, self.ns, "destination")
        return (left,) if left == right else (left, right)


def _apply_ns(f: FlowFilter, namespaces: list[str], side: str) -> FlowFilter:
    pods = getattr(f, f"{side}_pod") or ("",)
    out: list[str] = []
    for pod in pods:
        if "/" in pod:
            out.append(pod)
        else:
            out.extend(f"{ns}/{pod}" for ns in namespaces)
    changes: dict[str, Any] = {f"{side}_pod": tuple(out)}
    return replace(f, **changes)


def _identity(flag: str, value: str) -> int:
    if value.isdigit():
        return int(value)
    if value in RESERVED_IDENTITY_IDS:
        return RESERVED_IDENTITY_IDS[value]
    names = ", ".join(sorted(RESERVED_IDENTITY_IDS))
    raise _err(flag, f"invalid security identity {value!r}, expected one of [{names}] or a numeric value")


def _event_type(value: str) -> EventTypeFilter:
    name, _, sub = value.partition(":")
    et = EventType.from_cli_name(name)
    if et is None:
        if not name.isdigit():
            raise _err("type", f"unable to parse type {name!r}, not a known type name "
                               f"({', '.join(e.cli_name for e in EventType)}) and not a number")
        type_num = int(name)
    else:
        type_num = int(et)
    if not sub:
        return EventTypeFilter(type_num)
    if type_num == EventType.TRACE:
        for point in TraceObservationPoint:
            if point.cli_name == sub and point is not TraceObservationPoint.UNKNOWN_POINT:
                return EventTypeFilter(type_num, True, point.sub_type)
    if not sub.isdigit():
        raise _err("type", f"unable to parse event sub-type {sub!r}, not a known sub-type name and not a number")
    return EventTypeFilter(type_num, True, int(sub))


def _set(t: _Tracker, name: str, val: str) -> None:
    if name not in t.changed:
        t.changed.append(name)
    for group in _CONFLICTS:
        if name in group:
            for other in group:
                if other != name and other in t.changed:
                    raise _err(name, f"filters --{name} and --{other} cannot be combined")
    base = name.split("-", 1)[1] if name.startswith(("from-", "to-")) else name
    if name in ("namespace", "from-namespace", "to-namespace"):
        {"namespace": t.ns, "from-namespace": t.src_ns, "to-namespace": t.dst_ns}[name].append(val)
        return
    if base in _FIELD and (name in _SYMMETRIC or name.startswith(("from-", "to-"))):
        value: Any = _identity(name, val) if base == "identity" else val
        if name in _SYMMETRIC:
            t.add("left", f"source_{base}", value)
            t.add("right", f"destination_{base}", value)
        else:
            t.add("both", f"{'source' if name.startswith('from-') else 'destination'}_{base}", value)
        return
    if name == "verdict":
        if val not in Verdict.__members__:
            raise _err(name, f"invalid --verdict value: {val} (expected one of {', '.join(v.value for v in Verdict)})")
        t.add("both", "verdict", val)
    elif name == "drop-reason-desc":
        if val not in DropReason.__members__:
            raise _err(name, f"invalid --drop-reason-desc value: {val} (expected a DropReason name, e.g. POLICY_DENIED)")
        t.add("both", "drop_reason_desc", val)
    elif name == "traffic-direction":
        if val.lower() not in ("ingress", "egress"):
            raise _err(name, f"{val}: invalid traffic direction, expected ingress or egress")
        t.add("both", "traffic_direction", val.upper())
    elif name == "type":
        t.add("both", "event_type", _event_type(val))
    elif name == "tcp-flags":
        flags = tuple(x.upper() for x in val.split(","))
        bad = [x for x in flags if x not in ("SYN", "FIN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS")]
        if bad:
            raise _err(name, f"unknown tcp flag: {bad[0]}")
        t.add("both", "tcp_flags", flags)
    elif name in ("http-status", "http-method", "http-path", "http-url", "protocol", "uuid", "node-name"):
        t.add("both", {"http-status": "http_status_code"}.get(name, name.replace("-", "_")), val)
    else:
        raise _err(name, f"unknown filter flag --{name}")


def build_filter_set(
    flags: Iterable[tuple[str, str | None]],
    *,
    since: str | None = None,
    until: str | None = None,
    now_ns: int | None = None,
) -> FilterSet:
    """Flags in command-line order (``("not", None)`` marks the next one) -> a validated FilterSet.

    Raises:
        UserInputError: unknown flag, bad value, conflicting flags, ``--not`` twice or trailing.
    """
    white, black = _Tracker(), _Tracker()
    negate = False
    for name, value in flags:
        if name == "not":
            if negate:
                raise _err("not", "consecutive --not statements")
            negate = True
            continue
        _set(black if negate else white, name, value if value is not None else "")
        _check_value(name, value if value is not None else "")
        negate = False
    if negate:
        raise _err("not", "--not must be followed by a filter flag")
    fs = FilterSet(
        white.flow_filters(), black.flow_filters(),
        parse_time(since, now_ns, "since") if since else None,
        parse_time(until, now_ns, "until") if until else None,
    )
    compile_set(fs)  # reject bad values now
    return fs


def _check_value(name: str, value: str) -> None:
    """Compile this one flag alone so a bad value is reported against the flag the user typed
    (``--port``), not the FlowFilter field it sets (``source_port``)."""
    one = _Tracker()
    _set(one, name, value)
    try:
        compile_set(FilterSet(one.flow_filters(), (), None, None))
    except UserInputError as exc:
        raise _err(name, exc.message) from exc


def apply_filters(flows: Iterable[Mapping[str, Any]], filters: FilterSet | Predicate) -> list[Mapping[str, Any]]:
    """The flows that pass ``filters`` (a FilterSet or an already compiled predicate), in order."""
    pred = compile_set(filters) if isinstance(filters, FilterSet) else filters
    return [f for f in flows if pred(f)]


# ---------------------------------------------------------------------------- --since / --until

_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_LAYOUTS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S",
            "%a, %d %b %Y %H:%M:%S %z")


def _go_duration_ns(text: str) -> int | None:
    """Go ``time.ParseDuration`` (``5m``, ``1h30m``, ``1.5h``) -> ns; None when not a duration."""
    if not text or _DURATION_RE.sub("", text) != "":
        return None
    total = 0.0
    for number, unit in _DURATION_RE.findall(text):
        total += float(number) * _UNIT_NS[unit]
    return int(total)


def parse_time(text: str, now_ns: int | None = None, flag: str = "since") -> int:
    """``--since``/``--until`` value -> ns: relative duration (before now) or an absolute time
    (RFC 3339 with optional fraction, ``2006-01-02``, ``Jan _2 15:04:05.000`` (this year), RFC 1123Z).

    Raises:
        UserInputError: none of the accepted forms.
    """
    now = now_ns if now_ns is not None else time.time_ns()
    dur = _go_duration_ns(text)
    if dur is not None:
        return now - dur
    candidate = text.strip().replace("Z", "+00:00") if "T" in text else text.strip()
    try:
        dt = datetime.fromisoformat(candidate)
        dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        frac = re.search(r"\.(\d+)", text)
        nanos = int(frac.group(1)[:9].ljust(9, "0")) if frac else 0
        return int(dt.replace(microsecond=0).timestamp()) * 10**9 + nanos
    except ValueError:
        pass
    for layout in _LAYOUTS:
        try:
            dt = datetime.strptime(text, layout)
            dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
            return int(dt.timestamp() * 10**9)
        except ValueError:
            continue
    m = re.match(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$", text)
    if m:
        year = datetime.fromtimestamp(now / 10**9, tz=timezone.utc).year
        dt = datetime.strptime(f"{year} {m.group(1)} {m.group(2)} {m.group(3)}:{m.group(4)}:{m.group(5)}",
                               "%Y %b %d %H:%M:%S").replace(tzinfo=timezone.utc)
        return int(dt.timestamp()) * 10**9 + int((m.group(6) or "0").ljust(9, "0"))
    raise _err(flag, f"unable to parse time {text!r}: expected a duration (30s, 5m, 1h) or a time "
                     "(RFC3339, 2006-01-02, 'Jan _2 15:04:05.000', RFC1123Z)")


# ---------------------------------------------------------------------------- argparse glue

class _Record(argparse.Action):
    """Appends (flag, value) to ``namespace.hubble_filter_flags`` in command-line order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        seq = list(getattr(namespace, "hubble_filter_flags", None) or [])
        seq.append((self.dest, values if isinstance(values, str) else None))
        namespace.hubble_filter_flags = seq


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    """Register every ``hubble observe`` filter flag (plus ``--not``) on ``parser``.

    ``-A/--all-namespaces`` is not offered: Hubble turns it into the pod filter ``"/"``, which its
    own server rejects (``filters/k8s.go``: "invalid filter, must be [namespace/][<name>]").
    """
    parser.set_defaults(hubble_filter_flags=[])
    shorts = {"namespace": "-n", "label": "-l", "type": "-t"}
    for flag, text in FILTER_FLAGS.items():
        names = [f"--{flag}"] + ([shorts[flag]] if flag in shorts else [])
        parser.add_argument(*names, dest=flag, action=_Record, metavar="VALUE", help=text, default=argparse.SUPPRESS)
    parser.add_argument("--not", dest="not", action=_Record, nargs=0, default=argparse.SUPPRESS,
                        help="negate the next filter flag")


@dataclass(frozen=True)
class ObserveRequest:
    """A parsed ``observe`` selection: filters, and how many flows from which end."""

    filters: FilterSet
    number: int | None  # None = all
    first: bool = False


def request_from_namespace(ns: argparse.Namespace, now_ns: int | None = None) -> ObserveRequest:
    """Build the request from an argparse namespace filled by ``add_filter_arguments`` + selection flags."""
    fs = build_filter_set(getattr(ns, "hubble_filter_flags", []), since=getattr(ns, "since", None),
                          until=getattr(ns, "until", None), now_ns=now_ns)
    first = getattr(ns, "first", None)
    last = getattr(ns, "last", None)
    if first is not None and (last is not None or getattr(ns, "all", False)):
        raise _err("first", "--first cannot be combined with --last or --all")
    if getattr(ns, "all", False):
        return ObserveRequest(fs, None)
    if first is not None:
        return ObserveRequest(fs, _count("first", first), True)
    if last is not None:
        return ObserveRequest(fs, _count("last", last))
    # hubble: --last 20 unless --since/--until/--first/--all/--follow
    return ObserveRequest(fs, None if (fs.since_ns or fs.until_ns) else 20)


def _count(flag: str, value: Any) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = -1
    if n < 0:
        raise _err(flag, f"invalid --{flag} value {value!r}: expected a non-negative integer")
    return n


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--last", metavar="N", help="the last N flows (default 20 without --since/--until)")
    parser.add_argument("--first", metavar="N", help="the first N flows")
    parser.add_argument("--all", action="store_true", help="all flows")
    parser.add_argument("--since", metavar="TIME", help="flows since TIME (RFC3339 or relative: 5m, 1h)")
    parser.add_argument("--until", metavar="TIME", help="flows until TIME (RFC3339 or relative)")


def parse_observe_args(argv: Sequence[str], now_ns: int | None = None) -> ObserveRequest:
    """``hubble observe``-style arguments (filters + --last/--first/--all/--since/--until) -> request.

    Raises:
        UserInputError: any bad flag or value (argparse errors included).
    """
    parser = _Parser(prog="observe", add_help=False)
    add_filter_arguments(parser)
    add_selection_arguments(parser)
    return request_from_namespace(parser.parse_args(list(argv)), now_ns)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UserInputError(message, Location(field="observe"))
