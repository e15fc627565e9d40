"""Security identities: reserved ones, label-set identities for pods, CIDR identities for IPs.

Owns numeric identity allocation and IP -> identity resolution (the twin's ipcache). Called by
``engine`` (which feeds it namespaces, pods, nodes, policy CIDRs and learned FQDN IPs) and read by
``selectors`` (the selector cache matches selectors against every identity here).

Upstream: ``pkg/identity/numericidentity.go`` (reserved numbers, scopes), ``pkg/identity/cache``
(same labels => same identity), ``pkg/labels/cidr.go`` (CIDR identities carry ``cidr:`` labels plus
``reserved:world``), ``pkg/ipcache`` (longest-prefix match from IP to identity).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .labels import RESERVED_IDS, cidr_label, label_maps, reserved_labels

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address

FIRST_CLUSTER_ID = 256          # cluster-scoped identities for cluster-id 0 start here
FIRST_LOCAL_ID = (1 << 24) + 1  # node-local CIDR/FQDN identities: 16777217 ...


@dataclass(frozen=True)
class Identity:
    """A numeric security identity and its sorted ``source:key=value`` labels."""

    id: int
    labels: tuple[str, ...]
    full: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)
    anysrc: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)
    prefix: IPNet | None = field(default=None, compare=False, hash=False, repr=False)

    @classmethod
    def make(cls, num: int, labels: tuple[str, ...], prefix: IPNet | None = None) -> Identity:
        full, anysrc = label_maps(labels)
        return cls(num, labels, full, anysrc, prefix)

    @property
    def reserved(self) -> bool:
        return 0 < self.id < FIRST_CLUSTER_ID


class IdentityRegistry:
    """All identities the engine knows, allocated deterministically.

    Label-set identities are numbered from 256 upwards; a batch of new label sets is allocated in
    sorted label order, so the same inputs always give the same numbers and equal label sets share
    one identity. CIDR identities (16777217+) are re-derived from the current prefix set.
    """

    def __init__(self) -> None:
        self.by_id: dict[int, Identity] = {}
        self._by_labels: dict[tuple[str, ...], int] = {}
        self._next = FIRST_CLUSTER_ID
        self.revision = 0
        for name, num in RESERVED_IDS.items():
            self.by_id[num] = Identity.make(num, reserved_labels(name))
        self._cidr_ids: dict[IPNet, int] = {}
        self._prefixes_v4: list[tuple[int, int, int]] = []  # (prefixlen, network int, id) longest first
        self._prefixes_v6: list[tuple[int, int, int]] = []

    def allocate(self, label_sets: list[tuple[str, ...]]) -> None:
        """Allocate identities for label sets not seen yet (sorted order => deterministic ids)."""
        new = sorted({ls for ls in label_sets if ls not in self._by_labels})
        for ls in new:
            num = self._next
            self._next += 1
            self._by_labels[ls] = num
            self.by_id[num] = Identity.make(num, ls)
        if new:
            self.revision += 1

    def id_for_labels(self, labels: tuple[str, ...]) -> int:
        return self._by_labels[labels]

    def set_prefixes(self, prefixes: set[IPNet]) -> None:
        """Make one CIDR identity per prefix (policy CIDRs, their excepts, learned FQDN IPs).

        ``0.0.0.0/0`` and ``::/0`` are represented by the world identity itself (``cidr.go``).
        """
        wanted = sorted((p for p in prefixes if p.prefixlen > 0), key=lambda p: (p.version, int(p.network_address), p.prefixlen))
        if wanted == sorted(self._cidr_ids, key=lambda p: (p.version, int(p.network_address), p.prefixlen)):
            return
        for num in self._cidr_ids.values():
            self.by_id.pop(num, None)
        self._cidr_ids = {}
        v4: list[tuple[int, int, int]] = []
        v6: list[tuple[int, int, int]] = []
        for i, p in enumerate(wanted):
            num = FIRST_LOCAL_ID + i
            self._cidr_ids[p] = num
            self.by_id[num] = Identity.make(num, (cidr_label(p), "reserved:world"), prefix=p)
            (v4 if p.version == 4 else v6).append((p.prefixlen, int(p.network_address), num))
        self._prefixes_v4 = sorted(v4, reverse=True)
        self._prefixes_v6 = sorted(v6, reverse=True)
        self.revision += 1

    def cidr_identity(self, addr: IPAddr) -> int:
        """Longest-prefix match of an outside IP over the CIDR identities; world (2) if none."""
        table = self._prefixes_v4 if addr.version == 4 else self._prefixes_v6
        bits = 32 if addr.version == 4 else 128
        a = int(addr)
        for plen, net, num in table:
            if (a >> (bits - plen)) == (net >> (bits - plen)):
                return num
        return RESERVED_IDS["world"]

    def all_ids(self) -> list[int]:
        return sorted(self.by_id)

    def get(self, num: int) -> Identity:
        return self.by_id[num]
