"""Zero-trust intents: Cilium DNS matchPattern semantics, DNS rules, C2C CIDRs, gRPC paths."""
from __future__ import annotations

import pytest

from ai_infra_ops.spec import default_spec, spec_from_text
from ai_infra_ops.spec.zero_trust import fqdn_pattern_matches

ZT = default_spec().zero_trust


# cilium/cilium: pkg/fqdn/matchpattern (and ../shared/reference/cilium-policy.md §6)
@pytest.mark.parametrize("pattern, name, matches", [
    ("*", "anything.example.com", True),
    ("*", "a", True),
    ("*.cilium.io", "a.cilium.io", True),
    ("*.cilium.io", "cilium.io", False),
    ("*.cilium.io", "a.b.cilium.io", False),
    ("sub*.cilium.io", "subdomain.cilium.io", True),
    ("sub*.cilium.io", "other.cilium.io", False),
    ("*cilium.io", "cilium.io", True),
    ("*cilium.io", "subcilium.io", True),
    ("**.cilium.io", "a.cilium.io", True),
    ("**.cilium.io", "a.b.cilium.io", True),
    ("**.cilium.io", "cilium.io", False),
    ("**.cluster.local", "api.openai.com.gpu.svc.cluster.local", True),
    ("**.cluster.local", "model-server.gpu.svc.cluster.local.", True),
    ("*.CILIUM.io", "A.cilium.IO", True),
    ("api.openai.com", "api.openai.com", True),
    ("api.openai.com", "api-openai.com", False),
])
def test_match_pattern(pattern: str, name: str, matches: bool) -> None:
    assert fqdn_pattern_matches(pattern, name) is matches


@pytest.mark.parametrize("name, allowed", [
    ("kube-dns.kube-system.svc.cluster.local", True),
    ("api.openai.com", True),
    ("huggingface.co", True),
    ("cdn.huggingface.co", False),
    ("c2.evil.example", False),
    ("aGVsbG8gd29ybGQ.exfil.example.net", False),
    ("dns.google", False),
])
def test_default_dns_allow_list(name: str, allowed: bool) -> None:
    assert ZT.dns_allows(name) is allowed


def test_default_dns_rules_and_c2c_cidrs() -> None:
    assert ZT.dns_rules() == [{"matchPattern": "**.cluster.local"}, {"matchName": "api.openai.com"}, {"matchName": "huggingface.co"}]
    assert ZT.c2c_deny_cidrs(default_spec().world.dns) == ["198.51.100.0/24", "203.0.113.66/32"]
    assert ZT.c2c_deny_cidrs({"c2.evil.example": ["192.0.2.99"]}) == ["192.0.2.99/32", "198.51.100.0/24", "203.0.113.66/32"]


@pytest.mark.parametrize("text, check", [
    ("zeroTrust:\n  egressAllow:\n    - pattern: '*.hf.co'\n", lambda z: z.egress_allow[0].dns_rule == {"matchPattern": "*.hf.co"} and z.egress_allow[0].ports == [443]),
    ("zeroTrust:\n  egressAllow:\n    - fqdn: API.Example.com.\n", lambda z: z.egress_allow[0].fqdn == "api.example.com"),
    ("zeroTrust:\n  c2cDeny: {cidrs: [203.0.113.7], fqdns: []}\n", lambda z: z.c2c_deny.cidrs == ["203.0.113.7/32"]),
    ("zeroTrust:\n  allowIntraNamespace: true\n  kubeletProtection: false\n", lambda z: z.allow_intra_namespace and not z.kubelet_protection),
    ("zeroTrust:\n  grpcAllow: []\n", lambda z: z.grpc_allow == [] and len(z.http_allow) == 1),
])
def test_intent_variants(text: str, check) -> None:
    assert check(spec_from_text(text, "p.yaml").zero_trust)


def test_grpc_and_http_intents() -> None:
    assert ZT.grpc_allow[0].paths() == ["/inference.v1.Predictor/Predict", "/inference.v1.Predictor/ModelInfo"]
    assert [(r.method, r.path) for r in ZT.http_allow[0].rules] == [("POST", "/v1/predict"), ("GET", "/v1/models"), ("GET", "/healthz")]
    assert ZT.http_allow[0].from_ == {"app": "inference-client"}
