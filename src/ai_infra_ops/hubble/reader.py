"""Read real ``hubble observe -o json`` output (and ``-o jsonpb``, and legacy bare flows).

Each line is one ``observer.GetFlowsResponse`` (``{"flow":…,"node_name":…,"time":…}``); lines
holding ``node_status`` or ``lost_events`` (Relay's side messages) are tolerated and counted, not
returned as flows; a bare ``Flow`` object per line (``-o json`` with Hubble's legacy JSON compat
option) is accepted too. Key order is preserved as read, so a flow written back with
``flow.flow_to_json_line`` reproduces the input byte for byte.

Errors (unreadable file, malformed JSON, a line that is no flow) raise ``UserInputError`` naming
``file:line`` and what was expected. Who calls it: ``cli/commands/observe.py``, ``metrics.py``.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Location, UserInputError
from .encoding import FlowDict

# Keys only a Flow has at top level; one of them marks a bare flow line.
_FLOW_KEYS = frozenset({"time", "verdict", "IP", "l4", "source", "destination", "Type", "event_type", "Summary"})


@dataclass
class ReadStats:
    """What a read skipped: Relay node-status and lost-events messages."""

    flows: int = 0
    node_status: int = 0
    lost_events: int = 0
    lost_event_details: list[dict[str, Any]] = field(default_factory=list)


def parse_line(text: str, file: str, lineno: int, stats: ReadStats | None = None) -> FlowDict | None:
    """One line -> a flow dict, or None for blank/side-message lines.

    Raises:
        UserInputError: malformed JSON, or a JSON value that is neither a GetFlowsResponse nor a Flow.
    """
    stripped = text.strip()
    if not stripped:
        return None
    try:
        obj = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise UserInputError(
            f"malformed JSON at column {exc.colno}: {exc.msg}; expected one `hubble observe -o json` "
            "object (GetFlowsResponse) per line",
            Location(file=file, line=lineno, column=exc.colno),
        ) from None
    if not isinstance(obj, dict):
        raise UserInputError(
            f"expected a JSON object (GetFlowsResponse or Flow), got {type(obj).__name__}",
            Location(file=file, line=lineno),
        )
    if "flow" in obj:
        flow = obj["flow"]
        if not isinstance(flow, dict):
            raise UserInputError("`flow` must be a JSON object", Location(file=file, line=lineno, field="flow"))
        if stats is not None:
            stats.flows += 1
        return flow
    if "node_status" in obj:
        if stats is not None:
            stats.node_status += 1
        return None
    if "lost_events" in obj:
        if stats is not None:
            stats.lost_events += 1
            stats.lost_event_details.append(obj["lost_events"])
        return None
    if _FLOW_KEYS & obj.keys():
        if stats is not None:
            stats.flows += 1
        return obj
    keys = ", ".join(sorted(obj)[:5]) or "none"
    raise UserInputError(
        f"not a Hubble flow: expected a GetFlowsResponse (`flow`, `node_status` or `lost_events`) "
        f"or a bare Flow object, found keys {keys}",
        Location(file=file, line=lineno),
    )


def iter_lines(lines: Iterable[str], file: str, stats: ReadStats | None = None) -> Iterator[FlowDict]:
    """Flows from an iterable of lines (1-based line numbers in errors)."""
    for lineno, text in enumerate(lines, start=1):
        flow = parse_line(text, file, lineno, stats)
        if flow is not None:
            yield flow


def read_flows(path: str | Path, stats: ReadStats | None = None) -> Iterator[FlowDict]:
    """Flows of a file (``-`` = stdin), lazily.

    Raises:
        UserInputError: the file cannot be read, or a line is malformed (``file:line``).
    """
    name = str(path)
    if name == "-":
        yield from iter_lines(sys.stdin, "<stdin>", stats)
        return
    try:
        handle = open(name, encoding="utf-8")  # noqa: SIM115 - closed below; generator
    except OSError as exc:
        raise UserInputError(
            f"cannot read flows file: {exc.strerror or exc}; expected a file of `hubble observe -o json` lines",
            Location(file=name),
        ) from None
    with handle:
        try:
            yield from iter_lines(handle, name, stats)
        except UnicodeDecodeError as exc:
            raise UserInputError(f"not UTF-8 text ({exc.reason}); expected JSON lines", Location(file=name)) from None


def load_flows(path: str | Path, stats: ReadStats | None = None) -> list[FlowDict]:
    """All flows of a file as a list (see ``read_flows``)."""
    return list(read_flows(path, stats))
