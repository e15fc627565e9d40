"""Per-identity resolved policy maps and their lookup.

Owns :class:`PolicyMap`: for one subject identity and direction, the entries keyed by
(remote identity | 0 = wildcard, protocol | ``*`` = L3-only) holding port ranges, allow/deny, L7
rules and the rule entries they were derived from; and :func:`compute_map`, which distils the
repository's rules through the selector cache into such a map. A verdict is
:meth:`PolicyMap.lookup`, never a walk over rules. Called by ``engine`` (which caches maps per
identity until a revision changes), ``batch`` and ``matrix``.

Upstream: ``pkg/policy/repository.go`` ``computePolicyEnforcementAndRules`` (per-direction
enforcement incl. deny-only policies and ``enableDefaultDeny``), ``pkg/policy/l4.go`` /
``resolve.go`` ``toMapState`` (entries = selected identities x ports), ``pkg/policy/mapstate.go``
``lookup`` (deny beats allow at any port breadth; the more specific port/proto, then the
identity-specific entry, wins between allows), ``pkg/policy/rule.go`` ``mergePortProto`` (L7
wildcarding when an L4-only allow covers the same peer and port).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from .l7 import DNSRule, HTTPRule, L7Rules
from .repository import Repository
from .selectors import WILDCARD, SelectorCache
from .types import RuleEntry

ALL = (0, 65535)
HOST_ID = 1
INIT_ID = 5

# Hubble policy_match_type values (flow.proto / monitor api PolicyMatchType).
MATCH_NONE, MATCH_L3, MATCH_L3L4, MATCH_L4, MATCH_ALL, MATCH_L3PROTO, MATCH_PROTO = 0, 1, 2, 3, 4, 5, 6

NamedPorts = Mapping[int, Mapping[tuple[str, str], frozenset[int]]]


@dataclass(frozen=True)
class Contribution:
    """One rule entry's contribution to a map key: a port range with its verdict and L7 rules."""

    lo: int
    hi: int
    deny: bool
    l7: L7Rules | None
    entry: RuleEntry | None  # None = synthesized (allow-all fallback)


@dataclass(frozen=True)
class Lookup:
    """The result of a map lookup for one (remote, proto, port)."""

    verdict: str                 # ALLOW | DENY | REDIRECT (unenforced directions give ALLOW)
    enforced: bool
    deny_kind: str = ""          # "explicit" | "default" | "auth"
    match_type: int = MATCH_NONE
    winners: tuple[Contribution, ...] = ()
    l7: L7Rules | None = None
    note: str = ""


@dataclass
class PolicyMap:
    identity: int
    direction: str
    enforced: bool
    fallback_allow: bool                       # entries exist but none has default deny
    policies: tuple[str, ...]                  # display names of the policies selecting the subject
    entries: dict[tuple[int, str], list[Contribution]] = field(default_factory=dict)

    def lookup(self, remote: int, proto: str, port: int) -> Lookup:
        if not self.enforced:
            return Lookup("ALLOW", False, note="unenforced")
        cands: list[tuple[int, str, Contribution]] = []
        for key in ((remote, proto), (remote, "*"), (0, proto), (0, "*")):
            for c in self.entries.get(key, ()):
                if c.lo <= port <= c.hi:
                    cands.append((key[0], key[1], c))
        denies = [x for x in cands if x[2].deny]
        if denies:
            best = _most_specific(denies)
            return Lookup("DENY", True, "explicit", _match_type(*best), _same_key(denies, best))
        if self.direction == "INGRESS" and remote == HOST_ID:
            # repository.go: allow-localhost (auto => always on k8s) adds a host allow rule to
            # every ingress-enforced endpoint.
            return Lookup("ALLOW", True, match_type=MATCH_L3, note="allow-localhost")
        allows = [x for x in cands if not x[2].deny]
        if not allows:
            if self.fallback_allow:
                return Lookup("ALLOW", True, match_type=MATCH_ALL, note="no rule of this direction enables default deny")
            return Lookup("DENY", True, "default")
        best = _most_specific(allows)
        winners = _same_key(allows, best)
        auth = [x for x in allows if x[2].entry is not None and x[2].entry.auth in ("required", "test-always-fail")]
        if auth and len(auth) == len(allows):
            return Lookup("DENY", True, "auth", _match_type(*best), tuple(x[2] for x in auth))
        with_l7 = [x[2].l7 for x in allows if x[2].l7 is not None]
        if with_l7:
            return Lookup("REDIRECT", True, "", _match_type(*best), winners, merge_l7(with_l7, any(x[2].l7 is None for x in allows)))
        return Lookup("ALLOW", True, "", _match_type(*best), winners)

    def size(self) -> int:
        return sum(len(v) for v in self.entries.values())


