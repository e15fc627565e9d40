"""The few Kubernetes API validation rules the spec applies to its own fields, with Kubernetes' text.

Owns label key/value syntax (k8s.io/apimachinery: pkg/util/validation/validation.go
``IsQualifiedName``, ``IsValidLabelValue``, ``RegexError``) and the extended-resource rules of
container resources (kubernetes/kubernetes: pkg/apis/core/validation/validation.go
``ValidateResourceRequirements``: integer, requests == limits, limit required). Called by
``spec.checks`` so a spec mistake is reported before anything is applied, in the words the API
server would use.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from ..kube_model import parse_quantity
from ..kube_model.quantity import format_quantity

__all__ = ["is_extended_resource", "label_key_errors", "label_value_errors", "object_name_errors",
           "resource_requirement_errors"]

_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    # apimachinery RegexError: examples joined as "'a',  or 'b', " (its double space included)
    out = msg + " (e.g. "
    for i, ex in enumerate(examples):
        if i:
            out += " or "
        out += f"'{ex}', "
    return out + f"regex used for validation is '{fmt}')"


def label_key_errors(key: str) -> list[str]:
    """Errors of a label key (a qualified name: optional DNS-subdomain prefix ``/`` name)."""
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
        prefix = None
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
    else:
        return [_regex_error("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
                             "start and end with an alphanumeric character", _QNAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    errs: list[str] = []
    if prefix is not None:
        if len(prefix) > 253:
            errs.append("prefix part must be no more than 253 characters")
        if not re.fullmatch(_DNS1123_SUBDOMAIN_FMT, prefix):
            errs.append("prefix part " + _regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                "must start and end with an alphanumeric character", _DNS1123_SUBDOMAIN_FMT, "example.com"))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if name and not re.fullmatch(_QNAME_FMT, name):
        errs.append("name part " + _regex_error(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character", _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def label_value_errors(value: str) -> list[str]:
    """Errors of a label value (empty allowed, at most 63 characters)."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not re.fullmatch(_LABEL_VALUE_FMT, value):
        errs.append(_regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character", _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def object_name_errors(kind: str, name: str) -> list[str]:
    """Errors of ``metadata.name`` (apimachinery ``IsDNS1123Subdomain``; a Service name is a DNS-1035
    label: ``ValidateServiceName``), in the API server's words."""
    if kind == "Service":
        fmt = "[a-z]([-a-z0-9]*[a-z0-9])?"
        errs = ["must be no more than 63 characters"] if len(name) > 63 else []
        if not re.fullmatch(fmt, name):
            errs.append(_regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
                                     "with an alphabetic character, and end with an alphanumeric character", fmt,
                                     "my-name", "abc-123"))
        return errs
    errs = ["must be no more than 253 characters"] if len(name) > 253 else []
    if not re.fullmatch(_DNS1123_SUBDOMAIN_FMT, name):
        errs.append(_regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                                 "'-' or '.', and must start and end with an alphanumeric character",
                                 _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_extended_resource(name: str) -> bool:
    """``nvidia.com/gpu`` yes; ``cpu``, ``kubernetes.io/...``, ``requests.*`` no (v1helper.IsExtendedResourceName)."""
    if "/" not in name or name.startswith("requests."):
        return False
    domain = name.split("/", 1)[0]
    return not (domain == "kubernetes.io" or domain.endswith(".kubernetes.io"))


def resource_requirement_errors(resources: Any) -> list[tuple[tuple[str, str], str]]:
    """Kubernetes' errors for one container's ``resources`` as ((section, resource), message).

    Quantities that do not parse are reported by the caller; only well-formed values are judged.
    """
    if not isinstance(resources, dict):
        return []
    limits = _parsed(resources.get("limits"))
    requests = _parsed(resources.get("requests"))
    out: list[tuple[tuple[str, str], str]] = []
    for section, values in (("limits", limits), ("requests", requests)):
        for name, (raw, q) in values.items():
            if q < 0:
                out.append(((section, name), f'Invalid value: "{raw}": must be greater than or equal to 0'))
            elif is_extended_resource(name) and q.denominator != 1:
                out.append(((section, name), f'Invalid value: "{raw}": must be an integer'))
    for name, (raw, q) in requests.items():
        if not is_extended_resource(name):
            continue
        if name in limits:
            if q != limits[name][1]:
                out.append((("requests", name), f'Invalid value: "{format_quantity(q)}": must be equal to {name} '
                                                f"limit of {format_quantity(limits[name][1])}"))
        else:
            out.append((("limits", name), "Required value: Limit must be set for non overcommitable resources"))
    return out


def _parsed(section: Any) -> dict[str, tuple[Any, Fraction]]:
    out: dict[str, tuple[Any, Fraction]] = {}
    if isinstance(section, dict):
        for name, raw in section.items():
            try:
                out[str(name)] = (raw, parse_quantity(raw))
            except ValueError:
                continue
    return out
