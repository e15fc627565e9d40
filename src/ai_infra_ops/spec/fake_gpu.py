"""fake-gpu-operator Helm values: chart defaults, ``--set`` parsing, merging, and lint.

Owns what the run-ai/fake-gpu-operator chart (0.0.72) would receive from a user's values and what
it silently does with mistakes: the seed's ``--set topology.nodePoolLabel=...`` (the real key is
``nodePoolLabelKey``) is ignored; a pool that does not set ``gpuMemory`` keeps the Tesla-K80
default 11441 MiB. Called by ``PlatformSpec.fake_gpu_operator_values``, the render builder (chart
manifests), the twin's device controller and ``audit`` (lint warnings).
Facts: ../shared/reference/gpu-and-scheduling.md §0 and §1.2 (run-ai/fake-gpu-operator@v0.0.72:
deploy/fake-gpu-operator/values.yaml); ``--set`` syntax: helm/helm: pkg/strvals/parser.go.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..catalog import GpuModel, get_model

__all__ = [
    "CHART_DEFAULTS_0_0_72", "SEED_SET_ARGS", "ValueWarning", "effective_values", "generated_values",
    "lint_values", "parse_set_args", "seed_values",
]

K80_MEMORY_MIB = 11441

#: Chart 0.0.72 defaults that matter (reference §1.2). ``topology`` is rendered verbatim into
#: ConfigMap ``topology`` key ``topology.yml``.
CHART_DEFAULTS_0_0_72: dict[str, Any] = {
    "topology": {
        "nodePools": {"default": {"gpuProduct": "Tesla-K80", "gpuCount": 2, "gpuMemory": K80_MEMORY_MIB}},
        "nodePoolLabelKey": "run.ai/simulated-gpu-node-pool",
        "migStrategy": "mixed",
    },
    "devicePlugin": {"enabled": True},
    "statusUpdater": {"enabled": True, "disableNodeLabeling": False},
    "topologyServer": {"enabled": True},
    "statusExporter": {"enabled": True, "topologyMaxExportInterval": "10s"},
    "kwokGpuDevicePlugin": {"enabled": True},
    "migFaker": {"enabled": True},
    "gpuOperator": {"enabled": True},
    "runtimeClass": {"enabled": True},
    "topologyConfigMap": {"enabled": True},
    "computeDomainController": {"enabled": True},
    "draPlugin": {"enabled": False},
    "kwokDraPlugin": {"enabled": False},
    "computeDomainDraPlugin": {"enabled": False},
    "kwokComputeDomainDraPlugin": {"enabled": False},
    "environment": {"resourceReservationNamespace": "runai-reservation"},
    "prometheus": {"url": "http://prometheus-operated.runai:9090"},
}

#: The seed's exact ``helm upgrade -i gpu-operator ... --set`` arguments (PHASES.md, Phase 2 step 3).
SEED_SET_ARGS = (
    "topology.nodePools.default.gpuCount=8",
    "topology.nodePools.default.gpuProduct=H100",
    "topology.nodePoolLabel=run.ai/simulated-gpu-node-pool",
)

_TOPOLOGY_KEYS = {"nodePools", "nodePoolLabelKey", "migStrategy"}
_POOL_KEYS = {"gpuProduct", "gpuCount", "gpuMemory", "otherDevices"}
_MIG_STRATEGIES = ("none", "single", "mixed")
# 0.0.72 copies gpuProduct into a label value unchanged; anything outside this fails the update.
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


@dataclass(frozen=True)
class ValueWarning:
    """A Helm value the chart ignores, defaults surprisingly, or that contradicts the spec."""

    path: str
    message: str
    severity: str = "warning"   # "error" (breaks the chart), "warning" (wrong result), "info"

    def render(self) -> str:
        """One line: ``warning: topology.nodePoolLabel: ...``."""
        return f"{self.severity}: {self.path}: {self.message}"


class PoolLike(Protocol):
    """What lint needs of a spec GPU pool (``spec.model.GpuPool``)."""

    name: str
    model: str
    label_key: str

    @property
    def count(self) -> int: ...


def effective_values(user_values: dict[str, Any] | None) -> dict[str, Any]:
    """Chart defaults deep-merged with the user's values, as Helm does it.

    Maps merge key by key; lists and scalars replace; a user value of ``None`` (YAML ``null``)
    deletes the default key (helm/helm: pkg/chartutil/coalesce.go).
    """
    return _merge(copy.deepcopy(CHART_DEFAULTS_0_0_72), user_values or {})


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for key, val in over.items():
        if val is None:
            base.pop(key, None)
        elif isinstance(val, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], val)
        elif isinstance(val, dict):
            base[key] = _merge({}, val)
        else:
            base[key] = copy.deepcopy(val)
    return base


def _typed(val: str) -> Any:
    # helm/helm: pkg/strvals/parser.go typedVal: true/false/null, int64 unless leading zero, else string
    low = val.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low == "null":
        return None
    if val == "0":
        return 0
    if val and val[0] != "0" and re.fullmatch(r"[+-]?\d+", val):
        n = int(val)
        if -(2**63) <= n < 2**63:
            return n
    return val


def _split_unescaped(text: str, sep: str) -> list[str]:
    out, cur, i, depth = [], "", 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    out.append(cur)
    return out


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_set_args(args: Iterable[str]) -> dict[str, Any]:
    """Helm ``--set`` arguments -> a values dict (``a.b=1,c={x,y}``, ``list[0]=v``, ``\\.`` escapes).

    Raises:
        ValueError: an argument has no ``=`` or a malformed index (helm's wording: "key ... has no value").
    """
    values: dict[str, Any] = {}
    for arg in args:
        for pair in _split_unescaped(arg, ","):
            if not pair:
                continue
            key, eq, raw = pair.partition("=")
            if not eq:
                raise ValueError(f"key {key!r} has no value")
            parts = [_unescape(p) for p in _split_unescaped(key, ".")]
            if raw.startswith("{") and raw.endswith("}"):
                value: Any = [_typed(_unescape(x)) for x in _split_unescaped(raw[1:-1], ",") if x != ""]
            else:
                value = _typed(_unescape(raw))
            _set_path(values, parts, value, key)
    return values


def _set_path(root: dict[str, Any], parts: list[str], value: Any, key: str) -> None:
    node: Any = root
    for i, part in enumerate(parts):
        m = re.fullmatch(r"(.+?)((?:\[\d+\])+)", part)
        name = m.group(1) if m else part
        indexes = [int(x) for x in re.findall(r"\[(\d+)\]", m.group(2))] if m else []
        if not name or "[" in name or "]" in name:
            raise ValueError(f"key {key!r}: malformed key or index")
        last = i == len(parts) - 1
        if not indexes:
            if last:
                node[name] = value
            else:
                nxt = node.get(name)
                if not isinstance(nxt, dict):
                    nxt = node[name] = {}
                node = nxt
            continue
        seq = node.get(name)
        if not isinstance(seq, list):
            seq = node[name] = []
        for j, idx in enumerate(indexes):
            while len(seq) <= idx:
                seq.append(None)
            if j == len(indexes) - 1:
                if last:
                    seq[idx] = value
                else:
                    if not isinstance(seq[idx], dict):
                        seq[idx] = {}
                    node = seq[idx]
            else:
                if not isinstance(seq[idx], list):
                    seq[idx] = []
                seq = seq[idx]


def seed_values() -> dict[str, Any]:
    """The seed's exact ``--set`` values (reproduces its flaws: label key ignored, K80 memory)."""
    return parse_set_args(SEED_SET_ARGS)


def pool_values(model: GpuModel, count: int) -> dict[str, Any]:
    """Correct per-pool values for a catalog model: NVIDIA -> ``nvidia.com/gpu``; other vendors ->
    ``gpuCount: 0`` plus ``otherDevices`` with their resource (reference §3 simulator guidance)."""
    product = model.label_product
    if model.resource == "nvidia.com/gpu":
        return {"gpuProduct": product, "gpuCount": count, "gpuMemory": model.memory_mib}
    return {"gpuProduct": product, "gpuCount": 0, "gpuMemory": model.memory_mib,
            "otherDevices": [{"name": model.resource, "count": count}]}


def generated_values(pools: Iterable[PoolLike]) -> dict[str, Any]:
    """Values that make the chart advertise exactly the spec's pools (the chart's K80 ``default``
    pool is removed with ``null`` unless a spec pool is called ``default``)."""
    pools = list(pools)
    node_pools: dict[str, Any] = {} if any(p.name == "default" for p in pools) else {"default": None}
    for p in pools:
        node_pools[p.name] = pool_values(get_model(p.model), p.count)
    label_key = pools[0].label_key if pools else CHART_DEFAULTS_0_0_72["topology"]["nodePoolLabelKey"]
    return {"topology": {"nodePools": node_pools, "nodePoolLabelKey": label_key, "migStrategy": "mixed"}}


def lint_values(values: dict[str, Any] | None, pools: Iterable[PoolLike],
                catalog: Callable[[str], GpuModel] = get_model) -> list[ValueWarning]:
    """Warnings for user Helm ``values`` against the chart (0.0.72) and the spec's ``pools``.

    Reports: keys the chart ignores (the seed's ``topology.nodePoolLabel``), a pool keeping the
    K80 ``gpuMemory`` 11441, a ``gpuProduct`` that is not the label a real node shows, a
    ``gpuCount`` different from the pool's GPUs per node, pools only on one side, a label key
    that differs from the pools'. Sorted by path.
    """
    user = values or {}
    eff = effective_values(user)
    pools = list(pools)
    out: list[ValueWarning] = []
    for key in user:
        if key not in CHART_DEFAULTS_0_0_72:
            out.append(ValueWarning(key, "not a value of chart 0.0.72 as far as this toolkit knows; it has no effect", "info"))
    raw_topo = user.get("topology")
    topo_user: dict[str, Any] = raw_topo if isinstance(raw_topo, dict) else {}
    for key in topo_user:
        if key not in _TOPOLOGY_KEYS:
            hint = " (the chart reads topology.nodePoolLabelKey)" if key == "nodePoolLabel" else ""
            out.append(ValueWarning(f"topology.{key}", f"ignored by the chart: rendered into topology.yml and never read{hint}"))
    topo = eff.get("topology") or {}
    label_key = topo.get("nodePoolLabelKey")
    for p in pools:
        if p.label_key != label_key:
            out.append(ValueWarning("topology.nodePoolLabelKey",
                                    f"the chart looks for nodes labelled {label_key!r} but pool {p.name!r} labels its nodes with {p.label_key!r}"))
    mig = topo.get("migStrategy")
    if mig not in _MIG_STRATEGIES:
        out.append(ValueWarning("topology.migStrategy", f"{mig!r} is not one of {', '.join(_MIG_STRATEGIES)}"))
    chart_pools: dict[str, Any] = topo.get("nodePools") or {}
    user_pools: dict[str, Any] = topo_user.get("nodePools") or {}
    by_name = {p.name: p for p in pools}
    for name, pv in sorted(chart_pools.items()):
        path = f"topology.nodePools.{name}"
        pv = pv or {}
        upv = user_pools.get(name) or {}
        for key in pv:
            if key not in _POOL_KEYS:
                out.append(ValueWarning(f"{path}.{key}", "ignored by the chart (pool keys: gpuProduct, gpuCount, gpuMemory, otherDevices)"))
        pool = by_name.get(name)
        if pool is None:
            out.append(ValueWarning(path, f"no spec GPU pool is called {name!r}; nodes labelled {label_key}={name} would get {pv.get('gpuCount', 0)} x {pv.get('gpuProduct', '?')}", "info"))
            continue
        model = catalog(pool.model)
        out.extend(_lint_pool(path, pv, upv, pool, model))
    for p in pools:
        if p.name not in chart_pools:
            out.append(ValueWarning(f"topology.nodePools.{p.name}",
                                    f"missing: nodes of spec pool {p.name!r} are labelled but the chart has no such pool, so they get no GPUs"))
    return sorted(out, key=lambda w: (w.path, w.message))


def _lint_pool(path: str, pv: dict[str, Any], upv: dict[str, Any], pool: PoolLike, model: GpuModel) -> list[ValueWarning]:
    out: list[ValueWarning] = []
    memory = pv.get("gpuMemory")
    if "gpuMemory" not in upv and memory == K80_MEMORY_MIB:
        out.append(ValueWarning(f"{path}.gpuMemory",
                                f"not set, so the chart's Tesla-K80 default {K80_MEMORY_MIB} MiB is used; {model.id} has {model.memory_mib} MiB"))
    elif memory is None:
        out.append(ValueWarning(f"{path}.gpuMemory", f"not set: the pool reports 0 MiB; {model.id} has {model.memory_mib} MiB"))
    elif memory != model.memory_mib:
        out.append(ValueWarning(f"{path}.gpuMemory", f"{memory} MiB differs from {model.id}'s {model.memory_mib} MiB"))
    product = pv.get("gpuProduct")
    expected = model.label_product
    if product is None:
        out.append(ValueWarning(f"{path}.gpuProduct", f"not set: nodes get no product label; expected {expected!r}"))
    elif not _LABEL_VALUE.match(str(product)) or len(str(product)) > 63:
        out.append(ValueWarning(f"{path}.gpuProduct",
                                f"{product!r} is not a valid label value; chart 0.0.72 copies it unchanged and the node label update fails", "error"))
    elif str(product) != expected:
        out.append(ValueWarning(f"{path}.gpuProduct",
                                f"{product!r} is not the product label a real {model.id} node shows ({expected!r})"))
    count = pv.get("gpuCount")
    want = pool.count if model.resource == "nvidia.com/gpu" else 0
    if count != want:
        out.append(ValueWarning(f"{path}.gpuCount", f"{count!r} differs from pool {pool.name!r}: {want} per node"))
    return out
