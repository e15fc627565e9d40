"""Object identity helpers: keys, API groups, scope of kinds, apply order."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

# Kinds the toolkit knows and whether they are namespaced (the twin's API surface plus what
# `render` emits). Cluster-scoped kinds are listed with False.
KIND_SCOPE: dict[str, bool] = {
    "Namespace": False,
    "Node": False,
    "Pod": True,
    "Deployment": True,
    "ReplicaSet": True,
    "DaemonSet": True,
    "ConfigMap": True,
    "Secret": True,
    "Service": True,
    "Endpoints": True,
    "ServiceAccount": True,
    "ResourceQuota": True,
    "Event": True,
    "NetworkPolicy": True,
    "CiliumNetworkPolicy": True,
    "CiliumClusterwideNetworkPolicy": False,
    "PriorityClass": False,
    "RuntimeClass": False,
    "CustomResourceDefinition": False,
}

# Apply order (CRDs and Namespaces first); delete uses the reverse.
APPLY_ORDER = [
    "CustomResourceDefinition", "Namespace", "PriorityClass", "RuntimeClass", "ServiceAccount",
    "ResourceQuota", "ConfigMap", "Secret", "Node", "Service", "Endpoints", "NetworkPolicy",
    "CiliumClusterwideNetworkPolicy", "CiliumNetworkPolicy", "DaemonSet", "Deployment",
    "ReplicaSet", "Pod", "Event",
]


class ObjectKey(NamedTuple):
    kind: str
    namespace: str  # "" for cluster-scoped objects
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace + '/' if self.namespace else ''}{self.name}"


def kind_is_namespaced(kind: str) -> bool:
    return KIND_SCOPE.get(kind, True)


def api_group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def object_key(obj: Mapping[str, Any], default_namespace: str = "default") -> ObjectKey:
    meta = obj.get("metadata") or {}
    kind = str(obj.get("kind", ""))
    ns = str(meta.get("namespace") or default_namespace) if kind_is_namespaced(kind) else ""
    return ObjectKey(kind, ns, str(meta.get("name", "")))


def apply_rank(kind: str) -> int:
    try:
        return APPLY_ORDER.index(kind)
    except ValueError:
        return len(APPLY_ORDER)
