"""Cilium labels: the identity label filter and the labels Cilium derives for pods, nodes, CIDRs.

Owns the mapping from Kubernetes objects to Cilium *identity label sets* (``source:key=value``
strings, sorted). Called by ``identities`` (allocation) and ``engine`` (pod bookkeeping). Knows
nothing of policies.

Upstream: ``pkg/labelsfilter/filter.go`` (default identity filter), ``pkg/k8s/utils`` (implicit
pod labels), ``pkg/labels/{labels,cidr}.go`` (label syntax, CIDR labels).
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from functools import lru_cache

# Implicit k8s labels Cilium adds to every pod (pkg/k8s/apis/cilium.io/const.go).
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
SERVICE_ACCOUNT_LABEL = "io.cilium.k8s.policy.serviceaccount"
CLUSTER_LABEL = "io.cilium.k8s.policy.cluster"
NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."

# Reserved identities and their numbers (pkg/identity/numericidentity.go).
RESERVED_IDS: dict[str, int] = {
    "host": 1, "world": 2, "unmanaged": 3, "health": 4, "init": 5, "remote-node": 6,
    "kube-apiserver": 7, "ingress": 8, "world-ipv4": 9, "world-ipv6": 10,
}

# pkg/labelsfilter/filter.go defaultLabelPrefixCfg: (regex anchored at key start, include?).
# When an include and an exclude both match, the longer match wins (filter.go filterLabels).
_FILTER_PREFIXES: tuple[tuple[str, bool], ...] = (
    (r"io\.kubernetes\.pod\.namespace", True),
    (r"io\.cilium\.k8s\.namespace\.labels", True),
    (r"io\.cilium\.k8s\.policy", True),
    (r"app\.kubernetes\.io", True),
    (r"io\.kubernetes", False),
    (r"kubernetes\.io", False),
    (r"k8s\.io", False),
    (r".*beta\.kubernetes\.io", False),
    (r"topology\.kubernetes\.io", False),
    (r"statefulset\.kubernetes\.io/pod-name", False),
    (r"apps\.kubernetes\.io/pod-index", False),
    (r"batch\.kubernetes\.io/job-completion-index", False),
    (r"batch\.kubernetes\.io/controller-uid", False),
    (r"pod-template-generation", False),
    (r"pod-template-hash", False),
    (r"controller-revision-hash", False),
    (r"controller-uid", False),
    (r"annotation.*", False),
    (r"etcd_node", False),
)
_FILTER_RES = tuple((re.compile(p), inc) for p, inc in _FILTER_PREFIXES)


@lru_cache(maxsize=65536)
def identity_relevant(key: str) -> bool:
    """Whether a pod label key passes Cilium's default identity label filter (``filter.go``)."""
    best_len, best_inc = -1, True  # no prefix matched -> included (default filter includes all)
    for rx, inc in _FILTER_RES:
        m = rx.match(key)
        if m and m.end() > best_len:
            best_len, best_inc = m.end(), inc
    return best_inc


def pod_identity_labels(
    pod: Mapping[str, object], namespace_labels: Mapping[str, str], cluster: str
) -> tuple[str, ...]:
    """The sorted ``k8s:`` labels Cilium derives for a pod's security identity.

    Args:
        pod: the Pod object (``metadata.labels``, ``metadata.namespace``, ``spec.serviceAccountName``).
        namespace_labels: labels of the pod's Namespace object (``kubernetes.io/metadata.name`` is
            added when missing, as the API server does since 1.21).
        cluster: the Cilium cluster name (``io.cilium.k8s.policy.cluster``).

    Returns:
        e.g. ``("k8s:app=client", "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=demo", ...)``.
    """
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    assert isinstance(meta, Mapping) and isinstance(spec, Mapping)
    ns = str(meta.get("namespace") or "default")
    out: dict[str, str] = {}
    for k, v in dict(meta.get("labels") or {}).items():
        if identity_relevant(str(k)):
            out[str(k)] = "" if v is None else str(v)
    nsl = dict(namespace_labels)
    nsl.setdefault("kubernetes.io/metadata.name", ns)
    for k, v in nsl.items():
        out[NAMESPACE_LABELS_PREFIX + str(k)] = str(v)
    out[POD_NAMESPACE_LABEL] = ns
    out[SERVICE_ACCOUNT_LABEL] = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
    out[CLUSTER_LABEL] = cluster
    return tuple(sorted(f"k8s:{k}={v}" for k, v in out.items()))


def split_label(label: str) -> tuple[str, str, str]:
    """``"k8s:app=x"`` -> ``("k8s", "app", "x")``; ``"reserved:host"`` -> ``("reserved", "host", "")``."""
    src, _, rest = label.partition(":")
    key, _, value = rest.partition("=")
    return src, key, value


def cidr_label(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """Cilium's CIDR label (``pkg/labels/cidr.go``): IPv6 ``:`` written as ``-``."""
    return "cidr:" + str(net).replace(":", "-")


def reserved_labels(name: str) -> tuple[str, ...]:
    """Labels of a reserved identity (``kube-apiserver`` carries ``remote-node`` too)."""
    if name == "kube-apiserver":
        return ("reserved:kube-apiserver", "reserved:remote-node")
    return (f"reserved:{name}",)


def label_maps(labels: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """(``source:key`` -> value, ``key`` -> value) for fast selector matching (``any`` source)."""
    full: dict[str, str] = {}
    anysrc: dict[str, str] = {}
    for lab in labels:
        src, key, value = split_label(lab)
        full[f"{src}:{key}"] = value
        anysrc.setdefault(key, value)
    return full, anysrc
