"""The ops log: one entry per step of ``up``/``down`` — timestamp, phase, step, action, duration,
and the evidence (object refs, event texts, flow ids) instead of the seed's screenshots.

Written by ``report.receipts`` as ``ops-log.jsonl`` (one JSON object per line) and ``ops-log.md``
(the seed's ops-log style: a timestamped line per step, the evidence indented under it).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .steps import Evidence


@dataclass(frozen=True)
class OpsEntry:
    """One step as it happened."""

    timestamp: str
    phase: int
    step: str
    description: str
    action: str  # applied | skipped | failed | rendered | needs Cilium/Hubble | deleted
    duration_s: float
    message: str
    evidence: Evidence = field(default_factory=Evidence)
    changes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"timestamp": self.timestamp, "phase": self.phase, "step": self.step,
                "description": self.description, "action": self.action,
                "duration_s": round(self.duration_s, 4), "message": self.message,
                "changes": list(self.changes), "evidence": self.evidence.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OpsEntry:
        return cls(timestamp=str(d["timestamp"]), phase=int(d.get("phase", 0)), step=str(d["step"]),
                   description=str(d.get("description", "")), action=str(d["action"]),
                   duration_s=float(d.get("duration_s", 0.0)), message=str(d.get("message", "")),
                   evidence=Evidence.from_dict(d.get("evidence")), changes=tuple(d.get("changes", ())))


def to_jsonl(entries: Iterable[OpsEntry]) -> str:
    """``ops-log.jsonl`` text."""
    return "".join(json.dumps(e.to_dict(), sort_keys=False) + "\n" for e in entries)


def from_jsonl(text: str) -> list[OpsEntry]:
    """Parse ``ops-log.jsonl`` text."""
    return [OpsEntry.from_dict(json.loads(line)) for line in text.splitlines() if line.strip()]


def to_markdown(entries: Iterable[OpsEntry], title: str = "Ops log") -> str:
    """``ops-log.md``: per phase, one timestamped line per step, then its evidence."""
    lines = [f"# {title}", ""]
    phase = None
    for e in entries:
        if e.phase != phase:
            phase = e.phase
            lines += [f"## Phase {phase}" if phase else "## Teardown", ""]
        lines.append(f"- `{e.timestamp}` **{e.step}** — {e.description} — *{e.action}* ({e.duration_s:.3f}s)")
        if e.message:
            lines.append(f"  - {e.message}")
        for c in e.changes:
            lines.append(f"  - change: `{c}`")
        ev = e.evidence
        for label, items in (("object", ev.objects), ("event", ev.events), ("flow", ev.flows),
                             ("artifact", ev.artifacts), ("note", ev.notes)):
            for item in items:
                lines.append(f"  - {label}: `{item}`" if label != "note" else f"  - {item}")
    lines.append("")
    return "\n".join(lines)
