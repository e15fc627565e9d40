"""`ai-infra-ops up`: validate the spec, run the phases (idempotent steps), run the validation
suite, write receipts, print a pass/fail summary. Exit 1 when a step or a check fails, 2 for a
spec that contradicts itself (before any step runs).

Shared by ``plan``, ``down`` and ``validate``: :func:`make_plan` (the CLI is the only place that
picks the backend and hands it the cluster add-ons) and :func:`print_checks`.
"""
from __future__ import annotations

import argparse
import secrets
import time
from pathlib import Path
from typing import Any

from ..context import Context, state_dir_error

SECRET_FILE = "install-secret"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("up", help="build the platform (Phase 1 and 2), validate it and write receipts",
                       description="Run the phases of the platform as idempotent steps, then the validation "
                                   "suite; receipts go to <state-dir>/receipts/<timestamp>/.")
    p.add_argument("--phase", choices=("1", "2", "all"), default="all", help="which phase to run (default: all)")
    p.add_argument("--no-validate", action="store_true", help="skip the validation suite after the steps")
    p.set_defaults(func=run)


def phases_of(arg: str) -> tuple[int, ...]:
    return (1, 2) if arg == "all" else (int(arg),)


def install_secret(state_dir: Path) -> tuple[bytes, bool]:
    """The per-installation secret (bootstrap token derivation) and whether it is new (not yet
    saved under the state dir: :func:`save_secret` once the plan is known to be valid)."""
    path = Path(state_dir) / SECRET_FILE
    if path.exists():
        return path.read_bytes(), False
    return secrets.token_bytes(32), True


def save_secret(state_dir: Path, value: bytes) -> None:
    path = Path(state_dir) / SECRET_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(value)
        path.chmod(0o600)
    except OSError as exc:
        raise state_dir_error(Path(state_dir), exc) from None


def cluster_addons(ctx: Context, spec: Any) -> list[dict[str, Any]]:
    """The objects kubeadm's addon phase creates (CoreDNS, kube-dns, kubernetes Service) — only for
    the twin, whose API server has no kubeadm behind it; a real cluster has its own."""
    if ctx.kubeconfig:
        return []
    from ...twin.network.dns import cluster_addons as addons

    return addons(dns_ip=spec.network.cluster_dns_ip, service_cidr=spec.network.service_cidr,
                  domain=spec.network.cluster_domain, control_plane_ips=[n.ip for n in spec.nodes if n.role == "control-plane"],
                  kubernetes_version=spec.kubernetes_version)


def make_plan(ctx: Context, spec: Any, phases: tuple[int, ...] = (1, 2)) -> list[Any]:
    """The steps for ``spec`` (raises SpecError for intents that cannot become policies). Built
    before the backend is opened, so bad input touches no state."""
    from ...pipeline import build_plan

    secret, fresh = install_secret(ctx.state_dir)
    steps = build_plan(spec, phases=phases, addons=cluster_addons(ctx, spec), token_secret=secret)
    if fresh:
        save_secret(ctx.state_dir, secret)
    return steps


def print_checks(ctx: Context, report: Any) -> None:
    """One line per check, then the counts."""
    marks = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "needs Cilium/Hubble": "NEED"}
    for r in report.results:
        print(f"  {marks.get(r.status, r.status):<4}  {r.id:<28} {r.title}", file=ctx.out)
        if r.status != "pass":
            print(f"        {r.message}", file=ctx.out)
    c = report.counts()
    print(f"checks: {c['pass']} passed, {c['fail']} failed, {c['skip']} skipped, "
          f"{c['needs Cilium/Hubble']} need Cilium/Hubble ({report.duration_s:.2f}s)", file=ctx.out)


def close(backend: Any) -> None:
    closer = getattr(backend, "close", None)
    if callable(closer):
        closer()


def run(ctx: Context, args: argparse.Namespace) -> int:
    from ...pipeline import run_plan
    from ...report import write_receipts
    from ...validate import run_validation

    t0 = time.perf_counter()
    spec = ctx.load_spec()
    steps = make_plan(ctx, spec, phases_of(args.phase))
    backend = ctx.backend(spec)
    try:
        print(f"up: {len(steps)} steps on backend {backend.name} (phase {args.phase})", file=ctx.out)
        result = run_plan(backend, steps, progress=lambda line: print(line, file=ctx.out, flush=True))
        print(result.message, file=ctx.out)
        report = None
        if result.ok and not args.no_validate:
            print("validate:", file=ctx.out)
            report = run_validation(backend, spec)
            print_checks(ctx, report)
        path = write_receipts(ctx.state_dir, command="up", entries=result.entries, validation=report,
                              flows=result.flows, message=result.message)
    finally:
        close(backend)
    ok = result.ok and (report is None or report.ok)
    print(f"{'PASS' if ok else 'FAIL'}: up {'succeeded' if ok else 'failed'} in {time.perf_counter() - t0:.2f}s; "
          f"receipts: {path}", file=ctx.out)
    if not result.ok:
        print(f"error: {result.message}", file=ctx.err)
    return 0 if ok else 1
