"""One network check = one probe + what must be seen: the verdict, the drop reason in the flows,
the HTTP/gRPC status or the DNS rcode.

Mirrors the result vocabulary of ``cilium connectivity test`` (``check/result.go``): OK needs the
request to succeed *and* forwarded flows to be seen; a default-deny drop needs a DROPPED flow with
``POLICY_DENIED``; a deny-rule drop ``POLICY_DENY``; an L7 denial an HTTP 403 (gRPC
``PERMISSION_DENIED``); a DNS proxy denial the rcode REFUSED. A verdict without flows is not
evidence: the check fails and says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..backend import Backend, ProbeRequest, ProbeResult
from ..errors import AiInfraOpsError
from .checks import FAIL, NEEDS_NETWORK, PASS, CheckResult, describe_probe, drop_reasons, probe_flow_ids, verdicts
from .evidence import pod_running


@dataclass(frozen=True)
class Expect:
    """What a probe must show. ``allowed`` False with ``drop_reason`` needs that reason in a DROPPED
    flow; ``http_status``/``grpc_status``/``dns_rcode`` must equal when given."""

    allowed: bool
    drop_reason: str | None = None
    http_status: int | None = None
    grpc_status: str | None = None
    dns_rcode: str | None = None
    l7_denied: bool = False  # accept an L7 denial (403 / PERMISSION_DENIED) instead of an L3/L4 drop

    def describe(self) -> str:
        if self.allowed:
            base = "FORWARDED"
        elif self.l7_denied:
            base = "denied at L7 (HTTP 403 / gRPC PERMISSION_DENIED)"
        else:
            base = "DROPPED" + (f" {self.drop_reason}" if self.drop_reason else "")
        extra = [f"HTTP {self.http_status}" if self.http_status else "",
                 f"gRPC {self.grpc_status}" if self.grpc_status else "",
                 f"DNS {self.dns_rcode}" if self.dns_rcode else ""]
        return " ".join([base, *[e for e in extra if e]])


def has_network(backend: Backend) -> bool:
    """Whether the backend can run probes and show their flows."""
    caps = backend.capabilities()
    return "network" in caps and "flows" in caps


def _judge(res: ProbeResult, exp: Expect) -> str | None:
    """None when the probe shows what ``exp`` asks for, else why not."""
    if not res.flows:
        return "no flows were observed for this probe (no evidence)"
    if exp.dns_rcode and res.dns_rcode != exp.dns_rcode:
        return f"DNS rcode {res.dns_rcode or 'none'}, expected {exp.dns_rcode}"
    if exp.http_status is not None and res.http_status != exp.http_status:
        return f"HTTP status {res.http_status}, expected {exp.http_status}"
    if exp.grpc_status and res.grpc_status not in (exp.grpc_status, None):
        return f"gRPC status {res.grpc_status}, expected {exp.grpc_status}"
    if exp.allowed:
        if not res.allowed:
            return "the request was not allowed"
        if "FORWARDED" not in verdicts(res.flows) and "AUDIT" not in verdicts(res.flows):
            return "no FORWARDED flow was observed"
        return None
    if res.allowed:
        return "the request was allowed"
    if exp.l7_denied:
        denied = res.http_status == 403 or res.grpc_status == "PERMISSION_DENIED"
        return None if denied else "no L7 denial (HTTP 403 / PERMISSION_DENIED) was observed"
    if exp.dns_rcode:
        return None
    if "DROPPED" not in verdicts(res.flows):
        return "no DROPPED flow was observed"
    if exp.drop_reason and exp.drop_reason not in drop_reasons(res.flows):
        seen = ", ".join(sorted(drop_reasons(res.flows))) or "none"
        return f"drop reason {exp.drop_reason} not in the flows (seen: {seen})"
    return None


def probe_check(backend: Backend, *, id: str, group: str, title: str, request: ProbeRequest,
                expect: Expect) -> CheckResult:
    """Run ``request`` and judge it against ``expect``; the result names the flows it produced."""
    if not has_network(backend):
        return CheckResult(id, group, title, NEEDS_NETWORK,
                           f"this backend ({backend.name}) has no Cilium/Hubble datapath; not probed",
                           expected=expect.describe())
    try:
        res = backend.probe(request)
    except AiInfraOpsError as exc:
        return CheckResult(id, group, title, FAIL, f"probe could not run: {exc}", expected=expect.describe())
    observed = describe_probe(res)
    fids = probe_flow_ids(res)
    if not res.supported:
        return CheckResult(id, group, title, FAIL, f"probe could not run: {res.explanation}",
                           flow_ids=fids, expected=expect.describe(), observed=observed, flows=tuple(res.flows))
    why = _judge(res, expect)
    status = PASS if why is None else FAIL
    if request.dns is not None:
        what = f"{request.source} -> DNS {request.dns.get('type', 'A')} {request.dns.get('query', '')} via {request.target or 'kube-dns'}"
    else:
        what = f"{request.source} -> {request.target}" + (f":{request.port}" if request.port is not None else "")
    msg = f"{what}: {observed}" if why is None else f"{what}: {why}; observed {observed}"
    if res.explanation and why is not None:
        msg += f" ({res.explanation})"
    return CheckResult(id, group, title, status, msg, flow_ids=fids, expected=expect.describe(),
                       observed=observed, flows=tuple(res.flows))


def missing_source(id: str, group: str, title: str, what: str, backend: Backend) -> CheckResult:
    """A check whose source workload is absent: failed (or needs-network, without a datapath)."""
    status = FAIL if has_network(backend) else NEEDS_NETWORK
    return CheckResult(id, group, title, status, f"{what} is not running; cannot probe")


def running_pod(backend: Backend, namespace: str, labels: dict[str, str]) -> str | None:
    """``ns/name`` of the first Running pod with ``labels`` (sorted by name), else None."""
    sel = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = sorted(backend.list("Pod", namespace, sel), key=lambda p: p["metadata"]["name"])
    for p in pods:
        if pod_running(p):
            return f"{namespace}/{p['metadata']['name']}"
    return None
