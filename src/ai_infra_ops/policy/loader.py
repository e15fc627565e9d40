"""Build a :class:`PolicyEngine` from a bag of Kubernetes/Cilium objects (files or a case).

Owns the offline setup ``policy trace -f``/``policy matrix`` and the conformance evaluator use:
Namespaces (implicit ones added), Pods (IPs and nodes assigned deterministically when missing,
as the twin's IPAM would: node i gets 10.244.i.0/24, pods .2, .3, ...), Nodes (one default worker
when none are given), Services, and the policies. Also resolves probe ports (named ports of the
target pod). Called by ``cli.commands.policy`` and the conformance unit test.
"""
from __future__ import annotations

import gc
import re
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

try:
    import yaml._yaml as _yaml
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _yaml = None  # type: ignore[assignment]

from .engine import PolicyEngine
from .types import KIND_CCNP, KIND_CNP, KIND_KNP

POLICY_KINDS = (KIND_CNP, KIND_CCNP, KIND_KNP)


def engine_from_objects(objs: list[Any], cilium: Mapping[str, Any] | None = None) -> tuple[PolicyEngine, list[Any]]:
    """Returns (engine, policy errors). ``cilium``: ``policyEnforcementMode``, ``policyAuditMode``,
    ``enableSCTP``, ``hostFirewall``, ``clusterName`` (the case format's ``cilium:`` block)."""
    c = dict(cilium or {})
    eng = PolicyEngine(cluster_name=str(c.get("clusterName") or "default"), audit_mode=bool(c.get("policyAuditMode")),
                       enforcement_mode=str(c.get("policyEnforcementMode") or "default"),
                       enable_sctp=bool(c.get("enableSCTP")), host_firewall=bool(c.get("hostFirewall")))
    values = [getattr(o, "value", o) for o in objs]
    values = [v for v in values if isinstance(v, Mapping)]
    nodes = [dict(v) for v in values if v.get("kind") == "Node"]
    if not nodes:
        nodes = [{"metadata": {"name": "node01"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.64.11"}]}}]
    node_names = [n["metadata"]["name"] for n in nodes]
    pods = []
    counters = dict.fromkeys(node_names, 2)
    for v in values:
        if v.get("kind") != "Pod":
            continue
        p = {**v, "spec": dict(v.get("spec") or {}), "status": dict(v.get("status") or {})}
        node = p["spec"].get("nodeName") or node_names[0]
        p["spec"]["nodeName"] = node
        if not p["status"].get("podIP"):
            i = node_names.index(node) if node in node_names else 0
            p["status"]["podIP"] = f"10.244.{i}.{counters.get(node, 2)}"
            counters[node] = counters.get(node, 2) + 1
        pods.append(p)
    ns_objs = {v["metadata"]["name"]: v for v in values if v.get("kind") == "Namespace"}
    for p in pods:
        ns = p["metadata"].get("namespace") or "default"
        ns_objs.setdefault(ns, {"metadata": {"name": ns}})
    eng.set_namespaces(list(ns_objs.values()))
    eng.set_nodes(nodes)
    eng.set_pods(pods)
    eng.set_services([v for v in values if v.get("kind") == "Service"])
    errors = eng.set_policies([o for o in objs if getattr(o, "value", o).get("kind") in POLICY_KINDS])
    return eng, errors


_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
         "yes": True, "Yes": True, "YES": True, "no": False, "No": False, "NO": False,
         "on": True, "On": True, "ON": True, "off": False, "Off": False, "OFF": False}
_NULL = ("", "~", "null", "Null", "NULL")


class _FastParser(_yaml.CParser):
    """libyaml's C composer with a no-op resolver: plain scalars are typed in :func:`_plain`."""

    def descend_resolver(self, *args: Any) -> None:
        return None

    def ascend_resolver(self, *args: Any) -> None:
        return None

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        return "?"


_SPECIAL: dict[str, Any] = {**_BOOL, **dict.fromkeys(_NULL)}
_MISSING = object()
_NUMERIC_START = frozenset("0123456789-+.")


def _plain(v: str) -> Any:
    r = _SPECIAL.get(v, _MISSING)
    if r is not _MISSING:
        return r
    if v[0] in _NUMERIC_START:
        if _INT.match(v):
            return int(v.replace("_", ""))
        if _FLOAT.match(v) and v not in (".", "+.", "-."):
            return float(v.replace("_", ""))
    return v


def _convert(node: Any) -> Any:
    cls = node.__class__
    if cls is ScalarNode:
        return node.value if node.style else _plain(node.value)
    if cls is MappingNode:
        return {_convert(k): _convert(v) for k, v in node.value}
    return [_convert(x) for x in node.value]


def load_objects_fast(paths: list[str]) -> list[dict[str, Any]]:
    """Objects from YAML files, fast: libyaml composes nodes in C and plain scalars get the YAML
    1.1 core types (bool incl. yes/no/on/off, null, int, float) without PyYAML's regex resolver
    battery (no timestamps, sexagesimal or merge keys — never used by ``kubectl get -o yaml``).
    No position tables, so this is for bulk inputs (``policy matrix``); ``kind: List`` flattened.
    Falls back to PyYAML's pure loader when libyaml is missing."""
    out: list[dict[str, Any]] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # bulk construction creates no reference cycles; avoid full-heap collections
    try:
        for path in paths:
            out.extend(_load_one(path))
    finally:
        if gc_was_enabled:
            gc.enable()
    return out


def _load_one(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        if _yaml is not None:
            parser = _FastParser(fh)
            docs = []
            while parser.check_node():
                docs.append(_convert(parser.get_node()))
        else:
            docs = list(yaml.safe_load_all(fh))
    out: list[dict[str, Any]] = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "List":
            out.extend(i for i in doc.get("items") or [] if isinstance(i, dict))
        elif isinstance(doc, dict):
            out.append(doc)
    return out


def resolve_port(eng: PolicyEngine, target: str, port: int | str, protocol: str = "TCP") -> int:
    """A probe's port: a number, or a named container port of the target pod."""
    if isinstance(port, int):
        return port
    if str(port).isdigit():
        return int(port)
    info = eng.pods.get(target)
    if info is not None:
        for name, proto, num in info.named_ports:
            if name == str(port).lower() and proto == protocol.upper():
                return num
    raise ValueError(f"{target} has no container port named {port!r}")
