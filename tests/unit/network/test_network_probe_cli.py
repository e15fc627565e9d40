"""`ai-infra-ops probe CASE.yaml`: output shape, --check exit codes, bad input -> exit 2 with file:line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ai_infra_ops.cli.main import main

CASE = """\
name: cli-case
world: {dns: {api.example.com: [203.0.113.10]}}
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: demo}}
  - apiVersion: v1
    kind: Pod
    metadata: {name: a, namespace: demo, labels: {app: a}}
    spec: {containers: [{name: c, image: busybox}]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: b, namespace: demo, labels: {app: b}}
    spec: {containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 80}]}]}
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: b-in, namespace: demo}
    spec: {podSelector: {matchLabels: {app: b}}, ingress: [{from: [{podSelector: {matchLabels: {app: a}}}]}]}
probes:
  - {from: demo/a, to: demo/b, port: http, protocol: TCP, expect: allowed}
  - {from: demo/b, to: demo/b, port: 80, protocol: TCP, expect: allowed}
  - {from: demo/a, to: fqdn:api.example.com, port: 443, protocol: TCP, expect: allowed}
  - {from: demo/a, to: ip:8.8.8.8, protocol: ICMP, expect: EXPECTATION}
"""


def _write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "case.yaml"
    p.write_text(text)
    return str(p)


def test_json_output_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, CASE.replace("EXPECTATION", "allowed"))
    assert main(["probe", path, "-o", "json", "--check"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [list(o) for o in out] == [["from", "to", "port", "protocol", "verdict", "drop_reason", "http_status", "flows"]] * 4
    assert out[0]["port"] == "http" and out[0]["verdict"] == "FORWARDED" and out[0]["flows"]
    assert out[1]["flows"] == []  # self traffic
    # no DNS rules: the lookup is a plain UDP exchange with CoreDNS (no proxy records), then the connection
    assert any(f["l4"].get("UDP", {}).get("destination_port") == 53 for f in out[2]["flows"])
    assert not any("l7" in f for f in out[2]["flows"])
    assert any(f["IP"]["destination"] == "203.0.113.10" for f in out[2]["flows"])
    assert out[3]["protocol"] == "ICMP"


def test_check_mismatch_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, CASE.replace("EXPECTATION", "denied"))
    assert main(["probe", path, "--check"]) == 1
    err = capsys.readouterr().err
    assert "probe 3 demo/a -> ip:8.8.8.8" in err and "expected denied, got FORWARDED" in err and "3/4" in err


def test_table_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, CASE.replace("EXPECTATION", "allowed"))
    assert main(["probe", path, "-o", "table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["FROM", "TO", "PORT", "PROTO", "VERDICT"] and len(lines) == 5


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: x\nobjects: []\nprobes:\n  - {from: demo/a, to: demo/b, port: 80, protocl: TCP}\n", ":4:"),
        ("name: x\nobjects: []\nbogus: 1\n", ":3:"),
        ("name: x\nobjects:\n  - {kind: Pod, metadata: {name: a}}\n", ":3:"),
        ("name: x\nobjects: []\nprobes:\n  - {from: demo/a, to: demo/b, port: 80, protocol: GRE}\n", ":4:"),
        ("name: x\nobjects: []\nprobes:\n  - {from: demo/a, to: demo/b, port: 70000}\n", ":4:"),
        ("name: x\nobjects: []\nprobes:\n  - {from: demo/a, to: demo/b, port: 80}\n", ":4:"),
        ("name: x\ncilium: {enableSCTP: maybe}\nobjects: []\n", ":2:"),
        ("name: x\nobjects: [\n", ":3:"),
    ],
    ids=["unknown-probe-key", "unknown-case-key", "object-without-apiversion", "bad-protocol", "bad-port",
         "unknown-pod", "bad-cilium-setting", "broken-yaml"],
)
def test_bad_input_exits_2_with_location(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str) -> None:
    path = _write(tmp_path, text)
    assert main(["probe", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}{where}") and "Traceback" not in err
