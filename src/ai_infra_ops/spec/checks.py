"""Cross-field checks of a platform spec: contradictions found before any step runs.

Owns ``find_problems(spec) -> list[Problem]``; each problem carries the YAML path of the field
at fault (camelCase keys, as the user wrote them) so ``spec.load`` can name file and line.
Checks: label syntax (nodes, namespaces, pools, intents); exactly one control plane; duplicate
node names / IPs / namespaces / pools / workloads; pod CIDR too small for the nodes; pools
selecting no node or an unknown node, a node in two pools, pools with different label keys;
workloads and the chaos pod in undeclared namespaces, with invalid names or malformed resource
quantities, extended resources that are not integers or whose requests differ from limits; a chaos
pod that is not a Pod or reuses a workload's name; a namespace quota smaller than one workload's
(the chaos pod's included, or all of theirs together) request; intents naming unknown namespaces or selecting no workload; DNS
allows that would resolve a C2C name.
Called by ``spec.load.load_spec`` and ``spec.load.default_spec``.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..kube_model import parse_quantity
from ..kube_model.quantity import format_quantity
from ..kube_model.yamlio import format_field_path
from .kube_rules import label_key_errors, label_value_errors, object_name_errors, resource_requirement_errors
from .zero_trust import fqdn_pattern_matches

if TYPE_CHECKING:
    from .model import PlatformSpec

Path = tuple[str | int, ...]

#: Namespaces every cluster has; workloads may live there without being declared.
BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class Problem:
    """One contradiction: where (YAML path) and what was expected."""

    path: Path
    message: str


def find_problems(spec: PlatformSpec) -> list[Problem]:
    """Every contradiction in ``spec``, in the order of the spec's fields."""
    out: list[Problem] = []
    out += _labels(spec)
    out += _nodes(spec)
    out += _pools(spec)
    out += _namespaces_and_workloads(spec)
    out += _intents(spec)
    return out


def _label_problems(path: Path, labels: dict[str, str]) -> list[Problem]:
    out = [Problem(path + (k,), f'Invalid value: "{k}": {e}') for k in labels for e in label_key_errors(str(k))]
    out += [Problem(path + (k,), f'Invalid value: "{v}": {e}') for k, v in labels.items() for e in label_value_errors(str(v))]
    return out


def _labels(spec: PlatformSpec) -> list[Problem]:
    """Label keys and values must be what the API server accepts (nodes, namespaces, intents, pools)."""
    out: list[Problem] = []
    for i, n in enumerate(spec.nodes):
        out += _label_problems(("nodes", i, "labels"), n.labels)
    for i, ns in enumerate(spec.namespaces):
        out += _label_problems(("namespaces", i, "labels"), ns.labels)
    for i, p in enumerate(spec.gpu_pools):
        out += [Problem(("gpuPools", i, "labelKey"), f'Invalid value: "{p.label_key}": {e}') for e in label_key_errors(p.label_key)]
    for section, items in (("grpcAllow", spec.zero_trust.grpc_allow), ("httpAllow", spec.zero_trust.http_allow)):
        for i, it in enumerate(items):
            out += _label_problems(("zeroTrust", section, i, "from"), it.from_)
            out += _label_problems(("zeroTrust", section, i, "to"), it.to)
    return out


def _nodes(spec: PlatformSpec) -> list[Problem]:
    out: list[Problem] = []
    cps = [i for i, n in enumerate(spec.nodes) if n.role == "control-plane"]
    if not cps:
        out.append(Problem(("nodes",), "needs exactly one node with role control-plane (kubeadm init runs there)"))
    elif len(cps) > 1:
        out.append(Problem(("nodes", cps[1], "role"), f"a second control-plane node; only one is supported ({spec.nodes[cps[0]].name})"))
    seen: dict[str, int] = {}
    seen_ip: dict[str, int] = {}
    for i, n in enumerate(spec.nodes):
        if n.name in seen:
            out.append(Problem(("nodes", i, "name"), f"duplicate node name {n.name!r} (also nodes[{seen[n.name]}])"))
        seen.setdefault(n.name, i)
        if n.ip in seen_ip:
            out.append(Problem(("nodes", i, "ip"), f"duplicate node IP {n.ip} (also nodes[{seen_ip[n.ip]}] {spec.nodes[seen_ip[n.ip]].name})"))
        seen_ip.setdefault(n.ip, i)
        ip = ipaddress.IPv4Address(n.ip)
        for key, cidr in (("podCidr", spec.network.pod_cidr), ("serviceCidr", spec.network.service_cidr)):
            if ip in ipaddress.IPv4Network(cidr):
                out.append(Problem(("nodes", i, "ip"), f"node IP {ip} lies inside network.{key} {cidr}"))
    slices = spec.network.node_slices()
    if len(spec.nodes) > slices:
        out.append(Problem(("network", "podCidr"),
                           f"{spec.network.pod_cidr} holds {slices} node slices of /{spec.network.node_cidr_mask} "
                           f"but the spec has {len(spec.nodes)} nodes"))
    return out


