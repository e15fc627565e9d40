"""Workload controllers of the twin: Deployment -> ReplicaSet -> Pods, DaemonSet -> Pods.

Deployment (``pkg/controller/deployment``): the ReplicaSet for the current template is named
``<deployment>-<pod-template-hash>``; the hash is FNV-32a of the template (and collisionCount)
encoded with ``rand.SafeEncodeString`` as ``controller.ComputeHash`` does (the bytes hashed are the
twin's canonical JSON of the template, not Go's spew dump, so the value differs from a real
cluster's while keeping its form and its stability). A changed template gets a new ReplicaSet and
the old ones are scaled to 0 (the settled state of a RollingUpdate). Events ``ScalingReplicaSet``.

ReplicaSet (``pkg/controller/replicaset``): creates/deletes pods named ``<rs>-<5 random chars>``
with an ownerReference; every creation passes quota admission; a refused one becomes a Warning
``FailedCreate`` event (``Error creating: <admission text>``) and condition ``ReplicaFailure``.

DaemonSet (``pkg/controller/daemon``): one pod per node the template's nodeSelector and
tolerations admit, pinned with required node affinity ``matchFields metadata.name`` and the
daemon tolerations, then placed by the scheduler like any pod.

Called by ``twin.controllers.Reconciler.reconcile``.
"""
from __future__ import annotations

import copy
import json
from typing import Any

from ..kube_model import LabelSelector
from .admission import QuotaExceeded, check_quota

__all__ = ["reconcile_workloads", "template_hash"]

KubeObject = dict[str, Any]
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
# pkg/controller/daemon/util: AddOrUpdateDaemonPodTolerations
_DAEMON_TOLERATIONS = [
    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists"},
    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/memory-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/pid-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
]


def template_hash(template: KubeObject, collision_count: int = 0) -> str:
    """``controller.ComputeHash``: FNV-32a, then ``rand.SafeEncodeString(fmt.Sprint(hash))``."""
    h = 0x811C9DC5
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(collision_count).encode()
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return "".join(_SAFE[ord(ch) % len(_SAFE)] for ch in str(h))


