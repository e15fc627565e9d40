"""Prometheus text for flows (pkg/hubble/metrics/*/handler.go, client_golang text format)."""
from __future__ import annotations

import pytest
from hubble_fixtures import SAMPLES, client, coredns, make_builder, server

from ai_infra_ops.hubble.flow import PolicyOutcome
from ai_infra_ops.hubble.metrics import go_float, render_metrics
from ai_infra_ops.hubble.reader import load_flows


def test_samples_golden() -> None:
    flows = [f for p in sorted(SAMPLES.glob("*.json")) for f in load_flows(p)]
    assert render_metrics(flows) == """\
# HELP hubble_dns_queries_total Number of DNS queries observed
# TYPE hubble_dns_queries_total counter
hubble_dns_queries_total{ips_returned="0",qtypes="A",rcode=""} 3
# HELP hubble_dns_responses_total Number of DNS queries observed
# TYPE hubble_dns_responses_total counter
hubble_dns_responses_total{ips_returned="0",qtypes="A",rcode="Non-Existent Domain"} 2
# HELP hubble_flows_processed_total Total number of flows processed
# TYPE hubble_flows_processed_total counter
hubble_flows_processed_total{protocol="DNS",subtype="DNS",type="L7",verdict="FORWARDED"} 5
hubble_flows_processed_total{protocol="HTTP",subtype="HTTP",type="L7",verdict="FORWARDED"} 5
hubble_flows_processed_total{protocol="TCP",subtype="to-endpoint",type="Trace",verdict="FORWARDED"} 5
hubble_flows_processed_total{protocol="TCP",subtype="to-stack",type="Trace",verdict="FORWARDED"} 5
# HELP hubble_http_requests_total Count of HTTP requests
# TYPE hubble_http_requests_total counter
hubble_http_requests_total{method="GET",protocol="HTTP/1.1",reporter="client"} 3
# HELP hubble_http_responses_total Count of HTTP responses
# TYPE hubble_http_responses_total counter
hubble_http_responses_total{method="GET",protocol="HTTP/1.1",reporter="client",status="503"} 2
# HELP hubble_policy_verdicts_total Total number of Cilium network policy verdicts
# TYPE hubble_policy_verdicts_total counter
hubble_policy_verdicts_total{action="forwarded",direction="egress",match="l7/dns"} 5
hubble_policy_verdicts_total{action="forwarded",direction="egress",match="l7/http"} 5
"""


def test_drops_policy_and_dns_denials() -> None:
    b = make_builder()
    flows = (b.connection(client(), server(), dport=80, ingress=PolicyOutcome("DENY", 181), retries=1)
             + b.dns(client(), coredns(), query="evil.example", allowed=False)
             + b.http(client(), server(), dport=8080, ingress=PolicyOutcome("REDIRECT", match_type=3, proxy_port=1),
                      l7_allowed=False))
    text = render_metrics(flows)
    assert 'hubble_drop_total{protocol="TCP",reason="POLICY_DENY"} 4' in text  # 2 policy-verdicts + 2 drops
    assert 'hubble_drop_total{protocol="DNS",reason="DROP_REASON_UNKNOWN"} 1' in text
    assert 'hubble_drop_total{protocol="HTTP",reason="DROP_REASON_UNKNOWN"} 1' in text
    assert 'hubble_dns_queries_total{ips_returned="0",qtypes="A",rcode="Policy denied"} 1' in text
    assert 'hubble_policy_verdicts_total{action="dropped",direction="ingress",match="none"} 2' in text
    assert 'hubble_policy_verdicts_total{action="redirected",direction="ingress",match="l4-only"} 1' in text
    assert 'hubble_http_responses_total{method="GET",protocol="HTTP/1.1",reporter="server",status="403"} 1' in text
    assert 'hubble_flows_processed_total{protocol="TCP",subtype="",type="Drop",verdict="DROPPED"} 2' in text


def test_empty() -> None:
    assert render_metrics([]) == ""


@pytest.mark.parametrize(("value", "text"), [(1, "1"), (999999, "999999"), (1_000_000, "1e+06"), (1_234_567, "1.234567e+06"),
                                             (0, "0"), (0.5, "0.5")])
def test_go_float(value: float, text: str) -> None:
    assert go_float(value) == text
