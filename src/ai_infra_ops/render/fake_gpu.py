"""fake-gpu-operator: the Helm values file, and the objects chart 0.0.72 creates, as manifests.

Owns ``helm/fake-gpu-operator-values.yaml`` (what ``helm upgrade --install`` gets: the spec's
``fakeGpuOperator.values`` as the user wrote them, or values generated from the GPU pools) and
:func:`render_fake_gpu_operator`, the chart-equivalent objects in the release namespace. The twin
(through the pipeline, never by importing render) applies those objects; its device controller
starts when ConfigMap ``topology`` (key ``topology.yml``) and Deployment ``status-updater`` exist
(docs/contracts.md). On a real cluster ``helm/install.sh`` installs the chart instead; the
manifest file is for review and for the twin, not to be applied next to the Helm release.

Object shapes follow the chart templates (run-ai/fake-gpu-operator: deploy/fake-gpu-operator/
templates/{topology-cm.yml, status-updater/deployment.yaml, topology-server/deployment.yaml,
device-plugin/daemonset.yml, status-exporter/{daemonset,kwok-deployment,service}.yaml,
kwok-gpu-device-plugin/deployment.yaml, gpu-operator/deployment.yml, runtime-class.yml}) and
../shared/reference/gpu-and-scheduling.md §1.1-1.3. Left out, on purpose: RBAC (ClusterRoles and
bindings: Helm installs them; the twin has no RBAC), the status exporter's ``hostpath-init``
init container and ConfigMap (Run:ai fractional-GPU files only), ``mig-faker`` (dynamic MIG only,
schedules on no node of this platform) and the compute-domain controller (no ComputeDomains here).
Image tags are the chart version (chart version = app version).
"""
from __future__ import annotations

from typing import Any

from ..kube_model.yamlio import dump_yaml
from ..spec.fake_gpu import effective_values, generated_values
from .artifacts import Artifact, yaml_documents

IMAGE_REPO = "ghcr.io/run-ai/fake-gpu-operator"
GPU_TOLERATION = {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}


def helm_values(spec: Any) -> dict[str, Any]:
    """The values passed to Helm: the user's ``fakeGpuOperator.values`` or generated from pools."""
    user = spec.fake_gpu_operator.values
    return user if user is not None else generated_values(spec.gpu_pools)


def topology_yaml(spec: Any) -> str:
    """``topology.yml`` as the chart renders it: ``toYaml .Values.topology`` (keys sorted, like Go)."""
    topo = effective_values(helm_values(spec)).get("topology") or {}
    return dump_yaml(topo, sort_keys=True).rstrip("\n")