def _spec(x: tuple[int, str, Contribution]) -> tuple[int, int, int]:
    remote, proto, c = x
    width = c.hi - c.lo if proto != "*" else 1 << 20
    return (width, 0 if proto != "*" else 1, 0 if remote else 1)


def _most_specific(xs: list[tuple[int, str, Contribution]]) -> tuple[int, str, Contribution]:
    return min(xs, key=_spec)


def _same_key(xs: list[tuple[int, str, Contribution]], best: tuple[int, str, Contribution]) -> tuple[Contribution, ...]:
    r, p, c = best
    return tuple(x[2] for x in xs if x[0] == r and x[1] == p and (x[2].lo, x[2].hi) == (c.lo, c.hi))


def _match_type(remote: int, proto: str, c: Contribution) -> int:
    if proto == "*":
        return MATCH_L3 if remote else MATCH_ALL
    full = (c.lo, c.hi) == ALL and proto not in ("ICMP", "ICMPV6")
    if remote:
        return MATCH_L3PROTO if full else MATCH_L3L4
    return MATCH_PROTO if full else MATCH_L4


def merge_l7(rules: list[L7Rules], wildcard: bool) -> L7Rules:
    """Union of L7 rule sets on one (peer, port); ``wildcard`` when an L4-only allow covers it too.
    Two parsers on one port are rejected at parse time within a policy; across policies the first
    kind wins and the other kind's rules count as allow-all (documented in docs/policy.md)."""
    kind = rules[0].kind
    http: list[HTTPRule] = []
    dns: list[DNSRule] = []
    for r in rules:
        if r.kind != kind:
            wildcard = True
            continue
        http.extend(h for h in r.http if h not in http)
        dns.extend(d for d in r.dns if d not in dns)
    if kind == "http" and any(not (h.method or h.path or h.host or h.headers) for h in http):
        wildcard = True
    return L7Rules(kind, tuple(http), tuple(dns), wildcard)


def compute_map(identity: int, direction: str, repo: Repository, cache: SelectorCache, named_ports: NamedPorts,
                mode: str = "default", host_firewall: bool = False) -> PolicyMap:
    """Distil the rules selecting ``identity`` into its policy map for ``direction``."""
    rules = [r for r in repo.selecting(identity, cache) if r.host == (identity == HOST_ID)]
    if identity == HOST_ID and not host_firewall:
        rules = []
    entries = [e for r in rules for e in r.entries if e.direction == direction]
    names = tuple(sorted({r.policy.display() for r in rules}))
    if mode == "never":
        return PolicyMap(identity, direction, False, False, names)
    enforced = bool(entries) or mode == "always" or identity == INIT_ID
    fallback = bool(entries) and not any(e.default_deny for e in entries) and mode != "always" and identity != INIT_ID
    pm = PolicyMap(identity, direction, enforced, fallback, names)
    out: dict[tuple[int, str], list[Contribution]] = defaultdict(list)
    own_ports = named_ports.get(identity, {})
    for e in entries:
        remotes: set[int] = set()
        for peer in e.peers:
            if peer == WILDCARD:
                remotes.add(0)
            else:
                remotes.update(cache.select(peer))
        if not remotes:
            continue
        if not e.port_rules:
            for rid in remotes:
                out[(rid, "*")].append(Contribution(0, 65535, e.deny, None, e))
            continue
        for pr in e.port_rules:
            for pp in pr.ports:
                if isinstance(pp.port, int):
                    lo, hi = (0, 65535) if pp.port == 0 else (pp.port, max(pp.port, pp.end_port))
                    c = Contribution(lo, hi, e.deny, pr.l7, e)
                    for rid in remotes:
                        out[(rid, pp.proto)].append(c)
                    continue
                # Named port: ingress resolves against the subject's own container ports,
                # egress against each selected peer's ports (l4.go).
                if direction == "INGRESS":
                    for num in sorted(own_ports.get((pp.port, pp.proto), ())):
                        c = Contribution(num, num, e.deny, pr.l7, e)
                        for rid in remotes:
                            out[(rid, pp.proto)].append(c)
                else:
                    # Egress: the name is resolved against the named ports of the selected
                    # identities (endpoint.go GetNamedPort(..., l4.Identities(selectors)));
                    # a name mapping to several numbers is incompatible and resolves to nothing.
                    peers = remotes if 0 not in remotes else set(named_ports)
                    nums = set().union(*(named_ports.get(rid, {}).get((pp.port, pp.proto), frozenset()) for rid in peers)) if peers else set()
                    if len(nums) == 1:
                        num = next(iter(nums))
                        c = Contribution(num, num, e.deny, pr.l7, e)
                        for rid in remotes:
                            out[(rid, pp.proto)].append(c)
    pm.entries = dict(out)
    return pm
