"""`ai-infra-ops init` and `ai-infra-ops catalog` through the CLI entry point."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ai_infra_ops.cli.main import main
from ai_infra_ops.spec import default_spec, load_spec


def test_init_writes_default_spec_and_refuses_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert load_spec(tmp_path / "platform.yaml") == default_spec()
    before = (tmp_path / "platform.yaml").read_text()
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "platform.yaml: file exists; use --force" in err
    assert (tmp_path / "platform.yaml").read_text() == before
    assert main(["init", "--force", "--seed-helm-values"]) == 0
    assert load_spec(tmp_path / "platform.yaml").fake_gpu_operator.values["topology"]["nodePoolLabel"] == "run.ai/simulated-gpu-node-pool"


def test_init_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "-o", "-"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["kubernetesVersion"] == "1.35" and data["gpuPools"][0]["gpusPerNode"] == 8


def test_init_schema_validates_the_default_spec(capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    assert main(["init", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert main(["init", "-o", "-"]) == 0
    jsonschema.validate(yaml.safe_load(capsys.readouterr().out), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gpuPools": [{"name": "x", "gpusPerNode": 0}]}, schema)


@pytest.mark.parametrize("argv, fragments", [
    (["catalog"], ["ID", "h100", "NVIDIA H100 80GB HBM3", "81559", "falcon-shores", "cancelled"]),
    (["catalog", "list", "-o", "table"], ["MEMORY(MiB)", "mi300x", "amd.com/gpu"]),
    (["catalog", "show", "H100"], ["Product:", "NVIDIA H100 80GB HBM3", "SMs:", "132", "700 W", "nvidia.com/mig-1g.10gb.me",
                                   "nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3"]),
    (["catalog", "show", "falcon-shores"], ["Usable in a pool:", "no: GPU model 'falcon-shores' (status cancelled)"]),
])
def test_catalog_text(argv: list[str], fragments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    for f in fragments:
        assert f in out


def test_catalog_json_and_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 20 and data[4]["id"] == "h100" and data[4]["memory_mib"] == 81559
    assert main(["catalog", "show", "h100", "-o", "yaml"]) == 0
    one = yaml.safe_load(capsys.readouterr().out)
    assert one["gfd_labels"]["nvidia.com/gpu.count"] == "8"
    assert one["mig_profile_details"]["7g.80gb"]["sm_count"] == 132


@pytest.mark.parametrize("argv, fragment", [
    (["catalog", "show", "x100"], "unknown GPU model 'x100'; known models:"),
    (["catalog", "show"], "catalog show needs a model"),
    (["catalog", "frobnicate"], "unknown catalog action 'frobnicate'"),
])
def test_catalog_bad_input_exit_2(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
