"""Loading and writing ``platform.yaml``: every mistake becomes one ``SpecError`` line.

Owns ``load_spec``, ``spec_from_text``, ``default_spec`` and ``dump_spec_yaml``. YAML is read with
positions (``kube_model.load_yaml_file``) so pydantic's validation errors and the cross-field
checks of ``spec.checks`` are reported as ``platform.yaml:12:7: gpuPools[0].gpusPerNode: must be
greater than 0``. Called by ``cli.context.Context.load_spec`` and by every part that needs a spec.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Location, ManifestError, SpecError
from ..kube_model import Document, dump_yaml, load_yaml_file, load_yaml_text
from ..kube_model.yamlio import format_field_path
from .checks import Problem, find_problems
from .model import PlatformSpec

__all__ = ["default_spec", "dump_spec_yaml", "load_spec", "spec_from_data", "spec_from_text"]

_TYPE_WORDS = {
    "int_type": "expected an integer", "int_parsing": "expected an integer",
    "int_from_float": "expected an integer", "string_type": "expected a string",
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "dict_type": "expected a mapping", "list_type": "expected a list",
    "missing": "required field is missing", "float_type": "expected a number",
}


def load_spec(path: str | Path | None) -> PlatformSpec:
    """The spec in ``path``; ``None`` -> the built-in default (the seed platform).

    Raises:
        SpecError: unreadable file, invalid YAML, a field of the wrong shape, or a contradiction
            (file, line and YAML field path in the message).
    """
    if path is None:
        return default_spec()
    try:
        docs = load_yaml_file(path)
    except ManifestError as exc:
        raise SpecError(exc.message, exc.location) from exc
    return _from_docs(docs, str(path))


def spec_from_text(text: str, file: str = "<spec>") -> PlatformSpec:
    """Like :func:`load_spec` for YAML text (``file`` names it in errors)."""
    try:
        docs = load_yaml_text(text, file)
    except ManifestError as exc:
        raise SpecError(exc.message, exc.location) from exc
    return _from_docs(docs, file)


def spec_from_data(data: dict[str, Any], file: str = "<spec>") -> PlatformSpec:
    """Validate already-parsed data (no line numbers available)."""
    return _validate(Document(value=data, file=file), file)


def default_spec() -> PlatformSpec:
    """The built-in default: the seed platform (checked like any user spec)."""
    spec = PlatformSpec()
    _raise_problems(find_problems(spec), Document(value={}, file="<built-in default>"))
    return spec


def dump_spec_yaml(spec: PlatformSpec) -> str:
    """The spec as YAML with camelCase keys, in field order; ``load_spec`` reads it back equal."""
    data = spec.model_dump(mode="json", by_alias=True)
    header = ("# ai-infra-ops platform spec (reference: docs/spec.md). Every field is optional:\n"
              "# what you leave out takes the built-in default, the seed platform.\n")
    return header + dump_yaml(data)


def _from_docs(docs: list[Document], file: str) -> PlatformSpec:
    if len(docs) > 1:
        raise SpecError("a spec file holds one YAML document; found more", Location(file, *docs[1].positions.get((), (None, None))))
    doc = docs[0] if docs else Document(value={}, file=file)
    return _validate(doc, file)


def _validate(doc: Document, file: str) -> PlatformSpec:
    if not isinstance(doc.value, dict):
        raise SpecError(f"expected a mapping of spec fields at the top, got {type(doc.value).__name__}", doc.location(()))
    try:
        spec = PlatformSpec.model_validate(doc.value)
    except ValidationError as exc:
        problems = [Problem(tuple(e["loc"]), _message(e)) for e in exc.errors()]
        _raise_problems(problems, doc)
        raise   # unreachable: _raise_problems always raises for a non-empty list
    _raise_problems(find_problems(spec), doc)
    spec._source = doc
    return spec


def _raise_problems(problems: list[Problem], doc: Document) -> None:
    if not problems:
        return
    first = problems[0]
    loc = doc.location(first.path)
    loc.field = format_field_path(first.path) or None
    rest = [f"{format_field_path(p.path) or '(top)'}: {p.message}" for p in problems[1:4]]
    hint = None
    if rest:
        more = f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""
        hint = "also: " + "; ".join(rest) + more
    raise SpecError(first.message, loc, hint=hint)


def _message(err: Any) -> str:
    etype = err["type"]
    ctx = err.get("ctx") or {}
    if etype == "value_error":
        return str(ctx.get("error", err["msg"]))
    if etype == "extra_forbidden":
        allowed = _allowed_fields(tuple(err["loc"][:-1]))
        return "unknown field" + (f"; expected one of: {', '.join(allowed)}" if allowed else "")
    if etype == "greater_than":
        return f"must be greater than {ctx.get('gt')}"
    if etype == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if etype == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if etype == "less_than":
        return f"must be less than {ctx.get('lt')}"
    if etype == "literal_error":
        return f"must be {ctx.get('expected')}"
    if etype in _TYPE_WORDS:
        got = err.get("input")
        suffix = "" if etype == "missing" else f", got {got!r}"
        return _TYPE_WORDS[etype] + suffix
    msg = str(err["msg"])
    return msg[:1].lower() + msg[1:]


def _allowed_fields(loc: tuple[Any, ...]) -> list[str]:
    """camelCase field names of the model found at ``loc`` (walking PlatformSpec's annotations)."""
    model: Any = PlatformSpec
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None
