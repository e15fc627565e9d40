"""Events of a namespace or of one object, oldest first, as ``kubectl get events`` lists them.

Reads ``core/v1`` Events (what kube-scheduler, the controllers and kwok write); the field selector
``involvedObject.name`` narrows them server-side.
"""
from __future__ import annotations

from ..backend import KubeObject
from .client import KubeClient


def list_events(client: KubeClient, namespace: str | None = None, involved_name: str | None = None,
                reason: str | None = None) -> list[KubeObject]:
    """Events, sorted by last/first timestamp then name; filters applied by the server."""
    selectors = []
    if involved_name:
        selectors.append(f"involvedObject.name={involved_name}")
    if reason:
        selectors.append(f"reason={reason}")
    params = {"fieldSelector": ",".join(selectors)} if selectors else None
    path = f"/api/v1/namespaces/{namespace}/events" if namespace else "/api/v1/events"
    listing = client.request("GET", path, params=params, verb="list", what="events")
    items: list[KubeObject] = listing.get("items", [])
    for ev in items:
        ev.setdefault("apiVersion", "v1")
        ev.setdefault("kind", "Event")

    def when(ev: KubeObject) -> tuple[str, str]:
        ts = ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp") or ""
        return (str(ts), str(ev.get("metadata", {}).get("name", "")))
    return sorted(items, key=when)


def scheduling_message(pod: KubeObject | None) -> str | None:
    """The message of a Pod's ``PodScheduled=False`` condition (the FailedScheduling text), if any."""
    if not pod:
        return None
    for cond in pod.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            msg = cond.get("message")
            return str(msg) if msg is not None else None
    return None
