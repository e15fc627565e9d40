"""``kubectl describe deployment`` and ``kubectl describe replicaset``
(``k8s.io/kubectl/pkg/describe/describe.go``: DeploymentDescriber, ReplicaSetDescriber and
DescribePodTemplate) — where a user sees a quota refusal of a Deployment's pods
(``FailedCreate``) and the ReplicaSet the Deployment rolled to.

Pure: objects and events in, text out. Called by ``cli.commands.describe``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from .describe import _events, _kv_block, _port_and_command_lines, _time
from .printers import _labels_selector
from .tabwriter import tabwrite

__all__ = ["describe_deployment", "describe_replicaset"]

KubeObject = dict[str, Any]
_HIDDEN = ("kubectl.kubernetes.io/last-applied-configuration",)


def _annotations(md: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (md.get("annotations") or {}).items() if k not in _HIDDEN}


def _pod_template(tpl: dict[str, Any]) -> list[str]:
    """DescribePodTemplate: labels, containers (image, ports, limits, env, mounts), volumes,
    node selectors, tolerations — indented one level."""
    md, spec = tpl.get("metadata") or {}, tpl.get("spec") or {}
    out = ["Pod Template:"]
    out += ["  " + ln if not ln.startswith("\t") else "  " + ln for ln in _kv_block("Labels", md.get("labels") or {})]
    if spec.get("serviceAccountName"):
        out.append(f"  Service Account:\t{spec['serviceAccountName']}")
    out.append("  Containers:")
    for c in spec.get("containers") or []:
        out.append(f"   {c.get('name')}:")
        out.append(f"    Image:\t{c.get('image', '')}")
        out += _port_and_command_lines(c)
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
    vols = spec.get("volumes") or []
    out.append("  Volumes:\t<none>" if not vols else "  Volumes:")
    out += [f"   {v.get('name')}:" for v in vols]
    sel = spec.get("nodeSelector") or {}
    out.append(f"  Node-Selectors:\t{','.join(f'{k}={v}' for k, v in sorted(sel.items())) or '<none>'}")
    tols = [f"{t.get('key', '')}{'=' + t['value'] if t.get('value') else ''}{':' + t['effect'] if t.get('effect') else ''}"
            for t in spec.get("tolerations") or []]
    out.append(f"  Tolerations:\t{', '.join(tols) or '<none>'}")
    return out


def _conditions(status: dict[str, Any]) -> list[str]:
    conds = status.get("conditions") or []
    if not conds:
        return []
    return ["Conditions:", "  Type\tStatus\tReason", "  ----\t------\t------"] + [
        f"  {c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}" for c in conds]


def describe_deployment(d: KubeObject, replicasets: list[KubeObject], events: list[KubeObject], now: datetime) -> str:
    """``kubectl describe deployment``; ``replicasets`` = those it owns."""
    md, spec, st = d["metadata"], d.get("spec") or {}, d.get("status") or {}
    want = int(spec.get("replicas", 1))
    out = [f"Name:\t{md['name']}", f"Namespace:\t{md.get('namespace', '')}",
           f"CreationTimestamp:\t{_time(md.get('creationTimestamp'))}"]
    out += _kv_block("Labels", md.get("labels") or {})
    out += _kv_block("Annotations", _annotations(md), ": ")
    out.append(f"Selector:\t{_labels_selector(spec.get('selector'))}")
    out.append(f"Replicas:\t{want} desired | {st.get('updatedReplicas', 0)} updated | {st.get('replicas', 0)} total | "
               f"{st.get('availableReplicas', 0)} available | {st.get('unavailableReplicas', 0)} unavailable")
    strategy = spec.get("strategy") or {}
    out.append(f"StrategyType:\t{strategy.get('type', 'RollingUpdate')}")
    out.append(f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}")
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        ru = strategy.get("rollingUpdate") or {}
        out.append(f"RollingUpdateStrategy:\t{ru.get('maxUnavailable', '25%')} max unavailable, "
                   f"{ru.get('maxSurge', '25%')} max surge")
    out += _pod_template(spec.get("template") or {})
    out += _conditions(st)
    current = next((rs for rs in replicasets
                    if (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
                    == (md.get("annotations") or {}).get("deployment.kubernetes.io/revision")), None)
    old = [rs for rs in replicasets if rs is not current and int((rs.get("spec") or {}).get("replicas", 0))]

    def ref(rs: KubeObject) -> str:
        return (f"{rs['metadata']['name']} ({(rs.get('status') or {}).get('replicas', 0)}/"
                f"{(rs.get('spec') or {}).get('replicas', 0)} replicas created)")

    out.append(f"OldReplicaSets:\t{', '.join(ref(rs) for rs in old) or '<none>'}")
    out.append(f"NewReplicaSet:\t{ref(current) if current else '<none>'}")
    out += _events(events, now)
    return tabwrite("\n".join(out) + "\n", minwidth=0, padding=2)


def describe_replicaset(rs: KubeObject, pods: list[KubeObject], events: list[KubeObject], now: datetime) -> str:
    """``kubectl describe replicaset``; ``pods`` = those it owns."""
    md, spec, st = rs["metadata"], rs.get("spec") or {}, rs.get("status") or {}
    out = [f"Name:\t{md['name']}", f"Namespace:\t{md.get('namespace', '')}",
           f"Selector:\t{_labels_selector(spec.get('selector'))}"]
    out += _kv_block("Labels", md.get("labels") or {})
    out += _kv_block("Annotations", _annotations(md), ": ")
    owners = [r for r in md.get("ownerReferences") or [] if r.get("controller")]
    if owners:
        out.append(f"Controlled By:\t{owners[0]['kind']}/{owners[0]['name']}")
    out.append(f"Replicas:\t{st.get('replicas', 0)} current / {spec.get('replicas', 1)} desired")
    phases = [(p.get("status") or {}).get("phase", "Pending") for p in pods]
    out.append(f"Pods Status:\t{phases.count('Running')} Running / {phases.count('Pending')} Waiting / "
               f"{phases.count('Succeeded')} Succeeded / {phases.count('Failed')} Failed")
    out += _pod_template(spec.get("template") or {})
    out += _conditions(st)
    out += _events(events, now)
    return tabwrite("\n".join(out) + "\n", minwidth=0, padding=2)
