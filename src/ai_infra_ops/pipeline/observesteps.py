"""Steps whose goal is an observation or a host action, recorded as step marks (``pipeline.marks``).

- :class:`HostStep` — node preparation, ``kubeadm init``, joins: the artifact is rendered (its
  digest is evidence); a backend with no hosts (the twin, a cluster reached by kubeconfig) cannot
  execute it, so the step says "rendered, not executed" and verifies the goal from the API
  (nodes registered, no kube-proxy DaemonSet...).
- :class:`InstallStep` — Cilium/Hubble: on the twin the agent config and components are recorded
  as objects; on a real cluster Helm installs them (``helm/install.sh``) and the step verifies.
- :class:`ProbeStep` — baseline egress FORWARDED / egress DROPPED after the policies.
- :class:`ScenarioStep` — the connectivity suite and the chaos pod scenario, from ``validate``.

Marks carry a fingerprint (e.g. the test pod's UID) so an observation is repeated when what it
observed was recreated, and skipped otherwise.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..backend import Backend, ProbeRequest
from ..validate.checks import FAIL, NEEDS_NETWORK, CheckResult
from ..validate.probecheck import Expect, has_network, probe_check
from .marks import mark_matches, write_mark
from .objectsteps import ApplyObjects
from .steps import NEEDS_NETWORK as STEP_NEEDS_NETWORK
from .steps import RENDERED, Condition, Evidence, Step, StepOutcome

Goal = Callable[[Backend], Condition]
Fingerprint = Callable[[Backend], str]


def simulates_hosts(backend: Backend) -> bool:
    """Whether the backend stands in for the machines too (the twin): it registers nodes itself
    and records host-level components (Cilium agent config) as objects."""
    return "hosts" in backend.capabilities() or backend.name == "twin"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(text: str) -> str:
    """``sha256:<first 16 hex>`` of an artifact."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class HostStep(Step):
    """A host action the backend cannot execute: rendered, goal verified from the API."""

    name: str
    phase: int
    description: str
    artifacts: tuple[tuple[str, str], ...]  # (path in the render output, content)
    goal: Goal
    notes: tuple[str, ...] = ()

    def _fingerprint(self) -> str:
        return digest("".join(p + c for p, c in self.artifacts))

    def _evidence(self) -> Evidence:
        return Evidence(artifacts=tuple(f"{p} {digest(c)}" for p, c in self.artifacts), notes=self.notes)

    def check(self, backend: Backend) -> Condition:
        marked = mark_matches(backend, self.name, self._fingerprint())
        if marked is None:
            return Condition(False, "not done yet")
        goal = self.goal(backend)
        return Condition(goal.ok, goal.detail, marked.merge(goal.evidence))

    def apply(self, backend: Backend) -> StepOutcome:
        goal = self.goal(backend)
        ev = self._evidence().merge(goal.evidence)
        if not goal.ok:
            return StepOutcome.failed(f"rendered, not executed, and the goal does not hold: {goal.detail}", ev)
        write_mark(backend, self.name, self._fingerprint(), ev, _now())
        where = "the twin has no hosts" if backend.name == "twin" else f"backend {backend.name} cannot run host commands"
        return StepOutcome(RENDERED, f"rendered, not executed ({where}); verified: {goal.detail}", ev)


@dataclass(frozen=True)
class InstallStep(Step):
    """A cluster component Helm installs on a real cluster; the twin records it as objects."""

    name: str
    phase: int
    description: str
    inner: ApplyObjects
    artifacts: tuple[tuple[str, str], ...]
    install_hint: str

    def check(self, backend: Backend) -> Condition:
        return self.inner.check(backend)

    def apply(self, backend: Backend) -> StepOutcome:
        ev = Evidence(artifacts=tuple(f"{p} {digest(c)}" for p, c in self.artifacts))
        if simulates_hosts(backend):
            out = self.inner.apply(backend)
            return StepOutcome(out.action, out.message, ev.merge(out.evidence), out.changes)
        return StepOutcome(RENDERED, f"rendered, not executed: {self.install_hint}; then run up again", ev)

    def undo(self, backend: Backend) -> list[str]:
        return self.inner.undo(backend) if simulates_hosts(backend) else []


def _flows(results: list[CheckResult]) -> tuple[dict[str, Any], ...]:
    return tuple(f for r in results for f in r.flows)


