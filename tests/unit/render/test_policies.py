"""Zero trust from intents: the generated CiliumNetworkPolicies, their schema, the engine's view of them."""
from __future__ import annotations

from typing import Any

import pytest

from ai_infra_ops.errors import SpecError
from ai_infra_ops.policy import parse_policies
from ai_infra_ops.render.policies import KUBE_DNS_SELECTOR, render_policies
from ai_infra_ops.render.validation import validate_object
from ai_infra_ops.spec import default_spec, spec_from_data

SPEC = default_spec()
POLICIES = render_policies(SPEC)
BY_NAME = {p["metadata"]["name"]: p for p in POLICIES}


def _with_zero_trust(**changes: Any) -> Any:
    """The default spec with zero-trust fields replaced, bypassing the spec's own checks (to test
    render's defensive errors for inputs the spec checks would normally stop)."""
    zt = SPEC.zero_trust.model_copy(update=changes)
    return SPEC.model_copy(update={"zero_trust": zt})


class _HostFirewallCni:
    def __init__(self, cni: Any) -> None:
        self._cni = cni
        self.host_firewall = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cni, name)


def test_policy_names_and_order() -> None:
    assert list(BY_NAME) == [
        "zt-default-deny", "zt-allow-dns", "zt-egress-fqdns", "zt-c2c-deny", "zt-kubelet-deny",
        "zt-fake-gpu-operator-apiserver",
        "zt-grpc-inference-gateway-to-model-server-ingress", "zt-grpc-inference-gateway-to-model-server-egress",
        "zt-http-inference-client-to-inference-gateway-ingress", "zt-http-inference-client-to-inference-gateway-egress",
    ]
    assert all(p["metadata"]["namespace"] == "gpu" and p["kind"] == "CiliumNetworkPolicy" for p in POLICIES)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p["metadata"]["name"])
def test_every_policy_validates_and_the_engine_accepts_it(policy: dict[str, Any]) -> None:
    assert validate_object(policy) == []
    _rules, errors = parse_policies([policy])
    assert errors == []


def test_default_deny_both_directions() -> None:
    spec = BY_NAME["zt-default-deny"]["spec"]
    assert spec["endpointSelector"] == {} and spec["ingress"] == [{}] and spec["egress"] == [{}]


def test_dns_goes_to_kube_system_with_l7_rules_and_without_c2c_names() -> None:
    egress = BY_NAME["zt-allow-dns"]["spec"]["egress"]
    assert egress[0]["toEndpoints"] == [KUBE_DNS_SELECTOR]
    assert KUBE_DNS_SELECTOR["matchLabels"]["k8s:io.kubernetes.pod.namespace"] == "kube-system"
    port_rule = egress[0]["toPorts"][0]
    assert port_rule["ports"] == [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}]
    dns = port_rule["rules"]["dns"]
    assert {"matchName": "api.openai.com"} in dns and {"matchPattern": "**.cluster.local"} in dns
    assert not any(r.get("matchName") == "c2.evil.example" for r in dns)


def test_c2c_deny_resolves_fqdns_from_world_dns() -> None:
    p = BY_NAME["zt-c2c-deny"]["spec"]
    assert p["egressDeny"] == [{"toCIDRSet": [{"cidr": "198.51.100.0/24"}, {"cidr": "203.0.113.66/32"}]}]
    assert "c2.evil.example -> 203.0.113.66/32" in p["description"]
    assert "cannot use toFQDNs" in p["description"]


def test_egress_only_to_allow_listed_fqdns_on_443() -> None:
    assert BY_NAME["zt-egress-fqdns"]["spec"]["egress"] == [{
        "toFQDNs": [{"matchName": "api.openai.com"}, {"matchName": "huggingface.co"}],
        "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
    }]


def test_grpc_allow_list_per_method_on_both_sides() -> None:
    ing = BY_NAME["zt-grpc-inference-gateway-to-model-server-ingress"]["spec"]
    eg = BY_NAME["zt-grpc-inference-gateway-to-model-server-egress"]["spec"]
    assert ing["endpointSelector"] == {"matchLabels": {"app": "model-server"}}
    assert ing["ingress"][0]["fromEndpoints"] == [{"matchLabels": {"app": "inference-gateway"}}]
    rules = ing["ingress"][0]["toPorts"][0]["rules"]["http"]
    assert rules == [{"method": "POST", "path": r"/inference\.v1\.Predictor/Predict"},
                     {"method": "POST", "path": r"/inference\.v1\.Predictor/ModelInfo"}]
    assert eg["egress"][0]["toPorts"][0]["rules"]["http"] == rules
    assert ing["ingress"][0]["toPorts"][0]["ports"] == [{"port": "50051", "protocol": "TCP"}]


@pytest.mark.parametrize("host_firewall", [False, True], ids=["pod-side-deny", "host-firewall-ccnp"])
def test_kubelet_protection(host_firewall: bool) -> None:
    spec = SPEC.model_copy(update={"cni": _HostFirewallCni(SPEC.cni)}) if host_firewall else SPEC
    pols = {p["metadata"]["name"]: p for p in render_policies(spec)}
    if host_firewall:
        ccnp = pols["zt-kubelet-host-firewall"]
        assert "zt-kubelet-deny" not in pols
        assert ccnp["kind"] == "CiliumClusterwideNetworkPolicy" and "namespace" not in ccnp["metadata"]
        assert ccnp["spec"]["nodeSelector"] == {}
        assert ccnp["spec"]["enableDefaultDeny"] == {"ingress": False, "egress": False}
        assert validate_object(ccnp) == []
        assert parse_policies([ccnp])[1] == []
    else:
        deny = pols["zt-kubelet-deny"]["spec"]["egressDeny"][0]
        assert deny["toEntities"] == ["host", "remote-node"]
        assert deny["toPorts"] == [{"ports": [{"port": "10250", "protocol": "TCP"}]}]


@pytest.mark.parametrize("data,present,absent", [
    ({"zeroTrust": {"allowIntraNamespace": True}}, ["zt-allow-intra-namespace"], []),
    ({"zeroTrust": {"kubeletProtection": False}}, [], ["zt-kubelet-deny"]),
    ({"zeroTrust": {"egressAllow": []}}, [], ["zt-egress-fqdns"]),
    ({"zeroTrust": {"c2cDeny": {"cidrs": [], "fqdns": []}}}, [], ["zt-c2c-deny"]),
    ({"fakeGpuOperator": {"enabled": False}}, [], ["zt-fake-gpu-operator-apiserver"]),
], ids=["intra-namespace", "no-kubelet", "no-egress", "no-c2c", "no-operator"])
def test_intents_switch_policies(data: dict[str, Any], present: list[str], absent: list[str]) -> None:
    names = [p["metadata"]["name"] for p in render_policies(spec_from_data(data))]
    assert all(n in names for n in present) and not any(n in names for n in absent)


def test_disabled_zero_trust_renders_nothing() -> None:
    assert render_policies(spec_from_data({"zeroTrust": {"enabled": False}})) == []


@pytest.mark.parametrize("changes,field", [
    ({"c2c_deny": SPEC.zero_trust.c2c_deny.model_copy(update={"fqdns": ["unknown.evil.example"]})},
     "zeroTrust.c2cDeny.fqdns[0]"),
    ({"dns_allow": ["*.evil.example"]}, "zeroTrust.c2cDeny.fqdns[0]"),
], ids=["c2c-name-unresolvable", "dns-pattern-covers-c2c"])
def test_contradictory_intents_are_spec_errors(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as exc:
        render_policies(_with_zero_trust(**changes))
    assert exc.value.location.field == field
