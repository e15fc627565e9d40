"""What a pod asks for: API validation of its resources and the request the scheduler counts.

Owns the pod-side arithmetic of kube-scheduler and the API server's resource validation:

* ``validate_pod_resources`` — the API server's checks on container resources, Kubernetes' own
  text (``kubernetes/kubernetes: pkg/apis/core/validation/validation.go``,
  ``ValidateResourceRequirements`` / ``ValidateResourceQuantityValue``), run after defaulting
  (``pkg/apis/core/v1/defaults.go``: a limit without a request becomes the request).
* ``pod_requests`` — the pod's effective request as the scheduler counts it
  (``k8s.io/component-helpers/resource: PodRequests``): containers summed, sidecars
  (restartable init containers) added, ordinary init containers as a max, pod-level resources,
  overhead.

Units are the scheduler's integers: ``cpu`` in millicores (``Quantity.MilliValue``, rounded up),
everything else in whole units (``Quantity.Value``, rounded up). Called by the scheduler, the twin's
admission and the ``schedule`` command; knows nothing of nodes.
"""
from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from ...kube_model.quantity import QUANTITY_REGEX_TEXT, format_quantity, parse_quantity, to_int_ceil, to_milli

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL = "ephemeral-storage"
PODS = "pods"
# Scoring pretends this much for a container without a request (pkg/scheduler/util/pod_resources.go:
# DefaultMilliCPURequest = 100, DefaultMemoryRequest = 200 MiB).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
# PodLevelResources applies to cpu and memory only (IsSupportedPodLevelResource; hugepages too).
_POD_LEVEL = (CPU, MEMORY)

Requests = dict[str, int]


class QuantityError(ValueError):
    """A quantity the API server cannot decode (``12Gx``); carries the field path."""

    def __init__(self, field: str, value: object, reason: str):
        self.field = field
        self.value = value
        super().__init__(reason)


def is_native_resource(name: str) -> bool:
    """No domain, or a ``kubernetes.io`` domain (pkg/apis/core/helper: IsNativeResource)."""
    return "/" not in name or name.split("/", 1)[0].endswith("kubernetes.io")


def is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def is_extended_resource(name: str) -> bool:
    """Outside ``kubernetes.io`` and not ``requests.*`` (IsExtendedResourceName)."""
    return not is_native_resource(name) and not name.startswith("requests.")


def is_scalar_resource(name: str) -> bool:
    """Resources the scheduler tracks besides cpu/memory/ephemeral-storage/pods (IsScalarResourceName)."""
    return is_extended_resource(name) or is_hugepages(name) or name.startswith("kubernetes.io/") \
        or name.startswith("attachable-volumes-")


def _overcommit_allowed(name: str) -> bool:
    # pkg/apis/core/helper: IsOvercommitAllowed = native && !hugepages.
    return is_native_resource(name) and not is_hugepages(name)


def _integer_resource(name: str) -> bool:
    # IsIntegerResourceName: extended resources and the standard integer ones (pods, counts).
    return is_extended_resource(name) or name in (PODS, "services", "configmaps", "secrets")


def to_units(name: str, q: Fraction) -> int:
    """Scheduler units: millicores for cpu, whole units (rounded up) for everything else."""
    return to_milli(q) if name == CPU else to_int_ceil(q)


def canonical(q: Fraction, raw: object) -> str:
    """``Quantity.String()``: canonical text, binary suffixes kept when the input used them."""
    binary = isinstance(raw, str) and raw.strip()[-2:] in ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
    return format_quantity(q, binary=binary)


def _parse(raw: object, field: str) -> Fraction:
    try:
        return parse_quantity(raw)
    except ValueError as exc:
        raise QuantityError(field, raw, str(exc)) from None


def _resource_lists(container: Mapping[str, Any], path: str) -> tuple[dict[str, tuple[Fraction, object]], dict[str, tuple[Fraction, object]]]:
    """(limits, requests) after API defaulting: request := limit where only a limit is set."""
    res = container.get("resources") or {}
    limits_raw = res.get("limits") or {}
    requests_raw = res.get("requests") or {}
    limits = {str(k): (_parse(v, f"{path}.resources.limits[{k}]"), v) for k, v in limits_raw.items()}
    requests = {str(k): (_parse(v, f"{path}.resources.requests[{k}]"), v) for k, v in requests_raw.items()}
    for name, val in limits.items():
        requests.setdefault(name, val)
    return limits, requests


