"""DNS names as Cilium compares them: fully-qualified lower-case names and ``matchPattern``.

One implementation for the spec's checks (a C2C name must not be covered by an allow pattern)
and the policy engine's DNS proxy / ``toFQDNs`` matching. Semantics from cilium/cilium:
``pkg/fqdn/matchpattern/matchpattern.go`` (``ToAnchoredRegexp``) and ``pkg/policy/api/fqdn.go``.
"""
from __future__ import annotations

import re
from functools import lru_cache

# pkg/fqdn/matchpattern: the characters a '*' inside a label may stand for.
DNS_CHARS = "[-a-zA-Z0-9_]"


def to_fqdn(name: str) -> str:
    """Lower-case, fully qualified (trailing dot), as the DNS proxy compares names."""
    n = name.strip().lower()
    return n if n.endswith(".") else n + "."


@lru_cache(maxsize=4096)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """``matchPattern`` -> a regex to use with ``fullmatch`` on :func:`to_fqdn` names.

    ``*`` alone matches every name; ``**.`` as a prefix matches one or more labels; ``*`` elsewhere
    matches zero or more DNS characters within one label (so ``*.cilium.io`` matches
    ``a.cilium.io`` but neither ``cilium.io`` nor ``a.b.cilium.io``).
    """
    p = to_fqdn(pattern)
    if p == "*.":
        return re.compile(r"(" + DNS_CHARS + r"+\.)+|\.")
    prefix = ""
    if p.startswith("**."):
        prefix = r"(" + DNS_CHARS + r"+\.)+"
        p = p[3:]
    body = "".join(DNS_CHARS + "*" if ch == "*" else re.escape(ch) for ch in p)
    return re.compile(prefix + body)


def pattern_matches(pattern: str, name: str) -> bool:
    """Whether a Cilium ``matchPattern`` matches ``name`` (case-insensitive, trailing dot optional)."""
    return pattern_regex(pattern).fullmatch(to_fqdn(name)) is not None
