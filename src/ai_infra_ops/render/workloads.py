"""Namespaces, ResourceQuotas, the workloads and the chaos pod of the spec, as manifests.

Owns ``manifests/00-namespaces.yaml``, ``manifests/10-quotas.yaml``, ``manifests/30-workloads.yaml``
and ``manifests/chaos/<pod>.yaml``. Namespaces carry ``kubernetes.io/metadata.name`` explicitly
(the API server adds it anyway since Kubernetes 1.21; writing it keeps the rendered object equal
to the stored one, and Cilium derives the ``io.cilium.k8s.namespace.labels.*`` identity labels
from it). Workloads are rendered as the spec gives them (the seed's CUDA pod verbatim, the
inference demo of issue 4); the chaos pod gets its own file because applying it is a test step
(Phase 2 step 5), not part of the platform.
"""
from __future__ import annotations

import copy
from typing import Any

from .artifacts import Artifact, yaml_documents

NS_NAME_LABEL = "kubernetes.io/metadata.name"


def namespace_names(spec: Any) -> list[str]:
    """Declared namespaces, then the fake-gpu-operator release namespace and any namespace a
    workload uses, in first-seen order (so the namespace file creates everything others need)."""
    names: list[str] = [n.name for n in spec.namespaces]
    extra = []
    if spec.fake_gpu_operator.enabled:
        extra.append(spec.fake_gpu_operator.namespace)
    for obj in [*spec.workloads, *([spec.chaos_pod] if spec.chaos_pod else [])]:
        ns = (obj.get("metadata") or {}).get("namespace")
        if ns:
            extra.append(str(ns))
    for ns in extra:
        if ns not in names and ns not in ("default", "kube-system", "kube-public", "kube-node-lease"):
            names.append(ns)
    return names


def render_namespaces(spec: Any) -> list[dict[str, Any]]:
    """One Namespace per name of :func:`namespace_names`, with the spec's labels."""
    out = []
    for name in namespace_names(spec):
        declared = spec.namespace(name)
        labels = {NS_NAME_LABEL: name, **(dict(declared.labels) if declared else {})}
        labels[NS_NAME_LABEL] = name
        out.append({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": dict(sorted(labels.items()))}})
    return out


def render_quotas(spec: Any) -> list[dict[str, Any]]:
    """A ResourceQuota for each namespace that declares ``quota`` (``spec.hard`` as given)."""
    out = []
    for ns in spec.namespaces:
        if ns.quota is None:
            continue
        out.append({"apiVersion": "v1", "kind": "ResourceQuota",
                    "metadata": {"name": ns.quota_name or f"{ns.name}-quota", "namespace": ns.name},
                    "spec": {"hard": {k: str(v) for k, v in ns.quota.items()}}})
    return out


def render_workloads(spec: Any) -> list[dict[str, Any]]:
    """The spec's workloads (deep copies, spec order)."""
    return [copy.deepcopy(w) for w in spec.workloads]


def render_workload_artifacts(spec: Any) -> list[Artifact]:
    """The namespace, quota, workload and chaos-pod manifest files."""
    out = [
        Artifact("manifests/00-namespaces.yaml", yaml_documents(render_namespaces(spec))),
        Artifact("manifests/10-quotas.yaml", yaml_documents(render_quotas(spec))),
        Artifact("manifests/30-workloads.yaml", yaml_documents(render_workloads(spec))),
    ]
    if spec.chaos_pod:
        name = str((spec.chaos_pod.get("metadata") or {}).get("name", "chaos-pod"))
        out.append(Artifact(f"manifests/chaos/{name}.yaml", yaml_documents(
            [copy.deepcopy(spec.chaos_pod)],
            comment="Chaos test (Phase 2 step 5): asks for more GPUs than any node has; must stay Pending.")))
    return out
