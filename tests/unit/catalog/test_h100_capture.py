"""The catalog's H100 against a real H100's own reports (data/h100-real/, copied from
../shared/reference/h100-real/): the check is against evidence, not against a copy of the catalog."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from ai_infra_ops.catalog import get_model

CAPTURE = Path(__file__).parent / "data" / "h100-real"


def _smi_q() -> dict[tuple[str, ...], str]:
    """``nvidia-smi -q`` as {(section..., key): value} using its indentation (4 spaces a level)."""
    out: dict[tuple[str, ...], str] = {}
    stack: list[tuple[int, str]] = []
    for line in (CAPTURE / "nvidia-smi-q.txt").read_text().splitlines():
        if not line.strip() or line.startswith("="):
            continue
        indent = len(line) - len(line.lstrip(" "))
        m = re.match(r"^(.*?)\s+:\s*(.*)$", line.strip())   # "Key   : value"; "GPU 0000:00:06.0" is a section
        key, value = (m.group(1), m.group(2)) if m else (line.strip(), "")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(s for _, s in stack) + (key.strip(),)
        if value.strip():
            out.setdefault(path, value.strip())
        else:
            stack.append((indent, key.strip()))
    return out


def _lgip() -> dict[str, dict[str, float]]:
    """``nvidia-smi mig -lgip``: two table lines per profile."""
    text = (CAPTURE / "nvidia-smi-mig.txt").read_text()
    rows = re.findall(
        r"\|\s+\d+\s+MIG (\S+)\s+(\d+)\s+\d+/(\d+)\s+([\d.]+)\s+\w+\s+(\d+)\s+(\d+)\s+(\d+)\s+\|\n"
        r"\|\s+(\d+)\s+(\d+)\s+(\d+)\s+\|", text)
    out = {}
    for name, gid, total, mem, sm, dec, enc, ce, jpeg, ofa in rows:
        out[name] = {"id": int(gid), "instances": int(total), "memory_gib": float(mem), "sm": int(sm),
                     "dec": int(dec), "enc": int(enc), "ce": int(ce), "jpeg": int(jpeg), "ofa": int(ofa)}
    return out


def _lgipp() -> dict[int, tuple[tuple[int, ...], int]]:
    text = (CAPTURE / "nvidia-smi-mig.txt").read_text()
    out = {}
    for gid, starts, size in re.findall(r"Profile ID\s+(\d+) Placements?\s*: \{([\d,]+)\}:(\d+)", text):
        out[int(gid)] = (tuple(int(x) for x in starts.split(",")), int(size))
    return out


def _nvml() -> dict[str, object]:
    return json.loads((CAPTURE / "nvml.json").read_text())["devices"][0]


def _csv() -> dict[str, str]:
    with open(CAPTURE / "query-gpu.csv", newline="") as f:
        rows = list(csv.reader(f, skipinitialspace=True))
    return dict(zip(rows[0], rows[1]))


H100 = get_model("h100")


@pytest.mark.parametrize("source, observed, catalog", [
    ("nvidia-smi -q Product Name", lambda: _smi_q()[("GPU 00000000:00:06.0", "Product Name")], H100.product),
    ("nvml name", lambda: _nvml()["name"], H100.product),
    ("query-gpu name", lambda: _csv()["name"], H100.product),
    ("nvidia-smi -q FB Memory Total", lambda: int(_smi_q()[("GPU 00000000:00:06.0", "FB Memory Usage", "Total")].split()[0]), H100.memory_mib),
    ("nvml memory_total_bytes", lambda: int(_nvml()["memory_total_bytes"]) // 2**20, H100.memory_mib),
    ("query-gpu memory.total", lambda: int(_csv()["memory.total [MiB]"].split()[0]), H100.memory_mib),
    ("nvml compute capability", lambda: "{}.{}".format(*_nvml()["cuda_compute_capability"]), H100.compute_capability),
    ("query-gpu compute_cap", lambda: _csv()["compute_cap"], H100.compute_capability),
    ("nvidia-smi -q Default Power Limit", lambda: float(_smi_q()[("GPU 00000000:00:06.0", "GPU Power Readings", "Default Power Limit")].split()[0]), H100.power_limit_w),
    ("nvml power_limit_mw", lambda: int(_nvml()["power_limit_mw"]) // 1000, H100.power_limit_w),
    ("nvidia-smi -q architecture", lambda: _smi_q()[("GPU 00000000:00:06.0", "Product Architecture")].lower(), H100.family),
    # The full-GPU MIG profile spans every SM of the device.
    ("mig -lgip 7g.80gb SM", lambda: _lgip()["7g.80gb"]["sm"], H100.sm_count),
    # nvml.json's multiprocessor_count is 16896 = 132 SMs x 128 FP32 cores per Hopper SM: the
    # capture script recorded CUDA cores under that name; the SM count itself is 132.
    ("nvml multiprocessor_count / 128", lambda: int(_nvml()["multiprocessor_count"]) // 128, H100.sm_count),
])
def test_h100_fact_matches_capture(source: str, observed, catalog) -> None:
    assert observed() == catalog, source


def test_h100_mig_profiles_match_capture() -> None:
    lgip, lgipp = _lgip(), _lgipp()
    assert len(lgip) == 7
    assert H100.mig_profiles == {name: row["instances"] for name, row in lgip.items()}
    details = {p.name: p for p in H100.mig_profile_details}
    assert set(details) == set(lgip)
    for name, row in lgip.items():
        p = details[name]
        got = (p.gi_profile_id, p.instances, p.memory_gib, p.sm_count, p.dec, p.enc, p.ce, p.jpeg, p.ofa)
        want = (row["id"], row["instances"], row["memory_gib"], row["sm"], row["dec"], row["enc"], row["ce"], row["jpeg"], row["ofa"])
        assert got == want, name
        assert (p.placements, p.placement_size) == lgipp[p.gi_profile_id], name
