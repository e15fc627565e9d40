"""API-server defaulting of the objects the twin creates, so ``get -o yaml`` shows what a real
API server returns (``pkg/apis/core/v1/defaults.go``, ``pkg/apis/apps/v1/defaults.go``) plus the
admission plugins kubeadm enables that change pods (DefaultTolerationSeconds, Priority,
ServiceAccount) and ``status.qosClass`` (``pkg/apis/core/helper/qos``).

Called by ``twin.controllers.Reconciler.create``.
"""
from __future__ import annotations

import copy
from typing import Any

from ..kube_model import parse_quantity

__all__ = ["default_object", "qos_class"]

# DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds).
_DEFAULT_TOLERATIONS = [
    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300},
]


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed / Burstable / BestEffort from cpu and memory requests and limits (containers
    and init containers; other resources do not count)."""
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    guaranteed = True
    for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        res = c.get("resources") or {}
        creq = {k: v for k, v in (res.get("requests") or {}).items() if k in ("cpu", "memory") and parse_quantity(v) != 0}
        clim = {k: v for k, v in (res.get("limits") or {}).items() if k in ("cpu", "memory") and parse_quantity(v) != 0}
        requests.update(creq)
        limits.update(clim)
        if set(clim) != {"cpu", "memory"}:
            guaranteed = False
        for k, v in creq.items():
            if k in clim and parse_quantity(clim[k]) != parse_quantity(v):
                guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _image_pull_policy(image: str) -> str:
    # pkg/apis/core/v1/defaults.go SetDefaults_Container: ":latest" or no tag -> Always.
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _default_container(c: dict[str, Any]) -> None:
    c.setdefault("imagePullPolicy", _image_pull_policy(str(c.get("image", ""))))
    res = c.setdefault("resources", {})
    lim = res.get("limits") or {}
    if lim:
        # SetDefaults_ResourceList via defaulting of requests from limits (limits-only -> request := limit).
        req = res.setdefault("requests", {})
        for k, v in lim.items():
            req.setdefault(k, v)
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")


def default_pod_spec(spec: dict[str, Any], priority: int = 0, *, pod: bool = True) -> None:
    """Defaults of a PodSpec (in place); ``pod=False`` for templates, which admission plugins
    (priority, service account, default tolerations) do not touch."""
    for c in spec.get("containers") or []:
        _default_container(c)
    for c in spec.get("initContainers") or []:
        _default_container(c)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)
    if not pod:
        return
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", priority)
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = sa
    spec["serviceAccount"] = sa
    tols = spec.setdefault("tolerations", [])
    for t in _DEFAULT_TOLERATIONS:
        if not any(x.get("key") == t["key"] and x.get("effect") in (t["effect"], None, "") for x in tols):
            tols.append(dict(t))


def default_object(obj: dict[str, Any], priority_of: Any = None, *, copy_first: bool = True) -> dict[str, Any]:
    """A defaulted deep copy of ``obj`` (Pods, workload templates, Services, Namespaces);
    ``copy_first=False`` defaults ``obj`` itself.

    ``priority_of(name) -> int | None`` resolves ``spec.priorityClassName`` for pods.
    """
    if copy_first:
        obj = copy.deepcopy(obj)
    kind = obj.get("kind")
    spec = obj.get("spec")
    if kind == "Pod" and isinstance(spec, dict):
        prio = 0
        pc = spec.get("priorityClassName")
        if pc and priority_of is not None:
            prio = int(priority_of(pc) or 0)
        default_pod_spec(spec, prio)
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status["qosClass"] = qos_class(spec)
    elif kind in ("Deployment", "ReplicaSet", "DaemonSet") and isinstance(spec, dict):
        if kind != "DaemonSet":
            spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        if kind == "Deployment":
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("strategy", {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                                         "type": "RollingUpdate"})
        tpl = spec.get("template") or {}
        if isinstance(tpl.get("spec"), dict):
            default_pod_spec(tpl["spec"], pod=False)
    elif kind == "Namespace":
        md = obj.setdefault("metadata", {})
        md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md.get("name", "")
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
    elif kind == "Secret":
        # the API server turns write-only stringData into base64 data (pkg/apis/core/v1/conversion.go)
        import base64

        data = obj.setdefault("data", {})
        for k, v in (obj.pop("stringData", None) or {}).items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj.setdefault("type", "Opaque")
    elif kind == "Service" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        for p in spec.get("ports") or []:
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p.get("port"))
    return obj
