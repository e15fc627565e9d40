"""The outside world: names, always-present resolvers, addresses that answer."""
from __future__ import annotations

import pytest

from ai_infra_ops.twin.network.world import World, normalize_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dns.google", ("8.8.4.4", "8.8.8.8")),
        ("one.one.one.one.", ("1.0.0.1", "1.1.1.1")),
        ("API.Example.com", ("203.0.113.10",)),
        ("nothing.example", None),
    ],
    ids=["google", "cloudflare-trailing-dot", "case-insensitive", "nxdomain"],
)
def test_resolve(name: str, expected: tuple[str, ...] | None) -> None:
    w = World.from_dns({"api.example.com": ["203.0.113.10"]})
    assert w.resolve(name) == expected


@pytest.mark.parametrize(
    ("ip", "exists", "names"),
    [("8.8.8.8", True, ("dns.google",)), ("1.1.1.1", True, ("one.one.one.one",)),
     ("203.0.113.10", True, ("api.example.com",)), ("203.0.113.99", False, ())],
    ids=["8.8.8.8", "1.1.1.1", "spec-name", "unknown"],
)
def test_exists_and_reverse(ip: str, exists: bool, names: tuple[str, ...]) -> None:
    w = World.from_dns({"api.example.com": ["203.0.113.10"]})
    assert w.exists(ip) is exists
    assert w.names_of(ip) == names


def test_world_merges_always_present_and_is_hashable() -> None:
    w = World.from_dns({"dns.google": ["8.8.8.8"]})
    assert w.resolve("dns.google") == ("8.8.4.4", "8.8.8.8")
    assert hash(w) == hash(World.from_dns({"dns.google": ["8.8.8.8"]}))


@pytest.mark.parametrize("bad", [{"x.example": ["not-an-ip"]}, {"x.example": ["2001:db8::1"]}, {"": ["1.2.3.4"]}],
                         ids=["garbage", "ipv6", "empty-name"])
def test_bad_world(bad: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError):
        World.from_dns(bad)


def test_normalize_name() -> None:
    assert normalize_name(" Foo.Example.COM. ") == "foo.example.com"
