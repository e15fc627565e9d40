"""`ai-infra-ops describe KIND NAME`: ``kubectl describe`` for nodes (Capacity, Allocatable,
Allocated resources, Events), pods (containers, conditions, Events) and any other kind."""
from __future__ import annotations

import argparse
from typing import Any

from ...twin.describe import describe_node, describe_object, describe_pod
from ...twin.describe_workloads import describe_deployment, describe_replicaset
from ...twin.kinds import resolve_kind
from .get import backend_now, split_type_name


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("describe", help="show an object in detail like kubectl describe")
    p.add_argument("kind", help="resource type: node, pod, deployment, ... (or TYPE/NAME)")
    p.add_argument("names", nargs="*", help="object names (default: all of that kind)")
    p.add_argument("-n", "--namespace", default=None, help="namespace (default: default)")
    p.set_defaults(func=run)


def run(ctx: Any, args: argparse.Namespace) -> int:
    args.kind, args.names = split_type_name(args.kind, args.names)
    info = resolve_kind(args.kind)
    backend = ctx.backend(ctx.load_spec())
    ns = (args.namespace or "default") if info.namespaced else None
    if args.names:
        objs = []
        for name in args.names:
            obj = backend.get(info.kind, name, ns)
            if obj is None:
                print(f'Error from server (NotFound): {info.plural} "{name}" not found', file=ctx.err)
                return 1
            objs.append(obj)
    else:
        objs = backend.list(info.kind, ns)
    now = backend_now(backend)
    texts = []
    for obj in objs:
        md = obj["metadata"]
        events = [e for e in backend.events(md.get("namespace") or None if info.namespaced else None, md["name"])
                  if (e.get("involvedObject") or {}).get("kind") == info.kind]
        if info.kind == "Node":
            pods = [p for p in backend.list("Pod") if (p.get("spec") or {}).get("nodeName") == md["name"]]
            texts.append(describe_node(obj, pods, events, now))
        elif info.kind == "Pod":
            texts.append(describe_pod(obj, events, now))
        elif info.kind in ("Deployment", "ReplicaSet"):
            child = "ReplicaSet" if info.kind == "Deployment" else "Pod"
            owned = [o for o in backend.list(child, md.get("namespace"))
                     if any(r.get("uid") == md.get("uid") for r in o["metadata"].get("ownerReferences") or [])]
            fn = describe_deployment if info.kind == "Deployment" else describe_replicaset
            texts.append(fn(obj, owned, events, now))
        else:
            texts.append(describe_object(obj, events, now))
    ctx.out.write("\n\n".join(t.rstrip("\n") for t in texts) + ("\n" if texts else ""))
    return 0
