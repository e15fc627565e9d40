"""What the twin's API server accepts: known kinds, strict field decoding, object names,
quantities, pod resource validation, and ResourceQuota admission with Kubernetes' own text.

Strict decoding follows ``kubectl apply --validate=strict``: a field the kind's OpenAPI schema does
not declare is an error (``unknown field "spec.containers[0].imagePullPolicyX"``). The schemas are
the Kubernetes OpenAPI definitions shipped with ``kubernetes-validate`` for the cluster's version.
Quota admission follows ``plugin/pkg/admission/resourcequota/controller.go`` (CheckRequest) and the
pod evaluator ``pkg/quota/v1/evaluator/core/pods.go``.

Called by ``twin.backend`` (apply validates the whole batch before anything is written) and by
``twin.controllers`` (the ReplicaSet controller's pod creations pass quota admission too).
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import AdmissionError, Location, ManifestError
from ..kube_model.cilium_crd import crd_schema
from ..kube_model import parse_quantity
from ..kube_model.quantity import format_quantity
from ..kube_model.yamlio import Document, format_field_path

__all__ = [
    "KNOWN_KINDS", "QuotaExceeded", "check_quota", "pod_quota_usage", "quota_resources_used",
    "validate_object",
]

# Kinds the twin's API serves: apiVersion groups they may come with.
KNOWN_KINDS: dict[str, tuple[str, ...]] = {
    "Namespace": ("v1",), "Node": ("v1",), "Pod": ("v1",), "ConfigMap": ("v1",), "Secret": ("v1",),
    "Service": ("v1",), "Endpoints": ("v1",), "ServiceAccount": ("v1",), "ResourceQuota": ("v1",),
    "Event": ("v1", "events.k8s.io/v1"),
    "Deployment": ("apps/v1",), "ReplicaSet": ("apps/v1",), "DaemonSet": ("apps/v1",),
    "NetworkPolicy": ("networking.k8s.io/v1",),
    "CiliumNetworkPolicy": ("cilium.io/v2",), "CiliumClusterwideNetworkPolicy": ("cilium.io/v2",),
    "PriorityClass": ("scheduling.k8s.io/v1",), "RuntimeClass": ("node.k8s.io/v1",),
    "CustomResourceDefinition": ("apiextensions.k8s.io/v1",),
}
# Kinds whose whole object is checked against the OpenAPI schema (Cilium CRDs are not in it;
# the policy engine validates those).
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SCHEMA_ROOT = "kubernetes-json-schema"


class QuotaExceeded(AdmissionError):
    """ResourceQuota admission refused a pod (HTTP 403 Forbidden); message is Kubernetes' text."""


@functools.lru_cache(maxsize=4)
def _schema_defs(kube_minor: str) -> tuple[dict[str, Any], dict[tuple[str, str], str]]:
    import kubernetes_validate

    base = Path(kubernetes_validate.__file__).parent / _SCHEMA_ROOT
    wanted = f"v{kube_minor}.0-local"
    dirs = sorted(p.name for p in base.iterdir() if p.name.endswith("-local"))
    name = wanted if wanted in dirs else dirs[-1]
    defs = json.loads((base / name / "_definitions.json").read_text())["$defs"]
    gvk: dict[tuple[str, str], str] = {}
    for dname, d in defs.items():
        for g in d.get("x-kubernetes-group-version-kind") or []:
            av = f"{g['group']}/{g['version']}" if g.get("group") else g["version"]
            gvk.setdefault((av, g["kind"]), dname)
    return defs, gvk