def _pools(spec: PlatformSpec) -> list[Problem]:
    out: list[Problem] = []
    names = {n.name for n in spec.nodes}
    owner: dict[str, str] = {}
    seen: set[str] = set()
    for i, p in enumerate(spec.gpu_pools):
        if p.name in seen:
            out.append(Problem(("gpuPools", i, "name"), f"duplicate GPU pool name {p.name!r}"))
        seen.add(p.name)
        for j, nn in enumerate(p.nodes or []):
            if nn not in names:
                out.append(Problem(("gpuPools", i, "nodes", j), f"unknown node {nn!r}; nodes are: {', '.join(sorted(names))}"))
        selected = spec.pool_nodes(p)
        if not selected and not any(nn not in names for nn in p.nodes or []):
            where: Path = ("gpuPools", i, "nodeSelector") if p.node_selector is not None else ("gpuPools", i)
            out.append(Problem(where, f"GPU pool {p.name!r} selects no node"))
        for node in selected:
            if node.name in owner:
                out.append(Problem(("gpuPools", i), f"node {node.name!r} is in GPU pools {owner[node.name]!r} and {p.name!r}; "
                                                     f"a node carries one {p.label_key} label"))
            owner.setdefault(node.name, p.name)
        if p.label_key != spec.gpu_pools[0].label_key:
            out.append(Problem(("gpuPools", i, "labelKey"), f"{p.label_key!r} differs from gpuPools[0].labelKey "
                                                             f"{spec.gpu_pools[0].label_key!r}; fake-gpu-operator reads one nodePoolLabelKey"))
    return out


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace") or "default"), str(meta.get("name", "")))


