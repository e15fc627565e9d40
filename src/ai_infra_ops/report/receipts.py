"""Receipts: ``.ai-infra-ops/receipts/<UTC timestamp>/`` — the machine-checked record of a run.

Files: ``ops-log.jsonl`` and ``ops-log.md`` (the steps, with evidence), ``junit.xml`` (one testcase
per check), ``flows.json`` (the evidence flows as ``hubble observe -o json`` lines),
``validation.json`` (the suite's report, for re-rendering) and ``report.html`` (the one
self-contained page). :func:`rerender` rebuilds the page and the JUnit file from the stored JSON
(``ai-infra-ops report``).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..hubble.flow import flow_to_json_line
from ..pipeline.opslog import OpsEntry, from_jsonl, to_jsonl, to_markdown
from ..validate.suite import ValidationReport
from .html import render_html
from .junit import render_junit
from .servicemap import flow_rows, service_map

RECEIPTS = "receipts"
FILES = ("ops-log.jsonl", "ops-log.md", "junit.xml", "flows.json", "validation.json", "report.html")


@dataclass(frozen=True)
class Receipt:
    """What a receipts directory holds, loaded."""

    path: Path
    summary: dict[str, Any]
    ops: list[OpsEntry]
    flows: list[dict[str, Any]]

    @property
    def checks(self) -> list[dict[str, Any]]:
        return list(self.summary.get("results") or [])

    @property
    def ok(self) -> bool:
        return bool(self.summary.get("ok", True))


def _stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S.%fZ")


def _unique_flows(flows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for f in flows:
        seen.setdefault(str(f.get("uuid") or json.dumps(f, sort_keys=True)), f)
    return sorted(seen.values(), key=lambda f: str(f.get("time", "")))


def write_receipts(state_dir: Path, *, command: str, entries: Sequence[OpsEntry] = (),
                   validation: ValidationReport | None = None, flows: Iterable[dict[str, Any]] = (),
                   message: str = "", now: datetime | None = None) -> Path:
    """Write a receipts directory and return its path.

    Args:
        state_dir: the state directory (``.ai-infra-ops``).
        command: what produced it (``up``, ``validate``), shown in the page title.
        entries: the ops-log entries of the run.
        validation: the suite's report (None: no validation ran, e.g. ``up --no-validate``).
        flows: extra flows (the pipeline's probes); the checks' flows are added.
        message: the run's one-line summary.
    """
    out = Path(state_dir) / RECEIPTS / _stamp(now)
    out.mkdir(parents=True, exist_ok=True)
    all_flows = _unique_flows([*flows, *(validation.flows() if validation else [])])
    summary: dict[str, Any] = validation.to_dict() if validation else {"results": [], "counts": {}, "ok": None}
    summary["command"] = command
    summary["message"] = message
    summary["run_ok"] = not any(e.action == "failed" for e in entries)
    if validation is None:
        summary["ok"] = summary["run_ok"]
    else:
        summary["ok"] = bool(summary["ok"]) and summary["run_ok"]
    (out / "ops-log.jsonl").write_text(to_jsonl(entries))
    (out / "validation.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out / "flows.json").write_text("".join(flow_to_json_line(f) for f in all_flows))
    receipt = Receipt(out, summary, list(entries), all_flows)
    render_files(receipt)
    return out


def render_files(receipt: Receipt) -> None:
    """(Re)write ``ops-log.md``, ``junit.xml`` and ``report.html`` from the loaded receipt."""
    s = receipt.summary
    title = f"ai-infra-ops {s.get('command', 'run')}"
    (receipt.path / "ops-log.md").write_text(to_markdown(receipt.ops, f"{title} — ops log ({receipt.path.name})"))
    (receipt.path / "junit.xml").write_text(render_junit(receipt.checks, timestamp=str(s.get("started", "")),
                                                         duration_s=float(s.get("duration_s") or 0.0)))
    page = render_html(title=title, summary=s, nodes=list(s.get("nodes") or []), checks=receipt.checks,
                       ops=[e.to_dict() for e in receipt.ops], flow_rows=flow_rows(receipt.flows),
                       smap=service_map(receipt.flows))
    (receipt.path / "report.html").write_text(page)


def receipts_dirs(state_dir: Path) -> list[Path]:
    """Receipts directories, oldest first."""
    root = Path(state_dir) / RECEIPTS
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def load_receipt(path: Path) -> Receipt:
    """Read a receipts directory back."""
    summary = json.loads((path / "validation.json").read_text())
    ops = from_jsonl((path / "ops-log.jsonl").read_text()) if (path / "ops-log.jsonl").exists() else []
    flows = []
    if (path / "flows.json").exists():
        for line in (path / "flows.json").read_text().splitlines():
            if line.strip():
                env = json.loads(line)
                flows.append(env.get("flow", env))
    return Receipt(path, summary, ops, flows)


def rerender(path: Path) -> Receipt:
    """Rebuild ``report.html``, ``junit.xml`` and ``ops-log.md`` of a receipts directory."""
    receipt = load_receipt(path)
    render_files(receipt)
    return receipt
