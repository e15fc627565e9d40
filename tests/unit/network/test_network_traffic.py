"""Traffic: probes through services, DNS, policy and the world, and the flows they leave."""
from __future__ import annotations

from typing import Any

import pytest
from network_fixtures import DNS_EGRESS, cnp, make_cluster, pod

from ai_infra_ops.errors import UserInputError

WORLD = {"api.example.com": ["203.0.113.10"], "evil.example.net": ["198.51.100.23"]}


def _objs() -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
        pod("demo", "client", {"app": "client"}, "node01"),
        pod("demo", "locked", {"app": "locked"}, "node01"),
        pod("demo", "server", {"app": "server"}, "node02", [{"name": "http", "containerPort": 8080}]),
        pod("demo", "grpc", {"app": "grpc"}, "node02", [{"name": "grpc", "containerPort": 9000}]),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "server", "namespace": "demo"},
         "spec": {"selector": {"app": "server"}, "ports": [{"name": "web", "port": 80, "targetPort": "http"}]}},
        cnp("demo", "server-in", {"endpointSelector": {"matchLabels": {"app": "server"}},
                                  "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "client"}}],
                                               "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]}]}),
        cnp("demo", "grpc-in", {"endpointSelector": {"matchLabels": {"app": "grpc"}},
                                "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "client"}}],
                                             "toPorts": [{"ports": [{"port": "9000", "protocol": "TCP"}],
                                                          "rules": {"http": [{"method": "POST", "path": "/pkg.Svc/Get"}]}}]}]}),
        cnp("demo", "locked-out", {"endpointSelector": {"matchLabels": {"app": "locked"}},
                                   "egress": [DNS_EGRESS, {"toFQDNs": [{"matchName": "api.example.com"}],
                                                           "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}]}),
    ]


@pytest.fixture(scope="module")
def cl() -> Any:
    return make_cluster(_objs(), world=WORLD)


def _types(flows: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(f["node_name"], f["event_type"]["type"], f["verdict"]) for f in flows]


@pytest.mark.parametrize(
    ("source", "target", "port", "proto", "extra", "verdict", "reason", "http"),
    [
        ("demo/client", "demo/server", 8080, "TCP", {}, "FORWARDED", None, None),
        ("demo/client", "svc:demo/server", 80, "TCP", {}, "FORWARDED", None, None),
        ("demo/client", "svc:demo/server", "web", "TCP", {}, "FORWARDED", None, None),
        ("demo/locked", "demo/server", 8080, "TCP", {}, "DROPPED", "POLICY_DENIED", None),
        ("demo/client", "demo/server", 9090, "TCP", {}, "DROPPED", "POLICY_DENIED", None),
        ("demo/client", "demo/grpc", 9000, "TCP", {"grpc": {"service": "pkg.Svc", "method": "Get"}}, "FORWARDED", None, 200),
        ("demo/client", "demo/grpc", 9000, "TCP", {"grpc": {"service": "pkg.Svc", "method": "Put"}}, "DROPPED", None, 403),
        ("demo/client", "ip:8.8.8.8", None, "ICMP", {}, "FORWARDED", None, None),
        ("demo/locked", "ip:8.8.8.8", None, "ICMP", {}, "DROPPED", "POLICY_DENIED", None),
        ("demo/client", "node:node01", 10250, "TCP", {}, "FORWARDED", None, None),
        ("demo/locked", "node:node02", 10250, "TCP", {}, "DROPPED", "POLICY_DENIED", None),
        ("node:node02", "demo/server", 8080, "TCP", {}, "FORWARDED", None, None),
        ("node:node01", "demo/server", 8080, "TCP", {}, "DROPPED", "POLICY_DENIED", None),
        ("demo/client", "entity:kube-apiserver", 443, "TCP", {}, "FORWARDED", None, None),
        ("demo/locked", "demo/locked", 80, "TCP", {}, "FORWARDED", None, None),
    ],
    ids=["pod-pod", "service", "service-named-port", "egress-default-deny", "ingress-wrong-port", "grpc-allowed",
         "grpc-denied-403", "world-icmp", "world-icmp-denied", "kubelet", "kubelet-denied", "host-to-pod-localhost",
         "remote-node-to-pod", "apiserver", "self"],
)
def test_verdicts(cl: Any, source: str, target: str, port: Any, proto: str, extra: dict[str, Any],
                  verdict: str, reason: str | None, http: int | None) -> None:
    res = cl.probe(source, target, port, proto, **extra)
    assert (res.verdict, res.drop_reason, res.http_status) == (verdict, reason, http), res.explanation
    assert res.flow_ids == [str(i) for i in range(int(res.flow_ids[0]), int(res.flow_ids[0]) + len(res.flows))] if res.flows else True


def test_service_translation_shows_backend(cl: Any) -> None:
    res = cl.probe("demo/client", "svc:demo/server", 80, "TCP")
    server_ip = cl.net.addresses.place_of_pod("demo/server").ip
    first = res.flows[0]
    assert first["IP"]["destination"] == server_ip
    assert first["l4"]["TCP"]["destination_port"] == 8080
    assert first["destination"]["pod_name"] == "server"
    assert "-> backend demo/server:8080" in res.explanation


def test_default_deny_drop_flows_on_source_node(cl: Any) -> None:
    res = cl.probe("demo/locked", "ip:8.8.8.8", None, "ICMP")
    assert _types(res.flows) == [("default/node01", 5, "DROPPED"), ("default/node01", 1, "DROPPED")]
    drop = res.flows[1]
    assert drop["drop_reason_desc"] == "POLICY_DENIED" and drop["destination"]["labels"] == ["reserved:world"]
    assert drop["Summary"] == "ICMPv4 EchoRequest"


def test_ingress_drop_is_reported_on_destination_node(cl: Any) -> None:
    res = cl.probe("demo/client", "demo/server", 9090, "TCP")
    assert {f["node_name"] for f in res.flows if f["event_type"]["type"] in (1, 5)} == {"default/node02"}
    assert all(f["traffic_direction"] == "INGRESS" for f in res.flows if f["node_name"] == "default/node02")
    assert [f["trace_observation_point"] for f in res.flows if f["node_name"] == "default/node01"] == ["TO_OVERLAY"]


def test_grpc_denied_is_permission_denied(cl: Any) -> None:
    res = cl.probe("demo/client", "demo/grpc", 9000, "TCP", grpc={"service": "pkg.Svc", "method": "Put"})
    assert res.grpc_status == "PERMISSION_DENIED"
    l7 = [f for f in res.flows if f["Type"] == "L7"]
    assert [f["l7"]["type"] for f in l7] == ["REQUEST", "RESPONSE"]
    assert l7[0]["verdict"] == "DROPPED" and l7[1]["l7"]["http"]["code"] == 403
    assert l7[0]["l7"]["http"]["url"].endswith("/pkg.Svc/Put")


def test_dns_refused_and_allowed(cl: Any) -> None:
    denied = cl.probe("demo/locked", "svc:kube-system/kube-dns", 53, "UDP", dns={"query": "evil.example.net"})
    assert (denied.verdict, denied.dns_rcode) == ("DROPPED", "REFUSED")
    l7 = [f for f in denied.flows if f["Type"] == "L7"]
    assert len(l7) == 1 and l7[0]["verdict"] == "DROPPED" and l7[0]["l7"]["dns"]["query"] == "evil.example.net."
    assert denied.flows[0]["verdict"] == "REDIRECTED"
    ok = cl.probe("demo/locked", "svc:kube-system/kube-dns", 53, "UDP", dns={"query": "api.example.com"})
    assert (ok.verdict, ok.dns_rcode, ok.dns_ips) == ("FORWARDED", "NOERROR", ["203.0.113.10"])
    resp = [f for f in ok.flows if f["Type"] == "L7"][-1]
    assert resp["l7"]["dns"]["ips"] == ["203.0.113.10"] and resp["is_reply"] is True
    assert resp["source"]["labels"][-1] == "k8s:k8s-app=kube-dns"


def test_tofqdns_only_after_allowed_lookup() -> None:
    cl = make_cluster(_objs(), world=WORLD)
    before = cl.probe("demo/locked", "ip:203.0.113.10", 443, "TCP")
    assert (before.verdict, before.drop_reason) == ("DROPPED", "POLICY_DENIED")
    via_name = cl.probe("demo/locked", "fqdn:api.example.com", 443, "TCP")
    assert via_name.verdict == "FORWARDED" and via_name.dns_rcode == "NOERROR"
    conn = [f for f in via_name.flows if f["Type"] == "L3_L4" and f["IP"]["destination"] == "203.0.113.10"]
    assert conn and conn[0]["destination_names"] == ["api.example.com"]
    assert conn[0]["destination"]["identity"] >= 16777217
    after = cl.probe("demo/locked", "ip:203.0.113.10", 443, "TCP")
    assert after.verdict == "FORWARDED"
    refused = cl.probe("demo/locked", "fqdn:evil.example.net", 443, "TCP")
    assert (refused.verdict, refused.dns_rcode) == ("DROPPED", "REFUSED")


@pytest.mark.parametrize(
    ("target", "port", "proto", "explain"),
    [("ip:203.0.113.99", 443, "TCP", "times out"), ("demo/server", 8081, "TCP", "RST")],
    ids=["world-nobody-home", "port-not-listening"],
)
def test_no_answer_is_not_a_drop(target: str, port: int, proto: str, explain: str) -> None:
    cl = make_cluster(_objs() + [cnp("demo", "wide", {"endpointSelector": {"matchLabels": {"app": "server"}},
                                                      "ingress": [{"fromEndpoints": [{}]}]})], world=WORLD)
    res = cl.probe("demo/client", target, port, proto)
    assert res.verdict == "FORWARDED" and res.drop_reason is None
    assert explain in res.explanation
    assert all(f["verdict"] != "DROPPED" for f in res.flows)
    if explain == "RST":
        assert res.flows[-1]["l4"]["TCP"]["flags"] == {"ACK": True, "RST": True} and res.flows[-1]["is_reply"] is True


def test_fqdn_nxdomain_stops_before_connecting(cl: Any) -> None:
    res = cl.probe("demo/client", "fqdn:nothing.example", 443, "TCP")
    assert res.dns_rcode == "NXDOMAIN" and res.verdict == "DROPPED" and res.drop_reason is None
    assert all(f["l4"].get("UDP", {}).get("destination_port") == 53 or f["l4"].get("UDP", {}).get("source_port") == 53
               for f in res.flows)


def test_self_traffic_has_no_flows(cl: Any) -> None:
    res = cl.probe("demo/locked", "demo/locked", 80, "TCP")
    assert res.flows == [] and "never leaves" in res.explanation


@pytest.mark.parametrize(
    ("source", "target", "port", "proto", "message"),
    [
        ("demo/ghost", "demo/server", 80, "TCP", "does not exist"),
        ("demo/client", "demo/ghost", 80, "TCP", "does not exist"),
        ("demo/client", "demo/server", "nope", "TCP", "no TCP container port named 'nope'"),
        ("demo/client", "svc:demo/server", "nope", "TCP", "has no TCP port named 'nope'"),
        ("demo/client", "ip:999.1.1.1", 80, "TCP", "not an IPv4 address"),
        ("demo/client", "entity:health", 80, "TCP", "unsupported entity"),
        ("demo/client", "wat", 80, "TCP", "expected ns/pod"),
        ("demo/client", "demo/server", None, "TCP", "needs a port"),
        ("demo/client", "demo/server", 80, "GRE", "not one of"),
    ],
    ids=["unknown-source", "unknown-target", "bad-named-port", "bad-service-port", "bad-ip", "bad-entity",
         "bad-target", "missing-port", "bad-protocol"],
)
def test_bad_requests(cl: Any, source: str, target: str, port: Any, proto: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        cl.probe(source, target, port, proto)


def test_service_edge_cases() -> None:
    objs = _objs() + [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty", "namespace": "demo"},
         "spec": {"selector": {"app": "nobody"}, "ports": [{"port": 80}]}},
    ]
    cl = make_cluster(objs, world=WORLD)
    empty = cl.probe("demo/client", "svc:demo/empty", 80, "TCP")
    assert (empty.verdict, empty.flows) == ("DROPPED", []) and "EHOSTUNREACH" in empty.explanation
    wrong_port = cl.probe("demo/client", "svc:demo/server", 81, "TCP")
    assert wrong_port.verdict == "FORWARDED" and "does not translate" in wrong_port.explanation
    assert wrong_port.flows and wrong_port.flows[0]["destination"]["labels"] == ["reserved:world"]
    locked = cl.probe("demo/locked", "svc:demo/server", 81, "TCP")
    assert (locked.verdict, locked.drop_reason) == ("DROPPED", "POLICY_DENIED")


@pytest.mark.parametrize(
    ("target", "query", "rcode", "ips"),
    [
        ("", "api.example.com", "NOERROR", ["203.0.113.10"]),
        ("", "kube-dns.kube-system.svc.cluster.local", "NOERROR", ["10.96.0.10"]),
        ("ip:10.96.0.10", "nothing.example", "NXDOMAIN", []),
        ("ip:8.8.8.8", "api.example.com", "NOERROR", ["203.0.113.10"]),
        ("ip:8.8.8.8", "kube-dns.kube-system.svc.cluster.local", "NXDOMAIN", []),
        ("ip:203.0.113.99", "api.example.com", "TIMEOUT", []),
    ],
    ids=["default-resolver", "cluster-name", "nxdomain", "outside-resolver", "outside-knows-no-cluster", "no-server"],
)
def test_dns_probe_servers(cl: Any, target: str, query: str, rcode: str, ips: list[str]) -> None:
    res = cl.probe("demo/client", target, 53, "UDP", dns={"query": query})
    assert (res.dns_rcode, res.dns_ips) == (rcode, ips), res.explanation


def test_dns_probe_to_fqdn_target_is_rejected(cl: Any) -> None:
    with pytest.raises(UserInputError, match="DNS probe goes to a DNS server"):
        cl.probe("demo/client", "fqdn:api.example.com", 53, "UDP", dns={"query": "api.example.com"})


def test_udp_port_unreachable() -> None:
    cl = make_cluster(_objs(), world=WORLD)
    res = cl.probe("demo/client", "demo/server", 9999, "UDP")
    assert res.verdict == "DROPPED" and res.drop_reason == "POLICY_DENIED"  # server ingress only allows 8080/TCP
    coredns = next(f"kube-system/{p['metadata']['name']}" for p in cl.view.pods()
                   if p["metadata"].get("labels", {}).get("k8s-app") == "kube-dns")
    res = cl.probe("demo/client", coredns, 5353, "UDP")  # CoreDNS declares 53/UDP, 53/TCP, 9153, 8080, 8181
    last = res.flows[-1]
    assert last["l4"] == {"ICMPv4": {"type": 3, "code": 3}} and last["Summary"] == "ICMPv4 DestinationUnreachable(Port)"
    assert last["is_reply"] is True and res.drop_reason is None and res.verdict == "FORWARDED"
    assert "ICMP port unreachable" in res.explanation


def test_sctp_service_port_rewrite_is_dropped_by_the_load_balancer() -> None:
    # Cilium docs configuration/sctp + bpf/lib/lb.h lb_l4_xlate: SCTP is load-balanced per packet
    # (the socket-LB only handles TCP/UDP) and an SCTP port cannot be rewritten: a Service whose
    # targetPort differs from its port drops the packet (DROP_CSUM_L4, 154) before any policy.
    sctp = [{"name": "sctp", "containerPort": 9000, "protocol": "SCTP"}]
    objs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
        pod("demo", "client", {"app": "client"}, "node01"),
        pod("demo", "server", {"app": "server"}, "node02", sctp),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "server", "namespace": "demo"},
         "spec": {"selector": {"app": "server"}, "ports": [
             {"name": "same", "port": 9000, "targetPort": 9000, "protocol": "SCTP"},
             {"name": "moved", "port": 7000, "targetPort": "sctp", "protocol": "SCTP"}]}},
    ]
    cl = make_cluster(objs, cilium={"enableSCTP": True})
    ok = cl.probe("demo/client", "svc:demo/server", 9000, "SCTP")
    assert ok.verdict == "FORWARDED"
    moved = cl.probe("demo/client", "svc:demo/server", 7000, "SCTP")
    assert moved.verdict == "DROPPED"
    assert moved.drop_reason == "ERROR_WHILE_CORRECTING_L4_CHECKSUM"
    server_ip = cl.net.addresses.place_of_pod("demo/server").ip
    assert [(f["node_name"], f["event_type"], f["traffic_direction"]) for f in moved.flows] == [
        ("default/node01", {"type": 1, "sub_type": 154}, "EGRESS")]
    drop = moved.flows[0]
    assert drop["IP"]["destination"] == server_ip and drop["l4"]["SCTP"]["destination_port"] == 7000
    assert drop["drop_reason"] == 154 and drop["drop_reason_desc"] == "ERROR_WHILE_CORRECTING_L4_CHECKSUM"
    assert "is_reply" not in drop and drop["destination"]["pod_name"] == "server"
    # Without SCTP support the twin keeps translating (no SCTP datapath to model).
    off = make_cluster(objs)
    assert off.probe("demo/client", "svc:demo/server", 7000, "SCTP").drop_reason != "ERROR_WHILE_CORRECTING_L4_CHECKSUM"


