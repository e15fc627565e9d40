"""`ai-infra-ops down`: undo the steps of `up` in reverse order and log it in receipts."""
from __future__ import annotations

import argparse

from ..context import Context


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("down", help="undo what `up` created, in reverse order")
    p.add_argument("--phase", choices=("1", "2", "all"), default="all", help="which phase to undo (default: all)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from ...pipeline import run_down
    from ...report import write_receipts
    from .up import close, make_plan, phases_of

    spec = ctx.load_spec()
    steps = make_plan(ctx, spec, phases_of(args.phase))
    backend = ctx.backend(spec)
    try:
        entries = run_down(backend, steps, spec, progress=lambda line: print(line, file=ctx.out, flush=True))
    finally:
        close(backend)
    removed = sum(len(e.evidence.objects) for e in entries)
    path = write_receipts(ctx.state_dir, command="down", entries=entries, message=f"down: removed {removed} object(s)")
    print(f"down: removed {removed} object(s); receipts: {path}", file=ctx.out)
    return 0
