"""Watch-based waits: block until a predicate holds for one object, or a deadline passes.

``wait_for`` reads the object once (the predicate may already hold), then opens a watch on that
one object (``fieldSelector=metadata.name=NAME``) from the resourceVersion it read, and evaluates
the predicate on every event. No fixed sleeps: the server pushes each change. A watch the server
closes (its ``timeoutSeconds`` or a 410 Gone for a stale resourceVersion) is re-listed and resumed
until the deadline.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from ..backend import KubeObject, WaitResult
from .client import KubeClient, ResourceInfo
from .errors import ApiStatusError, NotFound


def get_object(client: KubeClient, info: ResourceInfo, name: str, namespace: str | None) -> KubeObject | None:
    """The object, or ``None`` if it does not exist."""
    try:
        obj: KubeObject = client.request("GET", info.path(namespace, name), verb="get", what=f"{info.plural} {name}")
        return obj
    except NotFound:
        return None


def wait_for(client: KubeClient, info: ResourceInfo, name: str, namespace: str | None,
             predicate: Callable[[KubeObject | None], bool], *, timeout_s: float = 60.0,
             description: str = "") -> WaitResult:
    """Wait until ``predicate(object)`` is true (``object`` is ``None`` while it does not exist)."""
    t0 = time.monotonic()
    deadline = t0 + timeout_s
    ns = namespace if info.namespaced else None
    obj: KubeObject | None = None
    while True:
        # A fresh read: the current state and the resourceVersion to watch from.
        listing = client.request("GET", info.path(ns), params={"fieldSelector": f"metadata.name={name}"},
                                 verb="list", what=info.plural)
        items = listing.get("items", [])
        obj = _with_kind(items[0], info) if items else None
        if predicate(obj):
            return WaitResult(True, obj, time.monotonic() - t0, description)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        params = {"watch": "true", "fieldSelector": f"metadata.name={name}",
                  "resourceVersion": listing.get("metadata", {}).get("resourceVersion", ""),
                  "allowWatchBookmarks": "false", "timeoutSeconds": str(max(1, int(remaining + 0.999)))}
        try:
            for event in client.stream(info.path(ns), params, what=info.plural):
                etype = event.get("type")
                if etype == "ERROR":
                    break  # e.g. 410 Gone: re-list and resume
                obj = None if etype == "DELETED" else _with_kind(event.get("object", {}), info)
                if predicate(obj):
                    return WaitResult(True, obj, time.monotonic() - t0, description)
                if time.monotonic() >= deadline:
                    break
        except ApiStatusError as exc:
            if exc.code != 410:
                raise
        if time.monotonic() >= deadline:
            break
    waited = time.monotonic() - t0
    what = description or f"{info.kind.lower()}/{name}"
    return WaitResult(False, obj, waited, f"timed out after {waited:.1f}s waiting for {what}")


def _with_kind(obj: KubeObject, info: ResourceInfo) -> KubeObject:
    """List items carry no apiVersion/kind; add them so objects look like ``kubectl get -o json``."""
    obj.setdefault("apiVersion", info.api_version)
    obj.setdefault("kind", info.kind)
    return obj
