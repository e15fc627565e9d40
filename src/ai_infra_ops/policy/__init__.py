"""The Cilium-exact policy engine (a top-level part; never imports the twin, kube, render or cli).

Public API (docs/contracts.md "policy engine"): :class:`PolicyEngine`, :class:`Endpoint`,
:class:`Decision`, :class:`FlowDecision`, :class:`L7Verdict`, :func:`parse_policies`,
:class:`PolicyError`. Stages, Cilium-shaped: ``rules``/``knp`` (objects -> rules) -> ``repository``
(revisioned) -> ``selectors`` (selector cache) -> ``policymap`` (per-identity maps) -> ``engine``
(lookups, explanations); ``batch`` (array verdicts), ``matrix`` (connectivity), ``trace``.
"""
from __future__ import annotations

from ..errors import PolicyError
from .endpoints import Decision, Endpoint, FlowDecision, L7Verdict
from .engine import PolicyEngine
from .identities import Identity
from .l7 import L7Rules
from .rules import ParseOptions, parse_policies

__all__ = [
    "Decision", "Endpoint", "FlowDecision", "Identity", "L7Rules", "L7Verdict", "ParseOptions",
    "PolicyEngine", "PolicyError", "parse_policies",
]
