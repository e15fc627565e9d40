"""Which kube-scheduler behaviour a Kubernetes version has (1.33, 1.34, 1.35 and their patches).

Owns the per-version switches the scheduler and its messages consult. Each switch names the
upstream change that flips it; ``docs/scheduler.md`` records how each was settled:

* ``generic_taint_text`` — ``node(s) had untolerated taint(s)`` instead of
  ``node(s) had untolerated taint {key: value}``: kubernetes/kubernetes#134740 (v1.35.0), cherry-picked
  to release-1.34 as #135023 (merged 2025-11-08, so in v1.34.3 and later; 1.34.0–1.34.2 print the key).
* ``dra_postfilter`` — the DynamicResources plugin (DRA GA, on by default from 1.34) runs its
  PostFilter for every unschedulable pod and adds ``no new claims to deallocate``.
* ``unresolvable_fit`` — NodeResourcesFit returns UnschedulableAndUnresolvable when a request
  exceeds the node's whole allocatable (#131345, opened 2025-04-17 after 1.33 shipped; present in
  the 1.34 tree, whose fit.go carries ``InsufficientResource.Unresolvable``).
* ``pod_level_resources`` — ``spec.resources`` counts (PodLevelResources beta, on from 1.34).
* ``balanced_skips_best_effort`` — BalancedAllocation PreScore returns Skip for pods requesting no
  cpu/memory (#130260 fixing #129138, merged for 1.33).

Called by ``scheduler.Scheduler`` and the ``schedule`` command; pure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SUPPORTED_MINORS = (33, 34, 35)
_VERSION_RE = re.compile(r"^v?1\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class VersionTraits:
    """The behaviour switches of one Kubernetes version."""

    minor: int
    patch: int | None = None

    @property
    def text(self) -> str:
        return f"1.{self.minor}" + (f".{self.patch}" if self.patch is not None else "")

    @property
    def generic_taint_text(self) -> bool:
        if self.minor >= 35:
            return True
        return self.minor == 34 and (self.patch or 0) >= 3

    @property
    def dra_postfilter(self) -> bool:
        return self.minor >= 34

    @property
    def unresolvable_fit(self) -> bool:
        return self.minor >= 34

    @property
    def pod_level_resources(self) -> bool:
        return self.minor >= 34

    @property
    def balanced_skips_best_effort(self) -> bool:
        return self.minor >= 33


def parse_version(text: object) -> VersionTraits:
    """``"1.35"``, ``"v1.34.3"`` or ``1.33`` (a YAML float) -> :class:`VersionTraits`.

    A bare minor (``"1.34"``) means that minor's ``.0`` release.

    Raises:
        ValueError: not a 1.x version, or a minor outside 1.33–1.35 (the message says what is accepted).
    """
    s = str(text).strip()
    m = _VERSION_RE.match(s)
    if not m:
        raise ValueError(f"kubernetesVersion {s!r}: expected 1.33, 1.34 or 1.35 (optionally with a patch, e.g. 1.34.3)")
    minor = int(m.group(1))
    if minor not in SUPPORTED_MINORS:
        raise ValueError(f"kubernetesVersion {s!r}: the scheduler models 1.33, 1.34 and 1.35 only")
    return VersionTraits(minor=minor, patch=int(m.group(2)) if m.group(2) is not None else None)
