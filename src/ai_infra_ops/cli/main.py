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
from typing import Any

from ..errors import AiInfraOpsError
from .context import DEFAULT_STATE_DIR, Context

COMMAND_MODULES = (
    "init", "up", "plan", "down", "render", "validate", "report",
    "get", "describe", "apply", "delete",
    "schedule", "probe", "observe", "metrics", "policy", "audit", "catalog",
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose leaf commands take options and positionals in any order, as kubectl
    does (``get pods -n gpu cudatestpod``): argparse's plain parser would stop filling ``names``
    at the first option and reject the name after it as an unrecognized argument."""

    _intermixing = False

    def error(self, message: str) -> Any:
        """One ``error:`` line naming the command and what was expected, a hint, exit code 2 (not
        argparse's usage block, which buries the one line that matters)."""
        self.exit(2, f"error: {self.prog}: {message}\nhint: see `{self.prog} --help`\n")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._subparsers is not None or self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ai-infra-ops",
        description=(
            "Build, simulate and prove a zero-trust GPU platform on Kubernetes. One declarative spec -> "
            "real artifacts; the embedded twin (default) or a real cluster (--kubeconfig); receipts."
        ),
    )
    for flags, kwargs in GLOBAL_OPTIONS:
        parser.add_argument(*flags, **kwargs)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        mod = importlib.import_module(f"{__package__}.commands.{name}")
        mod.register(sub)
    _add_global_options(sub)
    return parser


#: options every command takes, before or after the command name (`up --spec x` = `--spec x up`)
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--spec",), {"metavar": "FILE", "help": "platform spec (default: ./platform.yaml if present, else the built-in seed platform)"}),
    (("--state-dir",), {"metavar": "DIR", "default": DEFAULT_STATE_DIR, "help": f"twin state directory (default: {DEFAULT_STATE_DIR})"}),
    (("--kubeconfig",), {"metavar": "FILE", "help": "use a real cluster through this kubeconfig instead of the twin"}),
    (("--hubble-relay",), {"metavar": "ADDR", "help": "Hubble Relay address for flows on a real cluster (e.g. localhost:4245)"}),
    (("--debug",), {"action": "store_true", "help": "show tracebacks"}),
)


def _add_global_options(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Give every (sub)command the global options too; SUPPRESS keeps the value given before the
    command unless the option is repeated after it."""
    for cmd in sub.choices.values():
        group = cmd.add_argument_group("global options (also accepted before the command)")
        for flags, kwargs in GLOBAL_OPTIONS:
            group.add_argument(*flags, **{**kwargs, "default": argparse.SUPPRESS})
        for action in cmd._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_global_options(action)


def _command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The deepest (sub)command parser that ``args`` selected."""
    while True:
        action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        chosen = getattr(args, action.dest, None) if action is not None else None
        if action is None or chosen not in action.choices:
            return parser
        parser = action.choices[chosen]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:   # name the (sub)command whose options were mistyped, not the top-level program
        _command_parser(parser, args).error(f"unrecognized arguments: {' '.join(extras)}")
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
