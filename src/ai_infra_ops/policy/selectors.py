"""Peer and subject selectors, and the selector cache.

Owns the selector value types rules are written in (label selectors with Cilium's label
sources, CIDR sets, FQDN selectors, service selectors) and the :class:`SelectorCache`, which keeps
each distinct selector once with the sorted tuple of identities it selects. Called by ``rules``
(to build selectors) and ``policymap`` (to expand rule entries over identities).

Upstream: ``pkg/policy/api/selector.go`` (key normalisation: a key without ``source:`` has source
``any``), ``pkg/policy/selectorcache.go`` (one entry per distinct selector, sorted selections),
``pkg/labels/cidr.go`` (CIDR selection by prefix containment).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .identities import Identity, IdentityRegistry
from .l7 import fqdn_matches

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True, order=True)
class Req:
    """One requirement: ``source`` is ``any`` when the selector key had no ``source:`` prefix."""

    source: str
    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, ident: Identity) -> bool:
        if self.source == "any":
            val = ident.anysrc.get(self.key)
        else:
            val = ident.full.get(f"{self.source}:{self.key}")
        if self.op == "In":
            return val is not None and val in self.values
        if self.op == "NotIn":
            return val is None or val not in self.values
        if self.op == "Exists":
            return val is not None
        return val is None  # DoesNotExist

    def render(self) -> str:
        k = self.key if self.source == "any" else f"{self.source}:{self.key}"
        if self.op == "In" and len(self.values) == 1:
            return f"{k}={self.values[0]}"
        if self.op == "Exists":
            return k
        if self.op == "DoesNotExist":
            return f"!{k}"
        return f"{k} {self.op.lower()} ({','.join(self.values)})"


def split_key(key: str) -> tuple[str, str]:
    """Cilium's selector key normalisation: ``k8s:app`` -> (k8s, app); ``app`` -> (any, app)."""
    if ":" in key:
        src, _, k = key.partition(":")
        return src, k
    return "any", key


@dataclass(frozen=True)
class LabelSel:
    """A label selector over identity labels; no requirements = the wildcard selector."""

    reqs: tuple[Req, ...] = ()

    def matches(self, ident: Identity) -> bool:
        return all(r.matches(ident) for r in self.reqs)

    def has_key(self, pred: Callable[[str, str], bool]) -> bool:
        return any(pred(r.source, r.key) for r in self.reqs)

    def with_req(self, req: Req) -> LabelSel:
        return LabelSel(tuple(sorted(set(self.reqs) | {req})))

    def render(self) -> str:
        return "{" + ",".join(r.render() for r in self.reqs) + "}" if self.reqs else "{} (all)"

    @classmethod
    def from_dict(cls, sel: Mapping[str, object] | None, default_source: str = "any") -> LabelSel:
        """Parse ``{matchLabels, matchExpressions}``; raises ValueError with the field and reason."""
        reqs: list[Req] = []
        if sel is None:
            return cls(())
        if not isinstance(sel, Mapping):
            raise ValueError("expected a label selector object")
        ml = sel.get("matchLabels") or {}
        if not isinstance(ml, Mapping):
            raise ValueError("matchLabels: expected a mapping")
        for k, v in ml.items():
            src, key = split_key(str(k)) if default_source == "any" else (default_source, str(k))
            reqs.append(Req(src, key, "In", ("" if v is None else str(v),)))
        exprs = sel.get("matchExpressions") or []
        if not isinstance(exprs, list):
            raise ValueError("matchExpressions: expected a list")
        for i, e in enumerate(exprs):
            if not isinstance(e, Mapping):
                raise ValueError(f"matchExpressions[{i}]: expected a mapping")
            op, ekey, vals = str(e.get("operator")), e.get("key"), e.get("values") or []
            if op not in OPERATORS:
                # k8s.io/apimachinery labels.NewRequirement wording
                raise ValueError(f'matchExpressions[{i}].operator: "{op}" is not a valid label selector operator')
            if not ekey:
                raise ValueError(f"matchExpressions[{i}].key: key must be specified")
            if op in ("In", "NotIn") and not vals:
                raise ValueError(f"matchExpressions[{i}].values: for 'in', 'notin' operators, values set can't be empty")
            if op in ("Exists", "DoesNotExist") and vals:
                raise ValueError(f"matchExpressions[{i}].values: values set must be empty for exists and does not exist")
            src, k = split_key(str(ekey)) if default_source == "any" else (default_source, str(ekey))
            reqs.append(Req(src, k, str(op), tuple(sorted(str(v) for v in vals))))
        return cls(tuple(sorted(set(reqs))))


@dataclass(frozen=True)
class CIDRSel:
    """``fromCIDR``/``toCIDRSet``/``ipBlock``: selects world and CIDR identities inside ``cidr``
    and outside every ``except`` prefix (the except applies to its own entry only)."""

    cidr: str
    excepts: tuple[str, ...] = ()

    def render(self) -> str:
        return self.cidr + (f" except {','.join(self.excepts)}" if self.excepts else "")


