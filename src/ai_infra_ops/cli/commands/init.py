"""`ai-infra-ops init`: write the built-in spec (the seed platform) to a file for editing.

Refuses to overwrite an existing file unless ``--force`` (exit 2). ``--seed-helm-values`` writes
the seed's exact fake-gpu-operator ``--set`` values instead of the generated correct ones, to
reproduce the seed's flaws (K80 memory, ignored ``nodePoolLabel``) on purpose. ``--schema``
writes the spec's JSON Schema instead (for editors, e.g. yaml-language-server), to stdout unless
``-o`` is given.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ...errors import Location, UserInputError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("init", help="write the default platform spec (the seed platform) to platform.yaml",
                       description="Write the built-in platform spec (the seed platform) to a YAML file for editing.")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="where to write (default: platform.yaml, or stdout with --schema; - for stdout)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--seed-helm-values", action="store_true",
                   help="use the seed's exact fake-gpu-operator --set values (reproduces its flaws)")
    p.add_argument("--schema", action="store_true", help="write the JSON Schema of platform.yaml instead")
    p.set_defaults(func=run)


def run(ctx: Any, args: argparse.Namespace) -> int:
    from ...spec import PlatformSpec, default_spec, dump_spec_yaml, seed_values

    if args.schema:
        text = json.dumps(PlatformSpec.model_json_schema(by_alias=True), indent=2, sort_keys=True) + "\n"
        output = args.output or "-"
        summary = "JSON Schema of platform.yaml"
    else:
        spec = default_spec()
        if args.seed_helm_values:
            spec.fake_gpu_operator.values = seed_values()
        text = dump_spec_yaml(spec)
        output = args.output or "platform.yaml"
        summary = (f"Kubernetes {spec.kubernetes_patch}, nodes {', '.join(n.name for n in spec.nodes)}, "
                   f"{spec.total_gpus()} GPUs); edit it, then run: ai-infra-ops --spec {output} up")
    if output == "-":
        ctx.out.write(text)
        return 0
    out = Path(output)
    if out.is_dir():
        raise UserInputError("is a directory; give a file name", Location(str(out)))
    if out.exists() and not args.force:
        raise UserInputError("file exists; use --force to overwrite it", Location(str(out)))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:   # a read-only or impossible parent (/proc/x), a file in the way
        raise UserInputError(f"cannot write: {exc.strerror or exc}; expected a writable file path for -o",
                             Location(str(out))) from exc
    print(f"wrote {out} ({summary}" + (")" if args.schema else ""), file=ctx.out)
    return 0
