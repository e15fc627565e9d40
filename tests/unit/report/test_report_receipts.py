"""Receipts: files, JUnit, service map, the self-contained page, re-rendering."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from ai_infra_ops.report import FILES, latest, load_receipt, rerender, write_receipts
from ai_infra_ops.report.junit import render_junit
from ai_infra_ops.report.servicemap import flow_rows, service_map


def test_service_map_marks_drops(sample_flows):
    m = service_map(sample_flows)
    ids = [n["id"] for n in m["nodes"]]
    assert ids == ["gpu/cudatestpod", "gpu/inference-client", "gpu/inference-gateway", "world:8.8.8.8"]
    edges = {(e["source"], e["target"]): e for e in m["edges"]}
    icmp = edges[("gpu/cudatestpod", "world:8.8.8.8")]
    assert icmp["dropped"] and icmp["counts"] == {"DROPPED": 1, "FORWARDED": 1}
    assert not edges[("gpu/inference-client", "gpu/inference-gateway")]["dropped"]
    assert edges[("gpu/inference-client", "gpu/inference-gateway")]["port"] == "8080/TCP"


def test_flow_rows(sample_flows):
    rows = flow_rows(sample_flows)
    assert [r["uuid"] for r in rows] == ["u-1", "u-2", "u-3"]
    assert rows[1]["drop"] == "POLICY_DENIED" and rows[1]["dst"] == "world:8.8.8.8"


def test_junit_one_testcase_per_check(sample_report):
    xml = render_junit([r.to_dict() for r in sample_report.results])
    root = ET.fromstring(xml)
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["zt-egress-8.8.8.8", "gpu-chaos-pending", "conn-pod-to-world"]
    assert cases[0].find("failure") is None and cases[0].find("skipped") is None
    assert cases[1].find("failure").get("message") == "message differs & <b>bold</b>"
    assert "needs Cilium/Hubble" in cases[2].find("skipped").get("message")
    assert root.get("failures") == "1" and root.get("skipped") == "1" and root.get("tests") == "3"


def test_write_receipts_files_and_roundtrip(tmp_path, sample_report, sample_ops, sample_flows):
    path = write_receipts(tmp_path, command="up", entries=sample_ops, validation=sample_report,
                          flows=sample_flows, message="done")
    assert path.parent == tmp_path / "receipts" and re.match(r"^\d{8}T\d{6}\.\d{6}Z$", path.name)
    assert sorted(p.name for p in path.iterdir()) == sorted(FILES)
    lines = (path / "flows.json").read_text().splitlines()
    assert [json.loads(x)["flow"]["uuid"] for x in lines] == ["u-1", "u-2", "u-3"]
    assert json.loads(lines[0])["node_name"] == "ai-infra-ops/node01"
    ops = [json.loads(x) for x in (path / "ops-log.jsonl").read_text().splitlines()]
    assert [o["action"] for o in ops] == ["rendered", "applied"] and ops[1]["evidence"]["flows"] == ["u-2"]
    md = (path / "ops-log.md").read_text()
    assert "`2026-01-01T00:00:00.100Z` **egress-dropped**" in md and "flow: `u-2`" in md
    assert latest(tmp_path) == path
    r = load_receipt(path)
    assert not r.ok and len(r.flows) == 3 and r.summary["message"] == "done"
    (path / "report.html").unlink()
    rerender(path)
    assert (path / "report.html").exists()


def test_page_is_self_contained_and_escaped(tmp_path, sample_report, sample_ops, sample_flows):
    path = write_receipts(tmp_path, command="up", entries=sample_ops, validation=sample_report, flows=sample_flows)
    page = (path / "report.html").read_text()
    assert "<link" not in page and "@import" not in page and "@font-face" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "url(http" not in page
    assert "<script>alert(1)</script>" not in page  # flow summaries are data, never markup
    assert "message differs &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert 'id="check-zt-egress-8.8.8.8"' in page and "u-2" in page
    assert "NVIDIA-H100-80GB-HBM3" in page and 'data-result="FAIL"' in page
