"""The report page in headless Chromium (Debian ``chromium``): no console errors, map drawn."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ai_infra_ops.report import write_receipts

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)

pytestmark = [pytest.mark.chromium,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install chromium)")]


def dump_dom(page: Path, profile: Path) -> tuple[str, str]:
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, proc.stderr


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_console_detection_catches_errors(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>missingFunction();</script></body></html>")
    _, err = dump_dom(bad, tmp_path / "p1")
    assert any("Uncaught ReferenceError" in line for line in console_lines(err))


def test_report_renders_without_console_errors(tmp_path, sample_report, sample_ops, sample_flows):
    path = write_receipts(tmp_path, command="up", entries=sample_ops, validation=sample_report, flows=sample_flows)
    dom, err = dump_dom(path / "report.html", tmp_path / "p2")
    assert console_lines(err) == []
    assert 'data-map-rendered="true"' in dom
    nodes = int(re.search(r'data-map-nodes="(\d+)"', dom).group(1))
    assert nodes == 4 and dom.count("<circle") == 4
    assert dom.count('class="edge dropped"') == 1
    body = dom.split('id="flowrows"', 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr>") == 3
    assert "3 of 3 flows" in dom
