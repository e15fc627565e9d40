"""A structural OpenAPI v3 schema for CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy (cilium.io/v2).

Owns the schema, written from Cilium's documented rule fields (cilium/cilium:
pkg/policy/api/{rule,ingress,egress,l4,http,fqdn,cidr,entity,icmp,service,selector}.go and the
policy language docs), in two forms built from one source:

* :func:`crd_schema` — the ``openAPIV3Schema`` of a CustomResourceDefinition. It is *structural*
  in the Kubernetes sense (every node typed; ``anyOf``/``oneOf`` carry only ``required``;
  int-or-string via ``x-kubernetes-int-or-string``), so a real API server accepts the CRD and
  server-side dry-run of rendered policies works (issue 5 item 6). :func:`structural_problems`
  checks those rules locally.
* :func:`json_schema` — the same tree with ``additionalProperties: false`` on every object with
  known properties, for ``jsonschema`` validation: a typo (``toFQDN``) is an error here, while an
  API server would silently prune it.

Deliberate differences from upstream's generated CRD: CNPs have no ``nodeSelector`` (the agent
rejects it, ``rule must have one of EndpointSelector or NodeSelector`` applies to CCNPs only);
deprecated ``fromRequires``/``toRequires`` (removed in 1.19) are not accepted; ``status`` is kept
as free-form.
"""
from __future__ import annotations

import copy
from typing import Any

S = dict[str, Any]

STRING: S = {"type": "string"}
# api/l4.go PortProtocol.Port: a number 0-65535 or an IANA service name
PORT_PATTERN = (r"^(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})$"
                r"|^([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$")
PROTOCOLS = ["TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "VRRP", "IGMP", "ANY"]
# api/entity.go
ENTITIES = ["all", "world", "cluster", "host", "init", "ingress", "unmanaged", "remote-node", "health",
            "none", "kube-apiserver"]
# api/fqdn.go allowedMatchNameChars / allowedPatternChars
MATCH_NAME = r"^([-a-zA-Z0-9_]+[.]?)+$"
MATCH_PATTERN = r"^([-a-zA-Z0-9_*]+[.]?)+$"


def _obj(props: S, required: list[str] | None = None, **extra: Any) -> S:
    out: S = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def _arr(items: S, **extra: Any) -> S:
    return {"type": "array", "items": items, **extra}


def _strings() -> S:
    return _arr(dict(STRING))


LABEL_SELECTOR: S = _obj({
    "matchLabels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 63}},
    "matchExpressions": _arr(_obj({
        "key": dict(STRING),
        "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
        "values": _strings(),
    }, ["key", "operator"])),
})

PORT_PROTOCOL: S = _obj({
    "port": {"type": "string", "pattern": PORT_PATTERN},
    "endPort": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 65535},
    "protocol": {"type": "string", "enum": PROTOCOLS},
})

HTTP_RULE: S = _obj({
    "method": dict(STRING), "path": dict(STRING), "host": dict(STRING),
    "headers": _strings(),
    "headerMatches": _arr(_obj({
        "name": dict(STRING), "value": dict(STRING),
        "mismatch": {"type": "string", "enum": ["LOG", "ADD", "DELETE", "REPLACE"]},
        "secret": _obj({"namespace": dict(STRING), "name": dict(STRING)}, ["name"]),
    }, ["name"])),
})

DNS_RULE: S = _obj({
    "matchName": {"type": "string", "maxLength": 255, "pattern": MATCH_NAME},
    "matchPattern": {"type": "string", "maxLength": 255, "pattern": MATCH_PATTERN},
})

KAFKA_RULE: S = _obj({"role": {"type": "string", "enum": ["produce", "consume"]}, "apiKey": dict(STRING),
                      "apiVersion": dict(STRING), "clientID": dict(STRING), "topic": dict(STRING)})

L7_RULES: S = _obj({
    "http": _arr(HTTP_RULE),
    "dns": _arr(DNS_RULE),
    "kafka": _arr(KAFKA_RULE),
    "l7proto": dict(STRING),
    "l7": _arr({"type": "object", "additionalProperties": dict(STRING)}),
})

TLS_CONTEXT: S = _obj({
    "secret": _obj({"namespace": dict(STRING), "name": dict(STRING)}, ["name"]),
    "trustedCA": dict(STRING), "certificate": dict(STRING), "privateKey": dict(STRING),
})

