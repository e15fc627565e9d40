"""Policy validation: each invalid construct is rejected with Cilium's (or the API server's)
wording, naming the policy and the field; valid policies in the same batch are still enforced."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.policy import parse_policies


def cnp(spec: dict[str, Any], name: str = "p", kind: str = "CiliumNetworkPolicy") -> dict[str, Any]:
    meta = {"name": name, "namespace": "demo"} if kind != "CiliumClusterwideNetworkPolicy" else {"name": name}
    return {"apiVersion": "cilium.io/v2", "kind": kind, "metadata": meta, "spec": spec}


ES = {"matchLabels": {"app": "server"}}
CASES = [
    ("bad-operator", cnp({"endpointSelector": {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]}, "ingress": [{}]}),
     "spec.endpointSelector", '"Equals" is not a valid label selector operator'),
    ("malformed-cidr", cnp({"endpointSelector": ES, "egress": [{"toCIDR": ["10.0.0.300/8"]}]}), "spec.egress[0].toCIDR[0]", "unable to parse CIDR"),
    ("malformed-cidrset", cnp({"endpointSelector": ES, "egress": [{"toCIDRSet": [{"cidr": "10.0.0/8"}]}]}), "spec.egress[0].toCIDRSet[0].cidr", "Unable to parse CIDRRule"),
    ("except-outside", cnp({"endpointSelector": ES, "egress": [{"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}]}]}),
     "spec.egress[0].toCIDRSet[0].except[0]", "allow CIDR prefix 10.0.0.0/8 does not contain exclude CIDR prefix 11.0.0.0/8"),
    ("port-too-big", cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": "70000"}]}]}]}),
     "spec.ingress[0].toPorts[0].ports[0]", 'parsing "70000": value out of range'),
    ("endport-lt-port", cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": "8080", "endPort": 80}]}]}]}),
     "spec.ingress[0].toPorts[0].ports[0].endPort", "must be greater than or equal to port"),
    ("unknown-entity", cnp({"endpointSelector": ES, "ingress": [{"fromEntities": ["galaxy"]}]}), "spec.ingress[0].fromEntities[0]", "unsupported entity: galaxy"),
    ("l7-on-udp", cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "UDP"}], "rules": {"http": [{}]}}]}]}),
     "spec.ingress[0].toPorts[0].ports[0]", "L7 rules can only apply to TCP (not UDP) except for DNS rules"),
    ("l7-on-any", cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": "80"}], "rules": {"http": [{}]}}]}]}),
     "spec.ingress[0].toPorts[0].ports[0]", "L7 rules can only apply to TCP (not ANY)"),
    ("bad-path-regex", cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"path": "/a[b"}]}}]}]}),
     "spec.ingress[0].toPorts[0].rules.http[0].path", "error parsing regexp: missing closing ]: `/a[b`"),
    ("both-selectors", cnp({"endpointSelector": ES, "nodeSelector": {}, "ingress": [{}]}, kind="CiliumClusterwideNetworkPolicy"),
     "spec", "rule cannot have both EndpointSelector and NodeSelector"),
    ("no-selector", cnp({"ingress": [{}]}), "spec", "rule must have one of EndpointSelector or NodeSelector"),
    ("two-l3-kinds", cnp({"endpointSelector": ES, "egress": [{"toEndpoints": [{}], "toCIDR": ["1.1.1.1"]}]}),
     "spec.egress[0]", "Combining ToCIDR and ToEndpoints is not supported yet"),
    ("icmps-with-toports", cnp({"endpointSelector": ES, "ingress": [{"icmps": [{"fields": [{"type": 8}]}], "toPorts": [{"ports": [{"port": "80"}]}]}]}),
     "spec.ingress[0]", "The ICMPs block may only be present without ToPorts"),
    ("dns-on-ingress", cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}], "rules": {"dns": [{"matchPattern": "*"}]}}]}]}),
     "spec.ingress[0].toPorts[0].rules.dns", "L7 protocol DNS is not supported on ingress yet"),
    ("deny-with-l7", cnp({"endpointSelector": ES, "ingressDeny": [{"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{}]}}]}]}),
     "spec.ingressDeny[0].toPorts[0].rules", "deny rules cannot have L7 rules"),
    ("deny-with-fqdn", cnp({"endpointSelector": ES, "egressDeny": [{"toFQDNs": [{"matchName": "x.com"}]}]}), "spec.egressDeny[0].toFQDNs", 'unknown field "toFQDNs"'),
    ("from-requires", cnp({"endpointSelector": ES, "ingress": [{"fromRequires": [{"matchLabels": {"a": "b"}}]}]}),
     "spec.ingress[0].fromRequires", "removed in Cilium 1.19"),
    ("l7-port-zero", cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": "0", "protocol": "TCP"}], "rules": {"http": [{}]}}]}]}),
     "spec.ingress[0].toPorts[0].rules", "L7 rules can not be used when a port is 0"),
    ("dns-port-range", cnp({"endpointSelector": ES, "egress": [{"toPorts": [{"ports": [{"port": "53", "endPort": 60, "protocol": "UDP"}], "rules": {"dns": [{"matchPattern": "*"}]}}]}]}),
     "spec.egress[0].toPorts[0].ports[0]", "DNS rules do not support port ranges"),
    ("bad-protocol", cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "XTP"}]}]}]}),
     "spec.ingress[0].toPorts[0].ports[0]", 'invalid protocol "XTP"'),
    ("host-policy-l7", cnp({"nodeSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{}]}}]}]}, kind="CiliumClusterwideNetworkPolicy"),
     "spec.ingress[0].toPorts[0].rules", "host policies do not support L7 rules yet"),
    ("knp-endport", {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "demo"},
                     "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 90, "endPort": 80}]}]}},
     "spec.ingress[0].ports[0].endPort", "must be greater than or equal to `port`"),
    ("knp-bad-ipblock", {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "demo"},
                         "spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0"}}]}], "policyTypes": ["Egress"]}},
     "spec.egress[0].to[0].ipBlock.cidr", "must be a valid CIDR value"),
]


@pytest.mark.parametrize(("obj", "field", "reason"), [pytest.param(o, f, r, id=i) for i, o, f, r in CASES])
def test_invalid_policy_rejected(obj: dict[str, Any], field: str, reason: str) -> None:
    rules, errors = parse_policies([obj])
    assert rules == []
    assert len(errors) == 1
    err = errors[0]
    assert err.location.field == field, str(err)
    assert reason in err.message, str(err)
    assert err.message.startswith(f"{obj['kind']} ")  # names the policy
    assert err.exit_code == 2


def test_mixed_batch_rejects_only_invalid() -> None:
    good = cnp({"endpointSelector": ES, "ingress": [{"fromEndpoints": [{}]}]}, name="good")
    bad = cnp({"endpointSelector": ES, "ingress": [{"fromEntities": ["nope"]}]}, name="bad")
    rules, errors = parse_policies([good, bad])
    assert [r.policy.name for r in rules] == ["good"]
    assert [e.message.split(":")[0] for e in errors] == ["CiliumNetworkPolicy demo/bad"]


@pytest.mark.parametrize(("port", "ok"), [pytest.param("http-8080", True, id="named"), pytest.param("65535", True, id="max"),
                                          pytest.param("0x1F90", True, id="go-base-prefix-is-a-name"), pytest.param("-1", False, id="negative")])
def test_port_forms(port: str, ok: bool) -> None:
    _, errors = parse_policies([cnp({"endpointSelector": ES, "ingress": [{"toPorts": [{"ports": [{"port": port}]}]}]})])
    assert (not errors) == ok
