"""The GPU model catalog: 20 models as frozen values, looked up by id, alias or product string.

Owns ``GpuModel``/``MigProfile`` and the data file ``catalog/data/gpu-models.yaml`` (a copy of
``../shared/reference/gpu-models.yaml`` plus aliases and the H100's measured MIG details).
Called by ``spec`` (pool validation, fake-gpu-operator values), ``render`` and the twin (labels),
and by ``ai-infra-ops catalog``.

Decision on models that were announced or cancelled without public facts (Falcon Shores, Jaguar
Shores): they stay in the catalog with their ``status``, but ``GpuModel.usable`` is False unless
the model has both a Kubernetes resource name and a memory size; the spec refuses such a model in
a GPU pool (``SpecError``), because a device plugin cannot advertise a resource nobody named, and
the twin cannot report memory nobody published.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from ..errors import UserInputError

__all__ = ["GpuModel", "MigProfile", "all_models", "get_model", "gfd_sanitize", "gfd_family"]

#: GFD's ``nvidia.com/gpu.family`` from the CUDA compute major (and minor for 7.x / 8.x).
#: Source: NVIDIA/k8s-device-plugin: internal/lm/nvml.go (getArchFamily), as summarised in
#: ../shared/reference/gpu-and-scheduling.md §2.1.
_FAMILY_BY_MAJOR = {1: "tesla", 2: "fermi", 3: "kepler", 5: "maxwell", 6: "pascal", 9: "hopper",
                    10: "blackwell", 12: "blackwell", 13: "rubin"}


def gfd_family(compute_capability: str) -> str:
    """The family label GFD derives from a compute capability such as ``"9.0"``."""
    major_s, _, minor_s = compute_capability.partition(".")
    major, minor = int(major_s), int(minor_s or 0)
    if major == 7:
        return "volta" if minor < 5 else "turing"
    if major == 8:
        return "ampere" if minor < 9 else "ada-lovelace"
    return _FAMILY_BY_MAJOR.get(major, "undefined")


def gfd_sanitize(name: str) -> str:
    """NVML device name -> ``nvidia.com/gpu.product`` value as GFD writes it.

    GFD drops every character outside ``[A-Za-z0-9-_. ]`` and joins whitespace runs with ``-``
    (NVIDIA/k8s-device-plugin: internal/lm/resource.go, ``strings.Join(strings.Fields(...), "-")``).
    """
    kept = re.sub(r"[^A-Za-z0-9\-_. ]", "", name)
    return "-".join(kept.split())


#: Operands the NVIDIA GPU Operator schedules with ``nvidia.com/gpu.deploy.<operand>=true``
#: (reference §2.1; NVIDIA/gpu-operator: controllers/state_manager.go gpuStateLabels).
GPU_OPERATOR_OPERANDS = ("driver", "container-toolkit", "device-plugin", "gpu-feature-discovery", "dcgm",
                         "dcgm-exporter", "node-status-exporter", "operator-validator", "mig-manager")


@dataclass(frozen=True)
class MigProfile:
    """One MIG GPU-instance profile as ``nvidia-smi mig -lgip/-lgipp`` lists it."""

    name: str
    gi_profile_id: int
    instances: int
    memory_gib: float
    sm_count: int
    dec: int
    enc: int
    ce: int
    jpeg: int
    ofa: int
    placements: tuple[int, ...]
    placement_size: int

    @property
    def resource(self) -> str:
        """The device plugin's resource under ``migStrategy: mixed`` (``+`` becomes ``.``)."""
        return "nvidia.com/mig-" + self.name.replace("+", ".")


