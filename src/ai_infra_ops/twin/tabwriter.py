"""Go's ``text/tabwriter`` (the column alignment every kubectl table and ``describe`` uses),
and kubectl's human-readable durations.

``tabwrite`` follows ``text/tabwriter.Writer.format``: a cell is text terminated by a tab; the
text after a line's last tab is not part of any column; a column block is a run of consecutive
lines that have a cell in that column, and its width is the widest cell + padding (at least
``minwidth``). kubectl get uses ``minwidth=6, padding=3`` (``printers.GetNewTabWriter``);
describe uses ``minwidth=0, padding=2`` (``describe.tabbedString``).

``human_duration`` is ``k8s.io/apimachinery/pkg/util/duration.HumanDuration``.
Called by ``twin.printers`` and ``twin.describe``.
"""
from __future__ import annotations

from datetime import datetime

__all__ = ["human_duration", "tabwrite", "age"]


def tabwrite(text: str, minwidth: int = 6, padding: int = 3) -> str:
    """Align tab-separated ``text`` as Go's tabwriter (AlignLeft, pad char ' ') does."""
    ends_nl = text.endswith("\n")
    lines = [ln.split("\t") for ln in (text[:-1] if ends_nl else text).split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(a: int, b: int) -> None:
        for i in range(a, b):
            cells = lines[i]
            parts = []
            for j, c in enumerate(cells):
                if j < len(widths) and j < len(cells) - 1:
                    parts.append(c.ljust(widths[j]))
                else:
                    parts.append(c)
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                w = len(lines[this][column]) + padding
                if w > width:
                    width = w
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    fmt(0, len(lines))
    return "\n".join(out) + ("\n" if ends_nl else "")


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``: 45s, 2m30s, 5m, 3h20m, 2d5h, 3y20d..."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: str | None, now: datetime) -> str:
    """kubectl's AGE of an RFC 3339 timestamp (``<unknown>`` when missing)."""
    from .clock import parse_time

    t = parse_time(timestamp)
    if t is None:
        return "<unknown>"
    return human_duration((now - t).total_seconds())
