"""The narrow, read-only view of a cluster that the twin's network code works on.

``ClusterView`` is the seam between the network/traffic code and wherever the objects live: the
twin's SQLite store (``TwinBackend`` builds an ``InMemoryView`` from its objects), a conformance
case (``cli probe`` builds one from the case file), or a test. Every method returns plain
Kubernetes dicts as ``kubectl get -o json`` shows them, sorted by namespace/name.

``revision()`` changes whenever the objects change; ``engine_for_view`` keys its cached policy
engine on it (Cilium keys its per-identity policy cache on the repository revision,
``pkg/policy/repository.go``).

Knows nothing of policy, flows or the store.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

KubeObject = dict[str, Any]

POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy")


@runtime_checkable
class ClusterView(Protocol):
    """What the network code may read of a cluster."""

    def namespaces(self) -> list[KubeObject]: ...

    def pods(self) -> list[KubeObject]: ...

    def nodes(self) -> list[KubeObject]: ...

    def services(self) -> list[KubeObject]: ...

    def endpoints(self) -> list[KubeObject]:
        """v1 Endpoints objects (one per Service that has endpoints)."""
        ...

    def policies(self) -> list[KubeObject]:
        """CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and NetworkPolicy objects."""
        ...

    def revision(self) -> str:
        """An opaque value that changes whenever any object above changes."""
        ...


def _key(obj: KubeObject) -> tuple[str, str]:
    md = obj.get("metadata") or {}
    return (str(md.get("namespace") or ""), str(md.get("name") or ""))


class InMemoryView:
    """A ``ClusterView`` over a list of objects (any kinds; unrelated kinds are ignored).

    Endpoints: explicit ``Endpoints`` objects win; every other Service with a selector gets the
    Endpoints the endpoints controller would compute (``services.compute_endpoints``).

    Args:
        objects: Kubernetes objects (Namespaces, Pods, Nodes, Services, Endpoints, policies...).
        revision: the store's revision if it has one; otherwise a digest of the objects is used.
        scope: which cluster this is (e.g. the twin's state directory). Views of the same scope
            share cached engines (and what their DNS proxy learned); the default is a scope of
            this view alone, so two clusters with equal objects never share learned state.
    """

    _scopes = itertools.count(1)

    def __init__(self, objects: Iterable[KubeObject], revision: str | int | None = None, scope: str | None = None) -> None:
        self.scope = scope if scope is not None else f"view-{next(self._scopes)}"
        by_kind: dict[str, list[KubeObject]] = {}
        for obj in objects:
            by_kind.setdefault(str(obj.get("kind") or ""), []).append(obj)
        for items in by_kind.values():
            items.sort(key=_key)
        self._by_kind = by_kind
        self._revision = None if revision is None else str(revision)
        self._endpoints: list[KubeObject] | None = None

    def objects(self, kind: str) -> list[KubeObject]:
        """All objects of ``kind`` (sorted by namespace/name)."""
        return list(self._by_kind.get(kind, ()))

    def namespaces(self) -> list[KubeObject]:
        return self.objects("Namespace")

    def pods(self) -> list[KubeObject]:
        return self.objects("Pod")

    def nodes(self) -> list[KubeObject]:
        return self.objects("Node")

    def services(self) -> list[KubeObject]:
        return self.objects("Service")

    def endpoints(self) -> list[KubeObject]:
        if self._endpoints is None:
            from .services import compute_endpoints

            explicit = {_key(e): e for e in self.objects("Endpoints")}
            computed = {
                _key(e): e
                for e in compute_endpoints(self.services(), self.pods())
                if _key(e) not in explicit
            }
            merged = {**computed, **explicit}
            self._endpoints = [merged[k] for k in sorted(merged)]
        return list(self._endpoints)

    def policies(self) -> list[KubeObject]:
        out: list[KubeObject] = []
        for kind in POLICY_KINDS:
            out.extend(self.objects(kind))
        return out

    def revision(self) -> str:
        if self._revision is None:
            digest = hashlib.sha256()
            for kind in sorted(self._by_kind):
                for obj in self._by_kind[kind]:
                    digest.update(json.dumps(obj, sort_keys=True, default=str).encode())
            self._revision = digest.hexdigest()[:16]
        return f"{self.scope}@{self._revision}"
