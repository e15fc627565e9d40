"""`ai-infra-ops audit [-f FILE ...] [--values FILE] [--set K=V ...] [-o text|json]`.

Audits network policies together with the workloads and namespaces they govern
(``policy.audit.audit_objects``) and reports gaps with severity, policy/field and a suggested fix.
With ``-f``: the given files (directories expand to their YAML files); fake-gpu-operator Helm
values are audited when ``--values``/``--set`` give them (the seed's ``--set`` flags verbatim).
Without ``-f``: the spec's rendered policies, namespaces, workloads and fake-gpu-operator objects,
and the spec's Helm values. Exit 1 when any finding is high, 2 for unreadable input or a policy
Cilium would reject (file:line:field).
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from ...errors import Location, UserInputError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="report zero-trust gaps in policies and the workloads they govern",
                       description="Audit Cilium/Kubernetes network policies against the workloads they govern.")
    p.add_argument("-f", "--filename", action="append", default=[], metavar="FILE",
                   help="policies, workloads and namespaces (YAML; repeatable; directories allowed). "
                        "Without -f: the spec's rendered policies and workloads")
    p.add_argument("--values", metavar="FILE", help="fake-gpu-operator Helm values file to audit")
    p.add_argument("--set", dest="set_args", action="append", default=[], metavar="KEY=VALUE",
                   help="fake-gpu-operator Helm --set value to audit (repeatable, Helm syntax)")
    p.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    p.set_defaults(func=run)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``--set`` over ``--values``, key by key, as Helm layers them."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _helm_values(args: argparse.Namespace) -> dict[str, Any] | None:
    from ...kube_model import load_yaml_file
    from ...spec.fake_gpu import parse_set_args

    if not args.values and not args.set_args:
        return None
    values: dict[str, Any] = {}
    if args.values:
        docs = load_yaml_file(args.values)
        if len(docs) != 1 or not isinstance(docs[0].value, dict):
            raise UserInputError("a Helm values file must hold one YAML mapping", Location(args.values))
        values = docs[0].value
    if args.set_args:
        try:
            values = _merge(values, parse_set_args(args.set_args))
        except ValueError as exc:
            raise UserInputError(str(exc), Location(field="--set")) from exc
    return values


def _spec_objects(spec: Any) -> list[Any]:
    from ...render.fake_gpu import render_fake_gpu_operator
    from ...render.policies import render_policies
    from ...render.workloads import render_namespaces, render_workloads

    return [*render_namespaces(spec), *render_workloads(spec), *render_fake_gpu_operator(spec), *render_policies(spec)]


def run(ctx: Any, args: argparse.Namespace) -> int:
    from ...kube_model import load_documents
    from ...policy.audit import SEVERITIES, audit_objects, has_high
    from ...render.fake_gpu import helm_values

    spec = ctx.load_spec()
    if args.filename:
        for f in args.filename:
            if not Path(f).exists():
                raise UserInputError("file not found", Location(f))
        objs: list[Any] = list(load_documents(args.filename))
        values = _helm_values(args)
        source = ", ".join(args.filename)
    else:
        objs = _spec_objects(spec)
        values = _helm_values(args)
        if values is None and spec.fake_gpu_operator.enabled:
            values = helm_values(spec)
        source = "the spec's rendered policies and workloads"
    findings = audit_objects(objs, cluster=spec.cni.cluster_name, helm_values=values, pools=spec.gpu_pools,
                             enforcement_mode=spec.cni.policy_enforcement_mode, audit_mode=spec.cni.policy_audit_mode)
    counts = Counter(f.severity for f in findings)
    if args.output == "json":
        json.dump({"source": source, "summary": {s: counts.get(s, 0) for s in SEVERITIES},
                   "findings": [f.as_dict() for f in findings]}, ctx.out, indent=2)
        ctx.out.write("\n")
    else:
        for f in findings:
            where = f"  ({f.location})" if f.location else ""
            print(f"{f.severity.upper():6} {f.code:30} {f.subject}{'  ' + f.field if f.field else ''}{where}", file=ctx.out)
            print(f"       {f.message}", file=ctx.out)
            print(f"       fix: {f.fix}", file=ctx.out)
        summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)
        print(f"audit of {source}: {len(findings)} finding(s): {summary}", file=ctx.out)
    return 1 if has_high(findings) else 0
