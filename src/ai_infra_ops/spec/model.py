"""The platform spec: pydantic v2 models of ``platform.yaml`` and their helper methods.

Owns the shape of the spec (YAML keys camelCase, Python attributes snake_case, unknown keys
rejected) and field-level validation (CIDRs, IPs, quantities, catalog model ids). Cross-field
checks (duplicates, pools selecting no node, quotas vs workloads, intents naming unknown
namespaces...) live in ``spec.checks``; loading from a file with positions in ``spec.load``.
Every field defaults to the seed platform (``spec.defaults``), so ``PlatformSpec()`` is the seed.
Called by every command through ``cli.context.Context.load_spec``, and by render/pipeline/twin.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..catalog import GpuModel, get_model
from ..errors import Location, UserInputError
from ..kube_model import LabelSelector, parse_quantity
from ..kube_model.yamlio import Document, format_field_path
from . import defaults as d
from .zero_trust import ZeroTrustSpec

__all__ = [
    "CniSpec", "FakeGpuOperatorSpec", "GpuPool", "HubbleSpec", "NamespaceSpec", "NetworkSpec",
    "NodeSpec", "PlatformSpec", "SpecModel", "WorldSpec",
]

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class SpecModel(BaseModel):
    """Base of every spec model: camelCase aliases, unknown keys rejected, snake_case accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel,
                              validate_default=False)


def _dns_subdomain(v: str, what: str) -> str:
    # Kubernetes object names: DNS-1123 subdomain, max 253 (k8s.io/apimachinery: validation.IsDNS1123Subdomain)
    if len(v) > 253 or not _DNS1123_SUBDOMAIN.match(v):
        raise ValueError(f"{what} {v!r} must be a lowercase RFC 1123 subdomain (e.g. 'node01')")
    return v


def _quantity(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        raise ValueError("expected a Kubernetes quantity such as '4', '500m' or '8Gi'")
    try:
        parse_quantity(v)
    except ValueError as exc:   # Kubernetes' own wording, in its field-error shape
        raise ValueError(f'Invalid value: "{v}": {exc}') from None
    return str(v)


class NodeSpec(SpecModel):
    """One machine of the cluster: ``role`` is ``control-plane`` or ``worker``.

    ``labels``/``taints`` are what the node carries before any GPU pool label is added (the pool
    label is applied from ``gpuPools``). ``cpu``/``memory``/``pods`` are its capacity.
    Taints are Kubernetes taint objects: ``{key, value?, effect}``.
    """

    name: str
    role: Literal["control-plane", "worker"] = "worker"
    ip: str
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[dict[str, str]] = Field(default_factory=list)
    cpu: str = "4"
    memory: str = "8Gi"
    pods: str = "110"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _dns_subdomain(v, "node name")

    @field_validator("ip")
    @classmethod
    def _ip(cls, v: str) -> str:
        try:
            return str(ipaddress.IPv4Address(v))
        except ValueError:
            raise ValueError(f"expected an IPv4 address such as 192.168.64.11, got {v!r}") from None

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, v: Any) -> Any:
        # YAML turns `key:` (empty) into None; Kubernetes label values are strings, "" allowed.
        if isinstance(v, dict):
            return {k: "" if val is None else str(val) if isinstance(val, (int, float)) and not isinstance(val, bool) else val
                    for k, val in v.items()}
        return v

    @field_validator("taints")
    @classmethod
    def _taints(cls, v: list[dict[str, str]]) -> list[dict[str, str]]:
        for t in v:
            extra = set(t) - {"key", "value", "effect"}
            if extra or "key" not in t or "effect" not in t:
                raise ValueError("a taint needs 'key' and 'effect' (and optionally 'value') only")
            if t["effect"] not in _TAINT_EFFECTS:
                raise ValueError(f"taint effect must be one of {', '.join(_TAINT_EFFECTS)}, got {t['effect']!r}")
        return v

    @field_validator("cpu", "memory", "pods", mode="before")
    @classmethod
    def _qty(cls, v: Any) -> str:
        return _quantity(v)


