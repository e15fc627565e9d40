"""Golden compact/table/dict output (printer.go) for real samples and the reference §6 examples."""
from __future__ import annotations

import io

import pytest
from hubble_fixtures import SAMPLES, client, coredns, make_builder, server

from ai_infra_ops.hubble.flow import Peer, PolicyOutcome
from ai_infra_ops.hubble.printers import PrintOptions, compact_line, print_flows, tabwrite
from ai_infra_ops.hubble.reader import load_flows

TEN = load_flows(SAMPLES / "hubble-otel-basic-sample-10-flows.json")
HTTP = load_flows(SAMPLES / "hubble-otel-basic-sample-5-http-flows.json")
DNS = load_flows(SAMPLES / "hubble-otel-basic-sample-5-dns-flows.json")


@pytest.mark.parametrize(
    ("flow", "line"),
    [
        (TEN[0], "Jun 16 16:52:13.136: bookinfo/reviews-v1-545db77b95-s6jb8:15020 (ID:25339) <> 10.0.2.1:42044 (host) "
                 "to-stack FORWARDED (TCP Flags: ACK, FIN)"),
        (TEN[1], "Jun 16 16:52:13.136: 10.0.2.1:42044 (host) <> bookinfo/reviews-v1-545db77b95-s6jb8:15020 (ID:25339) "
                 "to-endpoint FORWARDED (TCP Flags: ACK, FIN)"),
        (HTTP[0], "Oct  4 14:28:38.735: istio-system/prometheus-6655946b9f-6xcpf:48532 (ID:16781) -> 10.128.0.4:9990 "
                  "(world) http-request FORWARDED (HTTP/1.1 GET http://10.128.0.4:9990/metrics)"),
        (DNS[1], "Oct  4 11:22:26.593: kube-system/node-local-dns-88zrp:59102 (ID:1563) <- "
                 "kube-system/kube-dns-b4f5c58c7-vnx5s:53 (ID:796) dns-response proxy FORWARDED (DNS Answer RCode: "
                 "Non-Existent Domain TTL: 4294967295 (Proxy istiod-istio-1611.istio-system.svc.istio-system.svc."
                 "cluster.local. A))"),
    ],
)
def test_compact_samples(flow: dict, line: str) -> None:
    assert compact_line(flow) == line + "\n"


def test_reference_examples_compact() -> None:
    # hubble-flows.md §6.1, §6.2, §6.5 (times from the builder's fixed clock, 2025-06-03T09:41:07.482Z)
    pol = ({"name": "server-ingress", "namespace": "demo", "labels": [], "revision": "14", "kind": "CiliumNetworkPolicy"},)
    b = make_builder()
    allowed = b.connection(client(), server(), dport=8080, sport=51842, ingress=PolicyOutcome("ALLOW", match_type=2, policies=pol))
    assert compact_line(allowed[1]) == ("Jun  3 09:41:07.482: demo/client:51842 (ID:48312) -> demo/server:8080 (ID:21001) "
                                        "policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: SYN)\n")
    assert compact_line(allowed[2]) == ("Jun  3 09:41:07.482: demo/client:51842 (ID:48312) -> demo/server:8080 (ID:21001) "
                                        "to-endpoint FORWARDED (TCP Flags: SYN)\n")
    assert compact_line(allowed[3]) == ("Jun  3 09:41:07.482: demo/client:51842 (ID:48312) <- demo/server:8080 (ID:21001) "
                                        "to-overlay FORWARDED (TCP Flags: SYN, ACK)\n")
    denied = make_builder().connection(client(), Peer.world("8.8.8.8"), protocol="ICMP", egress=PolicyOutcome("DENY", 133))
    assert [compact_line(f) for f in denied] == [
        "Jun  3 09:41:07.482: demo/client (ID:48312) <> 8.8.8.8 (world) policy-verdict:none EGRESS DENIED (ICMPv4 EchoRequest)\n",
        "Jun  3 09:41:07.482: demo/client (ID:48312) <> 8.8.8.8 (world) Policy denied DROPPED (ICMPv4 EchoRequest)\n",
    ]
    dns = make_builder().dns(client(), coredns(), query="api.example.com", ips=["203.0.113.10"], ttl=30)
    assert compact_line(dns[2]).endswith(
        "demo/client:%d (ID:48312) -> kube-system/coredns-7c65d6cfc9-q8m2z:53 (ID:1921) dns-request proxy FORWARDED "
        "(DNS Query api.example.com. A)\n" % dns[2]["l4"]["UDP"]["source_port"])
    assert 'dns-response proxy FORWARDED (DNS Answer "203.0.113.10" TTL: 30 (Proxy api.example.com. A))' in compact_line(dns[3])


def test_node_name_and_ip_translation() -> None:
    opts = PrintOptions(node_name=True, ip_translation=False)
    assert compact_line(HTTP[0], opts).startswith(
        "Oct  4 14:28:38.735 [gke-ilya-otel-demo-2-ilya-otel-demo-2-dac8cc20-hr0z]: 10.156.2.7:48532 (ID:16781) -> ")


def test_table_golden() -> None:
    out = io.StringIO()
    assert print_flows(HTTP[3:5], out, "table") == 2
    assert out.getvalue() == (
        "TIMESTAMP             SOURCE                                  DESTINATION                                      "
        "TYPE            VERDICT     SUMMARY\n"
        "Oct  4 14:28:40.808   kube-system/node-local-dns-r99x7:9253   istio-system/prometheus-6655946b9f-6xcpf:57468   "
        "http-response   FORWARDED   HTTP/1.1 503 999ms (GET http://10.156.1.2:9253/metrics)\n"
        "Oct  4 14:28:41.706   kube-system/node-local-dns-6jnx9:9253   istio-system/prometheus-6655946b9f-6xcpf:52506   "
        "http-response   FORWARDED   HTTP/1.1 503 4138ms (GET http://10.156.0.2:9253/metrics)\n"
    )


def test_tabwriter() -> None:
    assert tabwrite([["A", "BB", "x"], ["CCC", "D", "y"]]) == "A     BB   x\nCCC   D    y\n"


def test_dict_golden() -> None:
    out = io.StringIO()
    print_flows(DNS[:2], out, "dict")
    assert out.getvalue().splitlines()[:8] == [
        "  TIMESTAMP: Oct  4 11:22:26.592",
        "     SOURCE: kube-system/node-local-dns-88zrp:59102",
        "DESTINATION: kube-system/kube-dns-b4f5c58c7-vnx5s:53",
        "       TYPE: dns-request proxy",
        "    VERDICT: FORWARDED",
        "    SUMMARY: DNS Query istiod-istio-1611.istio-system.svc.istio-system.svc.cluster.local. A",
        "------------",
        "  TIMESTAMP: Oct  4 11:22:26.593",
    ]


@pytest.mark.parametrize("fmt", ["json", "jsonpb"])
def test_json_output_is_the_input(fmt: str) -> None:
    out = io.StringIO()
    print_flows(TEN, out, fmt)
    assert out.getvalue() == (SAMPLES / "hubble-otel-basic-sample-10-flows.json").read_text()
