"""FlowBuilder sequences: which events, in which order, with which fields (reference §3.4, §6)."""
from __future__ import annotations

from typing import Any

import pytest
from hubble_fixtures import client, coredns, make_builder, server

from ai_infra_ops.hubble.flow import FlowBuilder, Peer, PolicyOutcome, flow_to_json_line
from ai_infra_ops.hubble.printers import flow_type

POL = ({"name": "server-ingress", "namespace": "demo",
        "labels": ["k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy"], "revision": "14",
        "kind": "CiliumNetworkPolicy"},)
ALLOW = PolicyOutcome("ALLOW", match_type=2, policies=POL)
REDIRECT = PolicyOutcome("REDIRECT", match_type=2, policies=POL, proxy_port=15001)


def shape(flows: list[dict[str, Any]]) -> list[tuple[str, str, str, Any]]:
    """(node, type column, verdict, is_reply) per flow."""
    return [(f["node_name"], flow_type(f), f["verdict"], f.get("is_reply")) for f in flows]


def test_tcp_allowed_cross_node_handshake(builder: FlowBuilder) -> None:
    flows = builder.connection(client(), server(), dport=8080, egress=ALLOW, ingress=ALLOW, data=False)
    assert shape(flows) == [
        ("default/node01", "policy-verdict:L3-L4 EGRESS", "FORWARDED", False),
        ("default/node01", "to-overlay", "FORWARDED", False),
        ("default/node02", "policy-verdict:L3-L4 INGRESS", "FORWARDED", False),
        ("default/node02", "to-endpoint", "FORWARDED", False),
        ("default/node02", "to-overlay", "FORWARDED", True),
        ("default/node01", "to-endpoint", "FORWARDED", True),
        ("default/node01", "to-overlay", "FORWARDED", False),
        ("default/node02", "to-endpoint", "FORWARDED", False),
        ("default/node01", "to-overlay", "FORWARDED", False),
        ("default/node02", "to-endpoint", "FORWARDED", False),
        ("default/node02", "to-overlay", "FORWARDED", True),
        ("default/node01", "to-endpoint", "FORWARDED", True),
    ]
    # The closing bare ACK adds no flag to its direction: no trace under the default monitor
    # aggregation (bpf/lib/conntrack.h __ct_update_timeout; real captures end at the FINs).
    assert [f["Summary"] for f in flows[3:]] == [
        "TCP Flags: SYN", "TCP Flags: SYN, ACK", "TCP Flags: SYN, ACK", "TCP Flags: ACK", "TCP Flags: ACK",
        "TCP Flags: ACK, FIN", "TCP Flags: ACK, FIN", "TCP Flags: ACK, FIN", "TCP Flags: ACK, FIN"]
    # direction: (packet source is the emitting endpoint) XOR reply
    assert [f["traffic_direction"] for f in flows[3:6]] == ["INGRESS", "INGRESS", "EGRESS"]
    # endpoint IDs only on the endpoint's own node
    assert "ID" in flows[0]["source"] and "ID" not in flows[0]["destination"]
    assert "ID" not in flows[2]["source"] and flows[2]["destination"]["ID"] == 602
    assert flows[2]["ingress_allowed_by"] == list(POL)
    assert flows[0]["egress_allowed_by"] == list(POL)
    assert flows[4]["reply"] is True and flows[4]["trace_reason"] == "REPLY"


def test_tcp_egress_denied_with_retries(builder: FlowBuilder) -> None:
    flows = builder.connection(client(), Peer.world("8.8.8.8"), dport=443, egress=PolicyOutcome("DENY", 133), retries=2)
    assert shape(flows) == [("default/node01", "policy-verdict:none EGRESS", "DROPPED", None),
                            ("default/node01", "Policy denied", "DROPPED", None)] * 3
    assert all("is_reply" not in f for f in flows)
    assert flows[1]["event_type"] == {"type": 1, "sub_type": 133}
    assert flows[1]["drop_reason_desc"] == "POLICY_DENIED" and flows[1]["drop_reason"] == 133
    assert "egress_denied_by" not in flows[0]  # default deny: no policy list


