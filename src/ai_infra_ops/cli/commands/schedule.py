"""`ai-infra-ops schedule CASE.yaml [-o json|table] [--check] [--seed N]`: place a case's pods.

Reads a conformance case (``../shared/conformance/FORMAT.md``), runs the twin's kube-scheduler on
its Nodes and Pods with the case's ``kubernetesVersion`` and prints one object per Pod
(``{"pod", "node", "phase", "message"}``, input order). ``--check`` compares with the case's
``expect_schedule`` and exits 1 on a mismatch, naming each. A Pod the API server would reject is
bad input: one line with Kubernetes' text, exit 2. Needs no store and no cluster.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from ...errors import ManifestError
from ...kube_model import load_yaml_file
from ...twin.scheduler import run_case
from .probe import CASE_KEYS
from ...twin.scheduler.cases import CaseOutcome, check_expectations


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("schedule", help="schedule a conformance case's pods with the twin's kube-scheduler",
                       description="Place every Pod of a case (FORMAT.md) as kube-scheduler of the case's "
                                   "kubernetesVersion would, with its FailedScheduling message.")
    p.add_argument("case", help="conformance case YAML (objects, kubernetesVersion, expect_schedule)")
    p.add_argument("-o", "--output", default="table", choices=("table", "json"), help="output format (default table)")
    p.add_argument("--check", action="store_true", help="compare with expect_schedule; exit 1 on a mismatch")
    p.add_argument("--seed", type=int, default=0, help="seed of the tie-break among top-scored nodes (default 0)")
    p.set_defaults(func=run)


def format_table(outcomes: list[CaseOutcome]) -> str:
    """kubectl-style columns POD NODE PHASE MESSAGE (message last, unpadded)."""
    rows = [("POD", "NODE", "PHASE", "MESSAGE")] + [
        (o.pod, o.node or "<none>", o.phase, o.message or "") for o in outcomes]
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    return "".join("   ".join(r[c].ljust(widths[c]) for c in range(3)) + "   " + r[3] + "\n" for r in rows)


def run(ctx: Any, args: argparse.Namespace) -> int:
    docs = load_yaml_file(args.case)
    if len(docs) != 1 or not isinstance(docs[0].value, dict):
        raise ManifestError("expected one YAML document holding a case (name, objects, expect_schedule)",
                            docs[0].location() if docs else None)
    doc = docs[0]
    # a file that is not a case (a manifest, a spec) must not "pass" with nothing scheduled
    for key in doc.value:
        if key not in CASE_KEYS:
            raise ManifestError(f"unknown key (a case has: {', '.join(sorted(CASE_KEYS))}; see FORMAT.md)",
                                doc.location((key,)))
    if "objects" not in doc.value:
        raise ManifestError("a case needs `objects:` (the Nodes and Pods to schedule)", doc.location())
    outcomes = run_case(doc.value, doc, seed=args.seed)
    if args.output == "json":
        ctx.out.write(json.dumps([o.to_dict() for o in outcomes], indent=2) + "\n")
    else:
        ctx.out.write(format_table(outcomes))
    if args.check:
        expect = doc.value.get("expect_schedule") or []
        if not isinstance(expect, list):
            raise ManifestError("expected a list of {pod, node|phase, message_contains}",
                                doc.location(("expect_schedule",)))
        problems = check_expectations(outcomes, expect)
        for line in problems:
            ctx.err.write(f"mismatch: {line}\n")
        if problems:
            return 1
        ctx.err.write(f"ok: {len(expect)} expectation(s) hold\n")
    return 0
