"""``kubectl describe`` output (``k8s.io/kubectl/pkg/describe/describe.go``) for nodes, pods and,
in a shorter generic form, every other kind: the same section order, field labels, the
"Allocated resources" table (cpu/memory/ephemeral-storage/hugepages with integer percentages of
allocatable; extended resources such as ``nvidia.com/gpu`` as plain totals, as kubectl prints
them) and the Events table with ``(xN over AGE)`` aggregation.

Pure: objects and events in, text out. Called by ``cli.commands.describe``.
"""
from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

from ..kube_model import parse_quantity
from ..kube_model.quantity import format_quantity, to_milli
from .clock import parse_time
from .printers import event_times, node_roles
from .tabwriter import age, tabwrite

__all__ = ["describe_node", "describe_pod", "describe_object"]

KubeObject = dict[str, Any]
_STANDARD = ("cpu", "memory", "ephemeral-storage", "storage")


def _time(ts: str | None) -> str:
    """describe's time format: ``Mon, 02 Jan 2006 15:04:05 -0700`` (time.RFC1123Z)."""
    t = parse_time(ts)
    return t.strftime("%a, %d %b %Y %H:%M:%S %z") if t else "<unset>"


def _kv_block(label: str, items: dict[str, Any], sep: str = "=") -> list[str]:
    if not items:
        return [f"{label}:\t<none>"]
    lines = []
    for i, k in enumerate(sorted(items)):
        lines.append(f"{label + ':' if i == 0 else ''}\t{k}{sep}{items[k]}")
    return lines


def _events(events: list[KubeObject], now: datetime) -> list[str]:
    if not events:
        return ["Events:\t<none>"]
    lines = ["Events:", "  Type\tReason\tAge\tFrom\tMessage", "  ----\t------\t----\t----\t-------"]
    for e in sorted(events, key=lambda e: (event_times(e)[0] or "")):
        first, last, count = event_times(e)
        interval = f"{age(last, now)} (x{count} over {age(first, now)})" if count > 1 else age(first, now)
        source = (e.get("source") or {}).get("component") or e.get("reportingComponent", "")
        lines.append(f"  {e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{source}\t{str(e.get('message', '')).strip()}")
    return lines


def _taint(t: dict[str, Any]) -> str:
    return f"{t['key']}{'=' + str(t['value']) if t.get('value') else ''}:{t.get('effect', '')}"


def _pod_totals(pods: list[KubeObject]) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """``resourcehelper.PodRequestsAndLimits`` summed over pods (requests default to limits)."""
    reqs: dict[str, Fraction] = {}
    lims: dict[str, Fraction] = {}
    for p in pods:
        r, lim = pod_requests_limits(p)
        for k, v in r.items():
            reqs[k] = reqs.get(k, Fraction(0)) + v
        for k, v in lim.items():
            lims[k] = lims.get(k, Fraction(0)) + v
    return reqs, lims


def pod_requests_limits(pod: KubeObject) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    spec = pod.get("spec") or {}
    reqs: dict[str, Fraction] = {}
    lims: dict[str, Fraction] = {}
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        cl = {k: parse_quantity(v) for k, v in (res.get("limits") or {}).items()}
        cr = dict(cl)
        cr.update({k: parse_quantity(v) for k, v in (res.get("requests") or {}).items()})
        for k, v in cr.items():
            reqs[k] = reqs.get(k, Fraction(0)) + v
        for k, v in cl.items():
            lims[k] = lims.get(k, Fraction(0)) + v
    for c in spec.get("initContainers") or []:
        res = c.get("resources") or {}
        for part, acc in (("requests", reqs), ("limits", lims)):
            vals = {k: parse_quantity(v) for k, v in (res.get(part) or {}).items()}
            if part == "requests":
                vals = {**{k: parse_quantity(v) for k, v in (res.get("limits") or {}).items()}, **vals}
            for k, v in vals.items():
                acc[k] = max(acc.get(k, Fraction(0)), v)
    return reqs, lims


def _q(name: str, v: Fraction) -> str:
    return format_quantity(v, binary=name in ("memory", "ephemeral-storage") or name.startswith("hugepages-"))


