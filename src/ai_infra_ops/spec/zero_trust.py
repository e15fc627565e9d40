"""Zero-trust intents (issue 4 item 3): what the platform promises, from which the render builder
generates CiliumNetworkPolicies.

Owns ``ZeroTrustSpec`` and its parts, plus Cilium's DNS ``matchPattern`` matching (so the spec can
refuse intents that contradict each other). Called by ``spec.model`` (field of ``PlatformSpec``),
``spec.checks`` and ``render`` (policy generation), ``validate`` (what to probe).

Meaning of each intent (the contract the generated policies must implement):

- ``workloadNamespaces``: every pod in these namespaces is default-deny in BOTH directions (an
  empty ingress and egress section selecting all pods of the namespace). Everything below is an
  allow punched into that; nothing outside these namespaces is restricted.
- ``allowIntraNamespace``: when true, pods of a workload namespace may talk to each other on any
  port (L3 allow ``fromEndpoints: [{}]``/``toEndpoints: [{}]``). Default false: only the named
  gRPC/HTTP paths below.
- DNS: egress to kube-dns (``k8s-app=kube-dns`` in ``kube-system``) on 53/UDP and 53/TCP, with an
  L7 DNS rule whose ``matchPattern``/``matchName`` list is ``dnsAllow`` plus every
  ``egressAllow`` name (``ZeroTrustSpec.dns_rules()``). Names outside it are REFUSED by Cilium's
  DNS proxy, which closes the DNS-tunnelling channel the seed's policy left open.
  Pattern semantics are Cilium's (cilium/cilium: pkg/policy/api/fqdn.go, pkg/fqdn/matchpattern):
  ``*`` alone = any name; ``*`` inside a label = zero or more DNS characters except ``.``;
  ``**.`` prefix = one or more labels. The default ``**.cluster.local`` covers every in-cluster
  name *including* the resolv.conf search-list expansions (``api.openai.com.gpu.svc.cluster.local``)
  that musl clients stop at when refused. CoreDNS answers ``cluster.local`` itself, so no query
  for those names leaves the cluster.
- ``egressAllow``: internet egress only to these FQDNs (``toFQDNs`` ``matchName`` for ``fqdn``,
  ``matchPattern`` for ``pattern``) on ``ports`` (TCP, default 443).
- ``c2cDeny``: ``cidrs`` become ``egressDeny`` ``toCIDRSet`` entries, which beat every allow.
  Cilium has no ``toFQDNs`` in deny rules (api/rule.go EgressDenyRule has no ToFQDNs), so the
  ``fqdns`` are enforced twice: they may not be matched by any DNS allow (spec check), and their
  addresses as the world resolves them (``world.dns``) are added to the CIDR deny
  (``c2c_deny_cidrs(world_dns)``).
- ``grpcAllow``: pods matching ``from`` may call pods matching ``to`` (same ``namespace``) on
  ``port`` only with gRPC methods ``/<service>/<method>`` (HTTP/2 POST; Cilium L7 HTTP rules with
  ``method: POST`` and ``path``); other methods get HTTP 403 from Envoy, which gRPC clients see
  as ``PERMISSION_DENIED``.
- ``httpAllow``: the same for plain HTTP: (method, path) pairs; ``path`` is a regular expression
  as in Cilium's ``rules.http[].path`` (anchored by Envoy).
- ``kubeletProtection``: TCP 10250 on the nodes is reachable only from the control plane and the
  host (``fromEntities: [host, remote-node]`` on a host policy); pods are denied.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..kube_model.dnsnames import pattern_matches, pattern_regex

from .defaults import default_zero_trust

__all__ = [
    "C2cDeny", "EgressAllow", "GrpcAllow", "HttpAllow", "HttpRule", "ZeroTrustSpec",
    "fqdn_pattern_matches", "fqdn_pattern_regex",
]

# Characters Cilium allows in matchName/matchPattern (api/fqdn.go: allowedMatchNameChars, allowedPatternChars).
_NAME_RE = re.compile(r"^[-a-zA-Z0-9_.]+\.?$")
_PATTERN_RE = re.compile(r"^[-a-zA-Z0-9_.*]+\.?$")


def fqdn_pattern_regex(pattern: str) -> re.Pattern[str]:
    """Cilium's ``matchPattern`` as an anchored regular expression over lower-case FQDNs
    (one implementation with the policy engine: ``kube_model.dnsnames``)."""
    return re.compile("^(?:" + pattern_regex(pattern).pattern + ")$")


def fqdn_pattern_matches(pattern: str, name: str) -> bool:
    """Whether a Cilium ``matchPattern`` matches ``name`` (case-insensitive, trailing dot optional)."""
    return pattern_matches(pattern, name)


class _ZtModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)


def _check_name(v: str) -> str:
    if not _NAME_RE.match(v) or ".." in v:
        raise ValueError(f"{v!r} is not a DNS name (letters, digits, '-', '_' and '.')")
    return v.lower().rstrip(".")


def _check_pattern(v: str) -> str:
    if not _PATTERN_RE.match(v) or ".." in v or ("**" in v and not v.startswith("**.")) or v.count("**") > 1:
        raise ValueError(f"{v!r} is not a Cilium DNS matchPattern (DNS characters, '*', or a leading '**.')")
    return v.lower().rstrip(".") if v != "*" else v


class EgressAllow(_ZtModel):
    """One internet destination: exactly one of ``fqdn`` (matchName) or ``pattern`` (matchPattern)."""

    fqdn: str | None = None
    pattern: str | None = None
    ports: list[int] = Field(default_factory=lambda: [443])
    protocol: str = "TCP"

    @field_validator("fqdn")
    @classmethod
    def _fqdn(cls, v: str | None) -> str | None:
        return None if v is None else _check_name(v)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str | None) -> str | None:
        return None if v is None else _check_pattern(v)

    @field_validator("ports")
    @classmethod
    def _ports(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("needs at least one port")
        for p in v:
            if not 1 <= p <= 65535:
                raise ValueError(f"port {p} is outside 1-65535")
        return v

    @field_validator("protocol")
    @classmethod
    def _proto(cls, v: str) -> str:
        if v not in ("TCP", "UDP", "SCTP", "ANY"):
            raise ValueError("must be one of TCP, UDP, SCTP, ANY")
        return v

    @model_validator(mode="after")
    def _one(self) -> EgressAllow:
        if (self.fqdn is None) == (self.pattern is None):
            raise ValueError("give exactly one of 'fqdn' or 'pattern'")
        return self

    @property
    def dns_rule(self) -> dict[str, str]:
        """The matching Cilium DNS rule (``{"matchName": ...}`` or ``{"matchPattern": ...}``)."""
        return {"matchName": self.fqdn} if self.fqdn else {"matchPattern": str(self.pattern)}

    def matches(self, name: str) -> bool:
        """Whether this destination covers DNS name ``name``."""
        if self.fqdn:
            return self.fqdn == name.lower().rstrip(".")
        return fqdn_pattern_matches(str(self.pattern), name)


class C2cDeny(_ZtModel):
    """Known command-and-control destinations: denied whatever else allows them."""

    cidrs: list[str] = Field(default_factory=list)
    fqdns: list[str] = Field(default_factory=list)

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        out = []
        for c in v:
            try:
                out.append(str(ipaddress.IPv4Network(c, strict=False)))
            except ValueError:
                raise ValueError(f"{c!r} is not an IPv4 CIDR such as 203.0.113.66/32") from None
        return out

    @field_validator("fqdns")
    @classmethod
    def _fqdns(cls, v: list[str]) -> list[str]:
        return [_check_name(x) for x in v]


def _label_map(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: str(val) if isinstance(val, (int, float)) and not isinstance(val, bool) else val
                for k, val in v.items()}
    return v


class _PeerIntent(_ZtModel):
    namespace: str
    from_: dict[str, str] = Field(alias="from")
    to: dict[str, str]
    port: int = Field(gt=0, le=65535)

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> Any:
        return _label_map(v)

    @field_validator("from_", "to")
    @classmethod
    def _nonempty(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("needs at least one label (an empty selector would match every pod)")
        return v


class GrpcAllow(_PeerIntent):
    """gRPC calls allowed from ``from`` pods to ``to`` pods: ``/<service>/<method>`` for each method."""

    service: str
    methods: list[str]

    @field_validator("service")
    @classmethod
    def _service(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", v):
            raise ValueError(f"{v!r} is not a fully qualified gRPC service name such as inference.v1.Predictor")
        return v

    @field_validator("methods")
    @classmethod
    def _methods(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("needs at least one method")
        for m in v:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", m):
                raise ValueError(f"{m!r} is not a gRPC method name")
        return v

    def paths(self) -> list[str]:
        """HTTP/2 paths of the allowed methods (gRPC maps a call to ``POST /<service>/<method>``)."""
        return [f"/{self.service}/{m}" for m in self.methods]


class HttpRule(_ZtModel):
    """One allowed request: HTTP ``method`` and ``path`` (a regular expression, as Cilium's)."""

    method: str
    path: str

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        if not re.match(r"^[A-Z]+$", v):
            raise ValueError(f"{v!r} is not an HTTP method such as GET or POST")
        return v

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"path {v!r} is not a valid regular expression: {exc}") from None
        return v