def _containers(obj: dict[str, Any]) -> tuple[Path, list[Any], list[Any], int]:
    """(path of the pod spec, containers, initContainers, replicas) of a Pod or pod-template owner."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return ("spec",), spec.get("containers") or [], spec.get("initContainers") or [], 1
    tmpl = ((spec.get("template") or {}).get("spec")) or {}
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        replicas = spec.get("replicas", 1)
        return ("spec", "template", "spec"), tmpl.get("containers") or [], tmpl.get("initContainers") or [], replicas if isinstance(replicas, int) else 1
    if kind in ("Job", "DaemonSet"):
        return ("spec", "template", "spec"), tmpl.get("containers") or [], tmpl.get("initContainers") or [], 1
    return (), [], [], 0


def _pod_requests(base: Path, containers: list[Any], inits: list[Any], problems: list[Problem]) -> dict[str, Fraction]:
    """Effective pod requests; a limit without a request counts as the request (k8s defaulting)."""
    def one(c: Any, path: Path) -> dict[str, Fraction]:
        res = (c.get("resources") or {}) if isinstance(c, dict) else {}
        got: dict[str, Fraction] = {}
        for section in ("limits", "requests"):
            for name, raw in (res.get(section) or {}).items():
                try:
                    q = parse_quantity(raw)
                except ValueError as exc:
                    problems.append(Problem(path + ("resources", section, name), f'Invalid value: "{raw}": {exc}'))
                    continue
                got[name] = q   # requests (read second) override limits
        for (section, name), msg in resource_requirement_errors(res):
            problems.append(Problem(path + ("resources", section, name), msg))
        return got
    total: dict[str, Fraction] = {}
    for i, c in enumerate(containers):
        for k, v in one(c, base + ("containers", i)).items():
            total[k] = total.get(k, Fraction(0)) + v
    for i, c in enumerate(inits):   # init containers run one at a time: the max counts
        for k, v in one(c, base + ("initContainers", i)).items():
            total[k] = max(total.get(k, Fraction(0)), v)
    return total


def _quota_resource(key: str) -> str | None:
    # ResourceQuota hard keys: requests.X, X (cpu/memory mean requests), limits.X (not checked here)
    if key.startswith("requests."):
        return key[len("requests."):]
    if key in ("cpu", "memory", "ephemeral-storage"):
        return key
    return None


def _namespaces_and_workloads(spec: PlatformSpec) -> list[Problem]:
    out: list[Problem] = []
    declared: dict[str, int] = {}
    for i, ns in enumerate(spec.namespaces):
        for hard_key, hard_raw in (ns.quota or {}).items():
            try:
                parse_quantity(hard_raw)
            except ValueError as exc:
                out.append(Problem(("namespaces", i, "quota", hard_key), f'Invalid value: "{hard_raw}": {exc}'))
        if ns.name in declared:
            out.append(Problem(("namespaces", i, "name"), f"duplicate namespace {ns.name!r}"))
        declared.setdefault(ns.name, i)
    seen: dict[tuple[str, str, str], str] = {}
    usage: dict[str, list[tuple[str, tuple[str, str, str], dict[str, Fraction]]]] = {}
    # the chaos pod is created next to the workloads (Phase 2), so the API server judges it alike
    entries: list[tuple[Path, Any]] = [(("workloads", i), obj) for i, obj in enumerate(spec.workloads)]
    if spec.chaos_pod is not None:
        entries.append((("chaosPod",), spec.chaos_pod))
    for path, obj in entries:
        where = format_field_path(path)
        if not isinstance(obj, dict) or not obj.get("kind") or not (obj.get("metadata") or {}).get("name"):
            out.append(Problem(path, "a workload needs apiVersion, kind and metadata.name"))
            continue
        key = _key(obj)
        if path == ("chaosPod",) and key[0] != "Pod":
            out.append(Problem(path + ("kind",), f"the chaos pod must be a Pod, got {key[0]!r}"))
        if key in seen:
            out.append(Problem(path + ("metadata", "name"), f"duplicate {key[0]} {key[1]}/{key[2]} (also {seen[key]})"))
        seen.setdefault(key, where)
        out += [Problem(path + ("metadata", "name"), f'Invalid value: "{key[2]}": {e}') for e in object_name_errors(key[0], key[2])]
        if key[1] not in declared and key[1] not in BUILTIN_NAMESPACES:
            out.append(Problem(path + ("metadata", "namespace"),
                               f"namespace {key[1]!r} is not declared under namespaces ({', '.join(declared) or 'none'})"))
        base, cs, inits, replicas = _containers(obj)
        req = _pod_requests(path + base, cs, inits, out)
        usage.setdefault(key[1], []).append((where, key, {k: v * replicas for k, v in req.items()}))
    for i, ns in enumerate(spec.namespaces):
        for hard_key, hard_raw in (ns.quota or {}).items():
            res = _quota_resource(hard_key)
            if res is None or any(p.path == ("namespaces", i, "quota", hard_key) for p in out):
                continue
            hard = parse_quantity(hard_raw)
            total = Fraction(0)
            for where, k, req in usage.get(ns.name, []):
                want = req.get(res, Fraction(0))
                total += want
                if want > hard:
                    out.append(Problem(("namespaces", i, "quota", hard_key),
                                       f"ResourceQuota {ns.name}/{ns.quota_name} allows {hard_key}={format_quantity(hard)} but "
                                       f"{where} ({k[0]} {k[1]}/{k[2]}) requests {format_quantity(want)}"))
            if total > hard and not any(p.path == ("namespaces", i, "quota", hard_key) for p in out):
                out.append(Problem(("namespaces", i, "quota", hard_key),
                                   f"ResourceQuota {ns.name}/{ns.quota_name} allows {hard_key}={format_quantity(hard)} but the "
                                   f"workloads in {ns.name} request {format_quantity(total)} together"))
    return out


def _pod_label_sets(spec: PlatformSpec, namespace: str) -> list[dict[str, str]]:
    sets = []
    for obj in spec.workloads:
        if not isinstance(obj, dict) or _key(obj)[1] != namespace:
            continue
        if obj.get("kind") == "Pod":
            sets.append((obj.get("metadata") or {}).get("labels") or {})
        elif obj.get("kind") in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
            sets.append((((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})
    return sets


def _intents(spec: PlatformSpec) -> list[Problem]:
    out: list[Problem] = []
    zt = spec.zero_trust
    declared = {n.name for n in spec.namespaces}
    known = ", ".join(sorted(declared)) or "none"
    for i, ns in enumerate(zt.workload_namespaces):
        if ns not in declared:
            out.append(Problem(("zeroTrust", "workloadNamespaces", i), f"unknown namespace {ns!r}; declared namespaces: {known}"))
    for section, items in (("grpcAllow", zt.grpc_allow), ("httpAllow", zt.http_allow)):
        for i, it in enumerate(items):
            if it.namespace not in declared:
                out.append(Problem(("zeroTrust", section, i, "namespace"), f"unknown namespace {it.namespace!r}; declared namespaces: {known}"))
                continue
            pods = _pod_label_sets(spec, it.namespace)
            for field, sel in (("from", it.from_), ("to", it.to)):
                if not any(all(labels.get(k) == v for k, v in sel.items()) for labels in pods):
                    out.append(Problem(("zeroTrust", section, i, field),
                                       f"selector {sel} matches no workload in namespace {it.namespace!r}"))
    # Cilium DNS rules cannot deny (api/rule.go: no ToFQDNs in EgressDenyRule), so an allow that
    # covers a C2C name would let pods resolve it: point at the allow that does.
    for name in zt.c2c_deny.fqdns:
        for k, pattern in enumerate(zt.dns_allow):
            if fqdn_pattern_matches(pattern, name):
                out.append(Problem(("zeroTrust", "dnsAllow", k),
                                   f"{pattern!r} lets pods resolve {name!r}, which zeroTrust.c2cDeny.fqdns denies "
                                   "(Cilium DNS rules cannot deny; narrow the pattern)"))
        for k, e in enumerate(zt.egress_allow):
            if e.matches(name):
                out.append(Problem(("zeroTrust", "egressAllow", k),
                                   f"allows {name!r}, which zeroTrust.c2cDeny.fqdns denies; remove one of the two"))
    return out
