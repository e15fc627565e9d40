"""`ai-infra-ops apply -f FILE|DIR|-`: create or update objects like ``kubectl apply``, all or
nothing: a broken file (``file:line:col: invalid YAML: ...``), an unknown kind or field, or an
admission refusal (quota) applies nothing and exits 2."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from ...errors import Location, ManifestError
from ...kube_model import load_documents, load_yaml_text
from ...kube_model.yamlio import flatten_list
from ...twin.admission import embedded_yaml_error
from ...twin.kinds import kind_info


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("apply", help="create or update objects from YAML files like kubectl apply")
    p.add_argument("-f", "--filename", action="append", required=True, metavar="FILE",
                   help="file, directory (its *.yaml/*.yml/*.json) or - for stdin; repeatable")
    p.add_argument("-n", "--namespace", default=None, help="namespace for objects that name none")
    p.add_argument("--dry-run", nargs="?", const="client", choices=["none", "client", "server"], default="none",
                   help="only validate and show what would happen")
    p.set_defaults(func=run)


def resource_ref(kind: str, name: str) -> str:
    """kubectl's ``<resource>.<group>/<name>`` (``deployment.apps/x``, ``pod/y``)."""
    info = kind_info(kind)
    group = info.api_version.split("/")[0] if "/" in info.api_version else ""
    return f"{kind.lower()}{'.' + group if group else ''}/{name}"


def read_documents(paths: list[str]) -> list[Any]:
    docs = []
    for p in paths:
        if p == "-":
            for d in load_yaml_text(sys.stdin.read(), "<stdin>"):
                docs.extend(flatten_list(d))
        else:
            docs.extend(load_documents([p]))
    return docs


def run(ctx: Any, args: argparse.Namespace) -> int:
    docs = read_documents(args.filename)
    if not docs:
        # kubectl: "error: no objects passed to apply" (an empty file or directory is a mistake)
        raise ManifestError("no objects passed to apply (expected YAML or JSON Kubernetes objects)",
                            Location(file=", ".join(args.filename)))
    for d in docs:
        err = embedded_yaml_error(d)
        if err is not None:
            raise err
    if args.namespace:
        for d in docs:
            if isinstance(d.value, dict):
                md = d.value.setdefault("metadata", {})
                if isinstance(md, dict) and not md.get("namespace"):
                    md["namespace"] = args.namespace
                elif isinstance(md, dict) and md.get("namespace") != args.namespace:
                    # kubectl refuses rather than silently applying to the file's namespace
                    raise ManifestError(f'the namespace from the provided object "{md["namespace"]}" does not match the '
                                        f'namespace "{args.namespace}"; pass --namespace={md["namespace"]} or drop -n',
                                        d.location(("metadata", "namespace")))
    backend = ctx.backend(ctx.load_spec())
    dry = args.dry_run != "none"
    suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run, "")
    try:
        results = backend.apply(docs, dry_run=dry)
    except Exception as exc:
        for r in getattr(exc, "applied", []) or []:
            ctx.out.write(f"{resource_ref(r.kind, r.name)} {r.action}{suffix}\n")
        raise
    for r in results:
        ctx.out.write(f"{resource_ref(r.kind, r.name)} {r.action}{suffix}\n")
    return 0
