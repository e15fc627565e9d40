"""`ai-infra-ops delete -f FILE` or `delete KIND NAME... [-n NS]`: delete objects like
``kubectl delete`` (owners cascade; deleted pods free their node's capacity and GPUs)."""
from __future__ import annotations

import argparse
from typing import Any

from ...errors import Location, ManifestError
from ...twin.kinds import kind_info, resolve_kind
from .apply import read_documents, resource_ref
from .get import split_type_name


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("delete", help="delete objects like kubectl delete")
    p.add_argument("kind", nargs="?", help="resource type (with NAME), or TYPE/NAME")
    p.add_argument("names", nargs="*", help="object names")
    p.add_argument("-f", "--filename", action="append", metavar="FILE", help="delete the objects of these files")
    p.add_argument("-n", "--namespace", default=None, help="namespace (default: default)")
    p.add_argument("--ignore-not-found", action="store_true", help="no error for objects that do not exist")
    p.set_defaults(func=run)


def run(ctx: Any, args: argparse.Namespace) -> int:
    targets: list[tuple[str, str, str | None]] = []
    if args.filename:
        docs = read_documents(args.filename)
        if not docs:
            raise ManifestError("no objects passed to delete (expected YAML or JSON Kubernetes objects)",
                                Location(file=", ".join(args.filename)))
        for d in docs:
            v = d.value if isinstance(d.value, dict) else {}
            md = v.get("metadata") or {}
            kind = str(v.get("kind", ""))
            ns = (md.get("namespace") or args.namespace or "default") if kind_info(kind).namespaced else None
            targets.append((kind, str(md.get("name", "")), ns))
    elif args.kind and (args.names or "/" in args.kind):
        args.kind, args.names = split_type_name(args.kind, args.names)
        info = resolve_kind(args.kind)
        for name in args.names:
            targets.append((info.kind, name, (args.namespace or "default") if info.namespaced else None))
    else:
        print("error: You must provide one or more resources by argument or filename.", file=ctx.err)
        return 2
    backend = ctx.backend(ctx.load_spec())
    rc = 0
    for kind, name, ns in targets:
        plural = kind_info(kind).plural
        if backend.delete(kind, name, ns):
            # kubectl names the resource with its API group: deployment.apps "x" deleted, pod "y" deleted
            ref = resource_ref(kind, name).split("/", 1)[0]
            ctx.out.write(f'{ref} "{name}" deleted\n')
        elif not args.ignore_not_found:
            print(f'Error from server (NotFound): {plural} "{name}" not found', file=ctx.err)
            rc = 1
    return rc