def _outcome_of(results: list[CheckResult], what: str) -> tuple[str, str, Evidence]:
    ev = Evidence(objects=tuple(o for r in results for o in r.objects),
                  events=tuple(e for r in results for e in r.events),
                  flows=tuple(f for r in results for f in r.flow_ids),
                  notes=tuple(f"{r.id}: {r.status}: {r.message}" for r in results))
    if any(r.status == NEEDS_NETWORK for r in results) and not any(r.status == FAIL for r in results):
        return STEP_NEEDS_NETWORK, f"{what}: needs Cilium/Hubble on this backend; not run", ev
    failed = [r for r in results if r.status == FAIL]
    if failed:
        return "failed", f"{what}: {len(failed)} of {len(results)} failed: " + "; ".join(r.message for r in failed[:2]), ev
    if len(results) == 1:
        # the check's message already says what was observed (the step's description would repeat it)
        return "applied", results[0].message, ev
    return "applied", f"{what}: {len(results)} of {len(results)} passed", ev


@dataclass(frozen=True)
class ScenarioStep(Step):
    """Run validation scenarios as a step (the connectivity suite; the chaos pod)."""

    name: str
    phase: int
    description: str
    run: Callable[[Backend], list[CheckResult]]
    fingerprint: Fingerprint
    needs_network: bool = False

    def check(self, backend: Backend) -> Condition:
        fp = self.fingerprint(backend)
        marked = mark_matches(backend, self.name, fp) if fp else None
        if marked is None:
            return Condition(False, "not observed yet")
        return Condition(True, "observed in an earlier run", marked)

    def apply(self, backend: Backend) -> StepOutcome:
        if self.needs_network and not has_network(backend):
            return StepOutcome(STEP_NEEDS_NETWORK, f"{self.description}: needs Cilium/Hubble on backend {backend.name}")
        results = self.run(backend)
        action, msg, ev = _outcome_of(results, self.description)
        if action == "applied":
            write_mark(backend, self.name, self.fingerprint(backend), ev, _now())
        return StepOutcome(action, msg, ev, flows=_flows(results))


@dataclass(frozen=True)
class ProbeStep(Step):
    """One probe whose verdict is the goal (baseline egress; egress after the policies)."""

    name: str
    phase: int
    description: str
    request: ProbeRequest
    expect: Expect
    fingerprint: Fingerprint
    moot: Goal | None = None  # when true, the observation can no longer be made (e.g. policies already in place)

    def check(self, backend: Backend) -> Condition:
        fp = self.fingerprint(backend)
        marked = mark_matches(backend, self.name, fp) if fp else None
        if marked is not None:
            return Condition(True, "observed in an earlier run", marked)
        if self.moot is not None:
            moot = self.moot(backend)
            if moot.ok:
                return Condition(True, moot.detail, moot.evidence)
        return Condition(False, "not observed yet")

    def apply(self, backend: Backend) -> StepOutcome:
        res = probe_check(backend, id=self.name, group="pipeline", title=self.description,
                          request=self.request, expect=self.expect)
        action, msg, ev = _outcome_of([res], self.description)
        if action == "applied":
            write_mark(backend, self.name, self.fingerprint(backend), ev, _now())
            msg = f"{self.description}: {res.message}"
        return StepOutcome(action, msg, ev, flows=_flows([res]))


@dataclass(frozen=True)
class NetworkGated(Step):
    """A step that only makes sense with Cilium (e.g. applying CiliumNetworkPolicies): on a backend
    without the network capability it reports "needs Cilium/Hubble" instead of failing."""

    name: str
    phase: int
    description: str
    inner: Step

    def check(self, backend: Backend) -> Condition:
        if not has_network(backend):
            return Condition(False, f"needs Cilium/Hubble (backend {backend.name} has no network datapath)")
        return self.inner.check(backend)

    def apply(self, backend: Backend) -> StepOutcome:
        if not has_network(backend):
            return StepOutcome(STEP_NEEDS_NETWORK, f"{self.description}: needs Cilium/Hubble on backend {backend.name}; not applied")
        return self.inner.apply(backend)

    def undo(self, backend: Backend) -> list[str]:
        return self.inner.undo(backend) if has_network(backend) else []
