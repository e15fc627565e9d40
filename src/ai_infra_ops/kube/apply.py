"""Server-side apply of a batch of objects, validated first so that nothing is half-applied.

Protocol (``apply_objects``):

1. Order the batch: CRDs and Namespaces first (what others depend on), then the rest in the
   given order (the same rule as lightkube's ``sort_objects``).
2. Validate every object with a server-side dry-run apply (``dryRun=All``): the real API server
   runs defaulting, validation and admission (quota, LimitRanger, ...) and persists nothing. An
   object whose dry-run fails only because its Namespace or CRD is created by this same batch is
   validated after that dependency is applied (it cannot be validated earlier).
3. If any validation fails, nothing is written and the server's message is raised.
4. Apply for real with field manager ``ai-infra-ops`` and ``force=true``: the toolkit owns the
   fields it declares; a field another manager (kubectl, a controller) set is taken over instead
   of failing with a 409 conflict. That is the declared-state contract of ``up``; the objects it
   writes are its own. If a later object still fails (a race, quota used meanwhile), the raised
   ``PartialApplyError`` lists exactly which objects were applied before it.

The action reported per object compares ``metadata.resourceVersion`` before and after: created,
configured (changed) or unchanged, as ``kubectl apply --server-side`` prints.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..backend import ApplyResult, KubeObject
from ..errors import AdmissionError, BackendError
from .client import APPLY_PATCH, FIELD_MANAGER, KubeClient, ResourceInfo
from .errors import NotFound

FIRST_KINDS = ("CustomResourceDefinition", "Namespace")


class PartialApplyError(BackendError):
    """A real apply failed part-way; ``applied`` lists the objects written before the failure."""

    def __init__(self, message: str, applied: list[ApplyResult], failed: str, cause: Exception):
        super().__init__(message)
        self.exit_code = getattr(cause, "exit_code", 1)
        self.applied = applied
        self.failed = failed
        self.cause = cause


@dataclass(frozen=True)
class _Item:
    obj: KubeObject
    info: ResourceInfo | None  # None: kind served only after a CRD of this batch is installed
    namespace: str | None

    @property
    def ref(self) -> str:
        name = self.obj.get("metadata", {}).get("name", "?")
        where = f" -n {self.namespace}" if self.namespace else ""
        return f"{self.obj.get('kind', '?')}/{name}{where}"


def order_objects(objects: list[KubeObject]) -> list[KubeObject]:
    """CRDs first, then Namespaces, then everything else in the given order (stable)."""
    def rank(o: KubeObject) -> int:
        kind = o.get("kind", "")
        return FIRST_KINDS.index(kind) if kind in FIRST_KINDS else len(FIRST_KINDS)
    return sorted(objects, key=rank)


def apply_objects(client: KubeClient, objects: list[KubeObject], *, dry_run: bool = False,
                  field_manager: str = FIELD_MANAGER, force: bool = True) -> list[ApplyResult]:
    """Validate the whole batch with server-side dry-run, then apply it (unless ``dry_run``).

    Raises:
        AdmissionError: an object was refused in validation; nothing was written.
        PartialApplyError: a real apply failed after others succeeded (lists them).
    """
    items = [_item(client, o) for o in order_objects(objects)]
    batch_namespaces = {o["metadata"]["name"] for o in objects if o.get("kind") == "Namespace"}
    batch_kinds = {o.get("spec", {}).get("names", {}).get("kind") for o in objects
                   if o.get("kind") == "CustomResourceDefinition"}
    deferred: list[_Item] = []
    for it in items:
        if it.info is None:
            if it.obj.get("kind") not in batch_kinds:
                raise AdmissionError(f"{it.ref}: the server doesn't have a resource type "
                                     f"\"{it.obj.get('kind')}\" in {it.obj.get('apiVersion')} (install its "
                                     "CustomResourceDefinition first; nothing applied)")
            deferred.append(it)
            continue
        try:
            _apply_one(client, it, dry_run=True, field_manager=field_manager, force=force)
        except NotFound as exc:
            if it.namespace in batch_namespaces and "namespaces" in str(exc):
                deferred.append(it)
                continue
            raise AdmissionError(f"{it.ref}: {exc}") from exc
        except AdmissionError as exc:
            raise AdmissionError(f"{it.ref}: {exc} (nothing applied)") from exc
    results: list[ApplyResult] = []
    deferred_refs = {id(d) for d in deferred}
    for it in items:
        if dry_run:
            before = _exists(client, it) if it.info is not None else None
            if id(it) in deferred_refs:
                # Its Namespace/CRD is part of this batch and not on the server yet, so the
                # server could not validate it; say so instead of claiming success.
                action = "created (not validated: its namespace or CRD is created by this batch)"
            else:
                action = "unchanged" if before is not None and _same(before, it.obj) else (
                    "created" if before is None else "configured")
            results.append(ApplyResult(it.obj.get("kind", ""), it.namespace or "", it.obj["metadata"]["name"],
                                       action))
            continue
        try:
            live = it if it.info is not None else _item(client, it.obj)
            if live.info is None:
                raise NotFound(f"the server doesn't have a resource type \"{it.obj.get('kind')}\"", code=404)
            before_rv = _resource_version(_exists(client, live))
            after = _apply_one(client, live, dry_run=False, field_manager=field_manager, force=force)
        except (BackendError, AdmissionError) as exc:
            done = ", ".join(str(r) for r in results) or "none"
            raise PartialApplyError(f"apply failed at {it.ref}: {exc}; applied before it: {done}",
                                    results, it.ref, exc) from exc
        after_rv = _resource_version(after)
        action = "created" if before_rv is None else ("unchanged" if before_rv == after_rv else "configured")
        results.append(ApplyResult(it.obj.get("kind", ""), it.namespace or "", it.obj["metadata"]["name"], action))
        if it.obj.get("kind") == "CustomResourceDefinition":
            _await_established(client, live.info, it.obj["metadata"]["name"])
            client.forget_discovery()
        if it.obj.get("kind") == "Namespace" and action == "created" and len(items) > 1:
            _await_default_service_account(client, it.obj["metadata"]["name"])
    return results


def _await_established(client: KubeClient, info: ResourceInfo | None, name: str, timeout_s: float = 60.0) -> None:
    """Wait (watch) until a CRD is ``Established``: before that its kind is not served, and
    objects of that kind later in the batch (or in the next call) would be refused."""
    from .wait import wait_for

    def established(crd: KubeObject | None) -> bool:
        conds = (crd or {}).get("status", {}).get("conditions", []) or []
        return any(c.get("type") == "Established" and c.get("status") == "True" for c in conds)
    assert info is not None
    res = wait_for(client, info, name, None, established, timeout_s=timeout_s)
    if not res.ok:
        raise BackendError(f"CustomResourceDefinition {name} not Established after {timeout_s:.0f}s")


def _await_default_service_account(client: KubeClient, namespace: str, timeout_s: float = 15.0) -> None:
    """Wait (watch) for the ``default`` ServiceAccount that kube-controller-manager creates in a
    new namespace: until it exists, the ServiceAccount admission plugin refuses every Pod there
    ("error looking up service account"). A cluster without that controller just costs the timeout
    once per new namespace (then the pod apply reports the server's error)."""
    from .wait import wait_for

    sa = client.resolve("ServiceAccount", "v1")
    wait_for(client, sa, "default", namespace, lambda o: o is not None, timeout_s=timeout_s)


def _item(client: KubeClient, obj: KubeObject) -> _Item:
    kind = obj.get("kind")
    api_version = obj.get("apiVersion")
    if not kind or not api_version or not obj.get("metadata", {}).get("name"):
        raise AdmissionError(f"object without apiVersion, kind or metadata.name: {json.dumps(obj)[:120]}")
    try:
        info: ResourceInfo | None = client.resolve(kind, api_version)
    except NotFound:
        info = None
    ns = obj.get("metadata", {}).get("namespace")
    if info is not None:
        ns = (ns or "default") if info.namespaced else None
    return _Item(obj, info, ns)


def _apply_one(client: KubeClient, it: _Item, *, dry_run: bool, field_manager: str, force: bool) -> KubeObject:
    assert it.info is not None
    params: dict[str, Any] = {"fieldManager": field_manager, "force": "true" if force else "false"}
    if dry_run:
        params["dryRun"] = "All"
    body = dict(it.obj)
    meta = dict(body.get("metadata", {}))
    if it.namespace:
        meta["namespace"] = it.namespace
    body["metadata"] = meta
    result: KubeObject = client.request("PATCH", it.info.path(it.namespace, meta["name"]), params=params, body=body,
                                        content_type=APPLY_PATCH, verb="patch",
                                        what=f"{it.info.plural} {meta['name']}")
    return result


def _exists(client: KubeClient, it: _Item) -> KubeObject | None:
    assert it.info is not None
    try:
        got: KubeObject = client.request("GET", it.info.path(it.namespace, it.obj["metadata"]["name"]), verb="get",
                                         what=f"{it.info.plural} {it.obj['metadata']['name']}")
        return got
    except NotFound:
        return None


def _resource_version(obj: KubeObject | None) -> str | None:
    if obj is None:
        return None
    return str(obj.get("metadata", {}).get("resourceVersion"))


def _same(live: KubeObject, desired: KubeObject) -> bool:
    """Whether every field ``desired`` sets already has that value in ``live`` (dry-run estimate)."""
    def sub(d: Any, l: Any) -> bool:
        if isinstance(d, dict):
            return isinstance(l, dict) and all(sub(v, l.get(k)) for k, v in d.items())
        return bool(d == l)
    return sub({k: v for k, v in desired.items() if k != "status"}, live)
