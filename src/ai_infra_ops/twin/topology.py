"""fake-gpu-operator 0.0.72 topology documents: the cluster topology it reads (ConfigMap
``topology``, key ``topology.yml``) and the per-node topology it writes (``topology-<node>``).

Field names and order are those of ``internal/common/topology/types.go`` @v0.0.72
(``NodeTopology{gpuMemory, gpuProduct, gpus, migStrategy, otherDevices,omitempty}``,
``GpuStatus{allocatedBy, podGpuUsageStatus}``), written the way ``gopkg.in/yaml.v3`` Marshal
writes them (4-space indent, sequences indented under their key, map keys sorted, ``""`` and
``{}``/``[]`` for empty values, double quotes for strings that would read as another type).
Checked against the real yaml.v3 v3.0.1 output.

Called by ``twin.devices``.
"""
from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["ClusterTopology", "GpuEntry", "NodeTopology", "PoolTopology", "gpu_id", "parse_cluster_topology",
           "parse_node_topology", "dump_node_topology"]

DEFAULT_POOL_LABEL_KEY = "run.ai/simulated-gpu-node-pool"
try:  # the C loader when PyYAML has it: node topologies are parsed often at scale
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def gpu_id(node: str, index: int) -> str:
    """``"GPU-" + uuid.NewSHA1(uuid.Nil, "<node>-<i>")`` (internal/common/topology: generateGpuDetails)."""
    return "GPU-" + str(uuid.uuid5(uuid.UUID(int=0), f"{node}-{index}"))


@dataclass(frozen=True)
class PoolTopology:
    gpu_count: int
    gpu_memory: int
    gpu_product: str
    other_devices: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ClusterTopology:
    node_pools: dict[str, PoolTopology]
    node_pool_label_key: str
    mig_strategy: str


class TopologyParseError(ValueError):
    """The topology document does not unmarshal into the operator's Go types."""


def _int(v: Any, what: str) -> int:
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, int):
        # yaml.v3: cannot unmarshal !!str `…` into int -> status-updater exits at start
        raise TopologyParseError(f"cannot unmarshal {v!r} into int ({what})")
    return v


def _str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        raise TopologyParseError(f"cannot unmarshal {type(v).__name__} into string")
    return str(v).lower() if isinstance(v, bool) else str(v)


def _devices(v: Any) -> tuple[tuple[str, int], ...]:
    out = []
    for d in v or []:
        if not isinstance(d, dict):
            raise TopologyParseError("otherDevices entries must be mappings")
        out.append((_str(d.get("name")), _int(d.get("count"), "otherDevices.count")))
    return tuple(out)


def parse_cluster_topology(text: str) -> ClusterTopology:
    """``topology.yml`` of ConfigMap ``topology``. Unknown keys (e.g. the seed's ``nodePoolLabel``)
    are ignored, as yaml.v3 Unmarshal into ``ClusterTopology`` ignores them."""
    try:
        raw = yaml.load(text, Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        raise TopologyParseError(str(exc)) from None
    if not isinstance(raw, dict):
        raise TopologyParseError("topology.yml is not a mapping")
    pools = {}
    for name, p in (raw.get("nodePools") or {}).items():
        p = p or {}
        if not isinstance(p, dict):
            raise TopologyParseError(f"nodePools.{name} is not a mapping")
        pools[str(name)] = PoolTopology(_int(p.get("gpuCount"), "gpuCount"), _int(p.get("gpuMemory"), "gpuMemory"),
                                        _str(p.get("gpuProduct")), _devices(p.get("otherDevices")))
    # The chart always renders nodePoolLabelKey (values.yaml default); a hand-written document
    # without it gets the same default here.
    key = _str(raw.get("nodePoolLabelKey")) or DEFAULT_POOL_LABEL_KEY
    return ClusterTopology(pools, key, _str(raw.get("migStrategy")))


@dataclass
class GpuEntry:
    id: str
    namespace: str = ""
    pod: str = ""
    container: str = ""
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)  # pod UID -> GpuUsageStatus

    @property
    def free(self) -> bool:
        return not self.pod


