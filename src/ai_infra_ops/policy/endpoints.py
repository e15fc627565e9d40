"""Endpoints and verdict value types of the policy engine's public API.

Owns :class:`Endpoint` (a pod, a node/host, an IP, or a bare label set for ``policy trace``),
:class:`Decision` (one direction's L3/L4 verdict with drop reason, Hubble match type, the Hubble
``Policy`` objects and an explanation), :class:`FlowDecision` (both directions of one flow) and
:class:`L7Verdict`. Leaf module; ``engine`` builds these values, the twin and the CLI read them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .l7 import L7Rules

DROP_REASON_DESC = {133: "POLICY_DENIED", 181: "POLICY_DENY", 189: "AUTH_REQUIRED"}


@dataclass(frozen=True)
class Endpoint:
    """A traffic endpoint: ``kind`` is ``pod`` (ref ``ns/name``), ``node`` (node name), ``ip``,
    or ``labels`` (a hypothetical pod with these labels in ``namespace``, for ``policy trace``)."""

    kind: str
    ref: str
    labels: tuple[tuple[str, str], ...] = ()
    namespace: str = ""

    @classmethod
    def pod(cls, key: str) -> Endpoint:
        return cls("pod", key)

    @classmethod
    def node(cls, name: str) -> Endpoint:
        return cls("node", name)

    @classmethod
    def ip(cls, addr: str) -> Endpoint:
        return cls("ip", addr)

    @classmethod
    def with_labels(cls, labels: dict[str, str], namespace: str = "default") -> Endpoint:
        return cls("labels", f"{namespace}/<labels>", tuple(sorted(labels.items())), namespace)


@dataclass(frozen=True)
class Decision:
    """One direction's verdict: ALLOW | DENY | REDIRECT (to an L7 proxy) | AUDIT (would deny, forwarded)."""

    verdict: str
    direction: str
    drop_reason: int | None = None
    match_type: int = 0
    policies: list[dict[str, Any]] = field(default_factory=list)
    l7: L7Rules | None = None
    explanation: str = ""
    enforced: bool = False
    src_identity: int = 0
    dst_identity: int = 0
    protocol: str = "TCP"
    port: int = 0

    @property
    def drop_reason_desc(self) -> str | None:
        return DROP_REASON_DESC.get(self.drop_reason) if self.drop_reason else None

    @property
    def forwarded(self) -> bool:
        return self.verdict in ("ALLOW", "REDIRECT", "AUDIT")


@dataclass(frozen=True)
class FlowDecision:
    """Both sides of a flow: the source's egress and the destination's ingress (reference §4.9)."""

    egress: Decision
    ingress: Decision

    @property
    def forwarded(self) -> bool:
        return self.egress.forwarded and self.ingress.forwarded

    @property
    def dropped_by(self) -> Decision | None:
        if not self.egress.forwarded:
            return self.egress
        if not self.ingress.forwarded:
            return self.ingress
        return None

    @property
    def redirects(self) -> list[Decision]:
        return [d for d in (self.egress, self.ingress) if d.verdict == "REDIRECT"]


@dataclass(frozen=True)
class L7Verdict:
    """The proxy's verdict on one request: HTTP 403 / DNS REFUSED (rcode 5) when denied."""

    allowed: bool
    explanation: str
    policies: list[dict[str, Any]] = field(default_factory=list)
    http_status: int | None = None
    dns_rcode: int | None = None