def test_http_host_rule_matches_the_host_header_the_client_sends() -> None:
    # Cilium docs security/policy/layer7 (`host`: regex on the request's Host / :authority): a Host
    # header given with the probe is the authority, verbatim, and not listed among the headers.
    objs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
        pod("demo", "client", {"app": "client"}, "node01"),
        pod("demo", "web", {"app": "web"}, "node02", [{"name": "http", "containerPort": 8080}]),
        cnp("demo", "web-host", {"endpointSelector": {"matchLabels": {"app": "web"}},
                                 "ingress": [{"toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}],
                                                           "rules": {"http": [{"host": "api\\.example\\.com"}]}}]}]}),
    ]
    cl = make_cluster(objs)
    ok = cl.probe("demo/client", "demo/web", 8080, "TCP", http={"method": "GET", "path": "/", "headers": {"host": "api.example.com"}})
    assert ok.verdict == "FORWARDED" and ok.http_status == 200
    request = next(f for f in ok.flows if f.get("l7", {}).get("type") == "REQUEST")
    assert request["l7"]["http"]["url"] == "http://api.example.com/"
    assert all(h["key"].lower() != "host" for h in request["l7"]["http"]["headers"])
    other = cl.probe("demo/client", "demo/web", 8080, "TCP", http={"method": "GET", "path": "/", "headers": {"Host": "web.example.com"}})
    assert other.verdict == "DROPPED" and other.http_status == 403
    # Without a Host header the client's authority is the address and port it connected to.
    bare = cl.probe("demo/client", "demo/web", 8080, "TCP", http={"method": "GET", "path": "/"})
    assert bare.http_status == 403