class NetworkSpec(SpecModel):
    """Cluster networking: pod CIDR (each node gets a /``nodeCidrMask`` slice, in node order),
    service CIDR, cluster DNS Service IP and cluster domain."""

    pod_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.96.0.0/12"
    node_cidr_mask: int = Field(default=24, ge=8, le=30)
    cluster_dns_ip: str = "10.96.0.10"
    cluster_domain: str = "cluster.local"

    @field_validator("pod_cidr", "service_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        try:
            return str(ipaddress.IPv4Network(v, strict=True))
        except ValueError as exc:
            raise ValueError(f"expected an IPv4 CIDR such as 10.244.0.0/16 ({exc})") from None

    @model_validator(mode="after")
    def _consistent(self) -> NetworkSpec:
        pod = ipaddress.IPv4Network(self.pod_cidr)
        svc = ipaddress.IPv4Network(self.service_cidr)
        if pod.overlaps(svc):
            raise ValueError(f"podCidr {pod} overlaps serviceCidr {svc}")
        if self.node_cidr_mask < pod.prefixlen:
            raise ValueError(f"nodeCidrMask /{self.node_cidr_mask} is larger than podCidr {pod}")
        try:
            dns = ipaddress.IPv4Address(self.cluster_dns_ip)
        except ValueError:
            raise ValueError(f"clusterDnsIp {self.cluster_dns_ip!r} is not an IPv4 address") from None
        if dns not in svc:
            raise ValueError(f"clusterDnsIp {dns} is outside serviceCidr {svc}")
        return self

    def node_slices(self) -> int:
        """How many node pod-CIDR slices the pod CIDR holds."""
        bits: int = self.node_cidr_mask - ipaddress.IPv4Network(self.pod_cidr).prefixlen
        return 1 << bits

    def node_pod_cidr(self, index: int) -> str:
        """The pod CIDR of the ``index``-th node (0-based, spec order): 10.244.<i>.0/24 by default."""
        pod = ipaddress.IPv4Network(self.pod_cidr)
        size = 2 ** (32 - self.node_cidr_mask)
        base = int(pod.network_address) + index * size
        return f"{ipaddress.IPv4Address(base)}/{self.node_cidr_mask}"


class HubbleSpec(SpecModel):
    """Hubble: ``cilium hubble enable`` (relay) and ``--ui``."""

    enabled: bool = True
    relay: bool = True
    ui: bool = True


class CniSpec(SpecModel):
    """Cilium settings (Helm values names in camelCase). ``clusterName`` is Cilium's cluster name
    (``default`` unless cluster mesh), which appears in identities as ``io.cilium.k8s.policy.cluster``."""

    name: Literal["cilium"] = "cilium"
    version: str = "1.18.6"
    kube_proxy_replacement: bool = True
    hubble: HubbleSpec = Field(default_factory=HubbleSpec)
    policy_enforcement_mode: Literal["default", "always", "never"] = "default"
    policy_audit_mode: bool = False
    cluster_name: str = "default"
    enable_l7_proxy: bool = True
    #: Cilium's host firewall (Helm ``hostFirewall.enabled``): host policies (nodeSelector CCNPs)
    #: are enforced, so kubelet protection can be a real ingress rule on the nodes. The seed did
    #: not enable it.
    host_firewall: bool = False

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not re.match(r"^1\.(1[4-9]|[2-9][0-9])\.\d+$", str(v)):
            raise ValueError(f"expected a Cilium release such as 1.18.6, got {v!r}")
        return str(v)


class GpuPool(SpecModel):
    """A set of nodes with the same GPUs. Nodes are chosen by ``nodes`` (names) or ``nodeSelector``
    (a label selector on the nodes' own labels: a plain map, or ``matchLabels``/``matchExpressions``);
    they are labelled ``<labelKey>=<name>``, which is how fake-gpu-operator finds its pool.
    ``model`` is a catalog id or alias (stored as the catalog id); ``gpusPerNode`` defaults to the
    model's usual count."""

    name: str
    model: str = "h100"
    gpus_per_node: int | None = Field(default=None, gt=0, le=64)
    nodes: list[str] | None = None
    node_selector: dict[str, Any] | None = None
    label_key: str = d.POOL_LABEL_KEY

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        # the name is a label value: at most 63 chars, alphanumeric ends (apimachinery IsValidLabelValue)
        if len(v) > 63 or not re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", v):
            raise ValueError(f"pool name {v!r} must be a valid label value (e.g. 'default', 'h100-a')")
        return v

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        try:
            m = get_model(v)
        except UserInputError as exc:
            raise ValueError(exc.message) from None
        if not m.usable:
            raise ValueError(f"{m.unusable_reason}, so it cannot back a GPU pool")
        return m.id

    @field_validator("node_selector")
    @classmethod
    def _selector(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            LabelSelector.from_dict(_as_label_selector(v))
        return v

    @model_validator(mode="after")
    def _fill(self) -> GpuPool:
        if self.nodes is not None and self.node_selector is not None:
            raise ValueError("give either 'nodes' or 'nodeSelector', not both")
        if self.gpus_per_node is None:
            self.gpus_per_node = get_model(self.model).gpus_per_node
        return self

    @property
    def gpu_model(self) -> GpuModel:
        """The catalog entry of this pool's model."""
        return get_model(self.model)

    @property
    def count(self) -> int:
        """GPUs per node (always set after validation)."""
        n: int = self.gpus_per_node if self.gpus_per_node is not None else 0
        return n

    def selects(self, node: NodeSpec) -> bool:
        """Whether this pool takes ``node`` (by name list, or by selector on its own labels)."""
        if self.nodes is not None:
            return node.name in self.nodes
        if self.node_selector is not None:
            return LabelSelector.from_dict(_as_label_selector(self.node_selector)).matches(node.labels)
        return node.role == "worker"


def _as_label_selector(sel: dict[str, Any]) -> dict[str, Any]:
    if "matchLabels" in sel or "matchExpressions" in sel:
        return sel
    return {"matchLabels": sel}


class FakeGpuOperatorSpec(SpecModel):
    """run-ai/fake-gpu-operator Helm release. ``values`` are the user's Helm values (as ``-f`` or
    ``--set`` would give them); None -> correct values generated from ``gpuPools``."""

    enabled: bool = True
    chart_version: str = "0.0.72"
    namespace: str = "gpu"
    release_name: str = "gpu-operator"
    chart: str = "oci://ghcr.io/run-ai/fake-gpu-operator/fake-gpu-operator"
    values: dict[str, Any] | None = None


class NamespaceSpec(SpecModel):
    """A workload namespace, optionally with a ResourceQuota (``quota``: ``spec.hard`` entries)."""

    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    quota: dict[str, str] | None = None
    quota_name: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if len(v) > 63 or not _DNS1123_LABEL.match(v):
            raise ValueError(f"namespace name {v!r} must be a lowercase RFC 1123 label")
        return v

    @field_validator("quota", mode="before")
    @classmethod
    def _quota(cls, v: Any) -> Any:
        # YAML gives `24` as int; ResourceQuota hard values are quantities (checked in spec.checks
        # so the error names the exact key)
        if isinstance(v, dict):
            return {k: str(val) if isinstance(val, (int, float)) and not isinstance(val, bool) else val
                    for k, val in v.items()}
        return v

    @model_validator(mode="after")
    def _fill(self) -> NamespaceSpec:
        if self.quota is not None and self.quota_name is None:
            self.quota_name = f"{self.name}-quota"
        return self


class WorldSpec(SpecModel):
    """The outside world the twin simulates: DNS names -> IPv4 addresses."""

    dns: dict[str, list[str]] = Field(default_factory=d.default_world_dns)

    @field_validator("dns")
    @classmethod
    def _dns(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, ips in v.items():
            if not ips:
                raise ValueError(f"{name}: needs at least one address")
            for ip in ips:
                try:
                    ipaddress.IPv4Address(ip)
                except ValueError:
                    raise ValueError(f"{name}: {ip!r} is not an IPv4 address") from None
        return v


def _models(factory: Any, cls: type[SpecModel]) -> Any:
    return lambda: [cls.model_validate(x) for x in factory()]


class PlatformSpec(SpecModel):
    """The whole platform. Every field defaults to the seed platform (``spec.defaults``)."""

    api_version: Literal["ai-infra-ops/v1alpha1"] = "ai-infra-ops/v1alpha1"
    kind: Literal["Platform"] = "Platform"
    cluster_name: str = "ai-infra-ops"
    kubernetes_version: str = "1.35"
    kubernetes_patch: str | None = None
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    nodes: list[NodeSpec] = Field(default_factory=_models(d.default_nodes, NodeSpec))
    cni: CniSpec = Field(default_factory=CniSpec)
    gpu_pools: list[GpuPool] = Field(default_factory=_models(d.default_gpu_pools, GpuPool))
    fake_gpu_operator: FakeGpuOperatorSpec = Field(default_factory=FakeGpuOperatorSpec)
    namespaces: list[NamespaceSpec] = Field(default_factory=_models(d.default_namespaces, NamespaceSpec))
    workloads: list[dict[str, Any]] = Field(default_factory=d.default_workloads)
    chaos_pod: dict[str, Any] | None = Field(default_factory=d.chaos_pod)
    zero_trust: ZeroTrustSpec = Field(default_factory=ZeroTrustSpec)
    world: WorldSpec = Field(default_factory=WorldSpec)
    #: the YAML document the spec was read from (``spec.load``), for :meth:`location`
    _source: Any = PrivateAttr(default=None)

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _kver(cls, v: Any) -> str:
        s = repr(v) if isinstance(v, float) else str(v)
        s = s[1:] if s.startswith("v") else s
        if s not in d.SUPPORTED_KUBERNETES_MINORS:
            raise ValueError(f"must be one of {', '.join(d.SUPPORTED_KUBERNETES_MINORS)} (quote it: \"1.35\"), got {v!r}")
        return s

    @model_validator(mode="after")
    def _patch(self) -> PlatformSpec:
        if self.kubernetes_patch is None:
            self.kubernetes_patch = f"{self.kubernetes_version}.0"
        else:
            p = str(self.kubernetes_patch).lstrip("v")
            if not re.match(rf"^{re.escape(self.kubernetes_version)}\.\d+$", p):
                raise ValueError(f"kubernetesPatch {self.kubernetes_patch!r} is not a {self.kubernetes_version}.x release")
            self.kubernetes_patch = p
        return self

    def __eq__(self, other: object) -> bool:
        # the field values are the spec; where it was read from (``_source``) is not
        if not isinstance(other, PlatformSpec):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    # ---- helpers used by render, pipeline and the twin -------------------------------------
    def location(self, path: tuple[str | int, ...]) -> Location:
        """Where the field at YAML path ``path`` (camelCase keys) was written: file, line, column
        and field, so a later check (e.g. the pipeline's schema check of the workloads) can name
        them like ``spec.load`` does. A spec built in code or the built-in default has no lines."""
        src: Document | None = self._source
        if src is not None:
            return src.location(path)
        return Location(file="<built-in default>", field=format_field_path(path) or None)

    def workers(self) -> list[NodeSpec]:
        """Worker nodes in spec order."""
        return [n for n in self.nodes if n.role == "worker"]

    def control_plane(self) -> NodeSpec:
        """The (first) control-plane node; the checks guarantee there is one."""
        return next(n for n in self.nodes if n.role == "control-plane")

    def node(self, name: str) -> NodeSpec | None:
        """The node called ``name``."""
        return next((n for n in self.nodes if n.name == name), None)

    def pool_nodes(self, pool: GpuPool) -> list[NodeSpec]:
        """Nodes the pool selects, in spec order."""
        return [n for n in self.nodes if pool.selects(n)]

    def pool_for_node(self, name: str) -> GpuPool | None:
        """The GPU pool a node belongs to (None: no GPUs)."""
        node = self.node(name)
        if node is None:
            return None
        return next((p for p in self.gpu_pools if p.selects(node)), None)

    def node_labels(self, name: str) -> dict[str, str]:
        """The node's labels once the pool step ran (own labels + ``<labelKey>=<pool name>``)."""
        node = self.node(name)
        if node is None:
            return {}
        labels = dict(node.labels)
        pool = self.pool_for_node(name)
        if pool is not None:
            labels[pool.label_key] = pool.name
        return labels

    def node_pod_cidrs(self) -> dict[str, str]:
        """Node name -> pod CIDR slice (node i in spec order gets slice i)."""
        return {n.name: self.network.node_pod_cidr(i) for i, n in enumerate(self.nodes)}

    def namespace(self, name: str) -> NamespaceSpec | None:
        """The declared namespace called ``name``."""
        return next((n for n in self.namespaces if n.name == name), None)

    def total_gpus(self) -> int:
        """GPUs the pools give the cluster in all (24 for the seed)."""
        return sum(p.count * len(self.pool_nodes(p)) for p in self.gpu_pools)

    def fake_gpu_operator_values(self) -> dict[str, Any]:
        """The effective Helm values the fake-gpu-operator chart gets (chart defaults merged with
        the user's ``fakeGpuOperator.values``, or with values generated from the pools)."""
        from .fake_gpu import effective_values, generated_values

        user = self.fake_gpu_operator.values
        return effective_values(user if user is not None else generated_values(self.gpu_pools))
