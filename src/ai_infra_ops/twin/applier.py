"""``apply`` in two phases, so a failing batch writes nothing: ``plan`` validates every object and
works out what would happen to it (created / configured / unchanged), ``commit`` writes the plan.

Updates follow ``kubectl apply``'s three-way merge (``kubectl.kubernetes.io/last-applied-configuration``
holds what was applied last; fields dropped from the new configuration are removed, fields others
set — controllers, defaults, status — are kept). Pods are immutable but for a few fields
(``pkg/apis/core/validation: ValidatePodUpdate``). Quota admission counts the pods admitted
earlier in the same batch, as the quota plugin updates ``status.used`` on every admit.
Cilium policies are checked by the policy engine (``policy.parse_policies``): an invalid one is
rejected and the rest applied, as the Cilium agent does.

Called by ``twin.backend.TwinBackend.apply``.
"""
from __future__ import annotations

import copy
import ipaddress
import json
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..backend import ApplyResult
from ..errors import AdmissionError, Location, ManifestError, PolicyError
from ..kube_model import kind_is_namespaced
from ..kube_model.objects import apply_rank
from ..kube_model.yamlio import Document, flatten_list
from .admission import check_quota, pod_quota_usage, validate_object

__all__ = ["Applier", "PlannedObject", "LAST_APPLIED"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy")
_POD_MUTABLE = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")


@dataclass(frozen=True)
class PlannedObject:
    kind: str
    namespace: str
    name: str
    action: str  # created | configured | unchanged
    obj: dict[str, Any] = field(compare=False)


def _where(doc: Document | None, path: tuple[Any, ...] = ()) -> Location:
    return doc.location(path) if doc is not None else Location()


def _merge(live: Any, last: Any, new: Any) -> Any:
    """Three-way merge of maps; lists of named maps (containers, env, ports) merge by ``name``
    as strategic merge patch does; other lists and scalars are replaced."""
    if isinstance(live, list) and isinstance(new, list) and new and all(
            isinstance(x, dict) and "name" in x for x in live + new):
        old_by = {x["name"]: x for x in live}
        last_by = {x["name"]: x for x in last} if isinstance(last, list) and all(
            isinstance(x, dict) and "name" in x for x in last) else {}
        return [_merge(old_by.get(x["name"]), last_by.get(x["name"]), x) for x in new]
    if not (isinstance(live, dict) and isinstance(new, dict)):
        return copy.deepcopy(new)
    last = last if isinstance(last, dict) else {}
    out = {k: v for k, v in live.items() if not (k in last and k not in new)}
    for k, v in new.items():
        out[k] = _merge(live.get(k), last.get(k), v)
    return out


class Applier:
    """Plans and commits one apply batch on a :class:`twin.controllers.Reconciler`."""

    def __init__(self, reconciler: Any, spec: Any = None):
        self.r = reconciler
        self.store = reconciler.store
        self.spec = spec

    # ---- plan ------------------------------------------------------------------------------
    def plan(self, objects: list[Any]) -> tuple[list[PlannedObject], list[PolicyError]]:
        """Validate the batch and decide each object's fate; nothing is written.

        Raises:
            ManifestError, AdmissionError: the first problem found (the batch is refused).
        """
        items: list[tuple[dict[str, Any], Document | None]] = []
        expanded: list[Any] = []
        for o in objects:
            if isinstance(o, Document):
                expanded.extend(flatten_list(o))
            elif isinstance(o, dict) and str(o.get("kind", "")).endswith("List") and isinstance(o.get("items"), list):
                expanded.extend(o["items"])
            else:
                expanded.append(o)
        for o in expanded:
            doc = o if isinstance(o, Document) else None
            value = o.value if isinstance(o, Document) else o
            validate_object(value, doc, kube_minor=self.r.kube_minor)
            value = copy.deepcopy(value)
            md = value["metadata"]
            if kind_is_namespaced(value["kind"]):
                md["namespace"] = str(md.get("namespace") or "default")
            else:
                md.pop("namespace", None)
            items.append((value, doc))
        seen: dict[tuple[str, str, str], Document | None] = {}
        for value, doc in items:
            key = (value["kind"], value["metadata"].get("namespace", ""), value["metadata"]["name"])
            if key in seen:
                ref = f"{key[0].lower()}/{key[2]}" + (f" in namespace {key[1]}" if key[1] else "")
                raise ManifestError(f"duplicate object {ref} in one apply", _where(doc, ("metadata", "name")))
            seen[key] = doc
        rejected: list[PolicyError] = []
        kept = []
        for value, doc in items:
            if value["kind"] in _POLICY_KINDS:
                errs = self._policy_errors(value, doc)
                if errs:
                    rejected.extend(errs)
                    continue
            kept.append((value, doc))
        kept.sort(key=lambda it: apply_rank(it[0]["kind"]))
        namespaces = {o["metadata"]["name"] for o in self.store.list_objects("Namespace")}
        namespaces |= {v["metadata"]["name"] for v, _ in kept if v["kind"] == "Namespace"}
        quotas: dict[str, dict[str, dict[str, Any]]] = {}
        for q in self.store.list_objects("ResourceQuota"):
            quotas.setdefault(q["metadata"]["namespace"], {})[q["metadata"]["name"]] = q
        for v, _ in kept:
            if v["kind"] == "ResourceQuota":
                quotas.setdefault(v["metadata"]["namespace"], {})[v["metadata"]["name"]] = v
        used: dict[str, dict[str, dict[str, Fraction]]] = {}
        plan = []
        for value, doc in kept:
            kind, md = value["kind"], value["metadata"]
            ns = md.get("namespace", "")
            if ns and ns not in namespaces:
                raise AdmissionError(self._prefix(doc, value) + f'namespaces "{ns}" not found')
            live = self.store.get_object(kind, ns, md["name"])
            planned = self._plan_one(value, doc, live)
            if kind == "Pod" and live is None and quotas.get(ns):
                if ns not in used:
                    used[ns] = self._used(ns, quotas[ns])
                try:
                    check_quota(value, list(quotas[ns].values()), used[ns])
                except AdmissionError as exc:
                    raise type(exc)(self._prefix(doc, value) + str(exc)) from None
                usage = pod_quota_usage(value)
                for qname in used[ns]:
                    for res in used[ns][qname]:
                        used[ns][qname][res] += usage.get(res, Fraction(0))
            plan.append(planned)
        return plan, rejected

    def _used(self, ns: str, quotas: dict[str, dict[str, Any]]) -> dict[str, dict[str, Fraction]]:
        from .admission import quota_resources_used

        pods = self.store.list_objects("Pod", ns)
        return {name: quota_resources_used(q, pods) for name, q in quotas.items()}

    @staticmethod
    def _prefix(doc: Document | None, value: dict[str, Any]) -> str:
        # kubectl: Error from server (...): error when creating "<file>": <message>
        return f'error when creating "{doc.file}": ' if doc is not None else ""

    def _policy_errors(self, value: dict[str, Any], doc: Document | None) -> list[PolicyError]:
        try:
            from ..policy import parse_policies
        except ImportError:  # the policy part is built in parallel: store the policy unchecked
            return []
        _, errors = parse_policies([doc if doc is not None else value])
        return list(errors)

    def _plan_one(self, value: dict[str, Any], doc: Document | None, live: dict[str, Any] | None) -> PlannedObject:
        kind, md = value["kind"], value["metadata"]
        ns = md.get("namespace", "")
        # kubectl leaves the annotation itself out of the configuration it records
        # (apply.GetModifiedConfiguration); objects read back with `get` carry the old one.
        annotations = {k: v for k, v in (md.get("annotations") or {}).items() if k != LAST_APPLIED}
        if annotations:
            md["annotations"] = annotations
        else:
            md.pop("annotations", None)
        config = json.dumps(value, sort_keys=True, separators=(",", ":")) + "\n"
        if live is None:
            # ``value`` is already the batch's private copy: it becomes the stored object
            new = dict(value, metadata=dict(md, annotations={**(md.get("annotations") or {}), LAST_APPLIED: config}))
            if kind not in ("Node", "Event"):
                new.pop("status", None)
            return PlannedObject(kind, ns, md["name"], "created", new)
        last_text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
        if last_text == config:
            return PlannedObject(kind, ns, md["name"], "unchanged", live)
        last = json.loads(last_text) if last_text else {}
        new = dict(value, metadata=dict(md, annotations={**(md.get("annotations") or {}), LAST_APPLIED: config}))
        merged: dict[str, Any] = {}
        for k in set(live) | set(value):
            if k == "status":
                continue
            if k == "metadata":
                m = copy.deepcopy(live["metadata"])
                for sub in ("labels", "annotations"):
                    res = _merge(m.get(sub) or {}, (last.get("metadata") or {}).get(sub) or {},
                                 new["metadata"].get(sub) or {})
                    if res:
                        m[sub] = res
                    else:
                        m.pop(sub, None)
                merged["metadata"] = m
            elif k in value:
                merged[k] = _merge(live.get(k), last.get(k), value[k])
            elif k not in last:
                merged[k] = copy.deepcopy(live[k])
        if "status" in live:
            merged["status"] = copy.deepcopy(live["status"])
        if kind == "Pod":
            self._check_pod_update(live, merged, doc)
        same = {k: v for k, v in merged.items() if k != "metadata"} == {k: v for k, v in live.items() if k != "metadata"} \
            and merged["metadata"] == live["metadata"]
        if same:
            return PlannedObject(kind, ns, md["name"], "unchanged", live)
        spec_changed = merged.get("spec") != live.get("spec")
        if spec_changed and "generation" in live["metadata"]:
            merged["metadata"]["generation"] = int(live["metadata"]["generation"]) + 1
        return PlannedObject(kind, ns, md["name"], "configured", merged)

    @staticmethod
    def _check_pod_update(live: dict[str, Any], merged: dict[str, Any], doc: Document | None) -> None:
        a = copy.deepcopy(live.get("spec") or {})
        b = copy.deepcopy(merged.get("spec") or {})
        for s in (a, b):
            for f in _POD_MUTABLE:
                s.pop(f, None)
            for group in ("containers", "initContainers"):
                for c in s.get(group) or []:
                    c.pop("image", None)
        if a != b:
            name = live["metadata"]["name"]
            raise AdmissionError(
                f'The Pod "{name}" is invalid: spec: Forbidden: pod updates may not change fields other than '
                "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                "`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                "(allow it to be set to 1 if it was previously negative)"
                + (f" ({doc.file})" if doc is not None else ""))

    # ---- commit ----------------------------------------------------------------------------
    def commit(self, plan: list[PlannedObject]) -> list[ApplyResult]:
        """Write a plan (inside the caller's transaction)."""
        results = []
        for p in plan:
            if p.kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy") and p.action != "unchanged":
                # cilium-operator's CNP validation writes this condition (kubectl get cnp: VALID True)
                p.obj["status"] = {"conditions": [{"lastTransitionTime": self.r.now(), "message": "Policy validation succeeded",
                                                   "status": "True", "type": "Valid"}]}
            if p.action == "created":
                if p.kind == "Event":
                    self.store.add_event(copy.deepcopy(p.obj))
                elif p.kind == "Node":
                    self.r.create(self._complete_node(copy.deepcopy(p.obj)))
                else:
                    self.r.create(p.obj, owned=True)
            elif p.action == "configured":
                self.r.update(copy.deepcopy(p.obj))
            results.append(ApplyResult(p.kind, p.namespace, p.name, p.action))
        return results

    def _complete_node(self, node: dict[str, Any]) -> dict[str, Any]:
        """A node applied by hand gets what kubelet/KWOK and the node IPAM controller fill in:
        podCIDR (next free slice of the pod CIDR), addresses, Ready, capacity (KWOK defaults
        cpu 1k / memory 1Ti / pods 1M when none is declared), nodeInfo."""
        name = node["metadata"]["name"]
        now = self.r.now()
        spec = node.setdefault("spec", {})
        if not spec.get("podCIDR"):
            cidr = self.spec.network.pod_cidr if self.spec is not None else "10.244.0.0/16"
            mask = self.spec.network.node_cidr_mask if self.spec is not None else 24
            taken = {(n.get("spec") or {}).get("podCIDR") for n in self.store.list_objects("Node")}
            for sub in ipaddress.IPv4Network(cidr).subnets(new_prefix=mask):
                if str(sub) not in taken:
                    spec["podCIDR"] = str(sub)
                    spec["podCIDRs"] = [str(sub)]
                    break
        status = node.setdefault("status", {})
        kwok = ((node["metadata"].get("annotations") or {}).get("kwok.x-k8s.io/node") == "fake")
        cap = status.setdefault("capacity", {"cpu": "1k", "memory": "1Ti", "pods": "1M"} if kwok else {})
        status.setdefault("allocatable", dict(cap))
        if not status.get("addresses"):
            status["addresses"] = [{"address": name, "type": "Hostname"}]
        if not status.get("conditions"):
            status["conditions"] = [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                     "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                                     "lastTransitionTime": now}]
        version = f"v{self.spec.kubernetes_patch}" if self.spec is not None else f"v{self.r.kube_minor}.0"
        info = status.setdefault("nodeInfo", {})
        for k, v in (("architecture", "amd64"), ("operatingSystem", "linux"),
                     ("kubeletVersion", "kwok-v0.7.0" if kwok else version)):
            info.setdefault(k, v)
        labels = node["metadata"].setdefault("labels", {})
        labels.setdefault("kubernetes.io/hostname", name)
        labels.setdefault("kubernetes.io/os", "linux")
        labels.setdefault("kubernetes.io/arch", "amd64")
        return node