def _meta(name: str, ns: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        meta["labels"] = labels
    return meta


def _image(component: str, version: str) -> str:
    return f"{IMAGE_REPO}/{component}:{version}"


def _topology_env(ns: str) -> list[dict[str, Any]]:
    return [{"name": "TOPOLOGY_CM_NAME", "value": "topology"}, {"name": "TOPOLOGY_CM_NAMESPACE", "value": ns}]


def _node_name_env() -> dict[str, Any]:
    return {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}


def _workload(kind: str, name: str, ns: str, app: str, component: str, pod_spec: dict[str, Any],
              replicas: int | None = 1, extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    labels = {"app": app, "component": component, **(extra_labels or {})}
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": app, "component": component}}}
    if kind == "Deployment":
        spec["replicas"] = replicas
    spec["template"] = {"metadata": {"labels": labels}, "spec": pod_spec}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": _meta(name, ns, {"app": app, **(extra_labels or {})}),
            "spec": spec}


def _container(name: str, image: str, env: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": image, "imagePullPolicy": "Always", "env": env}
    c.update(extra)
    return c


def render_fake_gpu_operator(spec: Any) -> list[dict[str, Any]]:
    """The objects chart 0.0.72 creates in the release namespace (enabled components only).

    Returns:
        ServiceAccounts, ConfigMap ``topology``, Deployments, DaemonSets, Services, then the
        cluster-scoped RuntimeClass ``nvidia``, in that fixed order. Empty when the operator is
        disabled in the spec.
    """
    fgo = spec.fake_gpu_operator
    if not fgo.enabled:
        return []
    ns, ver = fgo.namespace, fgo.chart_version
    values = effective_values(helm_values(spec))

    def on(key: str) -> bool:
        return bool((values.get(key) or {}).get("enabled", False))

    sas = []
    for key, sa in (("statusUpdater", "status-updater"), ("devicePlugin", "nvidia-device-plugin"),
                    ("statusExporter", "status-exporter"), ("topologyServer", "topology-server"),
                    ("kwokGpuDevicePlugin", "kwok-gpu-device-plugin")):
        if on(key):
            sas.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(sa, ns)})
    objs: list[dict[str, Any]] = sorted(sas, key=lambda o: str(o["metadata"]["name"]))
    if on("topologyConfigMap"):
        objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("topology", ns),
                     "data": {"topology.yml": topology_yaml(spec)}})
    operator_ns_env = {"name": "FAKE_GPU_OPERATOR_NAMESPACE", "value": ns}
    if on("statusUpdater"):
        objs.append(_workload("Deployment", "status-updater", ns, "status-updater", "status-updater", {
            "containers": [_container("status-updater", _image("status-updater", ver),
                                      _topology_env(ns) + [operator_ns_env])],
            "restartPolicy": "Always", "serviceAccountName": "status-updater"}))
    if on("topologyServer"):
        objs.append(_workload("Deployment", "topology-server", ns, "topology-server", "topology-server", {
            "containers": [_container("topology-server", _image("topology-server", ver), _topology_env(ns),
                                      ports=[{"name": "http", "containerPort": 8080}])],
            "restartPolicy": "Always", "serviceAccountName": "topology-server"}))
    if on("kwokGpuDevicePlugin"):
        objs.append(_workload("Deployment", "kwok-gpu-device-plugin", ns, "kwok-gpu-device-plugin",
                              "kwok-gpu-device-plugin", {
            "containers": [_container("kwok-gpu-device-plugin", _image("kwok-gpu-device-plugin", ver),
                                      _topology_env(ns) + [operator_ns_env])],
            "restartPolicy": "Always", "serviceAccountName": "kwok-gpu-device-plugin"}))
    exporter_labels = {"app.kubernetes.io/name": "nvidia-container-toolkit"}
    if on("statusExporter"):
        objs.append(_workload("Deployment", "nvidia-dcgm-exporter-kwok", ns, "nvidia-dcgm-exporter",
                              "status-exporter-kwok", {
            "containers": [_container("nvidia-dcgm-exporter-kwok", _image("status-exporter", ver),
                                      _topology_env(ns), command=["/usr/local/bin/status-exporter-kwok"],
                                      ports=[{"name": "http", "containerPort": 9400}])],
            "restartPolicy": "Always", "serviceAccountName": "status-exporter"}, extra_labels=exporter_labels))
    if on("gpuOperator"):
        objs.append(_workload("Deployment", "gpu-operator", ns, "gpu-operator", "gpu-operator", {
            "containers": [{"name": "gpu-operator", "image": "ubuntu:22.04", "args": ["sleep", "infinity"]}],
            "restartPolicy": "Always"}, replicas=0))
    if on("devicePlugin"):
        objs.append(_workload("DaemonSet", "device-plugin", ns, "device-plugin", "device-plugin", {
            "containers": [_container(
                "nvidia-device-plugin-ctr", _image("device-plugin", ver), [_node_name_env(), *_topology_env(ns)],
                securityContext={"privileged": True},
                volumeMounts=[{"mountPath": "/runai/bin", "name": "runai-bin-directory"},
                              {"mountPath": "/runai/shared", "name": "runai-shared-directory"},
                              {"mountPath": "/var/lib/kubelet/device-plugins", "name": "device-plugin"}])],
            "nodeSelector": {"nvidia.com/gpu.deploy.device-plugin": "true"},
            "restartPolicy": "Always", "serviceAccountName": "nvidia-device-plugin",
            "tolerations": [dict(GPU_TOLERATION)],
            "volumes": [
                {"name": "device-plugin", "hostPath": {"path": "/var/lib/kubelet/device-plugins", "type": ""}},
                {"name": "runai-bin-directory", "hostPath": {"path": "/var/lib/runai/bin", "type": "DirectoryOrCreate"}},
                {"name": "runai-shared-directory", "hostPath": {"path": "/var/lib/runai/shared", "type": "DirectoryOrCreate"}},
            ]}, replicas=None))
    if on("statusExporter"):
        interval = str((values.get("statusExporter") or {}).get("topologyMaxExportInterval", "10s"))
        ds = _workload("DaemonSet", "nvidia-dcgm-exporter", ns, "nvidia-dcgm-exporter", "status-exporter", {
            "containers": [_container(
                "nvidia-dcgm-exporter", _image("status-exporter", ver),
                [_node_name_env(), *_topology_env(ns), {"name": "TOPOLOGY_MAX_EXPORT_INTERVAL", "value": interval}],
                ports=[{"name": "http", "containerPort": 9400}],
                volumeMounts=[{"mountPath": "/runai", "name": "runai-data"}])],
            "nodeSelector": {"nvidia.com/gpu.deploy.dcgm-exporter": "true"},
            "restartPolicy": "Always", "serviceAccountName": "status-exporter",
            "tolerations": [dict(GPU_TOLERATION)],
            "volumes": [{"name": "runai-data", "hostPath": {"path": "/var/lib/runai", "type": "DirectoryOrCreate"}}],
        }, replicas=None, extra_labels=exporter_labels)
        # the chart's exporter DaemonSet selects on app only (status-exporter/_helpers.tpl podSelector)
        ds["spec"]["selector"] = {"matchLabels": {"app": "nvidia-dcgm-exporter"}}
        objs.append(ds)
    if on("topologyServer"):
        objs.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta("topology-server", ns, {"app": "topology-server"}),
                     "spec": {"type": "ClusterIP", "selector": {"app": "topology-server"},
                              "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
    if on("statusExporter"):
        svc = {"apiVersion": "v1", "kind": "Service",
               "metadata": {**_meta("nvidia-dcgm-exporter", ns, {"app": "nvidia-dcgm-exporter"}),
                            "annotations": {"prometheus.io/scrape": "true"}},
               "spec": {"type": "ClusterIP", "selector": {"app": "nvidia-dcgm-exporter"},
                        "ports": [{"name": "gpu-metrics", "port": 9400, "targetPort": 9400, "protocol": "TCP"}]}}
        objs.append(svc)
    if on("runtimeClass"):
        objs.append({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "nvidia"},
                     "handler": "runc"})
    return objs


def render_fake_gpu_artifacts(spec: Any) -> list[Artifact]:
    """``helm/fake-gpu-operator-values.yaml`` and ``manifests/20-fake-gpu-operator.yaml``."""
    fgo = spec.fake_gpu_operator
    if not fgo.enabled:
        return []
    values_text = yaml_documents([helm_values(spec)], comment=(
        f"helm upgrade --install {fgo.release_name} {fgo.chart} --version {fgo.chart_version} "
        f"--namespace {fgo.namespace} --values fake-gpu-operator-values.yaml"))
    return [
        Artifact("helm/fake-gpu-operator-values.yaml", values_text),
        Artifact("manifests/20-fake-gpu-operator.yaml", yaml_documents(render_fake_gpu_operator(spec), comment=(
            f"The objects fake-gpu-operator chart {fgo.chart_version} creates (for the twin and for review).\n"
            "On a real cluster install the chart with helm/install.sh instead of applying this file."))),
    ]
