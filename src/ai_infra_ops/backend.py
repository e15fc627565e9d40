"""The backend seam: the small interface that ``pipeline`` and ``validate`` use, and the evidence
types it returns. Two implementations: ``twin.backend.TwinBackend`` (embedded, default) and
``kube.backend.KubeBackend`` (a real cluster through a kubeconfig).

Level 3: imports only ``errors``, ``kube_model`` and ``hubble`` types. It must not know the twin.

Objects cross the seam as plain Kubernetes dicts, exactly as ``kubectl get -o json`` shows them.
Flows cross it as Hubble flow dicts, exactly as ``hubble observe -o json`` shows them (the
``flow`` member of a GetFlowsResponse).
"""
from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

KubeObject = dict[str, Any]
FlowDict = dict[str, Any]


@dataclass(frozen=True)
class ApplyResult:
    """What happened to one object of an apply: created | configured | unchanged | deleted."""

    kind: str
    namespace: str
    name: str
    action: str

    def __str__(self) -> str:
        ref = f"{self.kind.lower()}/{self.name}"
        return f"{ref} {self.action}"


@dataclass(frozen=True)
class WaitResult:
    ok: bool
    object: KubeObject | None
    waited_s: float
    message: str = ""


@dataclass(frozen=True)
class ProbeRequest:
    """One connection/request from an endpoint to a target, as the conformance format states it.

    ``source``: ``ns/pod`` or ``node:<name>`` (the host netns of that node).
    ``target``: ``ns/pod`` | ``svc:ns/name`` | ``ip:A.B.C.D`` | ``fqdn:name`` | ``entity:<entity>`` |
    ``node:<name>``.
    ``port``: number or a named port of the target (``None`` for ICMP).
    ``protocol``: TCP | UDP | SCTP | ICMP.
    ``http``: ``{method, path, headers, host}``; ``grpc``: ``{service, method}``;
    ``dns``: ``{query, type}`` (a DNS lookup; then the target is the DNS server, kube-dns by default).
    """

    source: str
    target: str
    port: int | str | None = None
    protocol: str = "TCP"
    http: Mapping[str, Any] | None = None
    grpc: Mapping[str, Any] | None = None
    dns: Mapping[str, Any] | None = None
    label: str = ""


@dataclass
class ProbeResult:
    """Outcome of a probe with the flows it produced (the evidence)."""

    request: ProbeRequest
    verdict: str  # FORWARDED | DROPPED | AUDIT
    drop_reason: str | None = None  # POLICY_DENIED | POLICY_DENY | AUTH_REQUIRED | ...
    http_status: int | None = None
    grpc_status: str | None = None  # e.g. OK | PERMISSION_DENIED
    dns_rcode: str | None = None  # NOERROR | REFUSED | NXDOMAIN
    dns_ips: list[str] = field(default_factory=list)
    flows: list[FlowDict] = field(default_factory=list)
    flow_ids: list[str] = field(default_factory=list)
    explanation: str = ""
    supported: bool = True  # False: the backend cannot run this probe (e.g. no Cilium/Hubble)

    @property
    def allowed(self) -> bool:
        """FORWARDED/AUDIT, no HTTP error status and no refused DNS answer."""
        return (
            self.verdict in ("FORWARDED", "AUDIT")
            and (self.http_status is None or self.http_status < 400)
            and self.dns_rcode not in ("REFUSED",)
        )


@dataclass(frozen=True)
class FlowQuery:
    """Filters for ``observe``: hubble-style whitelist (AND within one query)."""

    filters: Mapping[str, Any] = field(default_factory=dict)
    last: int | None = None
    since: str | None = None
    until: str | None = None


@runtime_checkable
class Backend(Protocol):
    """What ``pipeline`` and ``validate`` may ask of a cluster."""

    name: str  # "twin" | "kube"

    def capabilities(self) -> set[str]:
        """Subset of {"objects", "scheduling", "network", "flows", "gpu"}."""
        ...

    def apply(self, objects: builtins.list[KubeObject], *, dry_run: bool = False) -> builtins.list[ApplyResult]:
        """Create or update objects (server-side apply); all-or-nothing on admission errors."""
        ...

    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None: ...

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[KubeObject]: ...

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool: ...

    def wait_for(
        self,
        kind: str,
        name: str,
        namespace: str | None,
        predicate: Callable[[KubeObject | None], bool],
        *,
        timeout_s: float = 60.0,
        description: str = "",
    ) -> WaitResult:
        """Wait until ``predicate(object)`` holds (watch/poll on a real cluster; immediate in the twin)."""
        ...

    # ``builtins.list``: inside this class ``list`` is the method above.
    def events(self, namespace: str | None = None, involved_name: str | None = None) -> builtins.list[KubeObject]: ...

    def probe(self, request: ProbeRequest) -> ProbeResult: ...

    def observe(self, query: FlowQuery) -> builtins.list[FlowDict]: ...
