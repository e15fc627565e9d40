"""`ai-infra-ops report`: re-render the latest receipts (report.html, junit.xml, ops-log.md) and
print their summary."""
from __future__ import annotations

import argparse
from pathlib import Path

from ...errors import UserInputError
from ..context import Context


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="re-render the latest receipts and print their summary")
    p.add_argument("path", nargs="?", help="a receipts directory (default: the latest under the state dir)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from ...report import latest, rerender

    path = Path(args.path) if args.path else latest(ctx.state_dir)
    if path is None or not (path / "validation.json").exists():
        where = args.path or f"{ctx.state_dir}/receipts"
        raise UserInputError(f"no receipts in {where}", hint="run `ai-infra-ops up` or `ai-infra-ops validate` first")
    r = rerender(path)
    s = r.summary
    counts = s.get("counts") or {}
    print(f"receipts: {path}", file=ctx.out)
    print(f"command: {s.get('command', '')}  backend: {s.get('backend', '')}  {s.get('message', '')}", file=ctx.out)
    steps = len(r.ops)
    failed_steps = [e.step for e in r.ops if e.action == "failed"]
    print(f"steps: {steps} logged" + (f", failed: {', '.join(failed_steps)}" if failed_steps else ""), file=ctx.out)
    if counts:
        print(f"checks: {counts.get('pass', 0)} passed, {counts.get('fail', 0)} failed, {counts.get('skip', 0)} skipped, "
              f"{counts.get('needs Cilium/Hubble', 0)} need Cilium/Hubble", file=ctx.out)
    for c in r.checks:
        if c["status"] == "fail":
            print(f"  FAIL  {c['id']}: {c['message']}", file=ctx.out)
    print(f"flows: {len(r.flows)}; page: {path / 'report.html'}", file=ctx.out)
    print("PASS" if r.ok else "FAIL", file=ctx.out)
    return 0 if r.ok else 1