class HttpAllow(_PeerIntent):
    """HTTP requests allowed from ``from`` pods to ``to`` pods on ``port``."""

    rules: list[HttpRule]


def _seed(key: str, cls: Any = None) -> Any:
    """Default factory: the seed intent ``key`` (validated into ``cls`` / a list of ``cls``)."""
    def make() -> Any:
        raw = default_zero_trust()[key]
        if cls is None:
            return raw
        return [cls.model_validate(x) for x in raw] if isinstance(raw, list) else cls.model_validate(raw)
    return make


class ZeroTrustSpec(_ZtModel):
    """The zero-trust intents; see the module docstring for what each one means.

    Every field defaults to the seed platform's intent (``spec.defaults.default_zero_trust``), so
    ``zeroTrust: {dnsAllow: [...]}`` changes only the DNS allow-list; give ``[]`` to drop a list.
    """

    enabled: bool = True
    workload_namespaces: list[str] = Field(default_factory=_seed("workloadNamespaces"))
    allow_intra_namespace: bool = False
    dns_allow: list[str] = Field(default_factory=_seed("dnsAllow"))
    egress_allow: list[EgressAllow] = Field(default_factory=_seed("egressAllow", EgressAllow))
    c2c_deny: C2cDeny = Field(default_factory=_seed("c2cDeny", C2cDeny), alias="c2cDeny")
    grpc_allow: list[GrpcAllow] = Field(default_factory=_seed("grpcAllow", GrpcAllow))
    http_allow: list[HttpAllow] = Field(default_factory=_seed("httpAllow", HttpAllow))
    kubelet_protection: bool = True

    @field_validator("dns_allow")
    @classmethod
    def _dns_allow(cls, v: list[str]) -> list[str]:
        return [_check_pattern(p) for p in v]

    def dns_rules(self) -> list[dict[str, str]]:
        """Cilium ``rules.dns`` entries: ``dnsAllow`` patterns, then each egress FQDN/pattern."""
        out: list[dict[str, str]] = []
        for p in self.dns_allow:
            rule = {"matchPattern": p} if "*" in p else {"matchName": p}
            if rule not in out:
                out.append(rule)
        for e in self.egress_allow:
            if e.dns_rule not in out:
                out.append(e.dns_rule)
        return out

    def dns_allows(self, name: str) -> bool:
        """Whether the generated DNS rules let a pod resolve ``name``."""
        for rule in self.dns_rules():
            if "matchName" in rule and rule["matchName"] == name.lower().rstrip("."):
                return True
            if "matchPattern" in rule and fqdn_pattern_matches(rule["matchPattern"], name):
                return True
        return False

    def c2c_deny_cidrs(self, world_dns: dict[str, list[str]] | None = None) -> list[str]:
        """The CIDRs to deny: ``c2cDeny.cidrs`` plus /32s of the C2C names' known addresses, sorted."""
        out = set(self.c2c_deny.cidrs)
        for name in self.c2c_deny.fqdns:
            for ip in (world_dns or {}).get(name, []):
                out.add(f"{ip}/32")
        return sorted(out, key=lambda c: (ipaddress.IPv4Network(c).network_address, c))
