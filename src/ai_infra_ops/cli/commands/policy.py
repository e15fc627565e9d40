"""`ai-infra-ops policy check|trace|matrix`: validate, explain and map Cilium policies offline.

``check -f FILES``: every CNP/CCNP/NetworkPolicy is validated as Cilium's admission and agent do;
prints ``OK``/``INVALID: reason`` per policy, exit 2 if any is invalid. ``trace``: the verdict per
direction and why (files given with ``-f``, else the twin's current state). ``matrix``: allowed
connections per pod pair (json, csv or grouped text). Engine: ``ai_infra_ops.policy``.
"""
from __future__ import annotations

import argparse
import re
from typing import Any

from ...errors import UserInputError
from ...kube_model import load_documents


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("policy", help="check, trace and map Cilium/Kubernetes network policies")
    ps = p.add_subparsers(dest="policy_cmd", metavar="SUBCOMMAND")
    c = ps.add_parser("check", help="validate policies as Cilium does (exit 2 if any is invalid)")
    c.add_argument("-f", "--file", action="append", required=True, metavar="FILE")
    c.set_defaults(func=run_check)
    t = ps.add_parser("trace", help="would SRC reach DST on PORT/PROTO, and why (exit 0 allowed, 1 denied)")
    g = t.add_mutually_exclusive_group(required=True)
    g.add_argument("--src", metavar="NS/POD")
    g.add_argument("--src-labels", metavar="K=V,...")
    g2 = t.add_mutually_exclusive_group(required=True)
    g2.add_argument("--dst", metavar="NS/POD|ip:ADDR|node:NAME")
    g2.add_argument("--dst-labels", metavar="K=V,...")
    t.add_argument("--src-namespace", default="default")
    t.add_argument("--dst-namespace", default="default")
    t.add_argument("--dport", required=True, metavar="PORT/PROTO", help="e.g. 80/TCP, 53/UDP, 8/ICMP")
    t.add_argument("-f", "--file", action="append", metavar="FILE", help="policies and objects (default: the twin's state)")
    t.add_argument("--http-method")
    t.add_argument("--http-path")
    t.add_argument("--dns-query", metavar="NAME", help="a DNS query on this flow (checked by the DNS proxy rules)")
    t.set_defaults(func=run_trace)
    m = ps.add_parser("matrix", help="allowed connections between pods (ports/protocols per pair)")
    m.add_argument("-f", "--file", action="append", required=True, metavar="FILE")
    m.add_argument("-o", "--output", choices=("json", "csv", "text"), default="text")
    m.set_defaults(func=run_matrix)
    p.set_defaults(func=lambda ctx, args: (p.print_help(), 2)[1])


def run_check(ctx: Any, args: argparse.Namespace) -> int:
    from ...policy import parse_policies
    from ...policy.rules import policy_ref

    docs = load_documents(list(args.file))
    _, errors = parse_policies(docs)
    bad = {e.message.split(": ", 1)[0]: e for e in errors}
    n = invalid = 0
    for d in docs:
        v = d.value
        if not isinstance(v, dict) or v.get("kind") not in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy"):
            continue
        n += 1
        ref = policy_ref(v)
        e = bad.get(ref.display())
        unknown = _unknown_cilium_field(d) if e is None else None
        if e is None and unknown is None:
            print(f"{ref.display()}: OK", file=ctx.out)
            continue
        invalid += 1
        if e is None and unknown is not None:
            # the CRD's structural schema: kubectl apply (strict field validation) refuses the typo,
            # which would otherwise leave a rule that silently does nothing (`egres:`)
            field, loc = unknown
            print(f'{ref.display()}: INVALID: unknown field "{field}" (CiliumNetworkPolicy CRD schema) ({loc.render()})',
                  file=ctx.out)
        elif e is not None:
            where = e.location.render()
            print(f"{ref.display()}: INVALID: {e.message.split(': ', 1)[1]}" + (f" ({where})" if where else ""), file=ctx.out)
    if n == 0:   # a wrong or empty file must not read as "all policies valid"
        raise UserInputError(f"no CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy in {', '.join(args.file)}")
    print(f"{n} policies, {invalid} invalid" + (" (rejected by Cilium; the others would be enforced)" if invalid else ""), file=ctx.out)
    return 2 if invalid else 0


def _unknown_cilium_field(doc: Any) -> tuple[str, Any] | None:
    """The first field a CNP/CCNP's CRD schema does not declare (``spec.egres``), with its location."""
    import re

    from ...kube_model.yamlio import format_field_path, parse_field_path
    from ...render.validation import validate_object

    if doc.value.get("kind") == "NetworkPolicy":
        return None
    for field, message in validate_object(doc.value):
        m = re.fullmatch(r"Additional properties are not allowed \('([^']+)' was unexpected\)", message)
        if m:
            path = (parse_field_path(field) if field else ()) + (m.group(1),)
            return format_field_path(path), doc.location(path)
    return None


