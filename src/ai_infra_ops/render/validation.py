"""Schema validation of rendered artifacts: Kubernetes OpenAPI schemas, the Cilium policy schema,
and the rule checks Cilium's agent applies on import.

Owns :func:`validate_artifacts` (called by ``render --check``, the golden tests and ``up``) and
:func:`validate_object`. Kubernetes objects are validated with the PyPI package
``kubernetes-validate`` (strict schemas: unknown fields are errors) for the spec's Kubernetes
version; when the package has no schemas for that version, the newest one it ships is used and a
``note`` says so. Cilium policies are validated with ``jsonschema`` against
``render.schemas.json_schema`` plus a few semantic rules of cilium/cilium:
pkg/policy/api/rule_validation.go that a schema cannot express. CRDs are also checked for
structural-schema rules. Helm values, kubeadm/kubelet configuration and scripts have no published
OpenAPI schema: kubeadm documents get the field checks of :func:`_kubeadm_problems`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema
import yaml

from .artifacts import Artifact
from .schemas import CILIUM_KINDS, json_schema, structural_problems

#: Cilium rule item fields that name an L3 peer (rule_validation.go: only one per item).
_PEER_FIELDS = ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromGroups", "fromNodes",
                "toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toGroups", "toNodes", "toServices", "toFQDNs")


@dataclass(frozen=True)
class Problem:
    """One validation failure: where (artifact path, document index, object) and why."""

    path: str
    index: int
    obj: str
    field: str
    message: str

    def render(self) -> str:
        """``manifests/30-workloads.yaml[2] Pod/gpu/x: spec.containers[0]: reason``."""
        where = f"{self.path}[{self.index}] {self.obj}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def _fmt_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def _obj_name(obj: Any) -> str:
    if not isinstance(obj, dict):
        return "<not a mapping>"
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    name = meta.get("name", "?")
    return f"{obj.get('kind', '?')}/{ns + '/' if ns else ''}{name}"


@lru_cache(maxsize=4)
def _cilium_validator(kind: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(json_schema(kind))


@lru_cache(maxsize=4)
def _k8s_definitions(version: str) -> Any:
    import kubernetes_validate.utils as kv

    return kv.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version)


@lru_cache(maxsize=256)
def _k8s_validator(kind: str, api_version: str, version: str) -> jsonschema.protocols.Validator | None:
    """kubernetes-validate's strict schema for (kind, apiVersion) at ``version``, built once.

    Same files and registry set-up as ``kubernetes_validate.utils.validate`` (which re-reads the
    large ``_definitions.json`` on every call); cached here because render validates dozens of objects.
    """
    import re

    import kubernetes_validate.utils as kv
    from referencing import Registry, Resource

    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/{kind.lower()}-{group_version}.json", version)
    except FileNotFoundError:
        return None
    registry: Registry[Any] = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(_k8s_definitions(version)) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


def kubernetes_schema_version(version: str) -> tuple[str, str | None]:
    """(version to validate against, note when it differs from the requested one)."""
    import kubernetes_validate.utils as kv

    want = version.lstrip("v")
    minor = ".".join(want.split(".")[:2])
    versions = kv.all_versions()
    have = [v for v in versions if ".".join(v.split(".")[:2]) == minor]
    if have:
        return have[-1], None
    newest = versions[-1]
    return newest, f"kubernetes-validate has no schemas for {minor}; validated against {newest}, its newest"


def _semantic_cilium(rule: dict[str, Any], clusterwide: bool) -> list[tuple[str, str]]:
    """Rule checks of rule_validation.go that JSON Schema cannot express: (field, message)."""
    out: list[tuple[str, str]] = []
    host_policy = "nodeSelector" in rule
    for section in ("ingress", "ingressDeny", "egress", "egressDeny"):
        for i, item in enumerate(rule.get(section) or []):
            if not isinstance(item, dict):
                continue
            where = f"{section}[{i}]"
            peers = [f for f in _PEER_FIELDS if f in item]
            if len(peers) > 1:
                out.append((where, f"combining {peers[0]} and {peers[1]} is not supported yet"))
            if "icmps" in item and "toPorts" in item:
                out.append((where, "the ICMPs block may only be present without ToPorts. Define a separate rule to use ToPorts"))
            for j, pr in enumerate(item.get("toPorts") or []):
                rules = (pr or {}).get("rules") or {}
                kinds = [k for k in ("http", "dns", "kafka", "l7proto") if rules.get(k)]
                pwhere = f"{where}.toPorts[{j}]"
                if len(kinds) > 1:
                    out.append((pwhere, "multiple L7 protocol rule types specified in single rule"))
                for k, pp in enumerate(pr.get("ports") or []):
                    proto = str(pp.get("protocol", "ANY")).upper()
                    port = str(pp.get("port", ""))
                    if kinds and port == "0":
                        out.append((f"{pwhere}.ports[{k}]", "L7 rules can not be used when a port is 0"))
                    if kinds and kinds != ["dns"] and proto != "TCP":
                        out.append((f"{pwhere}.ports[{k}]", f"L7 rules can only apply to TCP (not {proto}) except for DNS rules"))
                if "dns" in kinds and section.startswith("ingress"):
                    out.append((pwhere, "DNS rules are not allowed on ingress"))
                if "http" in kinds and host_policy:
                    out.append((pwhere, "L7 policy is not supported on host (nodeSelector) policies"))
    if not clusterwide and "nodeSelector" in rule:
        out.append(("nodeSelector", "nodeSelector is only valid in a CiliumClusterwideNetworkPolicy"))
    return out


_KUBEADM_REQUIRED = {
    "InitConfiguration": ("nodeRegistration", "localAPIEndpoint"),
    "ClusterConfiguration": ("kubernetesVersion", "networking"),
    "JoinConfiguration": ("discovery", "nodeRegistration"),
}


def _kubeadm_problems(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """Field checks for kubeadm.k8s.io/v1beta4 documents (the fields kubeadm's own validation rejects)."""
    import re

    out: list[tuple[str, str]] = []
    kind = obj.get("kind")
    for key in _KUBEADM_REQUIRED.get(str(kind), ()):
        if key not in obj:
            out.append((key, "required"))
    for i, t in enumerate(obj.get("bootstrapTokens") or []):
        if not re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", str(t.get("token", ""))):
            out.append((f"bootstrapTokens[{i}].token", "must match [a-z0-9]{6}.[a-z0-9]{16}"))
    bt = ((obj.get("discovery") or {}).get("bootstrapToken") or {}) if kind == "JoinConfiguration" else {}
    if kind == "JoinConfiguration" and not re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", str(bt.get("token", ""))):
        out.append(("discovery.bootstrapToken.token", "must match [a-z0-9]{6}.[a-z0-9]{16}"))
    nr = obj.get("nodeRegistration") or {}
    args = nr.get("kubeletExtraArgs")
    if args is not None and not (isinstance(args, list) and all(isinstance(a, dict) and {"name", "value"} >= set(a) for a in args)):
        out.append(("nodeRegistration.kubeletExtraArgs", "v1beta4 expects a list of {name, value}"))
    return out


def validate_object(obj: Any, kubernetes_version: str = "1.35") -> list[tuple[str, str]]:
    """Problems of one object as (field path, message); empty when valid."""
    if not isinstance(obj, dict) or "apiVersion" not in obj or "kind" not in obj:
        return []
    kind = str(obj["kind"])
    api = str(obj["apiVersion"])
    if kind in CILIUM_KINDS and api == "cilium.io/v2":
        errs = sorted(_cilium_validator(kind).iter_errors(obj), key=lambda e: list(e.absolute_path))
        out = [(_fmt_path(e.absolute_path), e.message) for e in errs]
        rules = [("spec", obj["spec"])] if isinstance(obj.get("spec"), dict) else []
        rules += [(f"specs[{i}]", r) for i, r in enumerate(obj.get("specs") or []) if isinstance(r, dict)]
        for prefix, rule in rules:
            out += [(f"{prefix}.{f}", m) for f, m in _semantic_cilium(rule, kind != "CiliumNetworkPolicy")]
        return out
    if api.startswith("kubeadm.k8s.io/"):
        return _kubeadm_problems(obj)
    if api.startswith("kubelet.config.k8s.io/"):
        return [] if obj.get("cgroupDriver") in (None, "systemd", "cgroupfs") else [("cgroupDriver", "must be systemd or cgroupfs")]
    version, _note = kubernetes_schema_version(kubernetes_version)
    validator = _k8s_validator(kind, api, version)
    if validator is None:
        return [("apiVersion", f"no Kubernetes {version} schema for kind {kind} with api version {api}")]
    errs = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    out = [(_fmt_path(e.absolute_path), e.message) for e in errs]
    if out:
        return out
    if kind == "CustomResourceDefinition":
        for i, v in enumerate(obj.get("spec", {}).get("versions") or []):
            schema = ((v.get("schema") or {}).get("openAPIV3Schema")) or {}
            out += [(f"spec.versions[{i}].schema.openAPIV3Schema", p) for p in structural_problems(schema)]
    return out


def validate_artifacts(artifacts: Iterable[Artifact], kubernetes_version: str = "1.35") -> list[Problem]:
    """Every problem of every YAML artifact (scripts are not YAML and are skipped).

    Args:
        artifacts: what ``render_all`` returned (or a subset).
        kubernetes_version: the spec's ``kubernetesVersion`` (schemas of that release).

    Returns:
        Problems sorted by artifact path and document; empty when everything validates.
    """
    out: list[Problem] = []
    for a in artifacts:
        if not a.is_yaml:
            continue
        try:
            docs = [d for d in yaml.safe_load_all(a.content) if d is not None]
        except yaml.YAMLError as exc:
            out.append(Problem(a.path, 0, "<yaml>", "", f"invalid YAML: {exc}"))
            continue
        for i, doc in enumerate(docs):
            for field, msg in validate_object(doc, kubernetes_version):
                out.append(Problem(a.path, i, _obj_name(doc), field, msg))
    return sorted(out, key=lambda p: (p.path, p.index, p.field))
