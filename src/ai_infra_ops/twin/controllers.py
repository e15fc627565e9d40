"""The twin's control plane after admission: object bookkeeping (UIDs, resourceVersions,
timestamps), events, and the controllers that run until nothing changes — workloads
(``twin.workloads``), the scheduler loop, the kubelet (KWOK "fast" stages), ResourceQuota status,
Service ClusterIPs, and fake-gpu-operator (``twin.devices``).

Everything is synchronous: ``Reconciler.reconcile()`` returns when the cluster is settled, so
``wait_for`` never sleeps. Deterministic: UIDs come from the seed and a counter, pod IPs are the
lowest free address of the node's podCIDR from ``.2`` up, random names from a seeded RNG.

Scheduling (``../shared/reference/gpu-and-scheduling.md`` §4.4): placement and messages come from
``twin.scheduler`` (owned by the scheduler part). Bound pods get ``Scheduled`` (Normal,
``default-scheduler``, action ``Binding``, ``Successfully assigned <ns>/<pod> to <node>``);
unschedulable ones ``FailedScheduling`` (Warning, action ``Scheduling``, message cut to 1024 bytes)
and condition ``PodScheduled=False``/``Unschedulable`` with the full text. Unschedulable pods are
retried when capacity may have changed (a pod deleted or finished, a node added or changed).

Called by ``twin.backend``.
"""
from __future__ import annotations

import copy
import ipaddress
import random
import uuid
from fractions import Fraction
from typing import Any

from .admission import format_resource_quantity, quota_resources_used
from .clock import format_time
from .defaults import default_object
from .devices import DeviceController
from .store import Store

__all__ = ["Reconciler"]

KubeObject = dict[str, Any]
_MAX_PASSES = 20
_EVENT_MESSAGE_LIMIT = 1024  # k8s.io/client-go/tools/events: truncate to 1024 bytes (1020 + " ...")
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand


def truncate_event_message(msg: str) -> str:
    raw = msg.encode()
    if len(raw) <= _EVENT_MESSAGE_LIMIT:
        return msg
    return raw[:1020].decode(errors="ignore") + " ..."


