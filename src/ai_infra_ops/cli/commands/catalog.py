"""`ai-infra-ops catalog [list|show MODEL] [-o table|json|yaml]`: the GPU model catalog.

``list`` (default) prints one row per model; ``show MODEL`` prints one model's facts, its MIG
profiles and, for NVIDIA, the node labels GPU Feature Discovery would write.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from ...catalog import GpuModel, all_models, get_model
from ...errors import UserInputError
from ...kube_model import dump_yaml


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("catalog", help="list the GPU models or show one (catalog show h100)",
                       description="The GPU model catalog: 20 models with resource names, memory, MIG profiles.")
    p.add_argument("action", nargs="?", default="list", help="list (default) or show")
    p.add_argument("model", nargs="?", help="model id or alias for show (e.g. h100, H100, mi300x)")
    p.add_argument("-o", "--output", default=None, choices=("table", "json", "yaml"),
                   help="output format (list: table; show: text unless json/yaml)")
    p.set_defaults(func=run)


def run(ctx: Any, args: argparse.Namespace) -> int:
    if args.action == "list":
        if args.model:
            raise UserInputError(f"catalog list takes no model (got {args.model!r}); use: catalog show {args.model}")
        models = all_models()
        if args.output in ("json", "yaml"):
            rows = [m.to_dict() for m in models]
            ctx.out.write(json.dumps(rows, indent=2) + "\n" if args.output == "json" else dump_yaml(rows))
        else:
            ctx.out.write(format_table(models))
        return 0
    if args.action == "show":
        if not args.model:
            raise UserInputError("catalog show needs a model, e.g. catalog show h100")
        m = get_model(args.model)
        data = m.to_dict()
        if m.vendor == "nvidia" and m.gfd_product:
            data["gfd_labels"] = m.gfd_labels(m.gpus_per_node)
        if args.output == "json":
            ctx.out.write(json.dumps(data, indent=2) + "\n")
        elif args.output == "yaml":
            ctx.out.write(dump_yaml(data))
        else:
            ctx.out.write(format_model(m))
        return 0
    raise UserInputError(f"unknown catalog action {args.action!r}; expected list or show")


def _cell(v: Any) -> str:
    return "<none>" if v is None else str(v)


def format_table(models: tuple[GpuModel, ...]) -> str:
    """kubectl-style table, columns padded to the widest cell plus three spaces."""
    header = ["ID", "VENDOR", "RESOURCE", "PRODUCT", "MEMORY(MiB)", "FAMILY", "CC", "GPUS/NODE", "MIG", "STATUS", "USABLE"]
    rows = [[m.id, m.vendor, _cell(m.resource), _cell(m.product), _cell(m.memory_mib), _cell(m.family),
             _cell(m.compute_capability), "/".join(str(x) for x in m.gpus_per_node_options),
             str(len(m.mig_profiles)) if m.mig_profiles else "-", m.status, "yes" if m.usable else "no"]
            for m in models]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join(lines) + "\n"


def format_model(m: GpuModel) -> str:
    """Human-readable facts of one model (describe-like)."""
    facts = [("ID", m.id), ("Aliases", ", ".join(m.aliases) or "<none>"), ("Vendor", m.vendor),
             ("Resource", _cell(m.resource)), ("Product", _cell(m.product)), ("GFD product", _cell(m.gfd_product)),
             ("Memory", f"{m.memory_mib} MiB ({m.memory_source})" if m.memory_mib else "<unknown>"),
             ("Family", _cell(m.family)), ("Compute capability", _cell(m.compute_capability)),
             ("SMs", _cell(m.sm_count)), ("Compute units", _cell(m.compute_units)),
             ("Power limit", f"{m.power_limit_w} W" if m.power_limit_w else "<unknown>"),
             ("GPUs per node", "/".join(str(x) for x in m.gpus_per_node_options) + f" (default {m.gpus_per_node})"),
             ("Status", m.status), ("Verified", "yes" if m.verified else "no"),
             ("Usable in a pool", "yes" if m.usable else f"no: {m.unusable_reason}")]
    width = max(len(k) for k, _ in facts) + 2
    out = [f"{(k + ':').ljust(width)}{v}" for k, v in facts]
    if m.mig_profiles:
        out.append("MIG profiles:")
        details = {p.name: p for p in m.mig_profile_details}
        for name, n in m.mig_profiles.items():
            p = details.get(name)
            extra = (f"  GI id {p.gi_profile_id}, {p.memory_gib} GiB, {p.sm_count} SMs, resource {p.resource}" if p else "")
            out.append(f"  {name:<12} x{n}{extra}")
    if m.vendor == "nvidia" and m.gfd_product:
        out.append(f"GFD labels ({m.gpus_per_node} GPUs):")
        out += [f"  {k}={v}" for k, v in m.gfd_labels(m.gpus_per_node).items()]
    return "\n".join(out) + "\n"