@dataclass(frozen=True)
class GpuModel:
    """Facts about one GPU model. ``None`` means unknown (not published / not applicable)."""

    id: str
    vendor: str
    resource: str | None
    product: str | None
    gfd_product: str | None
    memory_mib: int | None
    memory_source: str | None
    family: str | None
    compute_capability: str | None
    gpus_per_node_options: tuple[int, ...]
    status: str
    verified: bool
    sm_count: int | None = None
    power_limit_w: int | None = None
    compute_units: int | None = None
    mig_profiles: dict[str, int] | None = field(default=None, hash=False)
    mig_profile_details: tuple[MigProfile, ...] = ()
    aliases: tuple[str, ...] = ()
    variants: tuple[dict[str, Any], ...] = field(default=(), hash=False)

    @property
    def gpus_per_node(self) -> int:
        """The default GPU count per node for simulation (first listed server configuration)."""
        return self.gpus_per_node_options[0]

    @property
    def usable(self) -> bool:
        """Whether a GPU pool may use this model: it needs a resource name and a memory size."""
        return self.resource is not None and self.memory_mib is not None

    @property
    def unusable_reason(self) -> str | None:
        """Why ``usable`` is False (None when usable)."""
        missing = [n for n, v in (("Kubernetes resource name", self.resource),
                                  ("published memory size", self.memory_mib)) if v is None]
        if not missing:
            return None
        return f"GPU model {self.id!r} (status {self.status}) has no {' and no '.join(missing)}"

    @property
    def label_product(self) -> str:
        """A label-safe product value (GFD's for NVIDIA, the sanitised product/id otherwise)."""
        if self.gfd_product:
            return self.gfd_product
        return gfd_sanitize(self.product) if self.product else self.id

    def gfd_labels(self, count: int, *, driver_version: str = "580.159.04", cuda_version: str = "13.0",
                   mig_strategy: str = "none", machine: str = "unknown", gpu_operator: bool = False) -> dict[str, str]:
        """The node labels NVIDIA GPU Feature Discovery writes for ``count`` whole GPUs of this model.

        Defaults match the real H100 capture (driver 580.159.04, CUDA 13.0). ``mig_strategy`` other
        than ``none`` adds ``nvidia.com/mig.strategy``. ``gpu_operator`` adds what the NVIDIA GPU
        Operator itself writes (``nvidia.com/gpu.present`` and ``nvidia.com/gpu.deploy.<operand>``).
        Reference §2.1; source NVIDIA/k8s-device-plugin: internal/lm/{nvml.go,resource.go,mig-strategy.go}.

        Raises:
            ValueError: the model is not an NVIDIA GPU with a known compute capability.
        """
        if self.vendor != "nvidia" or not self.compute_capability or not self.gfd_product:
            raise ValueError(f"GFD labels exist only for NVIDIA GPUs; {self.id} is {self.vendor}")
        if count < 1:
            raise ValueError("count must be at least 1")
        major, _, minor = self.compute_capability.partition(".")
        dmaj, dmin, drev = (driver_version.split(".") + ["", "", ""])[:3]
        rmaj, _, rmin = cuda_version.partition(".")
        labels = {
            "nvidia.com/cuda.driver-version.full": driver_version,
            "nvidia.com/cuda.driver-version.major": dmaj,
            "nvidia.com/cuda.driver-version.minor": dmin,
            "nvidia.com/cuda.driver-version.revision": drev,
            "nvidia.com/cuda.driver.major": dmaj,
            "nvidia.com/cuda.driver.minor": dmin,
            "nvidia.com/cuda.driver.rev": drev,
            "nvidia.com/cuda.runtime-version.full": cuda_version,
            "nvidia.com/cuda.runtime-version.major": rmaj,
            "nvidia.com/cuda.runtime-version.minor": rmin or "0",
            "nvidia.com/cuda.runtime.major": rmaj,
            "nvidia.com/cuda.runtime.minor": rmin or "0",
            "nvidia.com/gpu.compute.major": major,
            "nvidia.com/gpu.compute.minor": minor or "0",
            "nvidia.com/gpu.count": str(count),
            "nvidia.com/gpu.family": gfd_family(self.compute_capability),
            "nvidia.com/gpu.machine": machine,
            "nvidia.com/gpu.memory": str(self.memory_mib),
            "nvidia.com/gpu.mode": "compute",
            "nvidia.com/gpu.product": self.gfd_product,
            "nvidia.com/gpu.replicas": "1",
            "nvidia.com/gpu.sharing-strategy": "none",
            "nvidia.com/mig.capable": "true" if self.mig_profiles else "false",
            "nvidia.com/mps.capable": "false",
        }
        if mig_strategy != "none":
            labels["nvidia.com/mig.strategy"] = mig_strategy
        if gpu_operator:
            labels["nvidia.com/gpu.present"] = "true"
            for operand in GPU_OPERATOR_OPERANDS:
                labels[f"nvidia.com/gpu.deploy.{operand}"] = "true"
        return dict(sorted(labels.items()))

    def names(self) -> tuple[str, ...]:
        """Every name ``get_model`` accepts for this model."""
        out = [self.id, *self.aliases]
        out += [n for n in (self.product, self.gfd_product) if n]
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``catalog -o json|yaml`` (keys as in the data file)."""
        d: dict[str, Any] = {
            "id": self.id, "vendor": self.vendor, "resource": self.resource, "product": self.product,
            "gfd_product": self.gfd_product, "memory_mib": self.memory_mib,
            "memory_source": self.memory_source, "family": self.family,
            "compute_capability": self.compute_capability, "sm_count": self.sm_count,
            "power_limit_w": self.power_limit_w, "compute_units": self.compute_units,
            "gpus_per_node": list(self.gpus_per_node_options),
            "mig_profiles": dict(self.mig_profiles) if self.mig_profiles else None,
            "status": self.status, "verified": self.verified, "usable": self.usable,
            "aliases": list(self.aliases),
        }
        if self.mig_profile_details:
            d["mig_profile_details"] = {
                p.name: {"gi_profile_id": p.gi_profile_id, "instances": p.instances,
                         "memory_gib": p.memory_gib, "sm_count": p.sm_count,
                         "placements": list(p.placements), "placement_size": p.placement_size,
                         "resource": p.resource}
                for p in self.mig_profile_details
            }
        if self.variants:
            d["variants"] = [dict(v) for v in self.variants]
        return d


def _model_from_data(raw: dict[str, Any]) -> GpuModel:
    mig = raw.get("mig_profiles")
    details = tuple(
        MigProfile(name=name, gi_profile_id=int(v["gi_profile_id"]), instances=int(v["instances"]),
                   memory_gib=float(v["memory_gib"]), sm_count=int(v["sm_count"]), dec=int(v["dec"]),
                   enc=int(v["enc"]), ce=int(v["ce"]), jpeg=int(v["jpeg"]), ofa=int(v["ofa"]),
                   placements=tuple(int(x) for x in v["placements"]), placement_size=int(v["placement_size"]))
        for name, v in (raw.get("mig_profile_details") or {}).items()
    )
    cc = raw.get("compute_capability")
    return GpuModel(
        id=str(raw["id"]), vendor=str(raw["vendor"]), resource=raw.get("resource"),
        product=raw.get("product"), gfd_product=raw.get("gfd_product"),
        memory_mib=raw.get("memory_mib"), memory_source=raw.get("memory_source"),
        family=raw.get("family"), compute_capability=str(cc) if cc is not None else None,
        gpus_per_node_options=tuple(int(x) for x in raw["gpus_per_node"]),
        status=str(raw["status"]), verified=bool(raw["verified"]),
        sm_count=raw.get("sm_count"), power_limit_w=raw.get("power_limit_w"),
        compute_units=raw.get("compute_units"),
        mig_profiles={str(k): int(v) for k, v in mig.items()} if mig else None,
        mig_profile_details=details,
        aliases=tuple(str(a) for a in raw.get("aliases") or ()),
        variants=tuple(raw.get("variants") or ()),
    )


@lru_cache(maxsize=1)
def _catalog() -> tuple[tuple[GpuModel, ...], dict[str, GpuModel]]:
    text = resources.files(__package__).joinpath("data", "gpu-models.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    models = tuple(_model_from_data(m) for m in data["models"])
    index: dict[str, GpuModel] = {}
    for m in models:
        for name in m.names():
            index.setdefault(_norm(name), m)
    return models, index


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def all_models() -> tuple[GpuModel, ...]:
    """All catalog models in data-file order (newest NVIDIA first, then AMD, then Intel)."""
    return _catalog()[0]


def get_model(name: str) -> GpuModel:
    """The model with this id, alias, product or GFD product (case-insensitive).

    Raises:
        UserInputError: no such model; the message lists the known ids.
    """
    found = _catalog()[1].get(_norm(str(name)))
    if found is None:
        known = ", ".join(m.id for m in all_models())
        raise UserInputError(f"unknown GPU model {name!r}; known models: {known}")
    return found
