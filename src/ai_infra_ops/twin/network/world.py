"""The outside world of the twin: DNS names and the addresses that answer.

Owns what lies beyond the cluster's pod CIDR, service CIDR and node IPs. Names come from the
spec's (or a conformance case's) ``world.dns`` table; ``dns.google`` (8.8.8.8, 8.8.4.4) and
``one.one.one.one`` (1.1.1.1, 1.0.0.1) always exist, as on the real internet, so a platform's
baseline "egress to 8.8.8.8" check has something to reach. Called by ``dns`` (upstream answers
CoreDNS forwards), ``addresses`` (is this IP a live host?) and ``traffic`` (does a connection to a
world IP get a reply, or time out?).

Knows nothing of policy or flows.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

# Always present: the resolvers cilium-cli's connectivity test uses as its external targets
# (cilium-cli/connectivity/check/check.go: --external-target one.one.one.one.,
# --external-ip 1.1.1.1, --external-other-ip 1.0.0.1) and Google's public DNS.
ALWAYS_PRESENT: dict[str, tuple[str, ...]] = {
    "dns.google": ("8.8.8.8", "8.8.4.4"),
    "one.one.one.one": ("1.1.1.1", "1.0.0.1"),
}

# TTL the upstream answers carry (a fixed value keeps flows deterministic; the real resolvers
# answer with varying TTLs below 300).
WORLD_TTL = 30


def normalize_name(name: str) -> str:
    """Lower-case DNS name without the trailing dot (``API.Example.com.`` -> ``api.example.com``)."""
    return name.strip().rstrip(".").lower()


@dataclass(frozen=True)
class World:
    """Names -> IPv4 addresses outside the cluster, and the set of addresses that answer.

    Attributes:
        entries: ``(normalised name, sorted IPv4 addresses)`` pairs, sorted by name (hashable, so
            settings holding a world can key caches).
    """

    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def names(self) -> Mapping[str, tuple[str, ...]]:
        """Name -> A records."""
        cached = self.__dict__.get("_names_cache")
        if cached is None:
            cached = dict(self.entries)
            object.__setattr__(self, "_names_cache", cached)
        return cached

    @classmethod
    def from_dns(cls, dns: Mapping[str, list[str] | tuple[str, ...]] | None) -> World:
        """Build from a ``world.dns`` mapping; the always-present names are merged in.

        Raises:
            ValueError: an address that is not an IPv4 address (message names the entry).
        """
        table: dict[str, set[str]] = {n: set(ips) for n, ips in ALWAYS_PRESENT.items()}
        for raw, ips in (dns or {}).items():
            name = normalize_name(str(raw))
            if not name:
                raise ValueError("world.dns: empty name")
            if isinstance(ips, str):
                ips = [ips]
            for ip in ips:
                try:
                    ipaddress.IPv4Address(str(ip))
                except ValueError:
                    raise ValueError(f"world.dns.{raw}: {ip!r} is not an IPv4 address") from None
            table.setdefault(name, set()).update(str(i) for i in ips)
        return cls(tuple((n, tuple(sorted(v, key=_ip_key))) for n, v in sorted(table.items())))

    def resolve(self, name: str) -> tuple[str, ...] | None:
        """A records of ``name`` (None: the name does not exist, NXDOMAIN)."""
        return self.names.get(normalize_name(name))

    def exists(self, ip: str) -> bool:
        """Whether a host answers at ``ip`` (any address some world name points to)."""
        return ip in self._hosts

    def names_of(self, ip: str) -> tuple[str, ...]:
        """Names whose A records include ``ip`` (sorted), for Hubble's ``destination_names``."""
        return self._reverse.get(ip, ())

    @property
    def _hosts(self) -> frozenset[str]:
        cached = self.__dict__.get("_hosts_cache")
        if cached is None:
            cached = frozenset(ip for ips in self.names.values() for ip in ips)
            object.__setattr__(self, "_hosts_cache", cached)
        return cached

    @property
    def _reverse(self) -> dict[str, tuple[str, ...]]:
        cached = self.__dict__.get("_reverse_cache")
        if cached is None:
            rev: dict[str, list[str]] = {}
            for name, ips in self.names.items():
                for ip in ips:
                    rev.setdefault(ip, []).append(name)
            cached = {ip: tuple(sorted(ns)) for ip, ns in rev.items()}
            object.__setattr__(self, "_reverse_cache", cached)
        return cached


def _ip_key(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))
