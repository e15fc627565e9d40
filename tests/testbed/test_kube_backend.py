"""``KubeBackend`` against the real test bed: objects, waits, events, and every translated fault.

No mocks: each fault is provoked on the real API server (a closed port, an unknown token, a
ServiceAccount token that RBAC limits, a field-manager conflict, a quota that runs out mid-batch).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness import KWOK_TOLERATION, Testbed, free_port, kwok_node, node_settled

from ai_infra_ops.backend import ProbeRequest
from ai_infra_ops.cli.main import main
from ai_infra_ops.errors import AdmissionError, BackendUnreachable
from ai_infra_ops.kube.apply import PartialApplyError, apply_objects
from ai_infra_ops.kube.backend import KubeBackend
from ai_infra_ops.kube.errors import ConflictError, CredentialsRejected, Forbidden

# A label gives the applier a field to own: a bare-name object has no managedFields after create,
# so re-applying it is reported "configured" once (the server adds "before-first-apply").
NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kb", "labels": {"team": "kb"}}}


def cm(name: str, data: dict[str, str], ns: str = "kb") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def deployment(replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "kb"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"tolerations": [KWOK_TOLERATION],
                                           "containers": [{"name": "c", "image": "nginx",
                                                           "resources": {"requests": {"cpu": "100m"}}}]}}}}


def test_capabilities_without_cilium(kube: KubeBackend) -> None:
    assert kube.capabilities() == {"objects", "scheduling", "gpu"}
    res = kube.probe(ProbeRequest(source="kb/a", target="ip:8.8.8.8", port=53, protocol="UDP"))
    assert res.supported is False
    assert "needs Cilium/Hubble" in res.explanation


def test_apply_get_list_wait_events_delete(kube: KubeBackend) -> None:
    node = kwok_node("kb-node", {"cpu": "8", "memory": "16Gi", "pods": "110"})
    first = kube.apply([NS, node, cm("settings", {"a": "1"}), deployment(2)])
    assert [(r.kind, r.action) for r in first] == [("Namespace", "created"), ("Node", "created"),
                                                  ("ConfigMap", "created"), ("Deployment", "created")]
    assert kube.wait_for("Node", "kb-node", None, node_settled, timeout_s=60).ok
    again = kube.apply([NS, cm("settings", {"a": "1"})])
    assert [r.action for r in again] == ["unchanged", "unchanged"]
    changed = kube.apply([cm("settings", {"a": "2"})])
    assert changed[0].action == "configured"
    assert kube.get("ConfigMap", "settings", "kb")["data"] == {"a": "2"}
    assert kube.get("configmaps", "missing", "kb") is None

    ready = kube.wait_for("Deployment", "web", "kb",
                          lambda d: bool(d) and d.get("status", {}).get("readyReplicas") == 2, timeout_s=90,
                          description="deployment web ready")
    assert ready.ok, ready.message
    pods = kube.list("Pod", "kb", "app=web")
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)
    assert all(p["spec"]["nodeName"] == "kb-node" for p in pods)
    reasons = {e["reason"] for e in kube.events("kb")}
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled"} <= reasons

    dry = kube.apply([cm("dry", {"x": "y"})], dry_run=True)
    assert dry[0].action == "created" and kube.get("ConfigMap", "dry", "kb") is None
    assert kube.delete("ConfigMap", "settings", "kb") is True
    assert kube.delete("ConfigMap", "settings", "kb") is False
    gone = kube.wait_for("ConfigMap", "settings", "kb", lambda o: o is None, timeout_s=10)
    assert gone.ok
    timed_out = kube.wait_for("ConfigMap", "never", "kb", lambda o: o is not None, timeout_s=1.5)
    assert not timed_out.ok and "timed out" in timed_out.message


def test_invalid_object_means_nothing_applied(kube: KubeBackend) -> None:
    kube.apply([NS])
    bad = cm("Bad_Name", {"k": "v"})
    with pytest.raises(AdmissionError) as exc:
        kube.apply([cm("before-bad", {"k": "v"}), bad])
    assert "Bad_Name" in str(exc.value) and "nothing applied" in str(exc.value)
    assert kube.get("ConfigMap", "before-bad", "kb") is None
    cnp = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "p", "namespace": "kb"},
           "spec": {"endpointSelector": {}}}
    with pytest.raises(AdmissionError) as exc:
        kube.apply([cm("before-cnp", {"k": "v"}), cnp])
    assert 'doesn\'t have a resource type "CiliumNetworkPolicy"' in str(exc.value)
    assert kube.get("ConfigMap", "before-cnp", "kb") is None


def test_partial_apply_names_what_was_applied(kube: KubeBackend) -> None:
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "two-cms", "namespace": "kb"},
             "spec": {"hard": {"count/configmaps": "4"}}}
    kube.apply([NS, quota])
    assert kube.wait_for("ResourceQuota", "two-cms", "kb",
                         lambda q: bool(q) and "count/configmaps" in q.get("status", {}).get("used", {}),
                         timeout_s=30).ok
    used = int(kube.get("ResourceQuota", "two-cms", "kb")["status"]["used"]["count/configmaps"])
    room = 4 - used
    batch = [cm(f"q{i}", {"i": str(i)}) for i in range(room + 1)]  # each fits alone, all together do not
    with pytest.raises(PartialApplyError) as exc:
        kube.apply(batch)
    assert len(exc.value.applied) == room
    assert exc.value.failed == f"ConfigMap/q{room} -n kb"
    assert "exceeded quota" in str(exc.value) and "applied before it: configmap/q0 created" in str(exc.value)
    kube.delete("ResourceQuota", "two-cms", "kb")


def test_unreachable_server_exits_3(testbed: Testbed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"https://127.0.0.1:{free_port()}"
    kc = testbed.kubeconfig_with_token(tmp_path / "dead.kubeconfig", testbed.token(), server=url)
    with pytest.raises(BackendUnreachable) as exc:
        KubeBackend(kc).list("Node")
    assert url in str(exc.value) and exc.value.exit_code == 3
    assert main(["--kubeconfig", str(kc), "get", "nodes"]) == 3
    assert url in capsys.readouterr().err


def test_bad_token_is_credentials_rejected(testbed: Testbed, tmp_path: Path) -> None:
    kc = testbed.kubeconfig_with_token(tmp_path / "bad.kubeconfig", "not-a-valid-token")
    with pytest.raises(CredentialsRejected) as exc:
        KubeBackend(kc).list("Node")
    assert "credentials rejected" in str(exc.value) and exc.value.code == 401


def test_rbac_denial_names_verb_and_resource(kube: KubeBackend, testbed: Testbed, tmp_path: Path) -> None:
    kube.apply([NS, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "reader", "namespace": "kb"}},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                 "metadata": {"name": "pod-reader", "namespace": "kb"},
                 "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                 "metadata": {"name": "reader", "namespace": "kb"},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                 "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "kb"}]}])
    token = kube.client.request("POST", "/api/v1/namespaces/kb/serviceaccounts/reader/token",
                                body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                      "spec": {"expirationSeconds": 600}})["status"]["token"]
    limited = KubeBackend(testbed.kubeconfig_with_token(tmp_path / "reader.kubeconfig", token))
    assert isinstance(limited.list("Pod", "kb"), list)  # allowed
    with pytest.raises(Forbidden) as exc:
        limited.apply([cm("denied", {"a": "b"})])
    text = str(exc.value)
    assert "RBAC denied: cannot patch configmaps denied" in text
    assert 'User "system:serviceaccount:kb:reader" cannot patch resource "configmaps"' in text
    with pytest.raises(Forbidden):
        limited.list("Secret", "kb")


def test_conflicts_are_409(kube: KubeBackend) -> None:
    kube.apply([NS])
    kube.client.request("POST", "/api/v1/namespaces/kb/configmaps", body=cm("owned", {"k": "theirs"}))
    with pytest.raises(ConflictError) as exc:
        kube.client.request("POST", "/api/v1/namespaces/kb/configmaps", body=cm("owned", {"k": "again"}),
                            verb="create", what="configmaps owned")
    assert exc.value.code == 409 and "already exists" in str(exc.value)
    # Another manager owns data.k: without force, server-side apply refuses with a conflict...
    kube.client.request("PATCH", "/api/v1/namespaces/kb/configmaps/owned",
                        params={"fieldManager": "someone-else"}, body=cm("owned", {"k": "theirs"}),
                        content_type="application/apply-patch+yaml")
    # (found in the validating dry-run, so nothing is written)
    with pytest.raises(ConflictError) as cexc:
        apply_objects(kube.client, [cm("owned", {"k": "ours"})], force=False)
    assert 'conflicts with "someone-else"' in str(cexc.value) and ".data.k" in str(cexc.value)
    # ...and the toolkit's default (force) takes the field over, as documented.
    assert kube.apply([cm("owned", {"k": "ours"})])[0].action == "configured"
    assert kube.get("ConfigMap", "owned", "kb")["data"]["k"] == "ours"