class Reconciler:
    """Controller runtime of one twin: writes objects and events, runs the controllers."""

    def __init__(self, store: Store, clock: Any, seed: int = 0, kube_minor: str = "1.35", spec: Any = None):
        self.store = store
        self.clock = clock
        self.seed = seed
        self.kube_minor = kube_minor
        self.spec = spec
        self.devices = DeviceController(self)
        self._ev_index: dict[tuple[Any, ...], int] | None = None
        self._now_cache: tuple[Any, str] = (None, "")
        # events/v1 reportingInstance of the scheduler: default-scheduler-<control-plane host>
        self.scheduler_instance = "default-scheduler-" + (spec.control_plane().name if spec is not None else "control-plane")
        self.failed_this_round: set[str] = set()

    # ---- object bookkeeping ------------------------------------------------------------------
    def now(self) -> str:
        t = self.clock.now()
        if t != self._now_cache[0]:  # formatting dominates when thousands of objects change at once
            self._now_cache = (t, format_time(t))
        return self._now_cache[1]

    def new_uid(self, kind: str, ns: str, name: str) -> str:
        n = self.store.next_counter("uid")
        return str(uuid.uuid5(uuid.UUID(int=self.seed & (2**128 - 1)), f"{n}/{kind}/{ns}/{name}"))

    def random_suffix(self, n: int = 5) -> str:
        """``utilrand.String(n)`` of the real controllers, from the seeded sequence."""
        k = self.store.next_counter("rand")
        rng = random.Random(f"{self.seed}:{k}")
        return "".join(rng.choice(SAFE_ALPHABET) for _ in range(n))

    def _bump(self, obj: KubeObject) -> None:
        obj["metadata"]["resourceVersion"] = str(self.store.next_counter("resourceVersion", start=1000))

    def create(self, obj: KubeObject, *, owned: bool = False) -> KubeObject:
        """Store a new object with uid, resourceVersion, creationTimestamp and API defaults
        (``owned``: the caller hands ``obj`` over, so it is defaulted in place)."""
        obj = default_object(obj, self._priority_of, copy_first=not owned)
        md = obj.setdefault("metadata", {})
        # rest.FillObjectMetaSystemFields: the server sets these whatever the client sent
        md["uid"] = self.new_uid(obj.get("kind", ""), md.get("namespace", ""), md.get("name", ""))
        md["creationTimestamp"] = self.now()
        for k in ("deletionTimestamp", "managedFields"):
            md.pop(k, None)
        if obj.get("kind") in ("Deployment", "ReplicaSet", "DaemonSet"):
            md["generation"] = 1
        self._bump(obj)
        if obj.get("kind") == "Namespace":
            self._namespace_created(md["name"])
        if obj.get("kind") == "Node":
            self.bump_epoch()
        return self.store.put_object(obj)

    def update(self, obj: KubeObject) -> KubeObject:
        """Store a changed object (new resourceVersion)."""
        obj = copy.copy(obj)
        obj["metadata"] = dict(obj["metadata"])
        self._bump(obj)
        if obj.get("kind") == "Node":
            self.bump_epoch()
        return self.store.put_object(obj)

    def delete(self, kind: str, ns: str, name: str) -> KubeObject | None:
        obj = self.store.delete_object(kind, ns, name)
        if obj is not None and kind in ("Pod", "Node"):
            self.bump_epoch()
            self.store.delete_meta(f"sched:{obj['metadata'].get('uid')}")
        return obj

    def bump_epoch(self) -> None:
        self.store.next_counter("sched-epoch")

    def _priority_of(self, name: str) -> int | None:
        pc = self.store.get_object("PriorityClass", "", name)
        if pc is not None:
            return int(pc.get("value", 0))
        return {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}.get(name)

    def _namespace_created(self, ns: str) -> None:
        # serviceaccount controller: every namespace gets ServiceAccount "default".
        if self.store.get_object("ServiceAccount", ns, "default") is None:
            self.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}})

    # ---- events ----------------------------------------------------------------------------
    def event(self, obj: KubeObject, type_: str, reason: str, message: str, component: str,
              action: str | None = None) -> None:
        """Record an event; repeats of the same (object, reason, message) are aggregated like
        the events API does (``series.count`` for events/v1 writers, ``count`` for core/v1)."""
        md = obj.get("metadata") or {}
        ns = md.get("namespace") or "default"
        message = truncate_event_message(message)
        now = self.now()
        key = (md.get("uid"), reason, message, component)
        if self._ev_index is None:
            self._ev_index = {}
            for i, e in enumerate(self.store.all_events()):
                inv = e.get("involvedObject") or {}
                self._ev_index[(inv.get("uid"), e.get("reason"), e.get("message"), e.get("reportingComponent"))] = i
        idx = self._ev_index.get(key)
        if idx is not None:
            prev = copy.deepcopy(self.store.all_events()[idx])
            if prev.get("eventTime"):
                series = prev.get("series") or {"count": 1}
                prev["series"] = {"count": int(series.get("count", 1)) + 1, "lastObservedTime": now}
            else:
                prev["count"] = int(prev.get("count", 1)) + 1
                prev["lastTimestamp"] = now
            self.store.update_event(idx, prev)
            return
        n = self.store.next_counter("event")
        base = int(self.clock.now().timestamp()) * 1_000_000_000 + n
        ev: KubeObject = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{md.get('name', '')}.{base:x}", "namespace": ns,
                         "creationTimestamp": now, "uid": self.new_uid("Event", ns, md.get("name", "")),
                         "resourceVersion": str(self.store.next_counter("resourceVersion", start=1000))},
            "involvedObject": {"apiVersion": obj.get("apiVersion", "v1"), "kind": obj.get("kind", ""),
                               "name": md.get("name", ""), "namespace": md.get("namespace", "") or None,
                               "resourceVersion": md.get("resourceVersion"), "uid": md.get("uid")},
            "reason": reason, "message": message, "type": type_,
            "reportingComponent": component, "reportingInstance": "",
        }
        if ev["involvedObject"]["namespace"] is None:
            ev["involvedObject"].pop("namespace")
        if component == "default-scheduler":
            # events/v1 writer (k8s.io/client-go/tools/events): eventTime + action, no counts.
            ev.update({"action": action or "", "eventTime": format_time(self.clock.now()).replace("Z", ".000000Z"),
                       "firstTimestamp": None, "lastTimestamp": None, "source": {},
                       "reportingInstance": self.scheduler_instance})
        else:
            ev.update({"count": 1, "firstTimestamp": now, "lastTimestamp": now,
                       "source": {"component": component}, "eventTime": None})
        self.store.add_event(ev)
        self._ev_index[key] = len(self.store.all_events()) - 1

    # ---- the loop --------------------------------------------------------------------------
    def reconcile(self) -> None:
        """Run every controller until a pass changes nothing."""
        from .workloads import reconcile_workloads

        self.failed_this_round = set()  # controllers report a refused creation once per round
        for _ in range(_MAX_PASSES):
            changed = False
            changed |= self._services()
            changed |= reconcile_workloads(self)
            changed |= self._schedule()
            changed |= self._kubelet()
            changed |= self.devices.reconcile()
            changed |= self._quotas()
            if not changed:
                return

    # ---- ResourceQuota status ----------------------------------------------------------------
    def _quotas(self) -> bool:
        changed = False
        for q in self.store.list_objects("ResourceQuota"):
            ns = q["metadata"]["namespace"]
            hard = (q.get("spec") or {}).get("hard") or {}
            used = quota_resources_used(q, self.store.list_objects("Pod", ns))
            status = {"hard": dict(hard), "used": {k: format_resource_quantity(k, used[k]) for k in hard}}
            if q.get("status") != status:
                self.update(dict(q, status=status))
                changed = True
        return changed

    def quota_used(self, ns: str) -> dict[str, dict[str, Fraction]]:
        """status.used of every quota of ``ns``, recomputed from the pods (admission input)."""
        pods = self.store.list_objects("Pod", ns)
        return {q["metadata"]["name"]: quota_resources_used(q, pods) for q in self.store.list_objects("ResourceQuota", ns)}

    # ---- Services ------------------------------------------------------------------------------
    def _services(self) -> bool:
        services = self.store.list_objects("Service")
        if not any("clusterIP" not in (s.get("spec") or {}) for s in services):
            return False
        try:
            from .network.services import allocate_cluster_ips
        except ImportError:
            return False
        cidr = self.spec.network.service_cidr if self.spec is not None else "10.96.0.0/12"
        ips = allocate_cluster_ips(services, cidr)
        changed = False
        for s in services:
            spec = s.get("spec") or {}
            if "clusterIP" in spec:
                continue
            key = (s["metadata"].get("namespace", ""), s["metadata"]["name"])
            ip = ips.get(key)
            new_spec = dict(spec, clusterIP=ip or "None", clusterIPs=[ip or "None"])
            self.update(dict(s, spec=new_spec))
            changed = True
        return changed

    # ---- scheduling --------------------------------------------------------------------------
    def _schedule(self) -> bool:
        pods = self.store.list_objects("Pod")
        epoch = self.store.get_meta("counter:sched-epoch", "0") or "0"
        pending = [p for p in pods if not (p.get("spec") or {}).get("nodeName")
                   and (p.get("status") or {}).get("phase", "Pending") == "Pending"
                   and not (p.get("spec") or {}).get("schedulingGates")
                   and (p.get("spec") or {}).get("schedulerName", "default-scheduler") == "default-scheduler"
                   and self.store.get_meta(f"sched:{p['metadata']['uid']}") != epoch]
        if not pending:
            return False
        from .scheduler import Scheduler

        nodes = self.store.list_objects("Node")
        sched = Scheduler(nodes, kubernetes_version=self.kube_minor, seed=self.seed,
                          priority_classes=self.store.list_objects("PriorityClass"),
                          namespaces=self.store.list_objects("Namespace"))
        for p in pods:
            if (p.get("spec") or {}).get("nodeName") and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                sched.add_bound_pod(p)
        pending.sort(key=lambda p: int(p["metadata"].get("resourceVersion", "0")))
        results = sched.schedule_many(pending)
        for pod, res in zip(pending, results):
            self.store.set_meta(f"sched:{pod['metadata']['uid']}", epoch)
            self._apply_result(pod, res)
        return True

    def _apply_result(self, pod: KubeObject, res: Any) -> None:
        md = pod["metadata"]
        self._evict_victims(pod, res)
        status = dict(pod.get("status") or {})
        if getattr(res, "nominated_node", None) and not res.node:
            # DefaultPreemption nominated a node; the pod is retried once its victims are gone.
            status["nominatedNodeName"] = res.nominated_node
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        now = self.now()
        if res.node:
            cond = {"lastProbeTime": None, "lastTransitionTime": now, "status": "True", "type": "PodScheduled"}
            status["conditions"] = conds + [cond]
            new = dict(pod, spec=dict(pod["spec"], nodeName=res.node), status=status)
            saved = self.update(new)
            self.event(saved, "Normal", "Scheduled",
                       res.event_message or f"Successfully assigned {md.get('namespace')}/{md['name']} to {res.node}",
                       "default-scheduler", "Binding")
            return
        message = res.message or res.event_message or ""
        old = next((c for c in pod.get("status", {}).get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        cond = {"lastProbeTime": None,
                "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == "False" else now,
                "message": message, "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}
        status["conditions"] = conds + [cond]
        status["phase"] = "Pending"
        saved = self.update(dict(pod, status=status)) if status != pod.get("status") else pod
        self.event(saved, "Warning", "FailedScheduling", res.event_message or message, "default-scheduler", "Scheduling")

    def _evict_victims(self, preemptor: KubeObject, res: Any) -> None:
        """Delete the pods DefaultPreemption chose as victims, with upstream's event
        (kubernetes/kubernetes: pkg/scheduler/framework/preemption/preemption.go,
        ``Preempted by pod %v on node %v`` with the preemptor's UID)."""
        node = getattr(res, "nominated_node", None) or res.node or ""
        for ref in getattr(res, "preempted", ()) or ():
            vns, _, vname = str(ref).partition("/")
            victim = self.store.get_object("Pod", vns, vname)
            if victim is None:
                continue
            self.event(victim, "Normal", "Preempted",
                       f"Preempted by pod {preemptor['metadata'].get('uid')} on node {node}",
                       "default-scheduler", "Preempting")
            self.delete("Pod", vns, vname)

    # ---- kubelet (KWOK fast pod-ready stage) ----------------------------------------------------
    def _kubelet(self) -> bool:
        changed = False
        nodes = {n["metadata"]["name"]: n for n in self.store.list_objects("Node")}
        pods = self.store.list_objects("Pod")
        used: dict[str, set[str]] = {}
        for p in pods:
            st = p.get("status") or {}
            node = (p.get("spec") or {}).get("nodeName")
            if node and st.get("podIP") and not (p.get("spec") or {}).get("hostNetwork"):
                used.setdefault(node, set()).add(st["podIP"])
        for p in pods:
            spec = p.get("spec") or {}
            node_name = spec.get("nodeName")
            st = p.get("status") or {}
            if not node_name or st.get("phase") in ("Running", "Succeeded", "Failed"):
                continue
            node = nodes.get(node_name)
            if node is None:
                continue  # no kubelet: the pod stays Pending (pod GC deletes it once the node is gone)
            self._start_pod(p, node, used.setdefault(node_name, set()))
            changed = True
        return changed

    def _start_pod(self, pod: KubeObject, node: KubeObject, used_ips: set[str]) -> None:
        now = self.now()
        host_ip = next((a["address"] for a in (node.get("status") or {}).get("addresses") or []
                        if a.get("type") == "InternalIP"), "")
        if (pod.get("spec") or {}).get("hostNetwork"):
            pod_ip = host_ip
        else:
            pod_ip = self._allocate_ip(node, used_ips)
        spec = pod["spec"]
        statuses = []
        for c in spec.get("containers") or []:
            cid = uuid.uuid5(uuid.UUID(int=self.seed), f"{pod['metadata']['uid']}/{c.get('name')}").hex
            statuses.append({
                "containerID": f"containerd://{cid}{cid}", "image": c.get("image", ""), "imageID": "",
                "lastState": {}, "name": c.get("name", ""), "ready": True, "restartCount": 0, "started": True,
                "state": {"running": {"startedAt": now}},
            })
        status = dict(pod.get("status") or {})
        sched = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"),
                     {"lastProbeTime": None, "lastTransitionTime": now, "status": "True", "type": "PodScheduled"})

        def cond(t: str) -> dict[str, Any]:
            return {"lastProbeTime": None, "lastTransitionTime": now, "status": "True", "type": t}

        status.update({
            "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"),
                           cond("ContainersReady"), sched],
            "containerStatuses": statuses, "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "phase": "Running", "startTime": now,
        })
        if pod_ip:
            status["podIP"] = pod_ip
            status["podIPs"] = [{"ip": pod_ip}]
        self.update(dict(pod, status=status))

    @staticmethod
    def _allocate_ip(node: KubeObject, used: set[str]) -> str:
        """Lowest free address of the node's podCIDR from .2 up (.1 is the cilium_host router IP)."""
        cidr = (node.get("spec") or {}).get("podCIDR")
        if not cidr:
            return ""
        net = ipaddress.IPv4Network(cidr, strict=False)
        for i in range(2, net.num_addresses - 1):
            ip = str(net.network_address + i)
            if ip not in used:
                used.add(ip)
                return ip
        return ""
