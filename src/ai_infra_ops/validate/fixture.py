"""The connectivity fixture: the pods ``cilium connectivity test`` deploys, for the suite's
connectivity analogue (``../shared/reference/connectivity-test.md``, "Fixture the tool deploys").

Namespace ``cilium-test-1`` (not a workload namespace, so the zero-trust intents do not restrict
it — as in ``no-policies``): ``client`` and ``client2`` (``kind=client``) and ``echo-same-node``
(``kind=echo``, JSON mock HTTP server on 8080, named port ``http-8080``) on the first worker,
``echo-other-node`` on the second, each echo with a ClusterIP Service. Placement uses
``nodeSelector: kubernetes.io/hostname`` (a real scheduler honours it the same way). Bare Pods
instead of the CLI's Deployments: nothing here needs a rollout, and pod names stay stable.
"""
from __future__ import annotations

from typing import Any

from ..backend import Backend, KubeObject
from ..errors import AiInfraOpsError
from .evidence import pod_running

NAMESPACE = "cilium-test-1"
CLIENT_IMAGE = "quay.io/cilium/alpine-curl:v1.10.0"
ECHO_IMAGE = "quay.io/cilium/json-mock:v1.3.8"
ECHO_PORT = 8080


def _pod(name: str, labels: dict[str, str], node: str, image: str, echo: bool) -> KubeObject:
    container: dict[str, Any] = {"name": name, "image": image}
    if echo:
        container["ports"] = [{"name": "http-8080", "containerPort": ECHO_PORT, "protocol": "TCP"}]
        container["env"] = [{"name": "PORT", "value": str(ECHO_PORT)}]
    else:
        container["command"] = ["/usr/bin/pause"]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {**labels, "name": name}},
        "spec": {"nodeSelector": {"kubernetes.io/hostname": node}, "containers": [container]},
    }


def _service(name: str) -> KubeObject:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"kind": "echo"}},
        "spec": {"type": "ClusterIP", "selector": {"name": name},
                 "ports": [{"name": "http", "port": ECHO_PORT, "targetPort": "http-8080", "protocol": "TCP"}]},
    }


def fixture_nodes(spec: Any) -> tuple[str, str | None]:
    """The node for client/echo-same-node and the other node (None with a single worker)."""
    workers = [n.name for n in spec.workers()] or [spec.control_plane().name]
    return workers[0], (workers[1] if len(workers) > 1 else None)


def fixture_objects(spec: Any) -> list[KubeObject]:
    """Namespace, pods and Services of the fixture, in apply order."""
    same, other = fixture_nodes(spec)
    objs: list[KubeObject] = [{
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": NAMESPACE, "labels": {"kubernetes.io/metadata.name": NAMESPACE,
                                                     "app.kubernetes.io/managed-by": "ai-infra-ops"}},
    }]
    objs.append(_pod("client", {"kind": "client"}, same, CLIENT_IMAGE, echo=False))
    objs.append(_pod("client2", {"kind": "client", "other": "client"}, same, CLIENT_IMAGE, echo=False))
    objs.append(_pod("echo-same-node", {"kind": "echo", "other": "echo"}, same, ECHO_IMAGE, echo=True))
    objs.append(_service("echo-same-node"))
    if other is not None:
        objs.append(_pod("echo-other-node", {"kind": "echo", "first": "echo"}, other, ECHO_IMAGE, echo=True))
        objs.append(_service("echo-other-node"))
    return objs


def fixture_pods(spec: Any) -> list[str]:
    """Names of the fixture's pods."""
    return [o["metadata"]["name"] for o in fixture_objects(spec) if o["kind"] == "Pod"]


def fixture_ready(backend: Backend, spec: Any) -> bool:
    """Whether every fixture pod is Running."""
    return all(pod_running(backend.get("Pod", p, NAMESPACE)) for p in fixture_pods(spec))


def ensure_fixture(backend: Backend, spec: Any, timeout_s: float = 300.0) -> tuple[bool, str, list[str]]:
    """Deploy the fixture if needed and wait until its pods run: (ok, message, object refs)."""
    objs = fixture_objects(spec)
    refs = [f"{o['kind'].lower()}/{NAMESPACE}/{o['metadata']['name']}" if o["kind"] != "Namespace"
            else f"namespace/{NAMESPACE}" for o in objs]
    if fixture_ready(backend, spec):
        return True, "connectivity fixture running", refs
    try:
        backend.apply(objs)
    except AiInfraOpsError as exc:
        return False, f"the fixture could not be applied: {exc}", refs
    for pod in fixture_pods(spec):
        res = backend.wait_for("Pod", pod, NAMESPACE, pod_running, timeout_s=timeout_s, description="Running")
        if not res.ok:
            return False, f"pod/{NAMESPACE}/{pod} not Running after {res.waited_s:.0f}s {res.message}".strip(), refs
    return True, "connectivity fixture deployed and running", refs


def remove_fixture(backend: Backend, spec: Any) -> list[str]:
    """Delete the fixture (``down``)."""
    out = []
    for o in reversed(fixture_objects(spec)):
        md = o["metadata"]
        if backend.delete(o["kind"], md["name"], md.get("namespace")):
            out.append(f"{o['kind'].lower()}/{md.get('namespace', '') + '/' if md.get('namespace') else ''}{md['name']}")
    return out
