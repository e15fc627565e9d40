"""``render`` output applied to a real API server: every rendered Kubernetes object passes
server-side dry-run (defaulting, validation and admission of kube-apiserver v1.35).

The rendered CRDs (CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, with the structural schema
the render builder wrote from Cilium's documented fields) are installed for real first and waited
on until Established; the rendered Namespaces are created for real too (a namespaced object can
only be validated inside an existing namespace). Everything else is dry-run only. kubeadm's
configuration files are not API objects (no server serves ``kubeadm.k8s.io``) and scripts are
not YAML, so those artifacts are out of scope here.
"""
from __future__ import annotations

from typing import Any

import pytest
import yaml

from ai_infra_ops.errors import AdmissionError
from ai_infra_ops.kube.backend import KubeBackend
from ai_infra_ops.render import render_all
from ai_infra_ops.spec import default_spec


def rendered_objects() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(CRDs, other API objects) of the default spec's rendered ``crds/`` and ``manifests/``."""
    crds, objs = [], []
    for art in render_all(default_spec()):
        top = art.path.split("/")[0]
        if not art.is_yaml or top not in ("crds", "manifests"):
            continue
        for doc in yaml.safe_load_all(art.content):
            if isinstance(doc, dict) and doc.get("kind"):
                (crds if doc["kind"] == "CustomResourceDefinition" else objs).append(doc)
    return crds, objs


def established(crd: dict[str, Any] | None) -> bool:
    conds = (crd or {}).get("status", {}).get("conditions", []) or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conds)


def test_every_rendered_object_passes_server_side_dry_run(kube: KubeBackend) -> None:
    crds, objs = rendered_objects()
    assert {c["spec"]["names"]["kind"] for c in crds} >= {"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"}
    assert any(o["kind"] == "CiliumNetworkPolicy" for o in objs)
    kube.apply(crds)
    for crd in crds:
        assert kube.wait_for("CustomResourceDefinition", crd["metadata"]["name"], None, established,
                             timeout_s=60).ok
    namespaces = [o for o in objs if o["kind"] == "Namespace"]
    wanted = {o["metadata"].get("namespace") for o in objs if o["metadata"].get("namespace")}
    extra = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
             for n in sorted(wanted - {ns["metadata"]["name"] for ns in namespaces} - {"default", "kube-system"})]
    kube.apply(namespaces + extra)
    results = kube.apply(objs, dry_run=True)
    assert len(results) == len(objs)
    assert all(r.action in ("created", "configured", "unchanged") for r in results), results
    # dry-run persisted nothing
    first = next(o for o in objs if o["kind"] == "CiliumNetworkPolicy")
    assert kube.get("CiliumNetworkPolicy", first["metadata"]["name"], first["metadata"].get("namespace")) is None


def test_a_broken_policy_is_rejected_by_the_real_schema(kube: KubeBackend) -> None:
    crds, objs = rendered_objects()
    kube.apply(crds)
    bad = next(o for o in objs if o["kind"] == "CiliumNetworkPolicy")
    bad = {**bad, "spec": {**bad.get("spec", {}), "endpointSelector": "not-an-object"}}
    kube.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": bad["metadata"]["namespace"]}}])
    with pytest.raises(AdmissionError) as exc:
        kube.apply([bad], dry_run=True)
    assert "endpointSelector" in str(exc.value)
