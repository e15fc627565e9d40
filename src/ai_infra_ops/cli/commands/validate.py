"""`ai-infra-ops validate`: run the validation suite against the backend's current state and
write receipts. Exit 1 when a check fails."""
from __future__ import annotations

import argparse

from ..context import Context

GROUPS = ("connectivity", "zero-trust", "gpu")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("validate", help="run the validation suite (connectivity, zero trust, GPUs) and write receipts")
    p.add_argument("--group", action="append", choices=GROUPS, help="only these check groups (repeatable)")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from ...report import write_receipts
    from ...validate import run_validation
    from .up import close, print_checks

    spec = ctx.load_spec()
    backend = ctx.backend(spec)
    try:
        report = run_validation(backend, spec, groups=tuple(args.group or GROUPS))
    finally:
        close(backend)
    print_checks(ctx, report)
    path = write_receipts(ctx.state_dir, command="validate", validation=report,
                          message=f"validate: {'all checks passed' if report.ok else 'checks failed'}")
    print(f"{'PASS' if report.ok else 'FAIL'}: receipts: {path}", file=ctx.out)
    return 0 if report.ok else 1