def _deref(defs: dict[str, Any], s: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in s:
        s = defs[s["$ref"].rsplit("/", 1)[-1]]
    return s


def _types(s: dict[str, Any]) -> set[str]:
    t = s.get("type")
    if t is None:
        return set()
    return {t} if isinstance(t, str) else set(t)


def _walk(defs: dict[str, Any], schema: dict[str, Any], value: Any, path: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    """First strict-decoding problem under ``value``: (field path, message) or None."""
    s = _deref(defs, schema)
    if value is None:
        return None
    types = _types(s)
    if isinstance(value, dict):
        if types and "object" not in types:
            return path, f"expected {sorted(types - {'null'})[0]}, got object"
        props = s.get("properties")
        if props is not None:
            for k, v in value.items():
                if k not in props:
                    if s.get("additionalProperties") not in (None, False):
                        continue
                    return path + (k,), "unknown field"
                bad = _walk(defs, props[k], v, path + (k,))
                if bad:
                    return bad
        elif isinstance(s.get("additionalProperties"), dict):
            for k, v in value.items():
                bad = _walk(defs, s["additionalProperties"], v, path + (k,))
                if bad:
                    return bad
        return None
    if isinstance(value, list):
        if types and "array" not in types:
            return path, f"expected {sorted(types - {'null'})[0]}, got array"
        items = s.get("items")
        if isinstance(items, dict):
            for i, v in enumerate(value):
                bad = _walk(defs, items, v, path + (i,))
                if bad:
                    return bad
        return None
    if types and types <= {"object", "array", "null"}:
        return path, f"expected {sorted(types - {'null'})[0]}, got {type(value).__name__}"
    want = types - {"null"}
    if len(want) == 1 and not _scalar_fits(next(iter(want)), value):
        # the API server's JSON decoder: `json: cannot unmarshal number into Go struct field ... of type string`
        got = "bool" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "string"
        return path, (f"json: cannot unmarshal {got} into field of type {next(iter(want))}"
                      + (f' (quote it: "{str(value).lower() if isinstance(value, bool) else value}")'
                         if want == {"string"} else ""))
    return None


def _scalar_fits(want: str, value: Any) -> bool:
    """Does a YAML scalar decode into an OpenAPI ``type`` (Quantity/IntOrString have no single type)?"""
    if want == "string":
        return isinstance(value, str)
    if want == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if want == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if want == "boolean":
        return isinstance(value, bool)
    return True


def _fail(doc: Document | None, path: tuple[Any, ...], message: str) -> ManifestError:
    loc = doc.location(path) if doc is not None else Location(field=format_field_path(path) or None)
    if doc is None and path:
        loc.field = format_field_path(path)
    return ManifestError(message, loc)


_CILIUM_SCHEMAS = {k: crd_schema(k) for k in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")}


def validate_object(obj: Any, doc: Document | None = None, *, kube_minor: str = "1.35") -> None:
    """Check one object the way the API server decodes and validates it.

    Raises:
        ManifestError: unknown kind/apiVersion, unknown field, bad name, malformed quantity, or
            invalid pod resources (Kubernetes' text), naming file, line and field.
    """
    if not isinstance(obj, dict):
        raise _fail(doc, (), "expected a Kubernetes object (a mapping with apiVersion, kind, metadata)")
    kind = obj.get("kind")
    if not kind or not isinstance(kind, str):
        raise _fail(doc, ("kind",), "Object 'Kind' is missing")
    if kind not in KNOWN_KINDS:
        raise _fail(doc, ("kind",), f'no matches for kind "{kind}" in the twin '
                    f"(known kinds: {', '.join(sorted(KNOWN_KINDS))})")
    av = obj.get("apiVersion")
    if av not in KNOWN_KINDS[kind]:
        raise _fail(doc, ("apiVersion",), f'no matches for kind "{kind}" in version "{av}" '
                    f"(expected apiVersion {' or '.join(KNOWN_KINDS[kind])})")
    md = obj.get("metadata")
    if not isinstance(md, dict) or not md.get("name"):
        raise _fail(doc, ("metadata", "name"), "resource name may not be empty")
    name = str(md["name"])
    name_re = _DNS1123_LABEL if kind in ("Namespace", "Service") else _DNS1123_SUBDOMAIN
    if len(name) > (63 if kind in ("Namespace", "Service") else 253) or not name_re.match(name):
        raise _fail(doc, ("metadata", "name"), f'Invalid value: "{name}": a lowercase RFC 1123 '
                    f"{'label' if name_re is _DNS1123_LABEL else 'subdomain'} must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric character")
    defs, gvk = _schema_defs(kube_minor)
    dname = gvk.get((str(av), kind))
    schema = defs.get(dname) if dname is not None else _CILIUM_SCHEMAS.get(kind)
    if schema is not None:
        # Cilium kinds: the CRD's structural schema. kubectl >= 1.27 asks for strict server-side
        # field validation by default, so the API server refuses unknown fields of CRs too.
        bad = _walk(defs, schema, obj, ())
        if bad is not None:
            path, msg = bad
            if msg == "unknown field":
                raise _fail(doc, path, f'strict decoding error: unknown field "{format_field_path(path)}"')
            raise _fail(doc, path, msg)
    if kind == "Pod":
        _validate_pod(obj, obj.get("spec") or {}, ("spec",), doc)
    elif kind in ("Deployment", "ReplicaSet", "DaemonSet"):
        tpl = ((obj.get("spec") or {}).get("template") or {})
        _validate_pod({"metadata": {"name": name, **(tpl.get("metadata") or {})}}, tpl.get("spec") or {},
                      ("spec", "template", "spec"), doc)
    elif kind == "ResourceQuota":
        for rname, q in ((obj.get("spec") or {}).get("hard") or {}).items():
            _quantity_at(q, ("spec", "hard", rname), doc)


def _quantity_at(value: Any, path: tuple[Any, ...], doc: Document | None) -> Fraction:
    try:
        return parse_quantity(value)
    except ValueError as exc:
        raise _fail(doc, path, f'Invalid value: "{value}": {exc}') from None


_POD_ERR = re.compile(r"^(spec\.[^:]+): (.*)$")


def _validate_pod(pod: dict[str, Any], spec: dict[str, Any], prefix: tuple[Any, ...], doc: Document | None) -> None:
    if not isinstance(spec.get("containers"), list) or not spec["containers"]:
        raise _fail(doc, prefix + ("containers",), "Required value: a pod needs at least one container")
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            if not isinstance(c, dict) or not c.get("name"):
                raise _fail(doc, prefix + (group, i, "name"), "Required value")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for rname, q in (res.get(part) or {}).items():
                    _quantity_at(q, prefix + (group, i, "resources", part, rname), doc)
    try:
        from .scheduler import validate_pod_resources
    except ImportError:  # the scheduler part is built in parallel; quantities were checked above
        return
    probe = {"apiVersion": "v1", "kind": "Pod", "metadata": pod.get("metadata") or {}, "spec": spec}
    errors = validate_pod_resources(probe)
    if errors:
        first = errors[0]
        m = _POD_ERR.match(first.split(": ", 1)[1] if first.startswith("The Pod") else first)
        path: tuple[Any, ...] = prefix
        if m:
            path = prefix + _parse_api_path(m.group(1))[1:]
        raise _fail(doc, path, first)


def _parse_api_path(text: str) -> tuple[Any, ...]:
    """``spec.containers[0].resources.requests[nvidia.com/gpu]`` -> path tuple (bracketed keys may
    contain dots; numeric ones are list indexes)."""
    parts: list[Any] = []
    for m in re.finditer(r"([^.\[\]]+)|\[([^\]]*)\]", text):
        if m.group(1) is not None:
            parts.append(m.group(1))
        else:
            key = m.group(2)
            parts.append(int(key) if key.isdigit() else key)
    return tuple(parts)


# ---- ResourceQuota ---------------------------------------------------------------------------

_COMPUTE = ("cpu", "memory", "ephemeral-storage")


def _container_resources(spec: Mapping[str, Any], part: str) -> dict[str, Fraction]:
    """Pod-level requests/limits as the quota evaluator computes them (resourcehelper.PodRequests:
    sum of containers, max with each init container, + overhead; request defaults to limit)."""
    def of(c: Mapping[str, Any]) -> dict[str, Fraction]:
        res = c.get("resources") or {}
        vals = {k: parse_quantity(v) for k, v in (res.get("limits") or {}).items()} if part == "limits" else {}
        if part == "requests":
            vals = {k: parse_quantity(v) for k, v in (res.get("limits") or {}).items()}
            vals.update({k: parse_quantity(v) for k, v in (res.get("requests") or {}).items()})
        return vals

    total: dict[str, Fraction] = {}
    for c in spec.get("containers") or []:
        for k, v in of(c).items():
            total[k] = total.get(k, Fraction(0)) + v
    for c in spec.get("initContainers") or []:
        for k, v in of(c).items():
            if v > total.get(k, Fraction(0)):
                total[k] = v
    for k, v in (spec.get("overhead") or {}).items():
        total[k] = total.get(k, Fraction(0)) + parse_quantity(v)
    return total


def pod_quota_usage(pod: Mapping[str, Any]) -> dict[str, Fraction]:
    """Quota usage of one pod, keyed by every name a quota may track it under."""
    spec = pod.get("spec") or {}
    req = _container_resources(spec, "requests")
    lim = _container_resources(spec, "limits")
    use: dict[str, Fraction] = {"pods": Fraction(1), "count/pods": Fraction(1)}
    for k, v in req.items():
        use[f"requests.{k}"] = v
        if k in _COMPUTE:
            use[k] = v
    for k, v in lim.items():
        use[f"limits.{k}"] = v
    return use


def _is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def quota_resources_used(quota: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> dict[str, Fraction]:
    """``status.used`` of a quota: the sum over non-terminal pods of its namespace."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    used = {k: Fraction(0) for k in hard}
    for p in pods:
        if _is_terminal(p):
            continue
        u = pod_quota_usage(p)
        for k in hard:
            used[k] += u.get(k, Fraction(0))
    return used


def format_resource_quantity(name: str, q: Fraction) -> str:
    """Quantity text as Kubernetes prints it in quota messages (memory-like in binary SI)."""
    base = name.split(".", 1)[1] if name.startswith(("requests.", "limits.")) else name
    return format_quantity(q, binary=base in ("memory", "ephemeral-storage") or base.startswith("hugepages-"))


def check_quota(pod: Mapping[str, Any], quotas: list[Mapping[str, Any]], used: Mapping[str, Mapping[str, Fraction]]) -> None:
    """Admit ``pod`` against the namespace's quotas (``used`` = status.used per quota name).

    Raises:
        QuotaExceeded: ``pods "<name>" is forbidden: exceeded quota: <quota>, requested: ...,
            used: ..., limited: ...`` or ``failed quota: <quota>: must specify ...``.
    """
    name = (pod.get("metadata") or {}).get("name", "")
    usage = pod_quota_usage(pod)
    spec = pod.get("spec") or {}
    for quota in sorted(quotas, key=lambda q: (q.get("metadata") or {}).get("name", "")):
        qname = (quota.get("metadata") or {}).get("name", "")
        hard = {k: parse_quantity(v) for k, v in ((quota.get("spec") or {}).get("hard") or {}).items()}
        # Missing cpu/memory requests/limits for a tracked compute resource (pods.go: podComputeUsageHelper
        # + enforcePodContainerConstraints); extended resources are exempt.
        missing = []
        for part in ("requests", "limits"):
            for res in ("cpu", "memory"):
                tracked = f"{part}.{res}" in hard or (part == "requests" and res in hard)
                if not tracked:
                    continue
                for c in spec.get("containers") or []:
                    r = c.get("resources") or {}
                    have = res in (r.get(part) or {}) or (part == "requests" and res in (r.get("limits") or {}))
                    if not have:
                        missing.append(f"{part}.{res}")
                        break
        if missing:
            raise QuotaExceeded(f'pods "{name}" is forbidden: failed quota: {qname}: must specify '
                                f"{','.join(sorted(set(missing)))}")
        qused = used.get(qname, {})
        exceeded = sorted(k for k, lim in hard.items()
                          if usage.get(k, Fraction(0)) > 0 and qused.get(k, Fraction(0)) + usage.get(k, Fraction(0)) > lim)
        if exceeded:
            def fmt(values: Mapping[str, Fraction]) -> str:
                return ",".join(f"{k}={format_resource_quantity(k, values.get(k, Fraction(0)))}" for k in exceeded)
            raise QuotaExceeded(
                f'pods "{name}" is forbidden: exceeded quota: {qname}, requested: {fmt(usage)}, '
                f"used: {fmt(qused)}, limited: {fmt(hard)}"
            )


# ---- embedded YAML (a toolkit lint, not an API-server rule) ------------------------------------

_YAML_SHAPED = re.compile(r"^\s*[A-Za-z0-9_.\-/]+:(\s|$)")


def embedded_yaml_error(doc: Document) -> ManifestError | None:
    """A ConfigMap whose data value is meant as YAML (key ``*.yaml``/``*.yml``, or text whose first
    line is ``key:``) but does not parse — like the seed's ``h100ConfigMap.yaml`` with its
    unterminated quote. The API server would store such text unchanged (it is just a string);
    every consumer that parses it fails, so ``apply`` refuses it with the inner position.
    """
    import yaml

    v = doc.value
    if not isinstance(v, dict) or v.get("kind") != "ConfigMap":
        return None
    for key, text in sorted((v.get("data") or {}).items()):
        if not isinstance(text, str):
            continue
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        if not (str(key).endswith((".yaml", ".yml")) or _YAML_SHAPED.match(first)):
            continue
        try:
            list(yaml.safe_load_all(text))
        except yaml.MarkedYAMLError as exc:
            # the context mark (e.g. where the unterminated quote opened) is where a person looks
            mark = exc.context_mark or exc.problem_mark
            reason = f"{exc.context}: {exc.problem}" if exc.context and exc.problem else (exc.problem or exc.context)
            loc = doc.location(("data", key))
            inner_line = mark.line if mark else 0
            if loc.line is not None:
                # block scalar: the text starts on the line after the key, at the block's indentation
                indent = _block_indent(doc.file, loc.line)
                loc.line = loc.line + 1 + inner_line
                loc.column = indent + (mark.column if mark else 0) + 1
            return ManifestError(
                f"invalid YAML: {reason} (the API server would store this text as-is; "
                "whatever reads it would fail to parse it)", loc)
        except yaml.YAMLError as exc:
            return ManifestError(f"invalid YAML: {exc}", doc.location(("data", key)))
    return None


def _block_indent(file: str | None, key_line: int) -> int:
    try:
        lines = Path(str(file)).read_text(encoding="utf-8").splitlines()
        nxt = lines[key_line] if key_line < len(lines) else ""
        return len(nxt) - len(nxt.lstrip(" "))
    except OSError:
        return 0
