"""`ai-infra-ops plan`: print the steps `up` would take, marking the ones already satisfied."""
from __future__ import annotations

import argparse

from ..context import Context


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("plan", help="print the steps `up` would take ([x] = already satisfied)")
    p.add_argument("--phase", choices=("1", "2", "all"), default="all", help="which phase (default: all)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from ...pipeline import plan_status
    from .up import close, make_plan, phases_of

    spec = ctx.load_spec()
    steps = make_plan(ctx, spec, phases_of(args.phase))
    backend = ctx.backend(spec)
    try:
        status = plan_status(backend, steps)
    finally:
        close(backend)
    todo = sum(1 for _, c in status if not c)
    print(f"plan: {len(steps)} steps on backend {backend.name}, {todo} to do", file=ctx.out)
    for step, cond in status:
        mark = "[x]" if cond else "[ ]"
        print(f"{mark} phase {step.phase}  {step.name:<20} {step.description}", file=ctx.out)
        if cond.detail:
            print(f"      {'satisfied' if cond else 'to do'}: {cond.detail}", file=ctx.out)
    return 0
