"""`ai-infra-ops observe`: Hubble's ``observe`` over the backend's flows or a file of real flows.

Filters and outputs are ``hubble observe``'s (``hubble/filters.py``, ``hubble/printers.py``).
Without ``--input`` the backend answers (``backend.observe(FlowQuery)``; the twin pushes the
filters into SQL via ``hubble.sql.compile_sql``). With ``--input FILE`` (real ``hubble observe -o
json`` output, ``-`` = stdin) the flows are filtered here. ``--serve ADDR`` serves the selected
flows over Hubble's Observer gRPC API so the real ``hubble`` CLI can connect.
"""
from __future__ import annotations

import argparse
import collections
from typing import Any

from ...errors import BackendError, Location, UserInputError
from ...hubble.filters import add_filter_arguments, add_selection_arguments, request_from_namespace
from ...hubble.match import compile_set
from ...hubble.printers import OUTPUTS, PrintOptions, print_flows
from ...hubble.reader import ReadStats, read_flows


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "observe",
        help="show flows as `hubble observe` does (filters, -o json|jsonpb|compact|table|dict)",
        description="Flows of the current backend (or of --input FILE, real `hubble observe -o json` output), "
        "filtered with hubble's flags. Without --since/--until/--first/--all, the last 20 are shown.",
    )
    add_filter_arguments(p)
    add_selection_arguments(p)
    p.add_argument("-o", "--output", default="compact", help=f"output format: {', '.join(OUTPUTS)} (default compact)")
    p.add_argument("--input", metavar="FILE", help="read flows from FILE (hubble observe -o json lines; - = stdin)")
    p.add_argument("--print-node-name", action="store_true", help="print the node name in each line")
    p.add_argument("--time-format", default="StampMilli", choices=("StampMilli", "RFC3339", "RFC3339Nano"),
                   help="timestamp layout of compact/table/dict output")
    p.add_argument("--ip-translation", default="true", choices=("true", "false"),
                   help="show pod/service/DNS names instead of IPs (default true)")
    p.add_argument("--serve", metavar="ADDR", help="serve the selected flows over the Observer gRPC API on ADDR (host:port)")
    p.set_defaults(func=run)


def _select_from_file(path: str, request: Any) -> list[dict[str, Any]]:
    pred = compile_set(request.filters)
    stats = ReadStats()
    if request.number is None:
        return [f for f in read_flows(path, stats) if pred(f)]
    if request.first:
        out: list[dict[str, Any]] = []
        for flow in read_flows(path, stats):
            if pred(flow):
                out.append(flow)
                if len(out) >= request.number:
                    break
        return out
    window: collections.deque[dict[str, Any]] = collections.deque(maxlen=request.number or None)
    if request.number == 0:
        return []
    for flow in read_flows(path, stats):
        if pred(flow):
            window.append(flow)
    return list(window)


def _select_from_backend(ctx: Any, request: Any) -> list[dict[str, Any]]:
    from ...backend import FlowQuery

    try:
        backend = ctx.backend(ctx.load_spec())
    except ImportError as exc:  # the backend module is not part of this build
        raise BackendError(f"no backend available for observe ({exc}); use --input FILE") from None
    filters: dict[str, Any] = request.filters.to_dict()
    if request.filters.since_ns is not None:
        filters["since_ns"] = request.filters.since_ns
    if request.filters.until_ns is not None:
        filters["until_ns"] = request.filters.until_ns
    if request.first:
        filters["first"] = True
    return list(backend.observe(FlowQuery(filters=filters, last=request.number)))


def run(ctx: Any, args: argparse.Namespace) -> int:
    if args.output not in OUTPUTS:
        raise UserInputError(f"invalid output format: {args.output} (expected one of {', '.join(OUTPUTS)})",
                             Location(field="--output"))
    request = request_from_namespace(args)
    flows = _select_from_file(args.input, request) if args.input else _select_from_backend(ctx, request)
    if args.serve:
        from ...hubble.grpc.server import serve_forever

        serve_forever(args.serve, lambda: flows, out=ctx.err)
        return 0
    opts = PrintOptions(output=args.output, node_name=args.print_node_name,
                        ip_translation=args.ip_translation == "true", time_format=args.time_format)
    print_flows(flows, ctx.out, opts)
    return 0