@dataclass(frozen=True)
class FQDNSel:
    """``toFQDNs`` item: selects the CIDR identities of IPs learned from allowed DNS answers."""

    match_name: str = ""
    match_pattern: str = ""

    def render(self) -> str:
        return f"fqdn:{self.match_name or self.match_pattern}"


@dataclass(frozen=True)
class ServiceSel:
    """``toServices``: the pods behind a Service (``k8sService``) or Services matching a selector."""

    namespace: str
    name: str = ""
    selector: LabelSel | None = None

    def render(self) -> str:
        return f"service {self.namespace}/{self.name}" if self.name else f"services {self.namespace} {self.selector.render() if self.selector else ''}"


Selector = LabelSel | CIDRSel | FQDNSel | ServiceSel
WILDCARD = LabelSel(())


class SelectorCache:
    """Each distinct selector once, with the sorted identities it selects.

    Selections are recomputed lazily when the identity registry's revision (or the learned FQDN
    and service state, via :meth:`invalidate`) changes. A label index on ``key=value`` narrows the
    candidates of selectors with equality requirements, so namespace-scoped selectors only look at
    their namespace's identities.
    """

    def __init__(self, registry: IdentityRegistry) -> None:
        self.registry = registry
        self._cache: dict[Selector, tuple[int, ...]] = {}
        self._rev = -1
        self._index: dict[str, set[int]] = {}
        self.fqdn_ips: dict[str, set[str]] = {}        # learned name (fqdn, trailing dot) -> IPs
        self.services: dict[tuple[str, str], tuple[dict[str, str], dict[str, str]]] = {}  # (ns,name) -> (selector, labels)

    def invalidate(self) -> None:
        self._cache.clear()

    def _refresh(self) -> None:
        if self._rev == self.registry.revision:
            return
        self._rev = self.registry.revision
        self._cache.clear()
        idx: dict[str, set[int]] = {}
        for num, ident in self.registry.by_id.items():
            for k, v in ident.full.items():
                idx.setdefault(f"{k}={v}", set()).add(num)
            for k, v in ident.anysrc.items():
                idx.setdefault(f"any:{k}={v}", set()).add(num)
        self._index = idx

    def select(self, sel: Selector) -> tuple[int, ...]:
        """The sorted identity ids ``sel`` selects."""
        self._refresh()
        hit = self._cache.get(sel)
        if hit is None:
            hit = tuple(sorted(self._compute(sel)))
            self._cache[sel] = hit
        return hit

    def _compute(self, sel: Selector) -> set[int]:
        reg = self.registry
        if isinstance(sel, LabelSel):
            cands: set[int] | None = None
            for r in sel.reqs:
                if r.op != "In":
                    continue
                ids: set[int] = set()
                for v in r.values:
                    ids |= self._index.get(f"{r.source}:{r.key}={v}", set())
                cands = ids if cands is None else cands & ids
            pool = reg.by_id.keys() if cands is None else cands
            return {n for n in pool if sel.matches(reg.by_id[n])}
        if isinstance(sel, CIDRSel):
            net = ipaddress.ip_network(sel.cidr, strict=False)
            excepts = [ipaddress.ip_network(e, strict=False) for e in sel.excepts]
            out: set[int] = set()
            if net.prefixlen == 0 and not any(e.prefixlen == 0 for e in excepts):
                out.add(2)  # 0.0.0.0/0 is the world label itself (cidr.go)
            for num, ident in reg.by_id.items():
                p = ident.prefix
                if p is None or p.version != net.version or not p.subnet_of(net):  # type: ignore[arg-type]
                    continue
                if any(p.version == e.version and p.subnet_of(e) for e in excepts):  # type: ignore[arg-type]
                    continue
                out.add(num)
            return out
        if isinstance(sel, FQDNSel):
            out = set()
            for name, ips in self.fqdn_ips.items():
                if fqdn_matches(sel.match_name, sel.match_pattern, name):
                    for ip in ips:
                        out.add(reg.cidr_identity(ipaddress.ip_address(ip)))
            out.discard(2)
            return out
        # ServiceSel: the Service's own pod selector, scoped to the Service's namespace.
        out = set()
        for (ns, name), (podsel, svclabels) in sorted(self.services.items()):
            if ns != sel.namespace or not podsel:
                continue
            if sel.name and name != sel.name:
                continue
            if sel.selector is not None and not _match_plain(sel.selector, svclabels):
                continue
            ls = LabelSel(tuple(sorted(
                [Req("k8s", k, "In", (v,)) for k, v in podsel.items()]
                + [Req("k8s", "io.kubernetes.pod.namespace", "In", (ns,))])))
            out |= set(self.select(ls))
        return out


def _match_plain(sel: LabelSel, labels: Mapping[str, str]) -> bool:
    """Match a selector against plain (source-less) labels, e.g. a Service's own labels."""
    for r in sel.reqs:
        val = labels.get(r.key)
        ok = {"In": val is not None and val in r.values, "NotIn": val is None or val not in r.values,
              "Exists": val is not None, "DoesNotExist": val is None}[r.op]
        if not ok:
            return False
    return True