def _owner_ref(owner: KubeObject) -> dict[str, Any]:
    return {"apiVersion": owner["apiVersion"], "blockOwnerDeletion": True, "controller": True,
            "kind": owner["kind"], "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}


def _owned_by(obj: KubeObject, owner: KubeObject) -> bool:
    return any(r.get("uid") == owner["metadata"]["uid"] for r in (obj.get("metadata") or {}).get("ownerReferences") or [])


def _live(pod: KubeObject) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def _ready(pod: KubeObject) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions") or [])


def reconcile_workloads(r: Any) -> bool:
    """One pass of the Deployment, ReplicaSet and DaemonSet controllers; True if anything changed."""
    changed = False
    for d in r.store.list_objects("Deployment"):
        changed |= _deployment(r, d)
    for rs in r.store.list_objects("ReplicaSet"):
        changed |= _replicaset(r, rs)
    for ds in r.store.list_objects("DaemonSet"):
        changed |= _daemonset(r, ds)
    return changed


def _deployment(r: Any, d: KubeObject) -> bool:
    ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
    spec = d.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    collision = int((d.get("status") or {}).get("collisionCount", 0))
    h = template_hash(template, collision)
    rs_name = f"{name}-{h}"
    changed = False
    owned = [rs for rs in r.store.list_objects("ReplicaSet", ns) if _owned_by(rs, d)]
    new_rs = next((rs for rs in owned if rs["metadata"]["name"] == rs_name), None)
    want = int(spec.get("replicas", 1))
    if new_rs is None:
        tpl = copy.deepcopy(template)
        tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        sel = copy.deepcopy(spec.get("selector") or {})
        sel.setdefault("matchLabels", {})["pod-template-hash"] = h
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": rs_name, "namespace": ns,
                           "labels": dict((tpl["metadata"].get("labels") or {})),
                           "annotations": {"deployment.kubernetes.io/desired-replicas": str(want),
                                           "deployment.kubernetes.io/max-replicas": str(want + max(1, -(-want // 4))),
                                           "deployment.kubernetes.io/revision": str(1 + len(owned))},
                           "ownerReferences": [_owner_ref(d)]},
              "spec": {"replicas": want, "selector": sel, "template": tpl}}
        new_rs = r.create(rs)
        r.event(d, "Normal", "ScalingReplicaSet", f"Scaled up replica set {rs_name} from 0 to {want}",
                "deployment-controller")
        changed = True
    elif int(new_rs["spec"].get("replicas", 0)) != want:
        old = int(new_rs["spec"].get("replicas", 0))
        new_rs = r.update(dict(new_rs, spec=dict(new_rs["spec"], replicas=want)))
        verb = "up" if want > old else "down"
        r.event(d, "Normal", "ScalingReplicaSet", f"Scaled {verb} replica set {rs_name} from {old} to {want}",
                "deployment-controller")
        changed = True
    revision = (new_rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "1")
    if (d["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") != revision:
        # deployment controller: the Deployment carries the revision of its newest ReplicaSet
        annotations = {**(d["metadata"].get("annotations") or {}), "deployment.kubernetes.io/revision": revision}
        d = r.update(dict(d, metadata=dict(d["metadata"], annotations=annotations)))
        changed = True
    for rs in owned:
        if rs["metadata"]["name"] != rs_name and int(rs["spec"].get("replicas", 0)) != 0:
            old = int(rs["spec"]["replicas"])
            r.update(dict(rs, spec=dict(rs["spec"], replicas=0)))
            r.event(d, "Normal", "ScalingReplicaSet",
                    f"Scaled down replica set {rs['metadata']['name']} from {old} to 0", "deployment-controller")
            changed = True
    return _deployment_status(r, d, new_rs, owned) or changed


def _deployment_status(r: Any, d: KubeObject, new_rs: KubeObject, owned: list[KubeObject]) -> bool:
    ns = d["metadata"]["namespace"]
    rs_all = {rs["metadata"]["uid"]: rs for rs in owned}
    rs_all[new_rs["metadata"]["uid"]] = new_rs
    pods = [p for p in r.store.list_objects("Pod", ns) if _live(p)
            and any(ref.get("uid") in rs_all for ref in p["metadata"].get("ownerReferences") or [])]
    new_pods = [p for p in pods if _owned_by(p, new_rs)]
    ready = sum(1 for p in pods if _ready(p))
    want = int((d.get("spec") or {}).get("replicas", 1))
    old_status = d.get("status") or {}
    now = r.now()

    def cond(t: str, ok: bool, reason: str, msg: str) -> dict[str, Any]:
        prev = next((c for c in old_status.get("conditions") or [] if c.get("type") == t), None)
        same = prev is not None and prev.get("status") == ("True" if ok else "False") and prev.get("reason") == reason
        kept = prev if same and prev is not None else {"lastTransitionTime": now, "lastUpdateTime": now}
        return {"lastTransitionTime": kept["lastTransitionTime"], "lastUpdateTime": kept.get("lastUpdateTime", now),
                "message": msg, "reason": reason, "status": "True" if ok else "False", "type": t}

    available = ready >= want - max(0, want // 4)  # maxUnavailable 25% rounded down
    conds = [cond("Available", available,
                  "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                  "Deployment has minimum availability." if available else "Deployment does not have minimum availability.")]
    failure = next((c for c in (new_rs.get("status") or {}).get("conditions") or [] if c.get("type") == "ReplicaFailure"), None)
    if failure:
        conds.append(cond("ReplicaFailure", True, failure["reason"], failure["message"]))
    done = len(new_pods) == want and sum(1 for p in new_pods if _ready(p)) == want
    rs_name = new_rs["metadata"]["name"]
    conds.append(cond("Progressing", True, "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                      f'ReplicaSet "{rs_name}" has successfully progressed.' if done else f'ReplicaSet "{rs_name}" is progressing.'))
    status: dict[str, Any] = {"availableReplicas": ready, "conditions": conds,
                              "observedGeneration": d["metadata"].get("generation", 1), "readyReplicas": ready,
                              "replicas": len(pods), "updatedReplicas": len(new_pods)}
    if want - ready > 0:
        status["unavailableReplicas"] = want - ready
    for k in ("availableReplicas", "readyReplicas", "replicas", "updatedReplicas"):
        if not status[k]:
            status.pop(k)
    if status == old_status:
        return False
    r.update(dict(d, status=status))
    return True


def _replicaset(r: Any, rs: KubeObject) -> bool:
    ns = rs["metadata"]["namespace"]
    spec = rs.get("spec") or {}
    sel = LabelSelector.from_dict(spec.get("selector"))
    pods = [p for p in r.store.list_objects("Pod", ns) if _live(p) and _owned_by(p, rs)
            and not p["metadata"].get("deletionTimestamp") and sel.matches(p["metadata"].get("labels") or {})]
    want = int(spec.get("replicas", 1))
    changed = False
    failure: str | None = None
    for _ in range(max(0, want - len(pods))):
        tpl = copy.deepcopy(spec.get("template") or {})
        pod_name = f"{rs['metadata']['name']}-{r.random_suffix()}"
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {**(tpl.get("metadata") or {}), "name": pod_name, "namespace": ns,
                            "generateName": f"{rs['metadata']['name']}-", "ownerReferences": [_owner_ref(rs)]},
               "spec": tpl.get("spec") or {}}
        quotas = r.store.list_objects("ResourceQuota", ns)
        try:
            if quotas:
                check_quota(pod, quotas, r.quota_used(ns))
        except QuotaExceeded as exc:
            failure = f"Error creating: {exc}"
            if rs["metadata"]["uid"] not in r.failed_this_round:
                r.failed_this_round.add(rs["metadata"]["uid"])
                r.event(rs, "Warning", "FailedCreate", failure, "replicaset-controller")
            break
        created = r.create(pod)
        pods.append(created)
        r.event(rs, "Normal", "SuccessfulCreate", f"Created pod: {pod_name}", "replicaset-controller")
        changed = True
    if len(pods) > want:
        # controller.ActivePods ordering: unscheduled < scheduled, pending < running, newest first.
        def rank(p: KubeObject) -> tuple[int, int, int]:
            st = p.get("status") or {}
            return (1 if (p.get("spec") or {}).get("nodeName") else 0, 1 if st.get("phase") == "Running" else 0,
                    -int(p["metadata"].get("resourceVersion", "0")))
        for p in sorted(pods, key=rank)[: len(pods) - want]:
            r.delete("Pod", ns, p["metadata"]["name"])
            r.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}", "replicaset-controller")
            pods.remove(p)
            changed = True
    ready = sum(1 for p in pods if _ready(p))
    old = rs.get("status") or {}
    status: dict[str, Any] = {"availableReplicas": ready, "fullyLabeledReplicas": len(pods),
                              "observedGeneration": rs["metadata"].get("generation", 1), "readyReplicas": ready,
                              "replicas": len(pods)}
    for k in ("availableReplicas", "fullyLabeledReplicas", "readyReplicas"):
        if not status[k]:
            status.pop(k)
    if failure:
        prev = next((c for c in old.get("conditions") or [] if c.get("type") == "ReplicaFailure"), None)
        status["conditions"] = [{"lastTransitionTime": prev["lastTransitionTime"] if prev else r.now(),
                                 "message": failure.removeprefix("Error creating: "), "reason": "FailedCreate",
                                 "status": "True", "type": "ReplicaFailure"}]
    if status != old:
        r.update(dict(rs, status=status))
        changed = True
    return changed


def _tolerates(taint: dict[str, Any], tolerations: list[dict[str, Any]]) -> bool:
    for t in tolerations:
        if t.get("effect") not in (None, "", taint.get("effect")):
            continue
        if not t.get("key") and t.get("operator") == "Exists":
            return True
        if t.get("key") != taint.get("key"):
            continue
        if t.get("operator") == "Exists" or str(t.get("value", "")) == str(taint.get("value", "")):
            return True
    return False


def _daemonset(r: Any, ds: KubeObject) -> bool:
    ns = ds["metadata"]["namespace"]
    spec = ds.get("spec") or {}
    tpl = spec.get("template") or {}
    pspec = tpl.get("spec") or {}
    tolerations = list(pspec.get("tolerations") or []) + _DAEMON_TOLERATIONS
    node_sel = pspec.get("nodeSelector") or {}
    pods = [p for p in r.store.list_objects("Pod", ns) if _owned_by(p, ds) and _live(p)]
    by_node: dict[str, KubeObject] = {}
    for p in pods:
        aff = (((p.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {})
        terms = (aff.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
        for t in terms:
            for f in t.get("matchFields") or []:
                by_node[(f.get("values") or [""])[0]] = p
    changed = False
    wanted = set()
    for node in r.store.list_objects("Node"):
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != str(v) for k, v in node_sel.items()):
            continue
        taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
        if not all(_tolerates(t, tolerations) for t in taints):
            continue
        name = node["metadata"]["name"]
        wanted.add(name)
        if name in by_node:
            continue
        pod_spec = copy.deepcopy(pspec)
        pod_spec["tolerations"] = copy.deepcopy(tolerations)
        pod_spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [name]}]}]}}}
        pod_name = f"{ds['metadata']['name']}-{r.random_suffix()}"
        r.create({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {**copy.deepcopy(tpl.get("metadata") or {}), "name": pod_name, "namespace": ns,
                               "generateName": f"{ds['metadata']['name']}-", "ownerReferences": [_owner_ref(ds)]},
                  "spec": pod_spec})
        r.event(ds, "Normal", "SuccessfulCreate", f"Created pod: {pod_name}", "daemonset-controller")
        changed = True
    for node_name, p in by_node.items():
        if node_name not in wanted:
            r.delete("Pod", ns, p["metadata"]["name"])
            r.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}", "daemonset-controller")
            changed = True
    pods = [p for p in r.store.list_objects("Pod", ns) if _owned_by(p, ds) and _live(p)]
    ready = sum(1 for p in pods if _ready(p))
    status = {"currentNumberScheduled": len(pods), "desiredNumberScheduled": len(wanted), "numberAvailable": ready,
              "numberMisscheduled": 0, "numberReady": ready, "observedGeneration": ds["metadata"].get("generation", 1),
              "updatedNumberScheduled": len(pods)}
    if not ready:
        status.pop("numberAvailable")
    if status != (ds.get("status") or {}):
        r.update(dict(ds, status=status))
        changed = True
    return changed