@dataclass
class NodeTopology:
    gpu_memory: int
    gpu_product: str
    gpus: list[GpuEntry]
    mig_strategy: str
    other_devices: tuple[tuple[str, int], ...] = ()


def new_node_topology(node: str, pool: PoolTopology, mig_strategy: str) -> NodeTopology:
    """What status-updater writes for a node joining ``pool`` (all GPUs free)."""
    return NodeTopology(pool.gpu_memory, pool.gpu_product, [GpuEntry(gpu_id(node, i)) for i in range(pool.gpu_count)],
                        mig_strategy, pool.other_devices)


def parse_node_topology(text: str) -> NodeTopology:
    raw = yaml.load(text, Loader=_Loader) or {}
    gpus = []
    for g in raw.get("gpus") or []:
        st = g.get("status") or {}
        ab = st.get("allocatedBy") or {}
        usage = {str(k): dict(v or {}) for k, v in (st.get("podGpuUsageStatus") or {}).items()}
        gpus.append(GpuEntry(_str(g.get("id")), _str(ab.get("namespace")), _str(ab.get("pod")),
                             _str(ab.get("container")), usage))
    return NodeTopology(_int(raw.get("gpuMemory"), "gpuMemory"), _str(raw.get("gpuProduct")), gpus,
                        _str(raw.get("migStrategy")), _devices(raw.get("otherDevices")))


_RESERVED = {"", "~", "null", "Null", "NULL"}


_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


@functools.lru_cache(maxsize=65536)
def go_yaml_string(s: str) -> str:
    """A string scalar as yaml.v3 writes it (encode.go ``stringv``): double-quoted when the plain
    scalar would resolve to another type (bool, int, float, null, YAML 1.1 booleans), otherwise
    plain if the emitter allows it, else single-quoted."""
    if s in _RESERVED:
        return '""'
    tag = _RESOLVER.resolve(yaml.ScalarNode, s, (True, False))  # type: ignore[no-untyped-call]
    if tag != "tag:yaml.org,2002:str" or s.lower() in ("y", "n", "yes", "no", "on", "off"):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if _PLAIN_SAFE.match(s):  # names, UIDs, GPU ids: nothing the emitter would quote
        return s
    dumped = yaml.safe_dump(s, default_flow_style=True, width=10**6).rstrip("\n")
    if dumped.endswith("\n..."):
        dumped = dumped[: -len("\n...")]
    return dumped


_RESOLVER = yaml.resolver.Resolver()


def dump_node_topology(t: NodeTopology) -> str:
    """The ``topology.yml`` text of a node topology ConfigMap, byte-for-byte yaml.v3 style."""
    q = go_yaml_string
    out = [f"gpuMemory: {t.gpu_memory}", f"gpuProduct: {q(t.gpu_product)}"]
    if not t.gpus:
        out.append("gpus: []")
    else:
        out.append("gpus:")
        for g in t.gpus:
            out.append(f"    - id: {q(g.id)}")
            out.append("      status:")
            out.append("        allocatedBy:")
            out.append(f"            namespace: {q(g.namespace)}")
            out.append(f"            pod: {q(g.pod)}")
            out.append(f"            container: {q(g.container)}")
            if not g.usage:
                out.append("        podGpuUsageStatus: {}")
                continue
            out.append("        podGpuUsageStatus:")
            for uid in sorted(g.usage):
                u = g.usage[uid]
                rng = u.get("utilization") or {}
                out.append(f"            {q(uid)}:")
                out.append("                utilization:")
                out.append(f"                    min: {int(rng.get('min', 0))}")
                out.append(f"                    max: {int(rng.get('max', 0))}")
                out.append(f"                fbUsed: {int(u.get('fbUsed', 0))}")
                out.append(f"                useKnativeUtilization: {'true' if u.get('useKnativeUtilization') else 'false'}")
    out.append(f"migStrategy: {q(t.mig_strategy)}")
    if t.other_devices:
        out.append("otherDevices:")
        for name, count in t.other_devices:
            out.append(f"    - name: {q(name)}")
            out.append(f"      count: {count}")
    return "\n".join(out) + "\n"
