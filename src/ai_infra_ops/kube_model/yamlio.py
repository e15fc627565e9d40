"""Multi-document YAML IO with positions, so every error can name file, line and field.

``load_documents`` returns one :class:`Document` per YAML document: the plain Python value plus
a table from field path (tuple of keys/indices) to 1-based line/column. Broken YAML (such as the
seed's ``h100ConfigMap.yaml`` with its unterminated quote) raises ``ManifestError`` with
``file:line:col`` and the parser's own reason. ``dump_yaml`` writes deterministic block YAML.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Location, ManifestError

PathKey = tuple[str | int, ...]


@dataclass
class Document:
    """One YAML document: its value and where each field started in the file."""

    value: Any
    file: str
    index: int = 0
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int | None:
        """1-based line of ``path`` or of its nearest ancestor that has a position."""
        p = tuple(path)
        while True:
            if p in self.positions:
                return self.positions[p][0]
            if not p:
                return None
            p = p[:-1]

    def location(self, path: PathKey | str = ()) -> Location:
        """A :class:`Location` for a field path (tuple or dotted/bracketed string)."""
        tpath = parse_field_path(path) if isinstance(path, str) else tuple(path)
        pos = None
        p = tpath
        while True:
            if p in self.positions:
                pos = self.positions[p]
                break
            if not p:
                break
            p = p[:-1]
        return Location(
            file=self.file,
            line=pos[0] if pos else None,
            column=pos[1] if pos else None,
            field=format_field_path(tpath) if tpath else None,
        )


def format_field_path(path: PathKey) -> str:
    """``("spec", "containers", 0, "name")`` -> ``spec.containers[0].name``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_field_path(text: str) -> PathKey:
    """Inverse of :func:`format_field_path` (keys containing dots are not supported)."""
    parts: list[str | int] = []
    for chunk in text.split("."):
        if not chunk:
            continue
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            idx, _, rest = rest.partition("]")
            parts.append(int(idx))
            rest = rest.lstrip("[")
    return tuple(parts)


class _Loader(yaml.SafeLoader):
    pass


def _construct(node: yaml.Node, path: PathKey, positions: dict[PathKey, tuple[int, int]], loader: _Loader) -> Any:
    positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True)
            if isinstance(key, (list, dict)):
                raise ManifestError(
                    "mapping keys must be scalars",
                    Location(None, knode.start_mark.line + 1, knode.start_mark.column + 1),
                )
            sub = path + (key if isinstance(key, (str, int)) else str(key),)
            positions[sub] = (knode.start_mark.line + 1, knode.start_mark.column + 1)
            out[key] = _construct(vnode, sub, positions, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, path + (i,), positions, loader) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml_text(text: str, file: str = "<input>") -> list[Document]:
    """Parse every document of ``text``; empty documents are skipped.

    Raises:
        ManifestError: the text is not valid YAML (file:line:col and the parser's reason).
    """
    docs: list[Document] = []
    try:
        loader = _Loader(text)
        try:
            i = 0
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                positions: dict[PathKey, tuple[int, int]] = {}
                value = _construct(node, (), positions, loader)
                if value is not None:
                    docs.append(Document(value=value, file=file, index=i, positions=positions))
                i += 1
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            reason = f"{exc.context}: {exc.problem}"
        loc = Location(file, mark.line + 1 if mark else None, mark.column + 1 if mark else None)
        raise ManifestError(f"invalid YAML: {reason}", loc) from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"invalid YAML: {exc}", Location(file)) from exc
    return docs


def load_yaml_file(path: str | Path) -> list[Document]:
    """Read and parse a YAML file (``-`` is not supported here; the CLI reads stdin itself)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ManifestError("file not found", Location(str(path))) from exc
    except IsADirectoryError as exc:
        raise ManifestError("is a directory; expected a YAML file", Location(str(path))) from exc
    except UnicodeDecodeError as exc:
        raise ManifestError(f"not UTF-8 text (byte {exc.start}); expected a YAML file", Location(str(path))) from exc
    except OSError as exc:
        raise ManifestError(f"cannot read file: {exc.strerror or exc}", Location(str(path))) from exc
    return load_yaml_text(text, str(path))


def load_documents(paths: list[str | Path]) -> list[Document]:
    """Load many files (directories expand to their *.yaml/*.yml/*.json files, sorted).

    ``kind: List`` documents are flattened into their items, keeping positions.
    """
    out: list[Document] = []
    for raw in paths:
        p = Path(raw)
        files = sorted(
            [f for f in p.iterdir() if f.suffix in (".yaml", ".yml", ".json")]
        ) if p.is_dir() else [p]
        for f in files:
            for doc in load_yaml_file(f):
                out.extend(flatten_list(doc))
    return out


def flatten_list(doc: Document) -> list[Document]:
    """Expand a ``kind: List`` (or ``*List``) document into one Document per item."""
    v = doc.value
    if isinstance(v, dict) and str(v.get("kind", "")).endswith("List") and isinstance(v.get("items"), list):
        out = []
        for i, item in enumerate(v["items"]):
            prefix: PathKey = ("items", i)
            pos = {k[2:]: val for k, val in doc.positions.items() if k[:2] == prefix}
            out.append(Document(value=item, file=doc.file, index=doc.index, positions=pos))
        return out
    return [doc]


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: D102
        super().increase_indent(flow, False)


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(value: Any, *, sort_keys: bool = False) -> str:
    """Deterministic block-style YAML (lists indented under their key, multi-line strings as ``|``)."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=sort_keys, default_flow_style=False, allow_unicode=True, width=4096)


def dump_yaml_all(values: list[Any], *, sort_keys: bool = False) -> str:
    """Several documents separated by ``---``."""
    return "".join(("---\n" if i else "") + dump_yaml(v, sort_keys=sort_keys) for i, v in enumerate(values))
