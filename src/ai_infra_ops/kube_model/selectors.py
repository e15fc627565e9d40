"""Kubernetes label selectors: ``matchLabels``/``matchExpressions`` objects and selector strings.

Used by the scheduler (nodeSelector/affinity use their own operators, see ``twin.scheduler``),
Deployments, NetworkPolicy/CNP translation and the ``-l`` filters of ``get``/``observe``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

VALID_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist | Equals | NotEquals
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        has = self.key in labels
        op = self.operator
        if op in ("In", "Equals"):
            return has and labels[self.key] in self.values
        if op in ("NotIn", "NotEquals"):
            return (not has) or labels[self.key] not in self.values
        if op == "Exists":
            return has
        if op == "DoesNotExist":
            return not has
        return False


@dataclass(frozen=True)
class LabelSelector:
    """A parsed selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = field(default_factory=tuple)

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    @classmethod
    def from_dict(cls, sel: Mapping[str, object] | None) -> LabelSelector:
        """Build from a ``{matchLabels, matchExpressions}`` mapping.

        Raises:
            ValueError: unknown operator or malformed expression (message names the field).
        """
        if not sel:
            return cls(())
        reqs: list[Requirement] = []
        ml = sel.get("matchLabels") or {}
        if not isinstance(ml, Mapping):
            raise ValueError("matchLabels: expected a mapping of label key to value")
        for k, v in sorted(ml.items()):
            reqs.append(Requirement(str(k), "In", ("" if v is None else str(v),)))
        exprs = sel.get("matchExpressions") or []
        if not isinstance(exprs, list):
            raise ValueError("matchExpressions: expected a list")
        for i, e in enumerate(exprs):
            if not isinstance(e, Mapping):
                raise ValueError(f"matchExpressions[{i}]: expected a mapping")
            op = e.get("operator")
            key = e.get("key")
            vals = e.get("values") or []
            if op not in VALID_OPERATORS:
                raise ValueError(
                    f"matchExpressions[{i}].operator: {op!r} is not a valid label selector operator"
                    f" (expected one of {', '.join(VALID_OPERATORS)})"
                )
            if not key:
                raise ValueError(f"matchExpressions[{i}].key: required")
            if op in ("In", "NotIn") and not vals:
                raise ValueError(f"matchExpressions[{i}].values: must be specified when operator is {op}")
            if op in ("Exists", "DoesNotExist") and vals:
                raise ValueError(f"matchExpressions[{i}].values: may not be specified when operator is {op}")
            reqs.append(Requirement(str(key), str(op), tuple(str(v) for v in vals)))
        return cls(tuple(reqs))

    def canonical(self) -> str:
        """A stable string form, e.g. ``app=x,tier in (a,b),!gone``."""
        parts = []
        for r in sorted(self.requirements, key=lambda r: (r.key, r.operator, r.values)):
            if r.operator in ("In", "Equals") and len(r.values) == 1:
                parts.append(f"{r.key}={r.values[0]}")
            elif r.operator in ("NotIn", "NotEquals") and len(r.values) == 1 and r.operator == "NotEquals":
                parts.append(f"{r.key}!={r.values[0]}")
            elif r.operator == "Exists":
                parts.append(r.key)
            elif r.operator == "DoesNotExist":
                parts.append(f"!{r.key}")
            else:
                parts.append(f"{r.key} {r.operator.lower()} ({','.join(sorted(r.values))})")
        return ",".join(parts)


def match_labels_selector(sel: Mapping[str, object] | None, labels: Mapping[str, str]) -> bool:
    return LabelSelector.from_dict(sel).matches(labels)


_SET_RE = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_top(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def parse_selector_string(text: str) -> LabelSelector:
    """Parse kubectl/hubble selector syntax: ``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``,
    ``a in (x,y)``, ``a notin (x)``; comma = AND.

    Raises:
        ValueError: unparsable selector.
    """
    reqs: list[Requirement] = []
    for raw in _split_top(text):
        part = raw.strip()
        if not part:
            continue
        m = _SET_RE.match(part)
        if m:
            vals = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append(Requirement(m.group(1), "In" if m.group(2) == "in" else "NotIn", vals))
        elif "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append(Requirement(k.strip(), "NotEquals", (v.strip(),)))
        elif "==" in part:
            k, v = part.split("==", 1)
            reqs.append(Requirement(k.strip(), "Equals", (v.strip(),)))
        elif "=" in part:
            k, v = part.split("=", 1)
            reqs.append(Requirement(k.strip(), "Equals", (v.strip(),)))
        elif part.startswith("!"):
            reqs.append(Requirement(part[1:].strip(), "DoesNotExist"))
        elif re.match(r"^[^\s()!=,]+$", part):
            reqs.append(Requirement(part, "Exists"))
        else:
            raise ValueError(f"unable to parse requirement: {part!r}")
    return LabelSelector(tuple(reqs))
