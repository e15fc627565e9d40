"""The policy repository: rules indexed by policy, a revision counter, subject selection.

Owns the set of enforced rules and the revision every change bumps (cached policy maps are keyed
by it). Called by ``engine`` (replace rules), ``policymap`` (rules selecting an identity).

Upstream: ``pkg/policy/repository.go`` (rules by resource, ``GetRevision``/``BumpRevision``,
``computePolicyEnforcementAndRules``: the rules whose subject selects an endpoint).
"""
from __future__ import annotations

from collections import defaultdict

from .selectors import SelectorCache
from .types import PolicyRef, Rule


class Repository:
    """Enforced rules, grouped by the policy they came from."""

    def __init__(self) -> None:
        self.revision = 1
        self._by_policy: dict[PolicyRef, list[Rule]] = {}
        self._subject_index: dict[int, list[Rule]] | None = None
        self._subject_rev = (-1, -1)

    def replace(self, rules: list[Rule]) -> None:
        """Install a new rule set (the full set of valid policies) and bump the revision."""
        by: dict[PolicyRef, list[Rule]] = defaultdict(list)
        for r in rules:
            by[r.policy].append(r)
        self._by_policy = dict(sorted(by.items()))
        self.revision += 1
        self._subject_index = None

    def bump(self) -> None:
        self.revision += 1
        self._subject_index = None

    def policies(self) -> list[PolicyRef]:
        return list(self._by_policy)

    def rules(self) -> list[Rule]:
        return [r for rs in self._by_policy.values() for r in rs]

    def rules_for(self, policy: PolicyRef) -> list[Rule]:
        return list(self._by_policy.get(policy, []))

    def selecting(self, identity: int, cache: SelectorCache) -> list[Rule]:
        """Rules whose subject selector selects ``identity`` (in policy order).

        The inverse index (identity -> rules) is built once per (repository revision, identity
        revision) from the selector cache's selections of every subject selector.
        """
        key = (self.revision, cache.registry.revision)
        if self._subject_index is None or self._subject_rev != key:
            idx: dict[int, list[Rule]] = defaultdict(list)
            for r in self.rules():
                for num in cache.select(r.subject):
                    idx[num].append(r)
            self._subject_index = dict(idx)
            self._subject_rev = key
        return self._subject_index.get(identity, [])
