"""Resource names as kubectl accepts them (``pods``, ``po``, ``deploy``, ``cnp``...) -> Kind,
with the apiVersion and scope of each kind the twin serves (``kubectl api-resources``).

Called by ``twin.backend`` (get/list/delete take any of these spellings) and the CLI commands.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserInputError

__all__ = ["KindInfo", "KINDS", "resolve_kind"]


@dataclass(frozen=True)
class KindInfo:
    kind: str
    api_version: str
    namespaced: bool
    plural: str
    short: tuple[str, ...] = ()


KINDS: tuple[KindInfo, ...] = (
    KindInfo("ConfigMap", "v1", True, "configmaps", ("cm",)),
    KindInfo("Endpoints", "v1", True, "endpoints", ("ep",)),
    KindInfo("Event", "v1", True, "events", ("ev",)),
    KindInfo("Namespace", "v1", False, "namespaces", ("ns",)),
    KindInfo("Node", "v1", False, "nodes", ("no",)),
    KindInfo("Pod", "v1", True, "pods", ("po",)),
    KindInfo("ResourceQuota", "v1", True, "resourcequotas", ("quota",)),
    KindInfo("Secret", "v1", True, "secrets"),
    KindInfo("ServiceAccount", "v1", True, "serviceaccounts", ("sa",)),
    KindInfo("Service", "v1", True, "services", ("svc",)),
    KindInfo("CustomResourceDefinition", "apiextensions.k8s.io/v1", False, "customresourcedefinitions", ("crd", "crds")),
    KindInfo("DaemonSet", "apps/v1", True, "daemonsets", ("ds",)),
    KindInfo("Deployment", "apps/v1", True, "deployments", ("deploy",)),
    KindInfo("ReplicaSet", "apps/v1", True, "replicasets", ("rs",)),
    KindInfo("CiliumClusterwideNetworkPolicy", "cilium.io/v2", False, "ciliumclusterwidenetworkpolicies", ("ccnp",)),
    KindInfo("CiliumNetworkPolicy", "cilium.io/v2", True, "ciliumnetworkpolicies", ("cnp", "ciliumnp")),
    KindInfo("NetworkPolicy", "networking.k8s.io/v1", True, "networkpolicies", ("netpol",)),
    KindInfo("RuntimeClass", "node.k8s.io/v1", False, "runtimeclasses"),
    KindInfo("PriorityClass", "scheduling.k8s.io/v1", False, "priorityclasses", ("pc",)),
)
_BY_NAME: dict[str, KindInfo] = {}
for _k in KINDS:
    for _n in (_k.kind.lower(), _k.plural, *_k.short):
        _BY_NAME[_n] = _k
    # kubectl also accepts "<plural>.<group>" (e.g. ciliumnetworkpolicies.cilium.io)
    if "/" in _k.api_version:
        _BY_NAME[f"{_k.plural}.{_k.api_version.split('/')[0]}"] = _k


def resolve_kind(name: str) -> KindInfo:
    """The kind for a kubectl resource spelling (``pods``, ``Pod``, ``po``, ``deploy.apps``...).

    Raises:
        UserInputError: ``the server doesn't have a resource type "<name>"`` (kubectl's text).
    """
    key = name.strip().lower()
    if key in _BY_NAME:
        return _BY_NAME[key]
    base = key.split(".", 1)[0]
    if base in _BY_NAME:
        return _BY_NAME[base]
    raise UserInputError(f'the server doesn\'t have a resource type "{name}"',
                         hint="known: " + ", ".join(k.plural for k in KINDS))


def kind_info(kind: str) -> KindInfo:
    """Info of an exact Kind name (falls back to a namespaced v1 kind)."""
    for k in KINDS:
        if k.kind == kind:
            return k
    return KindInfo(kind, "v1", True, kind.lower() + "s")
