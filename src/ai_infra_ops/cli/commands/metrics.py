"""`ai-infra-ops metrics`: Hubble's Prometheus metrics for the stored flows (or a file of real flows)."""
from __future__ import annotations

import argparse
from typing import Any

from ...errors import BackendError
from ...hubble.metrics import render_metrics
from ...hubble.reader import read_flows


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "metrics",
        help="print Hubble's Prometheus metrics (flows processed, drops, policy verdicts, HTTP, DNS) for the flows",
        description="Prometheus text exposition of hubble_flows_processed_total, hubble_drop_total, "
        "hubble_policy_verdicts_total, hubble_http_*, hubble_dns_* over the backend's stored flows or --input FILE.",
    )
    p.add_argument("--input", metavar="FILE", help="read flows from FILE (hubble observe -o json lines; - = stdin)")
    p.set_defaults(func=run)


def run(ctx: Any, args: argparse.Namespace) -> int:
    if args.input:
        ctx.out.write(render_metrics(read_flows(args.input)))
        return 0
    from ...backend import FlowQuery

    try:
        backend = ctx.backend(ctx.load_spec())
    except ImportError as exc:
        raise BackendError(f"no backend available for metrics ({exc}); use --input FILE") from None
    ctx.out.write(render_metrics(backend.observe(FlowQuery(last=None))))
    return 0
