"""`ai-infra-ops render --out DIR [--check]`: write every artifact a real build needs, validated.

Renders the spec (``render.render_all``), writes each artifact under DIR (only files whose bytes
differ are rewritten; scripts get mode 0755), prints one line per file, then validates every
YAML artifact (``render.validate_artifacts``: Kubernetes OpenAPI schemas of the spec's version,
the CiliumNetworkPolicy schema, kubeadm field checks). Exit 1 when any artifact fails validation;
exit 2, before anything is written, for a spec workload or chaos pod the API server would refuse.
``--check`` writes nothing: it fails (exit 1) when DIR is not byte-identical to a fresh render
(CI drift check). The same spec always renders byte-identical files.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ...errors import Location, UserInputError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("render", help="write kubeadm, bootstrap, Helm values, manifests and policies to a directory",
                       description="Render every artifact of the platform spec into DIR and validate it.")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output directory (created if missing)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if DIR differs from a fresh render or fails validation")
    p.add_argument("--token-secret-file", metavar="FILE",
                   help="secret mixed into the kubeadm bootstrap token (default: token derived from the cluster name)")
    p.set_defaults(func=run)


def write_artifacts(artifacts: list[Any], out_dir: Path) -> list[tuple[str, str]]:
    """Write artifacts under ``out_dir``; returns (path, "wrote"|"unchanged") per artifact.

    Raises:
        UserInputError: ``out_dir`` (or a parent of an artifact) exists and is not a directory.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError("exists and is not a directory", Location(str(out_dir)))
    results = []
    for a in artifacts:
        target = out_dir / a.path
        data = a.content.encode("utf-8")
        try:
            if target.is_file() and target.read_bytes() == data:
                status = "unchanged"
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                status = "wrote"
            target.chmod(a.mode)
        except OSError as exc:   # a missing or read-only parent (/proc/x), a file in the way, a full disk
            raise UserInputError(f"cannot write: {exc.strerror or exc}; expected a writable directory for --out",
                                 Location(str(target))) from exc
        results.append((a.path, status))
    return results


def run(ctx: Any, args: argparse.Namespace) -> int:
    from ...render import render_all, validate_artifacts
    from ...render.validation import kubernetes_schema_version

    from ...pipeline.preflight import check_spec_objects

    spec = ctx.load_spec()
    check_spec_objects(spec)   # a workload the API server would refuse: spec file:line, nothing written
    secret = b""
    if args.token_secret_file:
        try:
            secret = Path(args.token_secret_file).read_bytes().strip()
        except OSError as exc:
            raise UserInputError(f"cannot read token secret: {exc.strerror or exc}",
                                 Location(args.token_secret_file)) from exc
    artifacts = render_all(spec, token_secret=secret)
    out_dir = Path(args.out)
    rc = 0
    if args.check:
        for a in artifacts:
            target = out_dir / a.path
            same = target.is_file() and target.read_bytes() == a.content.encode("utf-8")
            print(f"{'ok     ' if same else 'DIFFERS'} {out_dir / a.path}", file=ctx.out)
            if not same:
                rc = 1
    else:
        for path, status in write_artifacts(artifacts, out_dir):
            print(f"{status:9} {out_dir / path}", file=ctx.out)
    problems = validate_artifacts(artifacts, spec.kubernetes_patch)
    version, note = kubernetes_schema_version(spec.kubernetes_patch)
    if note:
        print(f"note: {note}", file=ctx.out)
    n_yaml = sum(1 for a in artifacts if a.is_yaml)
    if problems:
        for p in problems:
            print(f"INVALID {p.render()}", file=ctx.out)
        print(f"validation: {len(problems)} problem(s) in {n_yaml} YAML files "
              f"(Kubernetes {version} schemas, CiliumNetworkPolicy schema)", file=ctx.out)
        return 1
    print(f"validation: {n_yaml} YAML files valid (Kubernetes {version} schemas, CiliumNetworkPolicy schema); "
          f"{len(artifacts)} artifacts{' checked' if args.check else ''}", file=ctx.out)
    if rc:
        print(f"{out_dir} is out of date: run `ai-infra-ops render --out {out_dir}`", file=ctx.out)
    return rc