def _pct(used: Fraction, total: Fraction, milli: bool) -> int:
    if total == 0:
        return 0
    if milli:
        return int(to_milli(used) / to_milli(total) * 100)
    return int(float(used) / float(total) * 100)


def describe_node(node: KubeObject, pods: list[KubeObject], events: list[KubeObject], now: datetime) -> str:
    """``kubectl describe node``; ``pods`` = the pods bound to it (terminal ones are skipped)."""
    md, spec, st = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    out = [f"Name:\t{md['name']}", f"Roles:\t{node_roles(md.get('labels') or {})}"]
    out += _kv_block("Labels", md.get("labels") or {})
    out += _kv_block("Annotations", {k: v for k, v in (md.get("annotations") or {}).items()
                                     if k != "kubectl.kubernetes.io/last-applied-configuration"}, ": ")
    out.append(f"CreationTimestamp:\t{_time(md.get('creationTimestamp'))}")
    taints = [_taint(t) for t in spec.get("taints") or []]
    out += [f"{'Taints:' if i == 0 else ''}\t{t}" for i, t in enumerate(taints)] or ["Taints:\t<none>"]
    out.append(f"Unschedulable:\t{str(bool(spec.get('unschedulable'))).lower()}")
    out += ["Lease:", f"  HolderIdentity:\t{md['name']}", "  AcquireTime:\t<unset>",
            f"  RenewTime:\t{_time(next((c.get('lastHeartbeatTime') for c in st.get('conditions') or [] if c.get('type') == 'Ready'), None))}"]
    out += ["Conditions:", "  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage",
            "  ----\t------\t-----------------\t------------------\t------\t-------"]
    for c in st.get("conditions") or []:
        out.append(f"  {c.get('type')}\t{c.get('status')}\t{_time(c.get('lastHeartbeatTime'))}\t"
                   f"{_time(c.get('lastTransitionTime'))}\t{c.get('reason', '')}\t{c.get('message', '')}")
    out.append("Addresses:")
    out += [f"  {a.get('type')}:\t{a.get('address')}" for a in st.get("addresses") or []]
    for label, res in (("Capacity", st.get("capacity") or {}), ("Allocatable", st.get("allocatable") or {})):
        out.append(f"{label}:")
        out += [f"  {k}:\t{res[k]}" for k in sorted(res)]
    info = st.get("nodeInfo") or {}
    out.append("System Info:")
    for label, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                       ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"), ("Operating System", "operatingSystem"),
                       ("Architecture", "architecture"), ("Container Runtime Version", "containerRuntimeVersion"),
                       ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion")):
        out.append(f"  {label}:\t{info.get(key, '')}")
    if spec.get("podCIDR"):
        out.append(f"PodCIDR:\t{spec['podCIDR']}")
        out.append(f"PodCIDRs:\t{','.join(spec.get('podCIDRs') or [spec['podCIDR']])}")
    alloc = {k: parse_quantity(v) for k, v in (st.get("allocatable") or {}).items()}
    live = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    out.append(f"Non-terminated Pods:\t({len(live)} in total)")
    out += ["  Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge",
            "  ---------\t----\t\t------------\t----------\t---------------\t-------------\t---"]
    cpu_a, mem_a = alloc.get("cpu", Fraction(0)), alloc.get("memory", Fraction(0))
    for p in live:
        r, lim = pod_requests_limits(p)
        cells = []
        for name, vals, total, milli in (("cpu", r, cpu_a, True), ("cpu", lim, cpu_a, True),
                                         ("memory", r, mem_a, False), ("memory", lim, mem_a, False)):
            v = vals.get(name, Fraction(0))
            cells.append(f"{_q(name, v)} ({_pct(v, total, milli)}%)")
        out.append(f"  {p['metadata'].get('namespace', '')}\t{p['metadata']['name']}\t\t" + "\t".join(cells)
                   + f"\t{age(p['metadata'].get('creationTimestamp'), now)}")
    reqs, lims = _pod_totals(live)
    out += ["Allocated resources:", "  (Total limits may be over 100 percent, i.e., overcommitted.)",
            "  Resource\tRequests\tLimits", "  --------\t--------\t------"]
    hugepages = sorted(k for k in alloc if k.startswith("hugepages-"))
    for name in ("cpu", "memory", "ephemeral-storage", *hugepages):
        total = alloc.get(name, Fraction(0))
        rq, lm = reqs.get(name, Fraction(0)), lims.get(name, Fraction(0))
        milli = name == "cpu"
        out.append(f"  {name}\t{_q(name, rq)} ({_pct(rq, total, milli)}%)\t{_q(name, lm)} ({_pct(lm, total, milli)}%)")
    for name in sorted(k for k in alloc if k not in _STANDARD and k != "pods" and not k.startswith("hugepages-")):
        out.append(f"  {name}\t{_q(name, reqs.get(name, Fraction(0)))}\t{_q(name, lims.get(name, Fraction(0)))}")
    out += _events(events, now)
    return tabwrite("\n".join(out) + "\n", minwidth=0, padding=2)


