"""`ai-infra-ops render` and `ai-infra-ops audit` through the CLI entry point: files, output, exit codes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ai_infra_ops.cli.main import main

SEED = Path(os.environ["AI_INFRA_OPS_SHARED"]) / "seed" / "manifests"


def test_render_writes_validates_and_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["render", "--out", str(out)]) == 0
    first = capsys.readouterr().out
    assert "wrote     " in first and "validation: 14 YAML files valid" in first
    for rel in ("kubeadm/init-config.yaml", "kubeadm/join-node01.yaml", "bootstrap/node-bootstrap.sh",
                "helm/cilium-values.yaml", "helm/fake-gpu-operator-values.yaml", "manifests/50-policies.yaml",
                "crds/ciliumnetworkpolicies.yaml"):
        assert (out / rel).is_file(), rel
    assert os.access(out / "bootstrap/node-bootstrap.sh", os.X_OK)
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["render", "--out", str(out)]) == 0
    second = capsys.readouterr().out
    assert "wrote" not in second and "unchanged" in second
    assert snapshot == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["render", "--out", str(out), "--check"]) == 0
    (out / "manifests/50-policies.yaml").write_text("tampered\n")
    assert main(["render", "--out", str(out), "--check"]) == 1
    assert "DIFFERS" in capsys.readouterr().out


def test_render_token_secret_changes_only_the_token(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"0123456789abcdef\n")
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["render", "--out", str(a)]) == 0
    assert main(["render", "--out", str(b), "--token-secret-file", str(secret)]) == 0
    differing = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()
                       and p.read_bytes() != (b / p.relative_to(a)).read_bytes())
    assert differing == ["kubeadm/init-config.yaml", "kubeadm/join-node01.yaml", "kubeadm/join-node02.yaml", "kubeadm/join-node03.yaml"]


@pytest.mark.parametrize("argv_builder,needle", [
    (lambda t: ["render", "--out", str(t / "file")], "not a directory"),
    (lambda t: ["render", "--out", str(t / "o"), "--token-secret-file", str(t / "missing")], "cannot read token secret"),
    (lambda t: ["--spec", str(t / "bad-spec.yaml"), "render", "--out", str(t / "o")], "bad-spec.yaml"),
    (lambda t: ["audit", "-f", str(t / "missing.yaml")], "file not found"),
    (lambda t: ["audit", "-f", str(t / "broken.yaml")], "broken.yaml:2:1: invalid YAML"),
    (lambda t: ["audit", "-f", str(t / "invalid-cnp.yaml")], "unsupported entity"),
    (lambda t: ["audit", "--set", "novalue"], "has no value"),
], ids=["out-is-file", "secret-missing", "bad-spec", "audit-missing", "audit-broken-yaml", "audit-invalid-policy", "audit-bad-set"])
def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv_builder, needle: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("x")
    (tmp_path / "bad-spec.yaml").write_text("nodes:\n  - name: cp01\n    role: boss\n    ip: 1.2.3.4\n")
    (tmp_path / "broken.yaml").write_text('a: "unterminated\n')
    (tmp_path / "invalid-cnp.yaml").write_text(
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x, namespace: gpu}\n"
        "spec:\n  endpointSelector: {}\n  egress:\n    - toEntities: [internet]\n")
    assert main(argv_builder(tmp_path)) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


@pytest.mark.skipif(not SEED.exists(), reason="seed manifests not present")
def test_audit_seed_policy(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["audit", "-f", str(SEED / "ztpCudaTestPod.yaml"), "-f", str(SEED / "cudaTestPod.yaml"),
               "--set", "topology.nodePools.default.gpuCount=8", "--set", "topology.nodePools.default.gpuProduct=H100",
               "--set", "topology.nodePoolLabel=run.ai/simulated-gpu-node-pool"])
    out = capsys.readouterr().out
    assert rc == 1
    for code in ("dns-without-l7", "selects-nothing", "no-default-deny-ingress", "helm-values"):
        assert code in out
    assert "3 high" in out


@pytest.mark.skipif(not SEED.exists(), reason="seed manifests not present")
def test_audit_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "-f", str(SEED / "ztpCudaTestPod.yaml"), "-f", str(SEED / "cudaTestPod.yaml"), "-o", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["high"] == 3
    assert {"severity", "code", "subject", "field", "message", "fix", "location"} == set(data["findings"][0])


def test_audit_of_the_spec_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit"]) == 0
    assert "0 high, 0 medium" in capsys.readouterr().out
