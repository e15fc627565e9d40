"""Internal rule types shared by the parsers, the repository and the policy maps.

Owns the value types a parsed policy becomes: :class:`PolicyRef` (which policy; its Hubble
``Policy`` object), :class:`PortProto`, :class:`PortRule`, :class:`RuleEntry` (one item of
ingress/egress/ingressDeny/egressDeny) and :class:`Rule` (one ``spec``/``specs[i]``). Leaf module:
imported by ``rules``, ``knp``, ``repository``, ``policymap``, ``engine``.

Upstream: ``pkg/policy/api/{rule,ingress,egress,l4}.go`` (shape), ``pkg/k8s/apis/cilium.io/utils``
``GetPolicyLabels`` (the four ``io.cilium.k8s.policy.*`` labels).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .l7 import L7Rules
from .selectors import LabelSel, Selector

KIND_CNP = "CiliumNetworkPolicy"
KIND_CCNP = "CiliumClusterwideNetworkPolicy"
KIND_KNP = "NetworkPolicy"


@dataclass(frozen=True, order=True)
class PolicyRef:
    kind: str
    namespace: str
    name: str
    uid: str = ""

    def labels(self) -> list[str]:
        out = [f"k8s:io.cilium.k8s.policy.derived-from={self.kind}", f"k8s:io.cilium.k8s.policy.name={self.name}"]
        if self.namespace:
            out.append(f"k8s:io.cilium.k8s.policy.namespace={self.namespace}")
        out.append(f"k8s:io.cilium.k8s.policy.uid={self.uid}")
        return out

    def hubble(self, revision: int) -> dict[str, Any]:
        """The Hubble ``Policy`` object (``flow.proto``; namespace omitted for CCNP)."""
        d: dict[str, Any] = {"name": self.name}
        if self.namespace:
            d["namespace"] = self.namespace
        d["labels"] = self.labels()
        d["revision"] = str(revision)
        d["kind"] = self.kind
        return d

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def display(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass(frozen=True)
class PortProto:
    """A port item after parsing: ``port`` 0 = all ports; a str port is a named port."""

    proto: str          # TCP | UDP | SCTP | ICMP | ICMPV6
    port: int | str
    end_port: int = 0

    def render(self) -> str:
        if self.proto in ("ICMP", "ICMPV6"):
            return f"{self.proto} type {self.port}"
        if self.port == 0:
            return f"any/{self.proto}"
        if self.end_port and isinstance(self.port, int) and self.end_port > self.port:
            return f"{self.port}-{self.end_port}/{self.proto}"
        return f"{self.port}/{self.proto}"


@dataclass(frozen=True)
class PortRule:
    ports: tuple[PortProto, ...]
    l7: L7Rules | None = None


@dataclass(frozen=True)
class RuleEntry:
    """One item of a rule's ingress/egress/ingressDeny/egressDeny (or a KNP ingress/egress rule).

    ``peers`` are ORed (``WILDCARD`` = every identity, ``()`` = nothing); ``port_rules`` empty
    means L3-only (every protocol incl. ICMP).
    """

    policy: PolicyRef
    section: str            # e.g. "ingress[0]", "specs[1].egressDeny[0]"
    direction: str          # INGRESS | EGRESS
    deny: bool
    default_deny: bool
    peers: tuple[Selector, ...]
    port_rules: tuple[PortRule, ...] = ()
    auth: str = ""

    def describe(self) -> str:
        return f"{self.section} of {self.policy.display()}"


@dataclass(frozen=True)
class Rule:
    """One Cilium rule: a subject selector and its entries (``host`` = nodeSelector rule)."""

    policy: PolicyRef
    subject: LabelSel
    entries: tuple[RuleEntry, ...]
    host: bool = False
