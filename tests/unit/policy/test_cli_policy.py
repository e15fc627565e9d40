"""`ai-infra-ops policy check|trace|matrix` exit codes and output."""
from __future__ import annotations

from pathlib import Path

import pytest

from ai_infra_ops.cli.main import main

CASE = Path(__file__).resolve().parents[2] / "conformance" / "policy" / "echo-ingress-l7.yaml"
GOOD = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ok, namespace: d}\nspec: {endpointSelector: {}, ingress: [{}]}\n"
BAD = "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: bad, namespace: d}\nspec: {endpointSelector: {}, ingress: [{fromEntities: [x]}]}\n"


@pytest.mark.parametrize(("text", "rc", "needle"), [pytest.param(GOOD, 0, "CiliumNetworkPolicy d/ok: OK", id="valid"),
                                                    pytest.param(GOOD + BAD, 2, "d/bad: INVALID: spec.ingress[0].fromEntities[0]: unsupported entity: x", id="mixed")])
def test_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, rc: int, needle: str) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(text)
    assert main(["policy", "check", "-f", str(f)]) == rc
    assert needle in capsys.readouterr().out


@pytest.mark.parametrize(("src", "path", "rc", "needle"), [
    pytest.param("cilium-test/client2", "/public", 0, "Final verdict: ALLOWED", id="l7-allowed"),
    pytest.param("cilium-test/client2", "/private", 1, "denied (HTTP 403)", id="l7-denied"),
    pytest.param("cilium-test/client", "/", 1, "default deny", id="l3-denied")])
def test_trace(capsys: pytest.CaptureFixture[str], src: str, path: str, rc: int, needle: str) -> None:
    assert main(["policy", "trace", "--src", src, "--dst", "cilium-test/echo-same-node", "--dport", "8080/TCP",
                 "--http-path", path, "-f", str(CASE)]) == rc
    assert needle in capsys.readouterr().out


def test_matrix_csv(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "matrix", "-f", str(CASE), "-o", "csv"]) == 0
    out = capsys.readouterr().out
    assert "cilium-test/client2,cilium-test/echo-same-node" in out and "cilium-test/client,cilium-test/echo-same-node" not in out
