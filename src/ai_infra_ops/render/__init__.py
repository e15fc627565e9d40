"""render: spec -> artifacts (kubeadm, node bootstrap, Helm values, manifests, zero-trust policies, CRDs).

Level 3: imports ``spec``, ``catalog``, ``kube_model`` and ``errors`` only. Every ``render_*``
function returns values (objects, text, :class:`Artifact`); writing files is the caller's job
(``cli.commands.render``). See docs/render.md and docs/zero-trust.md.
"""
from __future__ import annotations

from .artifacts import Artifact, render_all, yaml_documents
from .validation import Problem, validate_artifacts, validate_object

__all__ = ["Artifact", "Problem", "render_all", "validate_artifacts", "validate_object", "yaml_documents"]
