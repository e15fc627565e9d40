"""Golden files of ``render`` for the default spec (the seed platform), byte for byte.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/golden/test_render_golden.py`` and review the diff (``git diff tests/golden/render``).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ai_infra_ops.render import render_all, validate_artifacts
from ai_infra_ops.spec import default_spec, spec_from_data

GOLDEN = Path(__file__).parent / "render"
ARTIFACTS = render_all(default_spec())


def test_golden_file_set_matches() -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        for stale in GOLDEN.rglob("*"):
            if stale.is_file() and stale.relative_to(GOLDEN).as_posix() not in {a.path for a in ARTIFACTS}:
                stale.unlink()
    on_disk = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file())
    if not os.environ.get("UPDATE_GOLDEN"):
        assert on_disk == [a.path for a in ARTIFACTS], "golden file set differs: run with UPDATE_GOLDEN=1 and review"


@pytest.mark.parametrize("artifact", ARTIFACTS, ids=lambda a: a.path)
def test_golden(artifact) -> None:  # type: ignore[no-untyped-def]
    target = GOLDEN / artifact.path
    if os.environ.get("UPDATE_GOLDEN"):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(artifact.content, encoding="utf-8")
    assert target.exists(), f"missing golden file {target}: run with UPDATE_GOLDEN=1"
    assert target.read_text(encoding="utf-8") == artifact.content


def test_render_is_deterministic() -> None:
    again = render_all(default_spec())
    assert [(a.path, a.content.encode(), a.mode) for a in again] == [(a.path, a.content.encode(), a.mode) for a in ARTIFACTS]


def test_paths_are_sorted_and_scripts_executable() -> None:
    assert [a.path for a in ARTIFACTS] == sorted(a.path for a in ARTIFACTS)
    assert {a.path for a in ARTIFACTS if a.mode == 0o755} == {"bootstrap/node-bootstrap.sh", "helm/install.sh"}


@pytest.mark.parametrize("data", [
    {},
    {"kubernetesVersion": "1.33"},
    {"zeroTrust": {"allowIntraNamespace": True}},
    {"fakeGpuOperator": {"enabled": False}, "zeroTrust": {"enabled": False}},
], ids=["default", "k8s-1.33", "intra-namespace", "no-operator-no-zt"])
def test_every_artifact_validates(data: dict) -> None:  # type: ignore[type-arg]
    spec = spec_from_data(data)
    problems = validate_artifacts(render_all(spec), spec.kubernetes_patch)
    assert [p.render() for p in problems] == []