def test_ingress_denylist_has_denied_by(builder: FlowBuilder) -> None:
    flows = builder.connection(client(), server(), dport=8080, ingress=PolicyOutcome("DENY", 181, policies=POL))
    assert shape(flows) == [("default/node01", "to-overlay", "FORWARDED", False),
                            ("default/node02", "policy-verdict:none INGRESS", "DROPPED", None),
                            ("default/node02", "Policy denied by denylist", "DROPPED", None)]
    assert flows[1]["ingress_denied_by"] == list(POL)
    assert flows[2]["drop_reason_desc"] == "POLICY_DENY" and flows[2]["traffic_direction"] == "INGRESS"


def test_icmp_echo_reply_keeps_empty_message(builder: FlowBuilder) -> None:
    flows = builder.connection(client(), server("node01"), protocol="ICMP")
    assert [f["l4"] for f in flows] == [{"ICMPv4": {"type": 8}}, {"ICMPv4": {}}]
    assert [f["Summary"] for f in flows] == ["ICMPv4 EchoRequest", "ICMPv4 EchoReply"]
    assert '"l4":{"ICMPv4":{}}' in flow_to_json_line(flows[1])


@pytest.mark.parametrize(("proto", "summary"), [("UDP", "UDP"), ("SCTP", "SCTP")])
def test_udp_sctp(builder: FlowBuilder, proto: str, summary: str) -> None:
    flows = builder.connection(client(), server("node01"), protocol=proto, dport=9000, sport=40000)
    assert [f["Summary"] for f in flows] == [summary, summary]
    assert flows[0]["l4"] == {proto: {"source_port": 40000, "destination_port": 9000}}
    assert flows[1]["l4"] == {proto: {"source_port": 9000, "destination_port": 40000}}


def test_audit_is_forwarded(builder: FlowBuilder) -> None:
    flows = builder.connection(client(), server(), dport=8080, ingress=PolicyOutcome("AUDIT"), data=False)
    pv = [f for f in flows if f["event_type"]["type"] == 5]
    assert [f["verdict"] for f in pv] == ["AUDIT"] and pv[0]["is_reply"] is False
    assert not any(f["verdict"] == "DROPPED" for f in flows)


@pytest.mark.parametrize(("allowed", "verdicts", "codes"), [(True, ["FORWARDED", "FORWARDED"], [200]),
                                                          (False, ["DROPPED", "FORWARDED"], [403])])
def test_http_l7(builder: FlowBuilder, allowed: bool, verdicts: list[str], codes: list[int]) -> None:
    flows = builder.http(client(), server(), dport=8080, method="GET", path="/healthz", host="server.demo:8080",
                         ingress=REDIRECT, l7_allowed=allowed)
    types = [flow_type(f) for f in flows]
    assert types[:3] == ["to-overlay", "policy-verdict:L3-L4 INGRESS", "to-proxy"]
    assert flows[1]["verdict"] == "REDIRECTED" and flows[2]["proxy_port"] == 15001
    l7 = [f for f in flows if f["Type"] == "L7"]
    assert [f["verdict"] for f in l7] == verdicts
    assert [f["l7"]["http"].get("code") for f in l7] == [None] + codes
    assert l7[0]["Summary"] == "HTTP/1.1 GET http://server.demo:8080/healthz"
    assert l7[1]["Summary"].startswith(f"HTTP/1.1 {codes[0]} ") and l7[1]["Summary"].endswith(
        "ms (GET http://server.demo:8080/healthz)")
    assert [f["is_reply"] for f in l7] == [False, True] and l7[1]["reply"] is True
    assert l7[1]["source"]["pod_name"] == "server"
    assert "ethernet" not in l7[0] and "flags" not in l7[0]["l4"]["TCP"]
    assert [h["key"] for h in l7[0]["l7"]["http"]["headers"]] == ["Accept", "User-Agent", "X-Request-Id"]
    assert ("to-endpoint" in types) is allowed