def _port_and_command_lines(c: dict[str, Any]) -> list[str]:
    """Port, Host Port, Command and Args of a container, as kubectl describe prints them for pods
    and pod templates alike."""
    out: list[str] = []
    ports = c.get("ports") or []
    if ports:
        out.append(f"    Port:\t{ports[0].get('containerPort')}/{ports[0].get('protocol', 'TCP')}")
        out.append(f"    Host Port:\t{ports[0].get('hostPort', 0)}/{ports[0].get('protocol', 'TCP')}")
    else:
        out += ["    Port:\t<none>", "    Host Port:\t<none>"]
    for label, key in (("Command", "command"), ("Args", "args")):
        if c.get(key):
            out.append(f"    {label}:")
            out += [f"      {a}" for a in c[key]]
    return out


def _container_lines(c: dict[str, Any], status: dict[str, Any] | None) -> list[str]:
    out = [f"  {c.get('name')}:"]
    if status:
        out.append(f"    Container ID:\t{status.get('containerID', '')}")
    out.append(f"    Image:\t{c.get('image', '')}")
    if status:
        out.append(f"    Image ID:\t{status.get('imageID', '')}")
    out += _port_and_command_lines(c)
    if status:
        state = status.get("state") or {}
        if "running" in state:
            out += ["    State:\tRunning", f"      Started:\t{_time(state['running'].get('startedAt'))}"]
        elif "waiting" in state:
            out += ["    State:\tWaiting", f"      Reason:\t{state['waiting'].get('reason', '')}"]
        elif "terminated" in state:
            t = state["terminated"]
            out += ["    State:\tTerminated", f"      Reason:\t{t.get('reason', '')}", f"      Exit Code:\t{t.get('exitCode', 0)}"]
        out.append(f"    Ready:\t{'True' if status.get('ready') else 'False'}")
        out.append(f"    Restart Count:\t{status.get('restartCount', 0)}")
    res = c.get("resources") or {}
    for label, key in (("Limits", "limits"), ("Requests", "requests")):
        if res.get(key):
            out.append(f"    {label}:")
            out += [f"      {k}:\t{res[key][k]}" for k in sorted(res[key])]
    env = c.get("env") or []
    out.append("    Environment:\t<none>" if not env else "    Environment:")
    out += [f"      {e.get('name')}:\t{e.get('value', '')}" for e in env]
    mounts = c.get("volumeMounts") or []
    out.append("    Mounts:\t<none>" if not mounts else "    Mounts:")
    out += [f"      {m.get('mountPath')} from {m.get('name')} ({'ro' if m.get('readOnly') else 'rw'})" for m in mounts]
    return out


