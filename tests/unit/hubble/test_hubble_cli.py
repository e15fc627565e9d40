"""`ai-infra-ops observe/metrics --input`: output, exit codes, one-line errors."""
from __future__ import annotations

from pathlib import Path

import pytest
from hubble_fixtures import SAMPLES

from ai_infra_ops.cli.main import main

HTTP = SAMPLES / "hubble-otel-basic-sample-5-http-flows.json"


def test_observe_json_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["observe", "--input", str(HTTP), "-o", "json"]) == 0
    assert capsys.readouterr().out == HTTP.read_text()


def test_observe_filters_and_last(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["observe", "--input", str(HTTP), "--http-status", "5+", "--last", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["Oct  4 14:28:41.706: istio-system/prometheus-6655946b9f-6xcpf:52506 (ID:16781) <- "
                   "kube-system/node-local-dns-6jnx9:9253 (world) http-response FORWARDED "
                   "(HTTP/1.1 503 4138ms (GET http://10.156.0.2:9253/metrics))"]
    assert main(["observe", "--input", str(HTTP), "--first", "1", "-o", "dict"]) == 0
    assert capsys.readouterr().out.startswith("  TIMESTAMP: Oct  4 14:28:38.735\n")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--verdict", "NOPE"], "invalid --verdict value: NOPE"),
        (["-o", "yaml"], "invalid output format: yaml"),
        (["--port", "x"], "invalid port"),
        (["--since", "soon"], "unable to parse time"),
    ],
)
def test_bad_input_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], needle: str) -> None:
    assert main(["observe", "--input", str(HTTP), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and err.count("\n") <= 2


def test_malformed_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "flows.json"
    bad.write_text(HTTP.read_text().splitlines()[0] + "\n{oops\n")
    assert main(["observe", "--input", str(bad), "--all"]) == 2
    assert f"{bad}:2:" in capsys.readouterr().err
    assert main(["metrics", "--input", str(tmp_path / "none.json")]) == 2


def test_metrics_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "--input", str(HTTP)]) == 0
    assert 'hubble_http_requests_total{method="GET",protocol="HTTP/1.1",reporter="client"} 3' in capsys.readouterr().out
