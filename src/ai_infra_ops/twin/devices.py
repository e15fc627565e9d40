"""fake-gpu-operator inside the twin: what status-updater, the device plugins and status-exporter
of chart 0.0.72 do to nodes, ConfigMaps and the GPU bookkeeping
(``../shared/reference/gpu-and-scheduling.md`` §0, §1.3–§1.6).

Activation: a ConfigMap ``topology`` with key ``topology.yml`` and a Deployment ``status-updater``
in the same namespace (the release namespace). Then, for every node whose label
``<nodePoolLabelKey>`` names a pool of the topology:

1. status-updater creates ``topology-<node>`` once (labels ``node-topology: "true"``,
   ``node-name``; KWOK nodes add annotation ``kwok.x-k8s.io/node: fake``) and sets the
   ``nvidia.com/gpu.deploy.*`` labels (KWOK nodes: only ``dcgm-exporter``);
2. the device plugin (real nodes, via kubelet) or kwok-gpu-device-plugin (KWOK nodes) make
   ``nvidia.com/gpu`` capacity = allocatable = number of GPUs (+ ``otherDevices``);
3. status-exporter sets ``nvidia.com/gpu.{product,memory,count,present}``,
   ``nvidia.com/mig.strategy``, ``run.ai/fake.gpu`` — the product verbatim (0.0.72 does not
   sanitise it; a value that is not a valid label value makes the whole label patch fail).

Bound GPU pods (``containers[0]`` limit ``nvidia.com/gpu`` > 0, not Succeeded/Failed) get the
first free GPU indexes recorded in the node topology (allocatedBy + podGpuUsageStatus with
fbUsed = gpuMemory, utilisation 100–100 when Running, 0–0 otherwise); deletion frees them.
A node that loses the pool label loses its ConfigMap and the ``gpu.deploy.*`` labels only.

Called by ``twin.controllers.Reconciler`` after objects change.
"""
from __future__ import annotations

import re
from typing import Any

from ..kube_model import parse_quantity
from .topology import (ClusterTopology, NodeTopology, TopologyParseError, dump_node_topology, new_node_topology,
                       parse_cluster_topology, parse_node_topology)

__all__ = ["DeviceController", "GPU_RESOURCE"]

GPU_RESOURCE = "nvidia.com/gpu"
TOPOLOGY_CM = "topology"
TOPOLOGY_KEY = "topology.yml"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
DEPLOY_LABELS_REAL = ("nvidia.com/gpu.deploy.dcgm-exporter", "nvidia.com/gpu.deploy.device-plugin",
                      "nvidia.com/gpu.deploy.dra-plugin-gpu", "nvidia.com/gpu.deploy.compute-domain-dra-plugin")
DEPLOY_LABELS_KWOK = ("nvidia.com/gpu.deploy.dcgm-exporter",)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _valid_label_value(v: str) -> bool:
    return len(v) <= 63 and bool(_LABEL_VALUE.match(v))


def gpu_limit(pod: dict[str, Any]) -> int:
    """``containers[0].resources.limits["nvidia.com/gpu"]`` as status-updater reads it."""
    cs = (pod.get("spec") or {}).get("containers") or []
    if not cs:
        return 0
    v = ((cs[0].get("resources") or {}).get("limits") or {}).get(GPU_RESOURCE)
    if v is None:
        return 0
    try:
        return int(parse_quantity(v))
    except ValueError:
        return 0