PORT_RULE: S = _obj({
    "ports": _arr(PORT_PROTOCOL, maxItems=40),
    "rules": L7_RULES,
    "serverNames": _strings(),
    "terminatingTLS": TLS_CONTEXT,
    "originatingTLS": TLS_CONTEXT,
    "listener": _obj({"envoyConfig": _obj({"kind": {"type": "string", "enum": ["CiliumEnvoyConfig",
                                                                                 "CiliumClusterwideEnvoyConfig"]},
                                            "name": dict(STRING)}, ["name"]),
                      "name": dict(STRING), "priority": {"type": "integer", "minimum": 1, "maximum": 100}},
                     ["envoyConfig", "name"]),
})

PORT_DENY_RULE: S = _obj({"ports": _arr(PORT_PROTOCOL, maxItems=40)})

CIDR_RULE: S = _obj({
    "cidr": dict(STRING),
    "except": _strings(),
    "cidrGroupRef": dict(STRING),
    "cidrGroupSelector": LABEL_SELECTOR,
})

ICMP_RULE: S = _obj({"fields": _arr(_obj({
    "family": {"type": "string", "enum": ["IPv4", "IPv6"]},
    "type": {"x-kubernetes-int-or-string": True,
             "anyOf": [{"type": "integer"}, {"type": "string"}]},
}, ["type"]), maxItems=40)})

SERVICE: S = _obj({
    "k8sService": _obj({"serviceName": dict(STRING), "namespace": dict(STRING)}),
    "k8sServiceSelector": _obj({"selector": LABEL_SELECTOR, "namespace": dict(STRING)}, ["selector"]),
})

AUTHENTICATION: S = _obj({"mode": {"type": "string", "enum": ["disabled", "required", "test-always-fail"]}}, ["mode"])

GROUPS: S = _obj({"aws": _obj({
    "labels": {"type": "object", "additionalProperties": dict(STRING)}, "region": dict(STRING),
    "securityGroupsIds": _strings(), "securityGroupsNames": _strings(),
})})

ENTITY_LIST: S = _arr({"type": "string", "enum": ENTITIES})


def _peer_props(prefix: str) -> S:
    return {
        f"{prefix}Endpoints": _arr(LABEL_SELECTOR),
        f"{prefix}CIDR": _strings(),
        f"{prefix}CIDRSet": _arr(CIDR_RULE),
        f"{prefix}Entities": ENTITY_LIST,
        f"{prefix}Groups": _arr(GROUPS),
        f"{prefix}Nodes": _arr(LABEL_SELECTOR),
        "icmps": _arr(ICMP_RULE),
    }


INGRESS_RULE: S = _obj({**_peer_props("from"), "toPorts": _arr(PORT_RULE), "authentication": AUTHENTICATION})
INGRESS_DENY_RULE: S = _obj({**_peer_props("from"), "toPorts": _arr(PORT_DENY_RULE)})
EGRESS_RULE: S = _obj({**_peer_props("to"), "toServices": _arr(SERVICE), "toFQDNs": _arr(_obj({
    "matchName": DNS_RULE["properties"]["matchName"], "matchPattern": DNS_RULE["properties"]["matchPattern"]})),
    "toPorts": _arr(PORT_RULE), "authentication": AUTHENTICATION})
EGRESS_DENY_RULE: S = _obj({**_peer_props("to"), "toServices": _arr(SERVICE), "toPorts": _arr(PORT_DENY_RULE)})


def rule_schema(clusterwide: bool) -> S:
    """One policy rule (``spec`` or an item of ``specs``)."""
    props: S = {
        "endpointSelector": LABEL_SELECTOR,
        "ingress": _arr(INGRESS_RULE),
        "ingressDeny": _arr(INGRESS_DENY_RULE),
        "egress": _arr(EGRESS_RULE),
        "egressDeny": _arr(EGRESS_DENY_RULE),
        "labels": _arr(_obj({"key": dict(STRING), "value": dict(STRING), "source": dict(STRING)}, ["key"])),
        "description": dict(STRING),
        "enableDefaultDeny": _obj({"ingress": {"type": "boolean"}, "egress": {"type": "boolean"}}),
        "log": _obj({"value": {"type": "string", "maxLength": 32}}),
    }
    rule: S = {"type": "object", "properties": props,
               "anyOf": [{"required": ["ingress"]}, {"required": ["ingressDeny"]},
                         {"required": ["egress"]}, {"required": ["egressDeny"]}]}
    if clusterwide:
        props["nodeSelector"] = LABEL_SELECTOR
        rule["oneOf"] = [{"required": ["endpointSelector"]}, {"required": ["nodeSelector"]}]
    else:
        rule["required"] = ["endpointSelector"]
    return copy.deepcopy(rule)


