"""Before any step runs: the spec's workloads and chaos pod as the API server will judge them.

``spec.checks`` already rejects contradictions (quantities, extended resources, names, quotas);
what it cannot see without the Kubernetes OpenAPI schemas is an unknown kind or a misspelled field
(``imagePullPolcy``). Without this check ``up`` would build Phase 1 and half of Phase 2 and only
then fail on the workloads step. Here every workload (and the chaos pod) is validated with the
same schemas ``render`` uses (``render.validation``), and the first problem is raised as a
``SpecError`` naming the spec's file, line and field. Called by ``pipeline.phases.build_plan``.
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import SpecError
from ..kube_model.yamlio import format_field_path, parse_field_path
from ..render.validation import validate_object

__all__ = ["check_spec_objects"]

# jsonschema's text for a field the schema does not declare (kubectl: strict decoding error)
_UNEXPECTED = re.compile(r"Additional properties are not allowed \('([^']+)' was unexpected\)")


def _problems(path: tuple[str | int, ...], obj: Any, kubernetes_version: str) -> list[tuple[tuple[str | int, ...], str]]:
    out = []
    for field, message in validate_object(obj, kubernetes_version):
        sub = parse_field_path(field) if field else ()
        m = _UNEXPECTED.fullmatch(message)
        if m:
            sub += (m.group(1),)
            message = f'unknown field "{format_field_path(sub)}"'
        elif message.startswith("no Kubernetes") and field == "apiVersion":
            sub = ("kind",)
        out.append((path + sub, message))
    return out


def check_spec_objects(spec: Any) -> None:
    """Raise ``SpecError`` (exit 2) for the first workload or chaos pod the API server would refuse.

    Args:
        spec: a loaded ``PlatformSpec``.

    Raises:
        SpecError: file:line:column of the field in the spec, Kubernetes' reason; further problems
            in the hint.
    """
    entries: list[tuple[tuple[str | int, ...], Any]] = [(("workloads", i), o) for i, o in enumerate(spec.workloads)]
    if spec.chaos_pod is not None:
        entries.append((("chaosPod",), spec.chaos_pod))
    problems = [p for path, obj in entries for p in _problems(path, obj, spec.kubernetes_version)]
    if not problems:
        return
    (path, message), rest = problems[0], problems[1:4]
    hint = None
    if rest:
        more = f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""
        hint = "also: " + "; ".join(f"{format_field_path(p)}: {m}" for p, m in rest) + more
    raise SpecError(message, spec.location(path), hint=hint)
