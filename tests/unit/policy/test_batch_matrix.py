"""Array verdicts (``BatchDecider``) and the matrix agree with per-flow ``decide_flow`` on every
conformance case; matrix connection-set algebra and NCA text parsing."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ai_infra_ops.kube_model import load_yaml_file
from ai_infra_ops.policy import Endpoint
from ai_infra_ops.policy.batch import PROTO_INDEX, BatchDecider
from ai_infra_ops.policy.loader import engine_from_objects
from ai_infra_ops.policy.matrix import ALL, compute_matrix, intersect, parse_nca_conn, render_conn

CASES = sorted((Path(__file__).resolve().parents[2] / "conformance" / "policy").glob("*.yaml"))
PORTS = (53, 80, 443, 6443, 8080, 8081, 8100, 9000, 9090)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_batch_and_matrix_match_decide(path: Path) -> None:
    case = load_yaml_file(path)[0].value
    eng, errors = engine_from_objects(case["objects"], case.get("cilium"))
    assert not errors
    pods = sorted(k for k, p in eng.pods.items() if not p.host_network)
    qs = [(a, b, proto, port) for a in pods for b in pods if a != b for proto in ("TCP", "UDP", "SCTP", "ICMP")
          for port in (PORTS if proto != "ICMP" else (8,))]
    bd = BatchDecider(eng)
    res = bd.decide_many(np.array([eng.pods[a].identity for a, _, _, _ in qs]), np.array([eng.pods[b].identity for _, b, _, _ in qs]),
                         np.array([PROTO_INDEX[p] for _, _, p, _ in qs]), np.array([x for _, _, _, x in qs]))
    mat = {(s, d): c for s, d, c in compute_matrix(eng).pairs()}
    for i, (a, b, proto, port) in enumerate(qs):
        f = eng.decide_flow(Endpoint.pod(a), Endpoint.pod(b), proto, port)
        want = 0 if f.forwarded else f.dropped_by.drop_reason  # type: ignore[union-attr]
        if eng.audit_mode:
            continue
        assert (bool(res.forwarded[i]), int(res.drop_reason[i])) == (f.forwarded, want), (a, b, proto, port)
        conn = dict(mat.get((a, b), ()))
        in_matrix = any(lo <= port <= hi for lo, hi in conn.get(proto, ()))
        assert in_matrix == f.forwarded, (a, b, proto, port, render_conn(mat.get((a, b), ())))


@pytest.mark.parametrize(("text", "rendered"), [
    pytest.param("All connections", "All connections", id="all"),
    pytest.param("{protocols:TCP, UDP,dst_ports:53}", "TCP 53; UDP 53", id="two-protos"),
    pytest.param("{protocols:TCP,dst_ports:8080-8090,9090}", "TCP 8080-8090,9090", id="ranges"),
    pytest.param("{protocols:TCP,dst_ports:443},{protocols:UDP,dst_ports:53}", "TCP 443; UDP 53", id="groups")])
def test_parse_nca_conn(text: str, rendered: str) -> None:
    assert render_conn(parse_nca_conn(text)) == rendered


def test_intersect() -> None:
    a = parse_nca_conn("{protocols:TCP,dst_ports:1-100}")
    b = parse_nca_conn("{protocols:TCP,dst_ports:50-200},{protocols:UDP,dst_ports:53}")
    assert render_conn(intersect(a, b)) == "TCP 50-100"
    assert intersect(ALL, b) == b
