"""Every conformance case with probes passes ``ai-infra-ops probe CASE --check``.

Cases: ``../shared/conformance/examples/*.yaml`` (the shared, upstream-derived examples) and every
``tests/conformance/**/*.yaml`` of this repository that has ``probes``. Each case runs through the
real CLI entry point (``cli.main.main``) on a fresh in-memory twin; a mismatch prints the probe,
the expectation, the verdict and the engine's explanation.
"""
from __future__ import annotations

import os

import io
import json
from pathlib import Path

import pytest
import yaml

from ai_infra_ops.cli.context import Context
from ai_infra_ops.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ["AI_INFRA_OPS_SHARED"]) / "conformance" / "examples"

# Cases whose expectations disagree with upstream Cilium semantics, with the reason; strict, so a
# fixed case (or a changed twin) shows up as XPASS and this entry must go.
DISPUTED: dict[str, str] = {}


def _cases() -> list[Path]:
    paths = sorted(SHARED.glob("*.yaml")) if SHARED.is_dir() else []
    paths += sorted(p for p in (ROOT / "tests" / "conformance").rglob("*.yaml"))
    out = []
    for p in paths:
        doc = yaml.safe_load(p.read_text())
        if isinstance(doc, dict) and doc.get("probes"):
            out.append(p)
    return out


def _id(p: Path) -> str:
    return f"{p.parent.name}/{p.name}"


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(argv)
    ctx = Context(out=out, err=err)
    rc = args.func(ctx, args)
    return rc, out.getvalue(), err.getvalue()


CASES = _cases()


@pytest.mark.parametrize(
    "case",
    [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=DISPUTED[_id(p)])) if _id(p) in DISPUTED else p
     for p in CASES],
    ids=[_id(p) for p in CASES],
)
def test_probe_check(case: Path) -> None:
    rc, out, err = _run(["probe", str(case), "-o", "json", "--check"])
    results = json.loads(out)
    probes = yaml.safe_load(case.read_text())["probes"]
    assert len(results) == len(probes)
    for res, pr in zip(results, probes):
        assert (res["from"], res["to"], res["port"]) == (pr["from"], pr.get("to"), pr.get("port"))
        assert res["verdict"] in ("FORWARDED", "DROPPED")
    assert rc == 0, err


def test_l7_example_is_covered() -> None:
    assert any(p.name == "l7-http-ingress.yaml" for p in CASES)
    assert sum(1 for p in CASES if p.parent.name == "network") >= 10