def _objects(files: list[str]) -> list[Any]:
    """Objects from files; a conformance case file (``objects:`` list) contributes its objects."""
    out: list[Any] = []
    for d in load_documents(list(files)):
        if isinstance(d.value, dict) and "kind" not in d.value and isinstance(d.value.get("objects"), list):
            out.extend(d.value["objects"])
        else:
            out.append(d)
    return out


def _engine(ctx: Any, files: list[str] | None) -> Any:
    from ...policy.loader import engine_from_objects

    if files:
        eng, errors = engine_from_objects(_objects(files))
    else:
        spec = ctx.load_spec()
        be = ctx.backend(spec)
        objs: list[Any] = []
        for kind in ("Namespace", "Node", "Pod", "Service", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy"):
            objs.extend(be.list(kind))
        cni = getattr(spec, "cni", None)
        eng, errors = engine_from_objects(objs, {
            "clusterName": getattr(cni, "cluster_name", "default"),
            "policyEnforcementMode": getattr(cni, "policy_enforcement_mode", "default"),
            "policyAuditMode": getattr(cni, "policy_audit_mode", False)})
    for e in errors:
        print(f"warning: {e} (policy rejected, not enforced)", file=ctx.err)
    return eng


def _endpoint(ref: str | None, labels: str | None, ns: str) -> Any:
    from ...policy import Endpoint

    if labels is not None:
        pairs = dict(x.split("=", 1) for x in labels.split(",") if x)
        return Endpoint.with_labels(pairs, ns)
    assert ref is not None
    if ref.startswith("ip:"):
        return Endpoint.ip(ref[3:])
    if ref.startswith("node:"):
        return Endpoint.node(ref[5:])
    if "/" not in ref:
        raise UserInputError(f"--src/--dst: expected NS/POD, ip:ADDR or node:NAME, got {ref!r}")
    return Endpoint.pod(ref)


def run_trace(ctx: Any, args: argparse.Namespace) -> int:
    from ...policy.loader import resolve_port
    from ...policy.trace import trace

    eng = _engine(ctx, args.file)
    port_s, _, proto = args.dport.partition("/")
    proto = (proto or "TCP").upper()
    src = _endpoint(args.src, args.src_labels, args.src_namespace)
    dst = _endpoint(args.dst, args.dst_labels, args.dst_namespace)
    for flag, ep in (("--src", src), ("--dst", dst)):
        if ep.kind == "pod" and ep.ref not in eng.pods:
            where = f"in {', '.join(args.file)}" if args.file else "in the twin (see `get pods -A`)"
            raise UserInputError(f"{flag}: unknown pod {ep.ref!r}: no such pod {where}")
    if re.fullmatch(r"[+-]?\d+", port_s.strip()):
        # a port is 1-65535 (TCP/UDP/SCTP); for ICMP the number is the echo type, 0-255
        low, high = (0, 255) if proto.startswith("ICMP") else (1, 65535)
        if not low <= int(port_s) <= high:
            raise UserInputError(f"--dport: port {port_s.strip()} is out of range; expected {low}-{high} for {proto} "
                                 "(e.g. 80/TCP, 53/UDP, 8/ICMP)")
        port_s = str(int(port_s))
    try:
        port = resolve_port(eng, dst.ref, port_s, proto)
    except ValueError as exc:
        raise UserInputError(f"--dport: {exc}") from None
    http = None
    if args.http_method or args.http_path:
        http = {"method": args.http_method or "GET", "path": args.http_path or "/"}
    res = trace(eng, src, dst, proto, port, http, args.dns_query)
    ctx.out.write(res.text)
    return 0 if res.allowed else 1


def run_matrix(ctx: Any, args: argparse.Namespace) -> int:
    from ...errors import ManifestError
    from ...policy.loader import engine_from_objects, load_objects_fast
    from ...policy.matrix import compute_matrix

    try:
        objs: list[Any] = load_objects_fast(args.file)
        if any(isinstance(o, dict) and "kind" not in o and isinstance(o.get("objects"), list) for o in objs):
            objs = _objects(args.file)   # a conformance case: its objects
    except Exception:  # a directory, unreadable/broken YAML: reload with positions for a precise error
        objs = _objects(args.file)
    if not objs:
        raise ManifestError(f"no objects in {', '.join(args.file)}; expected namespaces, pods and policies "
                            "(kubectl get -o yaml form)")
    eng, errors = engine_from_objects(objs)
    for e in errors:
        print(f"warning: {e} (policy rejected, not enforced)", file=ctx.err)
    m = compute_matrix(eng)
    ctx.out.write({"json": m.to_json, "csv": m.to_csv, "text": m.to_text}[args.output]())
    return 0
