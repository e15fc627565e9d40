"""``kubectl get`` output for the objects of any backend: the human-readable tables of
``pkg/printers/internalversion/printers.go`` (columns, ``-o wide`` extras, ``-A``'s NAMESPACE
column, ``<none>`` placeholders, ages), and ``-o json`` / ``-o yaml`` as kubectl prints them (keys
sorted as Go's JSON encoding of unstructured objects sorts them; a ``List`` for collections).

Pure: objects in, text out; the clock's ``now`` decides the AGE column.
Called by ``cli.commands.get``.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import yaml

from .tabwriter import age, tabwrite

__all__ = ["print_table", "print_json", "print_yaml", "to_list", "no_resources_message"]

KubeObject = dict[str, Any]
Row = list[str]


def _none(v: Any) -> str:
    return str(v) if v not in (None, "", []) else "<none>"


def _labels_selector(sel: dict[str, Any] | None) -> str:
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator")
        vals = ",".join(e.get("values") or [])
        parts.append({"In": f"{e['key']} in ({vals})", "NotIn": f"{e['key']} notin ({vals})",
                      "Exists": e["key"], "DoesNotExist": f"!{e['key']}"}.get(op, e["key"]))
    return ",".join(parts) or "<none>"


def _map_selector(sel: dict[str, Any] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((sel or {}).items())) or "<none>"


# ---- per-kind rows ---------------------------------------------------------------------------

def _pod_status(p: KubeObject) -> tuple[str, int, int, int]:
    """(STATUS, ready, total, restarts) as printPod computes them."""
    st = p.get("status") or {}
    spec = p.get("spec") or {}
    total = len(spec.get("containers") or [])
    reason = st.get("reason") or st.get("phase") or "Pending"
    ready = restarts = 0
    for cs in st.get("containerStatuses") or []:
        restarts += int(cs.get("restartCount", 0))
        state = cs.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            t = state["terminated"]
            reason = t.get("reason") or (f"Signal:{t['signal']}" if t.get("signal") else f"ExitCode:{t.get('exitCode', 0)}")
        elif "running" in state and cs.get("ready"):
            ready += 1
    if (p.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason, ready, total, restarts


def _pod_row(p: KubeObject, now: datetime, wide: bool) -> Row:
    md, st = p["metadata"], p.get("status") or {}
    reason, ready, total, restarts = _pod_status(p)
    row = [md["name"], f"{ready}/{total}", reason, str(restarts), age(md.get("creationTimestamp"), now)]
    if wide:
        gates = (p.get("spec") or {}).get("readinessGates") or []
        row += [_none(st.get("podIP")), _none((p.get("spec") or {}).get("nodeName")),
                _none(st.get("nominatedNodeName")), f"0/{len(gates)}" if gates else "<none>"]
    return row


def node_roles(labels: dict[str, str]) -> str:
    roles = set()
    for k, v in labels.items():
        if k.startswith("node-role.kubernetes.io/"):
            roles.add(k.split("/", 1)[1])
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    return ",".join(sorted(r for r in roles if r)) or "<none>"


def _node_row(n: KubeObject, now: datetime, wide: bool) -> Row:
    md, st = n["metadata"], n.get("status") or {}
    ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), None)
    status = "Ready" if ready and ready.get("status") == "True" else "NotReady" if ready else "Unknown"
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    info = st.get("nodeInfo") or {}
    row = [md["name"], status, node_roles(md.get("labels") or {}), age(md.get("creationTimestamp"), now),
           info.get("kubeletVersion", "")]
    if wide:
        addr = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
        row += [_none(addr.get("InternalIP")), _none(addr.get("ExternalIP")), info.get("osImage") or "<unknown>",
                info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]
    return row


def _containers(spec: dict[str, Any]) -> tuple[str, str]:
    cs = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _deployment_row(d: KubeObject, now: datetime, wide: bool) -> Row:
    spec, st = d.get("spec") or {}, d.get("status") or {}
    row = [d["metadata"]["name"], f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
           str(st.get("updatedReplicas", 0)), str(st.get("availableReplicas", 0)), age(d["metadata"].get("creationTimestamp"), now)]
    if wide:
        row += [*_containers(spec), _labels_selector(spec.get("selector"))]
    return row


def _replicaset_row(rs: KubeObject, now: datetime, wide: bool) -> Row:
    spec, st = rs.get("spec") or {}, rs.get("status") or {}
    row = [rs["metadata"]["name"], str(spec.get("replicas", 1)), str(st.get("replicas", 0)),
           str(st.get("readyReplicas", 0)), age(rs["metadata"].get("creationTimestamp"), now)]
    if wide:
        row += [*_containers(spec), _labels_selector(spec.get("selector"))]
    return row


def _daemonset_row(ds: KubeObject, now: datetime, wide: bool) -> Row:
    spec, st = ds.get("spec") or {}, ds.get("status") or {}
    node_sel = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    row = [ds["metadata"]["name"], str(st.get("desiredNumberScheduled", 0)), str(st.get("currentNumberScheduled", 0)),
           str(st.get("numberReady", 0)), str(st.get("updatedNumberScheduled", 0)), str(st.get("numberAvailable", 0)),
           _map_selector(node_sel), age(ds["metadata"].get("creationTimestamp"), now)]
    if wide:
        row += [*_containers(spec), _labels_selector(spec.get("selector"))]
    return row


def _service_row(s: KubeObject, now: datetime, wide: bool) -> Row:
    spec = s.get("spec") or {}
    ports = ",".join(f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
                     for p in spec.get("ports") or []) or "<none>"
    ext = ",".join(spec.get("externalIPs") or []) or ("<pending>" if spec.get("type") == "LoadBalancer" else "<none>")
    row = [s["metadata"]["name"], spec.get("type", "ClusterIP"), spec.get("clusterIP") or "<none>", ext, ports,
           age(s["metadata"].get("creationTimestamp"), now)]
    if wide:
        row.append(_map_selector(spec.get("selector")))
    return row


def _quota_row(q: KubeObject, now: datetime, wide: bool) -> Row:
    st = q.get("status") or {}
    hard, used = st.get("hard") or (q.get("spec") or {}).get("hard") or {}, st.get("used") or {}
    req: list[str] = []
    lim: list[str] = []
    for r in sorted(hard):
        target = lim if r.split(".", 1)[0] == "limits" and "." in r else req
        target.append(f"{r}: {used.get(r, '0')}/{hard[r]}")
    return [q["metadata"]["name"], age(q["metadata"].get("creationTimestamp"), now), ", ".join(req), ", ".join(lim)]


def event_times(e: KubeObject) -> tuple[str | None, str | None, int]:
    """(first, last, count) of an event, whichever API wrote it (core/v1 counts or events/v1 series)."""
    series = e.get("series") or {}
    first = e.get("firstTimestamp") or e.get("eventTime") or (e.get("metadata") or {}).get("creationTimestamp")
    last = e.get("lastTimestamp") or series.get("lastObservedTime") or first
    count = int(series.get("count") or e.get("count") or 1)
    return first, last, count


def _event_row(e: KubeObject, now: datetime, wide: bool) -> Row:
    _, last, _ = event_times(e)
    inv = e.get("involvedObject") or {}
    return [age(last, now), e.get("type", ""), e.get("reason", ""), f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}",
            e.get("message", "")]


def _simple(cols: Callable[[KubeObject], list[str]]) -> Callable[[KubeObject, datetime, bool], Row]:
    def row(o: KubeObject, now: datetime, wide: bool) -> Row:
        return [o["metadata"]["name"], *cols(o), age(o["metadata"].get("creationTimestamp"), now)]
    return row


def _pc_row(o: KubeObject, now: datetime, wide: bool) -> Row:
    return [o["metadata"]["name"], str(o.get("value", 0)), str(bool(o.get("globalDefault", False))).lower(),
            age(o["metadata"].get("creationTimestamp"), now), o.get("preemptionPolicy", "PreemptLowerPriority")]


def _valid(o: KubeObject) -> list[str]:
    cond = next((c for c in (o.get("status") or {}).get("conditions") or [] if c.get("type") == "Valid"), None)
    return [cond.get("status", "") if cond else ""]


_TABLES: dict[str, tuple[list[str], list[str], Callable[[KubeObject, datetime, bool], Row]]] = {
    "Pod": (["NAME", "READY", "STATUS", "RESTARTS", "AGE"], ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"], _pod_row),
    "Node": (["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
             ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"], _node_row),
    "Deployment": (["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], ["CONTAINERS", "IMAGES", "SELECTOR"], _deployment_row),
    "ReplicaSet": (["NAME", "DESIRED", "CURRENT", "READY", "AGE"], ["CONTAINERS", "IMAGES", "SELECTOR"], _replicaset_row),
    "DaemonSet": (["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
                  ["CONTAINERS", "IMAGES", "SELECTOR"], _daemonset_row),
    "Service": (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], ["SELECTOR"], _service_row),
    "ResourceQuota": (["NAME", "AGE", "REQUEST", "LIMIT"], [], _quota_row),
    "Event": (["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], [], _event_row),
    "Namespace": (["NAME", "STATUS", "AGE"], [], _simple(lambda o: [(o.get("status") or {}).get("phase", "Active")])),
    "ConfigMap": (["NAME", "DATA", "AGE"], [], _simple(lambda o: [str(len(o.get("data") or {}) + len(o.get("binaryData") or {}))])),
    "Secret": (["NAME", "TYPE", "DATA", "AGE"], [], _simple(lambda o: [o.get("type", "Opaque"), str(len(o.get("data") or {}) + len(o.get("stringData") or {}))])),
    "ServiceAccount": (["NAME", "SECRETS", "AGE"], [], _simple(lambda o: [str(len(o.get("secrets") or []))])),
    "NetworkPolicy": (["NAME", "POD-SELECTOR", "AGE"], [], _simple(lambda o: [_labels_selector((o.get("spec") or {}).get("podSelector")) if ((o.get("spec") or {}).get("podSelector") or {}) else "<none>"])),
    "CiliumNetworkPolicy": (["NAME", "AGE", "VALID"], [], lambda o, now, w: [o["metadata"]["name"], age(o["metadata"].get("creationTimestamp"), now), *_valid(o)]),
    "CiliumClusterwideNetworkPolicy": (["NAME", "AGE", "VALID"], [], lambda o, now, w: [o["metadata"]["name"], age(o["metadata"].get("creationTimestamp"), now), *_valid(o)]),
    "PriorityClass": (["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"], [], _pc_row),
    "RuntimeClass": (["NAME", "HANDLER", "AGE"], [], _simple(lambda o: [str(o.get("handler", ""))])),
    "Endpoints": (["NAME", "ENDPOINTS", "AGE"], [], _simple(lambda o: [_endpoints(o)])),
    "CustomResourceDefinition": (["NAME", "CREATED AT"], [], lambda o, now, w: [o["metadata"]["name"], str(o["metadata"].get("creationTimestamp", ""))]),
}


def _endpoints(o: KubeObject) -> str:
    eps = [f"{a.get('ip')}:{p.get('port')}" for s in o.get("subsets") or [] for p in s.get("ports") or [{}]
           for a in s.get("addresses") or []]
    if not eps:
        return "<none>"
    return ",".join(eps[:3]) + (f" + {len(eps) - 3} more..." if len(eps) > 3 else "")


def print_table(kind: str, objects: list[KubeObject], now: datetime, *, wide: bool = False,
                all_namespaces: bool = False, show_labels: bool = False) -> str:
    """The table ``kubectl get <kind>`` prints (empty string for no objects)."""
    if not objects:
        return ""
    headers, extra, row_fn = _TABLES.get(kind, (["NAME", "AGE"], [], _simple(lambda o: [])))
    cols = headers + (extra if wide else [])
    if show_labels:
        cols = cols + ["LABELS"]
    if all_namespaces:
        cols = ["NAMESPACE"] + cols
    lines = ["\t".join(cols)]
    for o in objects:
        row = row_fn(o, now, wide)
        if show_labels:
            row.append(",".join(f"{k}={v}" for k, v in sorted(((o.get("metadata") or {}).get("labels") or {}).items())) or "<none>")
        if all_namespaces:
            row = [(o.get("metadata") or {}).get("namespace", "")] + row
        lines.append("\t".join(row))
    return tabwrite("\n".join(lines) + "\n", minwidth=6, padding=3)


def no_resources_message(namespace: str | None, namespaced: bool) -> str:
    """kubectl's stderr line when nothing matches."""
    if namespaced and namespace:
        return f"No resources found in {namespace} namespace."
    return "No resources found"


def to_list(objects: list[KubeObject]) -> KubeObject:
    """The ``List`` kubectl prints for a collection."""
    return {"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}}


def print_json(value: Any) -> str:
    """``kubectl -o json``: 4-space indent, sorted keys, Go's HTML-safe escaping of <, >, &."""
    text = json.dumps(value, indent=4, sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


class _KubectlYamlDumper(yaml.SafeDumper):
    """Strings as kubectl's go-yaml v2 writes them: multi-line text as a ``|`` block (the
    ``last-applied-configuration`` annotation), strings that would read back as another type
    (``resourceVersion: "1295"``, ``""``, ``"true"``) in double quotes."""


def _kubectl_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if dumper.resolve(yaml.ScalarNode, data, (True, False)) != "tag:yaml.org,2002:str":  # type: ignore[no-untyped-call]
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_KubectlYamlDumper.add_representer(str, _kubectl_str)


def print_yaml(value: Any) -> str:
    """``kubectl -o yaml``: sorted keys, 2-space indent, sequences not indented under their key."""
    return yaml.dump(value, Dumper=_KubectlYamlDumper, sort_keys=True, default_flow_style=False,
                     allow_unicode=True, width=10**6)
