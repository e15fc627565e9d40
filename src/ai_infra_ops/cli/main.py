"""Entry point of the ``ai-infra-ops`` console script.

Every command lives in ``cli/commands/<name>.py`` and exposes ``register(subparsers)``; this module
adds the global options, dispatches, and turns the toolkit's errors into one line and an exit code
(2 = bad input, 3 = cluster unreachable, 1 = other failure or a failed check). ``--debug`` shows
the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from ..errors import AiInfraOpsError
from .context import DEFAULT_STATE_DIR, Context

COMMAND_MODULES = (
    "init", "up", "plan", "down", "render", "validate", "report",
    "get", "describe", "apply", "delete",
    "schedule", "probe", "observe", "metrics", "policy", "audit", "catalog",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ai-infra-ops",
        description=(
            "Build, simulate and prove a zero-trust GPU platform on Kubernetes. One declarative spec -> "
            "real artifacts; the embedded twin (default) or a real cluster (--kubeconfig); receipts."
        ),
    )
    parser.add_argument("--spec", metavar="FILE", help="platform spec (default: ./platform.yaml if present, else the built-in seed platform)")
    parser.add_argument("--state-dir", metavar="DIR", default=DEFAULT_STATE_DIR, help=f"twin state directory (default: {DEFAULT_STATE_DIR})")
    parser.add_argument("--kubeconfig", metavar="FILE", help="use a real cluster through this kubeconfig instead of the twin")
    parser.add_argument("--hubble-relay", metavar="ADDR", help="Hubble Relay address for flows on a real cluster (e.g. localhost:4245)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        mod = importlib.import_module(f"{__package__}.commands.{name}")
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    ctx = Context(
        spec_path=args.spec,
        state_dir=Path(args.state_dir),
        kubeconfig=args.kubeconfig,
        hubble_relay=args.hubble_relay,
        debug=args.debug,
    )
    try:
        rc = args.func(ctx, args)
        return int(rc or 0)
    except AiInfraOpsError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
