"""Plain Kubernetes object helpers: quantities, label selectors, object keys, multi-document YAML IO.

Level 0: imports only the standard library, PyYAML and ``errors``. Every other part builds on it.
"""
from __future__ import annotations

from .objects import ObjectKey, api_group, kind_is_namespaced, object_key
from .quantity import Quantity, format_quantity, parse_quantity
from .selectors import LabelSelector, match_labels_selector, parse_selector_string
from .yamlio import Document, dump_yaml, load_documents, load_yaml_file, load_yaml_text

__all__ = [
    "Document",
    "LabelSelector",
    "ObjectKey",
    "Quantity",
    "api_group",
    "dump_yaml",
    "format_quantity",
    "kind_is_namespaced",
    "load_documents",
    "load_yaml_file",
    "load_yaml_text",
    "match_labels_selector",
    "object_key",
    "parse_quantity",
    "parse_selector_string",
]
