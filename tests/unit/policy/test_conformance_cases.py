"""Evaluate the policy conformance cases (tests/conformance/policy/*.yaml, shared FORMAT.md) with
the engine directly: pods get IPs, each probe is ``decide_flow`` (+ ``check_l7`` for HTTP/gRPC/DNS),
FQDN targets first do the DNS lookup through the case's kube-dns pod (learning IPs on success)."""
from __future__ import annotations

import os

from pathlib import Path
from typing import Any

import pytest

from ai_infra_ops.kube_model import load_yaml_file
from ai_infra_ops.policy import Endpoint, PolicyEngine
from ai_infra_ops.policy.loader import engine_from_objects, resolve_port

ROOT = Path(__file__).resolve().parents[3]
CASES = sorted((ROOT / "tests" / "conformance" / "policy").glob("*.yaml"))
EXAMPLE = Path(os.environ["AI_INFRA_OPS_SHARED"]) / "conformance" / "examples" / "l7-http-ingress.yaml"
if EXAMPLE.exists():
    CASES.append(EXAMPLE)


def _dns_pod(eng: PolicyEngine) -> str:
    for key, info in sorted(eng.pods.items()):
        lab = dict(eng.identity(info.identity).full) if info.identity else {}
        if lab.get("k8s:k8s-app") == "kube-dns":
            return key
    raise AssertionError("FQDN probes need a kube-dns pod in the case")


def _dns_lookup(eng: PolicyEngine, src: str, name: str, world: dict[str, list[str]]) -> tuple[bool, str]:
    flow, l7, learned = eng.dns_lookup(Endpoint.pod(src), Endpoint.pod(_dns_pod(eng)), name, world.get(name.rstrip("."), []))
    if not flow.forwarded:
        return False, f"DNS lookup dropped: {flow.dropped_by.explanation}"  # type: ignore[union-attr]
    if l7 is not None and not l7.allowed:
        return False, l7.explanation
    return True, "resolved" + ("" if learned else " (not through the DNS proxy: nothing learned)")


def evaluate(eng: PolicyEngine, case: dict[str, Any], probe: dict[str, Any]) -> tuple[str, int | None, str]:
    """Returns (allowed|denied, http_status, explanation)."""
    world = {k.rstrip("."): v for k, v in ((case.get("world") or {}).get("dns") or {}).items()}
    src, to = probe["from"], str(probe["to"])
    proto = str(probe.get("protocol") or "TCP").upper()
    if to.startswith("fqdn:"):
        name = to[5:]
        ok, why = _dns_lookup(eng, src, name, world)
        if not ok:
            return "denied", None, why
        dst = Endpoint.ip(world[name.rstrip(".")][0])
    elif to.startswith("ip:"):
        dst = Endpoint.ip(to[3:])
    elif to.startswith("entity:"):
        ent = to[7:]
        nodes = sorted(eng.nodes)
        if ent == "kube-apiserver":
            dst = Endpoint.node(sorted(eng.apiserver_nodes)[0])
        elif ent == "host":
            dst = Endpoint.node(eng.pods[src].node)
        elif ent == "remote-node":
            dst = Endpoint.node(next(n for n in nodes if n != eng.pods[src].node and n not in eng.apiserver_nodes))
        else:
            dst = Endpoint.ip("8.8.8.8")
    else:
        dst = Endpoint.pod(to)
    src_ep = Endpoint.node(src[5:]) if src.startswith("node:") else Endpoint.pod(src)
    port = 0 if proto.startswith("ICMP") else resolve_port(eng, to, probe.get("port", 0), proto)
    f = eng.decide_flow(src_ep, dst, proto, port)
    if not f.forwarded:
        return "denied", None, f.dropped_by.explanation  # type: ignore[union-attr]
    req: dict[str, Any] = {}
    if probe.get("http"):
        req["http"] = probe["http"]
    if probe.get("grpc"):
        req["grpc"] = probe["grpc"]
    if probe.get("dns"):
        req["dns"] = probe["dns"]
    for d in f.redirects:
        if not req:
            break
        v = eng.check_l7(d, **req)
        if not v.allowed:
            return "denied", v.http_status, v.explanation
    return "allowed", (200 if req.get("http") or req.get("grpc") else None), f.ingress.explanation


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    """All probes of a case run in order on one engine, as FORMAT.md runs them on one cluster
    (state such as IPs learned by the DNS proxy carries from one probe to the next)."""
    case = load_yaml_file(path)[0].value
    eng, errors = engine_from_objects(case["objects"], case.get("cilium"))
    assert not errors, [str(e) for e in errors]
    failures = []
    for i, probe in enumerate(case["probes"]):
        got, status, why = evaluate(eng, case, probe)
        if got != probe["expect"]:
            failures.append(f"probe {i} {probe}: got {got}: {why}")
        elif probe.get("expect_http_status") and status != probe["expect_http_status"]:
            failures.append(f"probe {i} {probe}: http status {status}: {why}")
    assert not failures, "\n".join(failures)


def test_at_least_25_own_cases() -> None:
    assert len([p for p in CASES if p != EXAMPLE]) >= 25
