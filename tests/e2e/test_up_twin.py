"""End to end: `ai-infra-ops up` of the default spec on the real twin (both phases, validation,
receipts), idempotency of a second `up`, `plan`, `down`, `validate` catching a broken platform,
`report`, and bad specs refused before any step."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai_infra_ops.cli.main import main
from ai_infra_ops.report import FILES, latest


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "state"


def cli(state: Path, *args: str) -> int:
    return main(["--state-dir", str(state), *args])


def test_up_twice_plan_report_down(state, capsys):
    assert cli(state, "up") == 0
    out = capsys.readouterr().out
    assert "PASS: up succeeded" in out and "checks: 24 passed, 0 failed" in out
    receipt = latest(state)
    assert receipt is not None and sorted(p.name for p in receipt.iterdir()) == sorted(FILES)
    summary = json.loads((receipt / "validation.json").read_text())
    assert summary["ok"] is True and summary["backend"] == "twin"
    ids = {r["id"]: r for r in summary["results"]}
    for cid in ("conn-pod-to-pod-other-node", "zt-egress-8.8.8.8", "zt-c2c", "zt-dns-tunnel", "zt-grpc-denied",
                "zt-cross-namespace", "zt-kubelet-10250", "gpu-allocatable", "gpu-chaos-pending"):
        assert ids[cid]["status"] == "pass", ids[cid]
    assert ids["zt-egress-8.8.8.8"]["flow_ids"], "a drop check must name its flows"
    assert "Insufficient nvidia.com/gpu" in ids["gpu-chaos-pending"]["observed"]
    ops = [json.loads(x) for x in (receipt / "ops-log.jsonl").read_text().splitlines()]
    by_step = {o["step"]: o for o in ops}
    assert by_step["kubeadm-init"]["action"] == "rendered"
    assert by_step["baseline-egress"]["action"] == "applied" and by_step["egress-dropped"]["action"] == "applied"
    assert by_step["baseline-egress"]["evidence"]["flows"] and by_step["egress-dropped"]["evidence"]["flows"]
    flows = [json.loads(x)["flow"] for x in (receipt / "flows.json").read_text().splitlines()]
    assert any(f["verdict"] == "DROPPED" and f.get("drop_reason_desc") == "POLICY_DENIED" for f in flows)

    assert cli(state, "up") == 0
    out = capsys.readouterr().out
    assert "nothing to do: all 18 steps already satisfied" in out
    second = [json.loads(x) for x in (latest(state) / "ops-log.jsonl").read_text().splitlines()]
    assert {o["action"] for o in second} == {"skipped"}

    assert cli(state, "plan") == 0
    assert "0 to do" in capsys.readouterr().out

    assert cli(state, "report") == 0
    assert "checks: 24 passed" in capsys.readouterr().out

    assert cli(state, "down") == 0
    capsys.readouterr()
    assert cli(state, "plan") == 0
    out = capsys.readouterr().out
    assert "[ ] phase 2  zero-trust-policies" in out and "[ ] phase 2  cuda-test-pod" in out


def test_validate_catches_missing_policies(state, capsys):
    assert cli(state, "up") == 0
    capsys.readouterr()
    from ai_infra_ops.spec import default_spec
    from ai_infra_ops.twin.backend import TwinBackend

    tb = TwinBackend.open(state, spec=default_spec())
    for pol in tb.list("CiliumNetworkPolicy", "gpu"):
        tb.delete("CiliumNetworkPolicy", pol["metadata"]["name"], "gpu")
    tb.close()
    assert cli(state, "validate") == 1
    out = capsys.readouterr().out
    assert "FAIL  zt-egress-8.8.8.8" in out and "FAIL  zt-dns-tunnel" in out
    summary = json.loads((latest(state) / "validation.json").read_text())
    assert summary["ok"] is False
    # up notices the missing policies and restores them; the egress probe is observed again
    assert cli(state, "up", "--no-validate") == 0
    out = capsys.readouterr().out
    assert "zero-trust-policies  applied" in out and "egress-dropped       applied" in out


@pytest.mark.parametrize("patch,needle", [
    ("gpuPools:\n- name: default\n  model: h100\n  gpusPerNode: 8\n  nodes: [node09]\n", "node09"),
    ("zeroTrust:\n  workloadNamespaces: [nowhere]\n", "nowhere"),
])
def test_contradicting_spec_exit_2_before_any_step(state, tmp_path, capsys, patch, needle):
    spec = tmp_path / "platform.yaml"
    spec.write_text(patch)
    assert main(["--state-dir", str(state), "--spec", str(spec), "up"]) == 2
    err = capsys.readouterr().err
    assert needle in err and "platform.yaml" in err
    assert not state.exists()  # nothing written: no twin, no secret, no receipts


def test_phase_1_only(state, capsys):
    assert cli(state, "up", "--phase", "1", "--no-validate") == 0
    out = capsys.readouterr().out
    assert "up: 8 steps" in out and "connectivity         applied" in out


def test_report_without_receipts_is_exit_2(state, capsys):
    assert cli(state, "report") == 2
    assert "no receipts" in capsys.readouterr().err
