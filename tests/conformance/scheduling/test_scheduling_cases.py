"""Conformance: every scheduling case (ours and the shared seed example) holds in the twin.

Each case is a YAML file in the shared format (../shared/conformance/FORMAT.md); its
``expect_schedule`` entries are compared with ``run_case`` (the code behind ``ai-infra-ops schedule``).
Both the library path and the CLI path (``--check``, exit code) are exercised.
"""
from __future__ import annotations

import os

from pathlib import Path

import pytest

from ai_infra_ops.cli.main import main
from ai_infra_ops.kube_model import load_yaml_file
from ai_infra_ops.twin.scheduler import run_case
from ai_infra_ops.twin.scheduler.cases import check_expectations

HERE = Path(__file__).parent
SHARED = Path(os.environ["AI_INFRA_OPS_SHARED"]) / "conformance" / "examples"
CASES = sorted((HERE / "cases").glob("*.yaml"))
SEED = SHARED / "seed-gpu-phase.yaml"
ALL = CASES + ([SEED] if SEED.exists() else [])


def test_enough_cases() -> None:
    assert len(CASES) >= 12
    for path in CASES:
        case = load_yaml_file(path)[0].value
        assert case.get("source"), f"{path.name} names no source"
        assert case.get("expect_schedule"), f"{path.name} expects nothing"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_case_expectations_hold(path: Path) -> None:
    doc = load_yaml_file(path)[0]
    outcomes = run_case(doc.value, doc)
    assert check_expectations(outcomes, doc.value["expect_schedule"]) == []


@pytest.mark.parametrize("path", [CASES[0], SEED] if SEED.exists() else [CASES[0]], ids=lambda p: p.stem)
def test_cli_check_passes(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", str(path), "--check", "-o", "json"]) == 0
    assert "expectation(s) hold" in capsys.readouterr().err


def test_cli_check_reports_a_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SEED.read_text() if SEED.exists() else CASES[0].read_text()
    wrong = text.replace("phase: Running", "phase: Pending", 1) if "phase: Running" in text else \
        text.replace("phase: Pending", "phase: Running", 1)
    case = tmp_path / "wrong.yaml"
    case.write_text(wrong)
    assert main(["schedule", str(case), "--check"]) == 1
    assert "mismatch:" in capsys.readouterr().err