class DeviceController:
    """One reconcile pass over nodes and pods; ``api`` is the controller runtime of the twin
    (``twin.controllers.Reconciler``: store access, object writes with resourceVersions)."""

    def __init__(self, api: Any):
        self.api = api
        self._cache: dict[str, tuple[str, NodeTopology]] = {}  # cm name -> (resourceVersion, parsed)

    # ---- configuration -----------------------------------------------------------------------
    def operator(self) -> tuple[str, ClusterTopology] | None:
        """(release namespace, cluster topology) when fake-gpu-operator is installed and its
        topology parses; None otherwise (status-updater would crash-loop on a bad document)."""
        store = self.api.store
        for cm in store.list_objects("ConfigMap"):
            md = cm.get("metadata") or {}
            if md.get("name") != TOPOLOGY_CM or TOPOLOGY_KEY not in (cm.get("data") or {}):
                continue
            ns = md.get("namespace", "")
            if store.get_object("Deployment", ns, "status-updater") is None:
                continue
            try:
                return ns, parse_cluster_topology(str(cm["data"][TOPOLOGY_KEY]))
            except TopologyParseError:
                return None
        return None

    def node_topology(self, ns: str, node: str) -> NodeTopology | None:
        cm = self.api.store.get_object("ConfigMap", ns, f"{TOPOLOGY_CM}-{node}")
        if cm is None:
            return None
        rv = str((cm.get("metadata") or {}).get("resourceVersion", ""))
        hit = self._cache.get(node)
        if hit and hit[0] == rv:
            return hit[1]
        try:
            topo = parse_node_topology(str((cm.get("data") or {}).get(TOPOLOGY_KEY, "")))
        except (TopologyParseError, AttributeError, ValueError):
            return None
        self._cache[node] = (rv, topo)
        return topo

    def _write_topology(self, ns: str, node: str, topo: NodeTopology, kwok: bool) -> None:
        name = f"{TOPOLOGY_CM}-{node}"
        cm = self.api.store.get_object("ConfigMap", ns, name)
        data = {TOPOLOGY_KEY: dump_node_topology(topo)}
        if cm is None:
            md: dict[str, Any] = {"name": name, "namespace": ns,
                                  "labels": {"node-name": node, "node-topology": "true"}}
            if kwok:
                md["annotations"] = {KWOK_ANNOTATION: "fake"}
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data}
            saved = self.api.create(cm)
        else:
            cm = dict(cm, data=data)
            saved = self.api.update(cm)
        self._cache[node] = (str(saved["metadata"]["resourceVersion"]), topo)

    # ---- reconcile -------------------------------------------------------------------------
    def reconcile(self) -> bool:
        """Bring nodes, topology ConfigMaps and GPU assignments in line; True if anything changed."""
        op = self.operator()
        if op is None:
            return False
        ns, cluster = op
        changed = False
        store = self.api.store
        pods_by_node: dict[str, list[dict[str, Any]]] = {}
        for p in store.list_objects("Pod"):
            node = (p.get("spec") or {}).get("nodeName")
            if node:
                pods_by_node.setdefault(node, []).append(p)
        for node in store.list_objects("Node"):
            changed |= self._reconcile_node(ns, cluster, node, pods_by_node.get(node["metadata"]["name"], []))
        return changed

    def _reconcile_node(self, ns: str, cluster: ClusterTopology, node: dict[str, Any], pods: list[dict[str, Any]]) -> bool:
        md = node["metadata"]
        name = md["name"]
        labels = md.get("labels") or {}
        kwok = (md.get("annotations") or {}).get(KWOK_ANNOTATION) == "fake"
        pool_name = labels.get(cluster.node_pool_label_key)
        cm_name = f"{TOPOLOGY_CM}-{name}"
        if pool_name is None:
            # status-updater node handler: label removed -> delete ConfigMap and deploy labels.
            changed = False
            if self.api.store.get_object("ConfigMap", ns, cm_name) is not None:
                self.api.delete("ConfigMap", ns, cm_name)
                self._cache.pop(name, None)
                changed = True
            if any(k in labels for k in DEPLOY_LABELS_REAL):
                new = dict(node, metadata=dict(md, labels={k: v for k, v in labels.items() if k not in DEPLOY_LABELS_REAL}))
                self.api.update(new)
                changed = True
            return changed
        pool = cluster.node_pools.get(pool_name)
        if pool is None:  # "node pool not found" is logged by status-updater; the node gets nothing
            return False
        changed = False
        topo = self.node_topology(ns, name)
        if topo is None:
            topo = new_node_topology(name, pool, cluster.mig_strategy)
            self._write_topology(ns, name, topo, kwok)
            changed = True
        if self._assign(ns, name, topo, pods, kwok):
            changed = True
        changed |= self._patch_node(node, topo, kwok)
        return changed

    def _assign(self, ns: str, node: str, topo: NodeTopology, pods: list[dict[str, Any]], kwok: bool) -> bool:
        live = {}
        for p in pods:
            if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            if (p.get("metadata") or {}).get("deletionTimestamp"):
                continue
            n = gpu_limit(p)
            if n > 0:
                live[p["metadata"]["uid"]] = (p, n)
        dirty = False
        # Free GPUs of pods that are gone (pod handler: delete -> status reset to empty).
        for g in topo.gpus:
            if (g.pod or g.usage) and not any(uid in live for uid in g.usage):
                g.namespace = g.pod = g.container = ""
                g.usage = {}
                dirty = True
        held = {uid for g in topo.gpus for uid in g.usage}
        for uid, (p, n) in sorted(live.items(), key=lambda kv: (kv[1][0].get("metadata") or {}).get("resourceVersion", "0")):
            running = (p.get("status") or {}).get("phase") == "Running"
            util = {"min": 100, "max": 100} if running else {"min": 0, "max": 0}
            if uid in held:
                for g in topo.gpus:
                    if uid in g.usage and g.usage[uid].get("utilization") != util:
                        g.usage[uid] = dict(g.usage[uid], utilization=util)
                        dirty = True
                continue
            free = [g for g in topo.gpus if g.free][:n]
            c0 = ((p.get("spec") or {}).get("containers") or [{}])[0].get("name", "")
            for g in free:
                g.namespace, g.pod, g.container = p["metadata"].get("namespace", ""), p["metadata"]["name"], c0
                g.usage = {uid: {"utilization": util, "fbUsed": topo.gpu_memory, "useKnativeUtilization": False}}
                dirty = True
        if dirty:
            self._write_topology(ns, node, topo, kwok)
        return dirty

    def _patch_node(self, node: dict[str, Any], topo: NodeTopology, kwok: bool) -> bool:
        md = node["metadata"]
        labels = dict(md.get("labels") or {})
        status = node.get("status") or {}
        capacity = dict(status.get("capacity") or {})
        allocatable = dict(status.get("allocatable") or {})
        for key in DEPLOY_LABELS_KWOK if kwok else DEPLOY_LABELS_REAL:
            labels[key] = "true"
        devices = {GPU_RESOURCE: len(topo.gpus)}
        devices.update({n: c for n, c in topo.other_devices})
        for res, count in devices.items():
            capacity[res] = str(count)
            allocatable[res] = str(count)
        exporter = {
            "nvidia.com/gpu.count": str(len(topo.gpus)),
            "nvidia.com/gpu.memory": str(topo.gpu_memory),
            "nvidia.com/gpu.present": "true",
            "nvidia.com/gpu.product": topo.gpu_product,
            "nvidia.com/mig.strategy": topo.mig_strategy,
            "run.ai/fake.gpu": "true",
        }
        # status-exporter labels.go: one patch for all labels; an invalid value fails all of them.
        if all(_valid_label_value(v) for v in exporter.values()):
            labels.update(exporter)
        if labels == (md.get("labels") or {}) and capacity == (status.get("capacity") or {}) \
                and allocatable == (status.get("allocatable") or {}):
            return False
        new = dict(node, metadata=dict(md, labels=dict(sorted(labels.items()))),
                   status=dict(status, capacity=capacity, allocatable=allocatable))
        self.api.update(new)
        return True
