"""Check results: the verdict values of the validation suite, each naming its evidence.

A failed check is not an exception (``errors`` docstring): it is a :class:`CheckResult` with status
``fail`` and a message saying what was expected and what the evidence showed. ``needs Cilium/Hubble``
marks a network check on a backend without a network datapath or flows (``up --kubeconfig`` on a
test bed without Cilium): reported, neither passed nor failed, never faked.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..backend import ProbeResult
from .evidence import flow_ref

PASS = "pass"
FAIL = "fail"
SKIP = "skip"
NEEDS_NETWORK = "needs Cilium/Hubble"
STATUSES = (PASS, FAIL, SKIP, NEEDS_NETWORK)


@dataclass(frozen=True)
class CheckResult:
    """One check: ``id`` (stable, e.g. ``zt-egress-8.8.8.8``), ``group`` (connectivity | zero-trust |
    gpu), ``title``, ``status``, ``message``, and the evidence: flow ids (Hubble uuids), event refs
    and texts, object refs; ``flows`` keeps the flow dicts for the receipts."""

    id: str
    group: str
    title: str
    status: str
    message: str
    flow_ids: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    expected: str = ""
    observed: str = ""
    flows: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def to_dict(self, with_flows: bool = False) -> dict[str, Any]:
        """JSON form (flows only on request: the receipts keep them in ``flows.json``)."""
        out: dict[str, Any] = {
            "id": self.id, "group": self.group, "title": self.title, "status": self.status,
            "message": self.message, "expected": self.expected, "observed": self.observed,
            "flow_ids": list(self.flow_ids), "events": list(self.events), "objects": list(self.objects),
        }
        if with_flows:
            out["flows"] = list(self.flows)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(id=d["id"], group=d.get("group", ""), title=d.get("title", ""), status=d["status"],
                   message=d.get("message", ""), flow_ids=tuple(d.get("flow_ids", ())),
                   events=tuple(d.get("events", ())), objects=tuple(d.get("objects", ())),
                   expected=d.get("expected", ""), observed=d.get("observed", ""),
                   flows=tuple(d.get("flows", ())))


def describe_probe(res: ProbeResult) -> str:
    """What a probe showed, in the words Hubble and the client would use."""
    parts = [res.verdict]
    if res.drop_reason:
        parts.append(res.drop_reason)
    if res.http_status is not None:
        parts.append(f"HTTP {res.http_status}")
    if res.grpc_status:
        parts.append(f"gRPC {res.grpc_status}")
    if res.dns_rcode:
        parts.append(f"DNS {res.dns_rcode}" + (f" {','.join(res.dns_ips)}" if res.dns_ips else ""))
    return " ".join(parts)


def probe_flow_ids(res: ProbeResult) -> tuple[str, ...]:
    """Flow ids of a probe: the flows' Hubble uuids (what ``flows.json`` and ``hubble observe``
    show), else the backend's own ids."""
    uuids = tuple(flow_ref(f) for f in res.flows if flow_ref(f))
    return uuids if uuids else tuple(str(x) for x in res.flow_ids)


def drop_reasons(flows: Iterable[dict[str, Any]]) -> set[str]:
    """Drop reasons seen in flows (``drop_reason_desc`` of DROPPED flows)."""
    return {str(f.get("drop_reason_desc")) for f in flows
            if f.get("verdict") == "DROPPED" and f.get("drop_reason_desc")}


def verdicts(flows: Iterable[dict[str, Any]]) -> set[str]:
    """Verdicts seen in flows."""
    return {str(f.get("verdict")) for f in flows if f.get("verdict")}


def summarize(results: Iterable[CheckResult]) -> dict[str, int]:
    """Counts per status (every status present, zero included)."""
    out = {s: 0 for s in STATUSES}
    for r in results:
        out[r.status] = out.get(r.status, 0) + 1
    return out
