"""L7 rules: HTTP (and gRPC through HTTP/2), DNS names and patterns, and their matching.

Owns the L7 rule value types, their validation (Go ``regexp`` compile as Cilium's
``PortRuleHTTP.Sanitize`` does) and request matching as Envoy / the DNS proxy apply them. Called by
``rules`` (parsing), ``policymap`` (merging per port) and ``engine.check_l7``.

Upstream: ``pkg/policy/api/http.go`` (fields, headers ``Name`` / ``Name: value``),
``pkg/envoy/policy/envoy_l7_rules_translator.go`` (method/path/host as anchored RE2 ``safe_regex``
on ``:method``, ``:path``, ``:authority``), ``pkg/fqdn/matchpattern/matchpattern.go`` (DNS
patterns), ``pkg/fqdn/dnsproxy/proxy.go`` (names lower-cased and fully qualified).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..kube_model.dnsnames import pattern_regex, to_fqdn

_GO_ERRORS = (  # Python re error text -> Go regexp/syntax ErrorCode text
    ("unterminated character set", "missing closing ]"),
    ("missing ), unterminated subpattern", "missing closing )"),
    ("unbalanced parenthesis", "unexpected )"),
    ("nothing to repeat", "missing argument to repetition operator"),
    ("multiple repeat", "invalid nested repetition operator"),
    ("bad escape", "invalid escape sequence"),
    ("bad character range", "invalid character class range"),
)


def go_regexp_error(expr: str) -> str | None:
    """None if ``expr`` compiles; else Go's ``regexp.Compile`` style message."""
    try:
        re.compile(expr)
    except re.error as exc:
        msg = str(exc.msg) if hasattr(exc, "msg") else str(exc)
        code = next((g for p, g in _GO_ERRORS if msg.startswith(p)), msg)
        return f"error parsing regexp: {code}: `{expr}`"
    return None


@lru_cache(maxsize=4096)
def _rx(expr: str) -> re.Pattern[str]:
    return re.compile(expr)


@dataclass(frozen=True)
class HTTPRule:
    """One ``rules.http`` item; empty fields match anything; all set fields must match."""

    method: str = ""
    path: str = ""
    host: str = ""
    headers: tuple[tuple[str, str | None], ...] = ()  # (lower-case name, exact value or None = present)

    def matches(self, method: str, path: str, host: str, headers: Mapping[str, str]) -> bool:
        if self.method and not _rx(self.method).fullmatch(method):
            return False
        if self.path and not _rx(self.path).fullmatch(path):
            return False
        if self.host and not _rx(self.host).fullmatch(host):
            return False
        lower = {k.lower(): v for k, v in headers.items()}
        for name, value in self.headers:
            if name not in lower or (value is not None and lower[name] != value):
                return False
        return True

    def render(self) -> str:
        parts = [f"method={self.method}" if self.method else "", f"path={self.path}" if self.path else "",
                 f"host={self.host}" if self.host else ""]
        parts += [f"header {n}" + (f"={v}" if v is not None else "") for n, v in self.headers]
        return " ".join(p for p in parts if p) or "any request"

    @classmethod
    def parse(cls, item: Mapping[str, object]) -> HTTPRule:
        """Raises ValueError (field, reason) for a regex that does not compile or a bad header."""
        for f in ("path", "method", "host"):
            v = item.get(f)
            if v:
                err = go_regexp_error(str(v))
                if err:
                    raise ValueError(f"{f}: {err}")
        hdrs: list[tuple[str, str | None]] = []
        raw_headers: list[Any] = list(item.get("headers") or [])  # type: ignore[call-overload]
        for i, h in enumerate(raw_headers):
            # api/http.go: "Name" = present, "Name: value" = exact value (split at first space).
            text = str(h).strip()
            name, _, value = text.partition(" ")
            name = name.rstrip(":")
            if not name:
                raise ValueError(f"headers[{i}]: Header name missing")
            hdrs.append((name.lower(), value.strip() if value.strip() else None))
        raw_matches: list[Any] = list(item.get("headerMatches") or [])  # type: ignore[call-overload]
        for i, hm in enumerate(raw_matches):
            if not isinstance(hm, Mapping) or not hm.get("name"):
                raise ValueError(f"headerMatches[{i}].name: Header name missing")
            mm = hm.get("mismatch") or ""
            if mm not in ("", "LOG", "ADD", "DELETE", "REPLACE"):
                raise ValueError(f"headerMatches[{i}].mismatch: Invalid header action: {mm}")
            if not mm:  # no mismatch action: an exact match is required; secrets are not modelled
                hdrs.append((str(hm["name"]).lower(), str(hm.get("value")) if hm.get("value") is not None else None))
        return cls(str(item.get("method") or ""), str(item.get("path") or ""), str(item.get("host") or ""), tuple(hdrs))


@dataclass(frozen=True)
class DNSRule:
    """One ``rules.dns`` item (``matchName`` or ``matchPattern``)."""

    match_name: str = ""
    match_pattern: str = ""

    def matches(self, query: str) -> bool:
        return fqdn_matches(self.match_name, self.match_pattern, to_fqdn(query))

    def render(self) -> str:
        return f"matchName={self.match_name}" if self.match_name else f"matchPattern={self.match_pattern}"


def fqdn_matches(match_name: str, match_pattern: str, name: str) -> bool:
    """Whether fully qualified ``name`` matches a toFQDNs / rules.dns item."""
    n = to_fqdn(name)
    if match_name:
        return to_fqdn(match_name) == n
    if match_pattern:
        return pattern_regex(match_pattern).fullmatch(n) is not None
    return False


@dataclass(frozen=True)
class L7Rules:
    """The merged L7 rules a redirected (remote, port) applies: union of items; ``wildcard`` =
    some allow covering the same peer/port has no L7 rules, so every request passes (still proxied)."""

    kind: str  # "http" | "dns"
    http: tuple[HTTPRule, ...] = ()
    dns: tuple[DNSRule, ...] = ()
    wildcard: bool = False

    def allows_http(self, method: str, path: str, host: str, headers: Mapping[str, str]) -> tuple[bool, HTTPRule | None]:
        if self.wildcard:
            return True, None
        for r in self.http:
            if r.matches(method, path, host, headers):
                return True, r
        return False, None

    def allows_dns(self, query: str) -> tuple[bool, DNSRule | None]:
        if self.wildcard:
            return True, None
        for r in self.dns:
            if r.matches(query):
                return True, r
        return False, None

    def render(self) -> str:
        items = [r.render() for r in self.http] if self.kind == "http" else [r.render() for r in self.dns]
        return f"{self.kind}: " + ("; ".join(items) or "none") + (" (+ wildcard)" if self.wildcard else "")
