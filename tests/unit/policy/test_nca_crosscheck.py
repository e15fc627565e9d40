"""Cross-check ``policy matrix`` against network-config-analyzer (NCA) on generated inputs.

NCA lives in its own virtualenv ``.venv-nca`` (``scripts/install-nca.sh``; ``.ci/run`` installs
it). Pod -> pod connections must be identical; NCA's IP-range lines (ipBlock peers) are not part of
our pod matrix (Cilium: ipBlock never matches pod IPs; see docs/policy.md).
"""
from __future__ import annotations

import os

import subprocess
import sys
from pathlib import Path

import pytest

from ai_infra_ops.policy.loader import engine_from_objects, load_objects_fast
from ai_infra_ops.policy.matrix import compare_with_nca, compute_matrix, parse_nca_connectivity

ROOT = Path(__file__).resolve().parents[3]
NCA = ROOT / ".venv-nca" / "bin" / "nca"
GEN = Path(os.environ["AI_INFRA_OPS_SHARED"]) / "bench" / "gen_netpol_inputs.py"


@pytest.mark.slow
@pytest.mark.skipif(not NCA.exists(), reason=".venv-nca absent: run scripts/install-nca.sh to install network-config-analyzer")
@pytest.mark.skipif(not GEN.exists(), reason="generator /work/shared/bench/gen_netpol_inputs.py not present")
@pytest.mark.parametrize(("pods", "policies"), [pytest.param(10, 12, id="10-pods"), pytest.param(30, 30, id="30-pods"),
                                                pytest.param(100, 60, id="100-pods")])
def test_matrix_matches_nca(tmp_path: Path, pods: int, policies: int) -> None:
    subprocess.run([sys.executable, str(GEN), str(pods), str(policies), str(tmp_path)], check=True, capture_output=True)
    files = [str(tmp_path / f) for f in ("namespaces.yaml", "pods.yaml", "policies.yaml")]
    eng, errors = engine_from_objects(load_objects_fast(files))
    assert not errors
    ours = compute_matrix(eng)
    out = subprocess.run([str(NCA), "--connectivity", files[2], "-n", files[0], "-p", files[1], "-o", "txt_no_fw_rules"],
                         capture_output=True, text=True, check=False, timeout=300).stdout
    nca = parse_nca_connectivity(out)
    assert nca, out[-2000:]
    assert compare_with_nca(ours, nca) == []
