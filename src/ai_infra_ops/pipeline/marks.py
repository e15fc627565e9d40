"""Step marks: what ``up`` records in the cluster for steps whose goal is an observation.

Most steps are "already true?" by looking at objects. A few are observations of behaviour — the
chaos pod staying Pending, the baseline egress before any policy, the connectivity suite, a host
step the backend cannot execute — and leave no object behind. For those ``up`` keeps one
ConfigMap ``kube-system/ai-infra-ops-state`` (as Helm keeps release state in the cluster): one
key per step holding the time, a fingerprint of what was observed (e.g. the test pod's UID, so a
recreated pod is observed again) and the evidence. ``down`` deletes it.
"""
from __future__ import annotations

import json
from typing import Any

from ..backend import Backend
from .steps import Evidence

STATE_NAMESPACE = "kube-system"
STATE_NAME = "ai-infra-ops-state"


def _data(backend: Backend) -> dict[str, str]:
    cm = backend.get("ConfigMap", STATE_NAME, STATE_NAMESPACE)
    return dict((cm or {}).get("data") or {})


def read_mark(backend: Backend, step: str) -> dict[str, Any] | None:
    """The mark of ``step`` ({at, fingerprint, evidence}) or None."""
    raw = _data(backend).get(step)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def mark_matches(backend: Backend, step: str, fingerprint: str) -> Evidence | None:
    """The recorded evidence when ``step`` was marked with ``fingerprint``, else None."""
    mark = read_mark(backend, step)
    if mark is None or mark.get("fingerprint") != fingerprint:
        return None
    return Evidence.from_dict(mark.get("evidence"))


def write_mark(backend: Backend, step: str, fingerprint: str, evidence: Evidence, at: str = "") -> None:
    """Record ``step`` as done (server-side apply of the state ConfigMap)."""
    data = _data(backend)
    data[step] = json.dumps({"at": at, "fingerprint": fingerprint, "evidence": evidence.to_dict()}, sort_keys=True)
    backend.apply([{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": STATE_NAME, "namespace": STATE_NAMESPACE,
                     "labels": {"app.kubernetes.io/managed-by": "ai-infra-ops"}},
        "data": dict(sorted(data.items())),
    }])


def clear_marks(backend: Backend) -> bool:
    """Delete the state ConfigMap (``down``)."""
    return backend.delete("ConfigMap", STATE_NAME, STATE_NAMESPACE)