def describe_pod(pod: KubeObject, events: list[KubeObject], now: datetime, host_ip_of: dict[str, str] | None = None) -> str:
    """``kubectl describe pod``."""
    md, spec, st = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    node = spec.get("nodeName")
    out = [f"Name:\t{md['name']}", f"Namespace:\t{md.get('namespace', '')}", f"Priority:\t{spec.get('priority', 0)}"]
    if spec.get("priorityClassName"):
        out.append(f"Priority Class Name:\t{spec['priorityClassName']}")
    if spec.get("runtimeClassName"):
        out.append(f"Runtime Class Name:\t{spec['runtimeClassName']}")
    out.append(f"Service Account:\t{spec.get('serviceAccountName', 'default')}")
    out.append(f"Node:\t{node + '/' + st['hostIP'] if node and st.get('hostIP') else node or '<none>'}")
    if st.get("startTime"):
        out.append(f"Start Time:\t{_time(st['startTime'])}")
    out += _kv_block("Labels", md.get("labels") or {})
    out += _kv_block("Annotations", {k: v for k, v in (md.get("annotations") or {}).items()
                                     if k != "kubectl.kubernetes.io/last-applied-configuration"}, ": ")
    out.append(f"Status:\t{'Terminating' if md.get('deletionTimestamp') else st.get('phase', 'Pending')}")
    for key, label in (("reason", "Reason"), ("message", "Message")):
        if st.get(key):
            out.append(f"{label}:\t{st[key]}")
    out.append(f"IP:\t{st.get('podIP', '')}")
    ips = st.get("podIPs") or []
    out += (["IPs:"] + [f"  IP:\t{i.get('ip')}" for i in ips]) if ips else ["IPs:\t<none>"]
    owners = [r for r in md.get("ownerReferences") or [] if r.get("controller")]
    if owners:
        out.append(f"Controlled By:\t{owners[0]['kind']}/{owners[0]['name']}")
    if st.get("nominatedNodeName"):
        out.append(f"NominatedNodeName:\t{st['nominatedNodeName']}")
    statuses = {s.get("name"): s for s in st.get("containerStatuses") or []}
    out.append("Containers:")
    for c in spec.get("containers") or []:
        out += _container_lines(c, statuses.get(c.get("name")))
    conds = st.get("conditions") or []
    if conds:
        out += ["Conditions:", "  Type\tStatus"] + [f"  {c.get('type')} \t{c.get('status')} " for c in conds]
    vols = spec.get("volumes") or []
    out.append("Volumes:\t<none>" if not vols else "Volumes:")
    out += [f"  {v.get('name')}:" for v in vols]
    out.append(f"QoS Class:\t{st.get('qosClass', 'BestEffort')}")
    out += _kv_block("Node-Selectors", spec.get("nodeSelector") or {})
    tols = []
    for t in spec.get("tolerations") or []:
        s = t.get("key", "")
        if t.get("value"):
            s += f"={t['value']}"
        if t.get("effect"):
            s += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            s += " op=Exists"
        if t.get("tolerationSeconds") is not None:
            s += f" for {t['tolerationSeconds']}s"
        tols.append(s)
    out += [f"{'Tolerations:' if i == 0 else ''}\t{t}" for i, t in enumerate(tols)] or ["Tolerations:\t<none>"]
    out += _events(events, now)
    return tabwrite("\n".join(out) + "\n", minwidth=0, padding=2)


def describe_object(obj: KubeObject, events: list[KubeObject], now: datetime) -> str:
    """The common head of every describer (Name, Namespace, Labels, Annotations), the object's
    spec/data/status as indented YAML, and its Events."""
    import yaml

    md = obj["metadata"]
    out = [f"Name:\t{md['name']}"]
    if md.get("namespace"):
        out.append(f"Namespace:\t{md['namespace']}")
    out += _kv_block("Labels", md.get("labels") or {})
    out += _kv_block("Annotations", {k: v for k, v in (md.get("annotations") or {}).items()
                                     if k != "kubectl.kubernetes.io/last-applied-configuration"}, ": ")
    out.append(f"CreationTimestamp:\t{_time(md.get('creationTimestamp'))}")
    text = tabwrite("\n".join(out) + "\n", minwidth=0, padding=2)
    for key in ("spec", "data", "status"):
        if obj.get(key):
            body = yaml.safe_dump(obj[key], sort_keys=True, default_flow_style=False, width=10**6)
            text += f"{key.capitalize()}:\n" + "".join(f"  {ln}\n" for ln in body.splitlines())
    text += tabwrite("\n".join(_events(events, now)) + "\n", minwidth=0, padding=2)
    return text