def _containers(pod: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    spec = pod.get("spec") or {}
    out: list[tuple[str, Mapping[str, Any]]] = []
    # ValidatePodSpec validates containers before initContainers.
    for kind in ("containers", "initContainers"):
        for i, c in enumerate(spec.get(kind) or []):
            out.append((f"spec.{kind}[{i}]", c))
    return out


def validate_pod_resources(pod: Mapping[str, Any]) -> list[str]:
    """The API server's errors for this pod's container resources, in Kubernetes' exact text.

    One string per field error (``<field>: <reason>``), in the order the API server appends them:
    per container, limits first then requests, each sorted by resource name (Go iterates a map;
    sorting keeps the twin deterministic). A malformed quantity is a decode error, reported alone
    as ``Pod in version "v1" cannot be handled as a Pod: quantities must match ...``.
    """
    errors: list[str] = []
    try:
        containers = [(path, c, *_resource_lists(c, path)) for path, c in _containers(pod)]
    except QuantityError as exc:
        return [f'Pod in version "v1" cannot be handled as a Pod: {exc}']
    for path, _c, limits, requests in containers:
        lim_path = f"{path}.resources.limits"
        req_path = f"{path}.resources.requests"
        for name in sorted(limits):
            q, raw = limits[name]
            errors.extend(_name_errors(name, f"{lim_path}[{name}]"))
            errors.extend(_quantity_errors(name, q, raw, f"{lim_path}[{name}]"))
        for name in sorted(requests):
            q, raw = requests[name]
            errors.extend(_name_errors(name, f"{req_path}[{name}]"))
            errors.extend(_quantity_errors(name, q, raw, f"{req_path}[{name}]"))
            if name in limits:
                lq, lraw = limits[name]
                # validation.go: the error names the requests map (reqPath), not the key.
                if q != lq and not _overcommit_allowed(name):
                    errors.append(f'{req_path}: Invalid value: "{canonical(q, raw)}": '
                                  f"must be equal to {name} limit of {canonical(lq, lraw)}")
                elif q > lq:
                    errors.append(f'{req_path}: Invalid value: "{canonical(q, raw)}": '
                                  f"must be less than or equal to {name} limit of {canonical(lq, lraw)}")
            elif not _overcommit_allowed(name):
                errors.append(f"{lim_path}: Required value: Limit must be set for non overcommitable resources")
    return errors


def _name_errors(name: str, field: str) -> list[str]:
    """validateContainerResourceName: bare names must be standard container resources."""
    if "/" not in name:
        if name not in (CPU, MEMORY, EPHEMERAL) and not is_hugepages(name):
            return [f'{field}: Invalid value: "{name}": must be a standard resource for containers']
    elif not is_native_resource(name) and not is_extended_resource(name):
        return [f'{field}: Invalid value: "{name}": doesn\'t follow extended resource name standard']
    return []


def _quantity_errors(name: str, q: Fraction, raw: object, field: str) -> list[str]:
    out: list[str] = []
    if q < 0:
        out.append(f'{field}: Invalid value: "{canonical(q, raw)}": must be greater than or equal to 0')
    if _integer_resource(name) and (q * 1000) % 1000 != 0:
        out.append(f'{field}: Invalid value: "{canonical(q, raw)}": must be an integer')
    return out


def invalid_pod_message(pod: Mapping[str, Any], errors: list[str]) -> str:
    """kubectl's line for a rejected pod: ``The Pod "p" is invalid: <err>`` or ``[<e1>, <e2>]``.

    A decode error (malformed quantity) is printed as the API server words it.
    """
    name = (pod.get("metadata") or {}).get("name", "")
    if len(errors) == 1 and errors[0].startswith("Pod in version"):
        return errors[0]
    body = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    return f'The Pod "{name}" is invalid: {body}'


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


def _max(into: dict[str, int], other: Mapping[str, int]) -> None:
    for k, v in other.items():
        if v > into.get(k, 0):
            into[k] = v


def _container_units(container: Mapping[str, Any], path: str, non_zero: bool) -> dict[str, int]:
    _limits, requests = _resource_lists(container, path)
    out = {name: to_units(name, q) for name, (q, _raw) in requests.items()}
    if non_zero:
        # NonMissingContainerRequests: only a *missing* request is replaced; an explicit 0 stays 0.
        out.setdefault(CPU, DEFAULT_MILLI_CPU_REQUEST)
        out.setdefault(MEMORY, DEFAULT_MEMORY_REQUEST)
    return out


def pod_requests(pod: Mapping[str, Any], *, non_zero: bool = False, pod_level_resources: bool = True) -> Requests:
    """The pod's effective request per resource, in scheduler units (cpu in millicores).

    Args:
        pod: a Pod object as a dict.
        non_zero: scoring mode — a container without a cpu/memory request counts 100m / 200Mi.
        pod_level_resources: honour ``spec.resources`` (feature PodLevelResources, on by default
            from 1.34) for cpu and memory.

    Raises:
        QuantityError: a malformed quantity (callers validate first).
    """
    spec = pod.get("spec") or {}
    reqs: dict[str, int] = {}
    for i, c in enumerate(spec.get("containers") or []):
        _add(reqs, _container_units(c, f"spec.containers[{i}]", non_zero))
    # component-helpers resource.PodRequests: sidecars add to the sum and to every later init need.
    sidecars: dict[str, int] = {}
    init_need: dict[str, int] = {}
    for i, c in enumerate(spec.get("initContainers") or []):
        creq = _container_units(c, f"spec.initContainers[{i}]", non_zero)
        if c.get("restartPolicy") == "Always":
            _add(reqs, creq)
            _add(sidecars, creq)
            need = dict(sidecars)
        else:
            need = dict(creq)
            _add(need, sidecars)
        _max(init_need, need)
    _max(reqs, init_need)
    if pod_level_resources:
        pod_res = (spec.get("resources") or {})
        level = dict(pod_res.get("requests") or {})
        for name, val in (pod_res.get("limits") or {}).items():
            level.setdefault(name, val)
        for name in _POD_LEVEL:
            if name in level:
                reqs[name] = to_units(name, _parse(level[name], f"spec.resources.requests[{name}]"))
    for name, val in (spec.get("overhead") or {}).items():
        reqs[str(name)] = reqs.get(str(name), 0) + to_units(str(name), _parse(val, f"spec.overhead[{name}]"))
    return {k: v for k, v in reqs.items() if v != 0 or k in (CPU, MEMORY)} if non_zero else \
        {k: v for k, v in reqs.items() if v != 0}


def host_ports(pod: Mapping[str, Any]) -> tuple[tuple[str, str, int], ...]:
    """(hostIP, protocol, hostPort) the pod claims (NodePorts plugin; 0.0.0.0 when no hostIP)."""
    out: list[tuple[str, str, int]] = []
    spec = pod.get("spec") or {}
    for kind in ("initContainers", "containers"):
        for c in spec.get(kind) or []:
            if kind == "initContainers" and c.get("restartPolicy") != "Always":
                continue
            for p in c.get("ports") or []:
                hp = p.get("hostPort")
                if hp:
                    out.append((str(p.get("hostIP") or "0.0.0.0"), str(p.get("protocol") or "TCP"), int(hp)))
    return tuple(sorted(set(out)))


def node_resources(node: Mapping[str, Any]) -> Requests:
    """A node's allocatable in scheduler units (capacity when allocatable is absent, as API defaulting does)."""
    status = node.get("status") or {}
    alloc = status.get("allocatable")
    if alloc is None:
        alloc = status.get("capacity") or {}
    out: dict[str, int] = {}
    for name, raw in alloc.items():
        try:
            out[str(name)] = to_units(str(name), parse_quantity(raw))
        except ValueError:
            raise QuantityError(f"status.allocatable[{name}]", raw,
                                f"quantities must match the regular expression '{QUANTITY_REGEX_TEXT}'") from None
    return out
