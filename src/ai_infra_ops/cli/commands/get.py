"""`ai-infra-ops get KIND [NAME...]`: list objects like ``kubectl get`` (tables, ``-o wide``,
``-A``, ``-l``, ``-o json|yaml|name``) from the active backend (the twin, or a real cluster with
``--kubeconfig``)."""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any

from ...errors import Location, UserInputError
from ...kube_model import parse_selector_string
from ...twin.kinds import resolve_kind
from ...twin.printers import no_resources_message, print_json, print_table, print_yaml, to_list


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("get", help="list objects like kubectl get (-o wide|json|yaml|name, -A, -l)")
    p.add_argument("kind", help="resource type: pods, nodes, deployments, configmaps, events, cnp, ... (or TYPE/NAME)")
    p.add_argument("names", nargs="*", help="object names (default: all)")
    p.add_argument("-n", "--namespace", default=None, help="namespace (default: default)")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    p.add_argument("-o", "--output", default="", choices=["wide", "json", "yaml", "name"],
                   help="output format: wide, json, yaml or name (default: a table)")
    p.add_argument("-l", "--selector", default=None, help="label selector, e.g. app=cuda,tier!=web")
    p.add_argument("--show-labels", action="store_true", help="add a LABELS column")
    p.set_defaults(func=run)


def split_type_name(kind: str, names: list[str]) -> tuple[str, list[str]]:
    """kubectl's ``TYPE/NAME`` form (``get pod/cudatestpod``, ``describe node/node01``): the type
    and the names; every argument must then be ``TYPE/NAME`` of that one type."""
    if "/" not in kind:
        return kind, names
    rtype, out = kind.split("/", 1)[0], []
    for arg in [kind, *names]:
        t, sep, name = arg.partition("/")
        if not sep or not name:
            raise UserInputError(f"expected {rtype}/NAME (every argument in TYPE/NAME form once one is), got {arg!r}",
                                 Location(field="TYPE/NAME"))
        if resolve_kind(t).kind != resolve_kind(rtype).kind:
            raise UserInputError(f"expected {rtype}/NAME, got {arg!r}: one resource type per command",
                                 Location(field="TYPE/NAME"))
        out.append(name)
    return rtype, out


def backend_now(backend: Any) -> datetime:
    """The backend's notion of now (the twin's clock; the wall clock for a real cluster)."""
    clock = getattr(backend, "clock", None)
    return clock.now() if clock is not None else datetime.now(timezone.utc)


def run(ctx: Any, args: argparse.Namespace) -> int:
    args.kind, args.names = split_type_name(args.kind, args.names)
    info = resolve_kind(args.kind)
    if args.selector is not None:
        try:
            parse_selector_string(args.selector)
        except ValueError as exc:
            raise UserInputError(f"{exc}; expected e.g. app=cuda,tier!=web or 'env in (a,b)'",
                                 Location(field="-l/--selector")) from None
    backend = ctx.backend(ctx.load_spec())
    ns = None if args.all_namespaces or not info.namespaced else (args.namespace or "default")
    missing = []
    if args.names:
        # kubectl prints what it found and a NotFound line for each name it did not (exit 1)
        objs = []
        for name in args.names:
            obj = backend.get(info.kind, name, ns or args.namespace or "default")
            if obj is None:
                missing.append(name)
            else:
                objs.append(obj)
    else:
        objs = backend.list(info.kind, ns, args.selector)
    for name in missing:
        print(f'Error from server (NotFound): {info.plural} "{name}" not found', file=ctx.err)
    rc = 1 if missing else 0
    if not objs and args.names:
        return rc
    single = len(args.names) == 1
    if args.output in ("json", "yaml"):
        value = objs[0] if single else to_list(objs)
        ctx.out.write(print_json(value) if args.output == "json" else print_yaml(value))
        return rc
    if not objs:
        print(no_resources_message(ns, info.namespaced), file=ctx.err)
        return 0
    if args.output == "name":
        group = info.api_version.split("/")[0] if "/" in info.api_version else ""
        for o in objs:
            ctx.out.write(f"{info.kind.lower()}{'.' + group if group else ''}/{o['metadata']['name']}\n")
        return rc
    ctx.out.write(print_table(info.kind, objs, backend_now(backend), wide=args.output == "wide",
                              all_namespaces=args.all_namespaces and info.namespaced, show_labels=args.show_labels))
    return rc
