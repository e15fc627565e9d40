"""``junit.xml``: one ``<testcase>`` per check, for CI systems (Jenkins/GitLab/GitHub JUnit format).

Failed checks carry ``<failure message=...>`` with the expectation and the evidence; skipped and
"needs Cilium/Hubble" checks are ``<skipped>`` with the reason. Built with ``xml.etree`` so every
message is escaped.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any


def render_junit(checks: Iterable[dict[str, Any]], *, suite: str = "ai-infra-ops validation",
                 timestamp: str = "", duration_s: float = 0.0, hostname: str = "") -> str:
    """The JUnit XML text for check dicts (``CheckResult.to_dict()``)."""
    checks = list(checks)
    failures = sum(1 for c in checks if c["status"] == "fail")
    skipped = sum(1 for c in checks if c["status"] not in ("pass", "fail"))
    root = ET.Element("testsuites", {"name": suite, "tests": str(len(checks)), "failures": str(failures),
                                     "errors": "0", "skipped": str(skipped), "time": f"{duration_s:.3f}"})
    ts = ET.SubElement(root, "testsuite", {"name": suite, "tests": str(len(checks)), "failures": str(failures),
                                           "errors": "0", "skipped": str(skipped), "time": f"{duration_s:.3f}",
                                           "timestamp": timestamp, "hostname": hostname or "ai-infra-ops"})
    for c in checks:
        tc = ET.SubElement(ts, "testcase", {"classname": f"ai-infra-ops.{c.get('group', '')}", "name": c["id"],
                                            "time": "0"})
        evidence = "\n".join(
            [f"expected: {c.get('expected', '')}", f"observed: {c.get('observed', '')}"]
            + [f"flow: {x}" for x in c.get("flow_ids", [])] + [f"event: {x}" for x in c.get("events", [])]
            + [f"object: {x}" for x in c.get("objects", [])])
        if c["status"] == "fail":
            f = ET.SubElement(tc, "failure", {"message": c.get("message", ""), "type": "CheckFailed"})
            f.text = f"{c.get('title', '')}\n{c.get('message', '')}\n{evidence}"
        elif c["status"] != "pass":
            ET.SubElement(tc, "skipped", {"message": f"{c['status']}: {c.get('message', '')}"})
        out = ET.SubElement(tc, "system-out")
        out.text = f"{c.get('title', '')}: {c.get('message', '')}\n{evidence}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