def crd_schema(kind: str) -> S:
    """The structural ``openAPIV3Schema`` for ``kind`` (CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy)."""
    rule = rule_schema(kind == "CiliumClusterwideNetworkPolicy")
    return {
        "type": "object",
        "description": f"{kind} (cilium.io/v2) rules, structural schema written by ai-infra-ops from Cilium's policy API.",
        "properties": {
            "apiVersion": dict(STRING),
            "kind": dict(STRING),
            "metadata": {"type": "object"},
            "spec": rule,
            "specs": _arr(copy.deepcopy(rule)),
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }


def _close(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _close(v) for k, v in node.items()}
        if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close(v) for v in node]
    return node


def json_schema(kind: str) -> S:
    """A JSON Schema (draft 2020-12) for a whole ``kind`` object; unknown fields are errors."""
    schema: S = _close(crd_schema(kind))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    props = schema["properties"]
    props["apiVersion"] = {"const": "cilium.io/v2"}
    props["kind"] = {"const": kind}
    meta_props: S = {"name": {"type": "string", "maxLength": 253,
                              "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"},
                     "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                     "annotations": {"type": "object", "additionalProperties": {"type": "string"}}}
    if kind == "CiliumNetworkPolicy":
        meta_props["namespace"] = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
    props["metadata"] = {"type": "object", "properties": meta_props, "required": ["name"]}
    schema["required"] = ["apiVersion", "kind", "metadata"]
    schema["anyOf"] = [{"required": ["spec"]}, {"required": ["specs"]}]
    return schema


_JUNCTORS = ("anyOf", "oneOf", "allOf", "not")
_TYPED_KEYS = ("type", "properties", "items", "additionalProperties", "description", "default", "nullable")


def structural_problems(schema: S, path: str = "") -> list[str]:
    """Violations of Kubernetes' structural-schema rules (apiextensions: pkg/apiserver/schema/structural.go).

    Checked: every node with ``properties``/``items`` (and every leaf) has a ``type`` unless it is
    int-or-string or preserve-unknown-fields; ``anyOf``/``oneOf``/``allOf``/``not`` branches carry
    no ``type``/``properties``/``items``/``description``/``default``/``nullable``;
    ``additionalProperties`` and ``properties`` are not both set.
    """
    out: list[str] = []
    here = path or "<root>"
    int_or_string = schema.get("x-kubernetes-int-or-string")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    if "type" not in schema and not int_or_string and not preserve:
        out.append(f"{here}: missing type")
    if "properties" in schema and "additionalProperties" in schema:
        out.append(f"{here}: properties and additionalProperties are mutually exclusive")
    for j in _JUNCTORS:
        branches = schema.get(j)
        if branches is None:
            continue
        for i, b in enumerate(branches if isinstance(branches, list) else [branches]):
            bad = [k for k in _TYPED_KEYS if k in b and not (int_or_string and k == "type")]
            if bad:
                out.append(f"{here}.{j}[{i}]: may not set {', '.join(bad)} inside {j}")
    for name, sub in (schema.get("properties") or {}).items():
        out.extend(structural_problems(sub, f"{path}.{name}" if path else name))
    if isinstance(schema.get("items"), dict):
        out.extend(structural_problems(schema["items"], f"{path}[]"))
    if isinstance(schema.get("additionalProperties"), dict):
        out.extend(structural_problems(schema["additionalProperties"], f"{path}{{}}"))
    return out


def crd(kind: str) -> S:
    """The CustomResourceDefinition (apiextensions.k8s.io/v1) of ``kind`` with :func:`crd_schema`."""
    clusterwide = kind == "CiliumClusterwideNetworkPolicy"
    plural = "ciliumclusterwidenetworkpolicies" if clusterwide else "ciliumnetworkpolicies"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.cilium.io"},
        "spec": {
            "group": "cilium.io",
            "names": {
                "kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(),
                "shortNames": ["ccnp"] if clusterwide else ["cnp", "ciliumnp"],
                "categories": ["cilium", "ciliumpolicy"],
            },
            "scope": "Cluster" if clusterwide else "Namespaced",
            "versions": [{
                "name": "v2", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": crd_schema(kind)},
                "subresources": {"status": {}},
            }],
        },
    }