def test_grpc_denied_is_http2_403(builder: FlowBuilder) -> None:
    flows = builder.grpc(client(), server(), dport=50051, service="pkg.Svc", method="Method", ingress=REDIRECT,
                         l7_allowed=False, host="server.demo:50051")
    l7 = [f for f in flows if f["Type"] == "L7"]
    assert l7[0]["Summary"] == "HTTP/2 POST http://server.demo:50051/pkg.Svc/Method"
    assert l7[0]["verdict"] == "DROPPED" and l7[1]["l7"]["http"]["code"] == 403


def test_dns_allowed_refused_nxdomain(builder: FlowBuilder) -> None:
    ok = builder.dns(client(), coredns(), query="One.One.One.One", ips=["1.1.1.1", "1.0.0.1"], ttl=30)
    assert [flow_type(f) for f in ok] == ["policy-verdict:L3-L4 EGRESS", "to-proxy", "dns-request proxy",
                                          "dns-response proxy"]
    assert ok[1]["traffic_direction"] == "EGRESS"
    assert ok[2]["Summary"] == "DNS Query one.one.one.one. A"
    assert ok[3]["Summary"] == 'DNS Answer "1.1.1.1,1.0.0.1" TTL: 30 (Proxy one.one.one.one. A)'
    assert ok[3]["l7"]["dns"] == {"query": "one.one.one.one.", "ips": ["1.1.1.1", "1.0.0.1"], "ttl": 30,
                                  "observation_source": "proxy", "qtypes": ["A"], "rrtypes": ["A"]}
    denied = make_builder().dns(client(), coredns(), query="evil.example", allowed=False)
    assert [f["verdict"] for f in denied][-1] == "DROPPED" and denied[-1]["l7"]["type"] == "REQUEST"
    nx = make_builder().dns(client(), coredns(), query="x.svc.cluster.local", rcode=3)
    assert nx[-1]["Summary"] == "DNS Answer RCode: Non-Existent Domain TTL: 4294967295 (Proxy x.svc.cluster.local. A)"
    assert nx[-1]["l7"]["dns"]["rcode"] == 3 and "ips" not in nx[-1]["l7"]["dns"]
    refused = make_builder().dns(client(), coredns(), query="a.example", rcode=5)
    assert "RCode: Query Refused" in refused[-1]["Summary"]


def test_deterministic_uuid_and_time() -> None:
    a = make_builder(7).connection(client(), server(), dport=80)
    b = make_builder(7).connection(client(), server(), dport=80)
    c = make_builder(8).connection(client(), server(), dport=80)
    assert a == b and a != c
    times = [f["time"] for f in a]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert len({f["uuid"] for f in a}) == len(a)


def test_remote_host_shown_as_remote_node(builder: FlowBuilder) -> None:
    flows = builder.connection(Peer.host("node02", "192.168.64.12"), server("node01"), dport=8080)
    assert flows[0]["node_name"] == "default/node02" and flows[0]["source"]["identity"] == 1
    assert flows[1]["node_name"] == "default/node01"
    assert flows[1]["source"] == {"identity": 6, "labels": ["reserved:remote-node"]}


def test_http_egress_proxy(builder: FlowBuilder) -> None:
    flows = builder.http(client(), server(), dport=8080, path="/x", egress=REDIRECT, ingress=ALLOW)
    assert [(f["node_name"][-6:], flow_type(f)) for f in flows] == [
        ("node01", "policy-verdict:L3-L4 EGRESS"),
        ("node01", "to-proxy"),
        ("node01", "http-request"),
        ("node01", "to-overlay"),
        ("node02", "policy-verdict:L3-L4 INGRESS"),
        ("node02", "to-endpoint"),
        ("node01", "http-response"),
    ]
    assert flows[1]["traffic_direction"] == "EGRESS" and flows[0]["verdict"] == "REDIRECTED"
    assert flows[2]["traffic_direction"] == "EGRESS"


def test_no_aggregation_adds_from_endpoint() -> None:
    b = FlowBuilder(seed=1, clock=lambda: 0, aggregation="none")
    flows = b.connection(client(), server(), protocol="UDP", dport=53, egress=ALLOW)
    assert [flow_type(f) for f in flows] == ["from-endpoint", "policy-verdict:L3-L4 EGRESS", "to-overlay",
                                             "to-endpoint", "from-endpoint", "to-overlay", "to-endpoint"]
