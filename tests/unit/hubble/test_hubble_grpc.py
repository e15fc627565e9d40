"""Observer gRPC API: proto round trip of flows and a loopback GetFlows/ServerStatus/GetNodes."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hubble_fixtures import SAMPLE_FILES, client, coredns, make_builder, server

from ai_infra_ops.hubble.filters import apply_filters, parse_observe_args
from ai_infra_ops.hubble.flow import Peer, PolicyOutcome, flow_to_json_line
from ai_infra_ops.hubble.grpc.client import RelayClient
from ai_infra_ops.hubble.grpc.convert import flow_from_proto, flow_to_proto
from ai_infra_ops.hubble.grpc.gen import observer_pb2, observer_pb2_grpc
from ai_infra_ops.hubble.grpc.server import ObserverServer
from ai_infra_ops.hubble.reader import load_flows


def _built() -> list[dict[str, Any]]:
    b = make_builder()
    pol = ({"name": "p", "namespace": "demo", "labels": ["k8s:a=b"], "revision": "14", "kind": "CiliumNetworkPolicy"},)
    return (b.connection(client(), server(), dport=8080, ingress=PolicyOutcome("ALLOW", match_type=2, policies=pol))
            + b.connection(client(), Peer.world("8.8.8.8"), protocol="ICMP", egress=PolicyOutcome("DENY", 181, policies=pol))
            + b.http(client(), server(), dport=8080, ingress=PolicyOutcome("REDIRECT", proxy_port=15001), l7_allowed=False)
            + b.dns(client(), coredns(), query="one.one.one.one", ips=["1.1.1.1"]))


FLOWS = [f for p in SAMPLE_FILES for f in load_flows(p)] + _built()


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_proto_round_trip_samples(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    assert [flow_to_json_line(flow_from_proto(flow_to_proto(f))) for f in load_flows(path)] == lines


def test_proto_round_trip_built() -> None:
    for f in _built():
        assert flow_to_json_line(flow_from_proto(flow_to_proto(f))) == flow_to_json_line(f)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    srv = ObserverServer(lambda: FLOWS)
    port = srv.start("127.0.0.1:0")
    yield f"127.0.0.1:{port}"
    srv.stop(0)


@pytest.mark.parametrize(
    "argv",
    ["--last 5", "--all", "--first 3", "--namespace demo --verdict DROPPED --all", "--protocol dns --all",
     "--http-status 403 --all", "--not --type trace --last 10", "--label k8s:app=client --all",
     "--since 2021-10-04T11:22:26.593Z --until 2021-10-04T14:28:40Z"],
)
def test_loopback_get_flows(endpoint: str, argv: str) -> None:
    req = parse_observe_args(argv.split())
    expected = apply_filters(FLOWS, req.filters)
    if req.number is not None:
        expected = expected[: req.number] if req.first else expected[-req.number:]
    rc = RelayClient(endpoint)
    try:
        got = rc.get_flows(req.filters, req.number, first=req.first)
    finally:
        rc.close()
    assert [flow_to_json_line(f) for f in got] == [flow_to_json_line(f) for f in expected]


def test_status_nodes_namespaces(endpoint: str) -> None:
    rc = RelayClient(endpoint)
    status = rc.server_status()
    assert status["num_flows"] == str(len(FLOWS)) and status["num_connected_nodes"] == 4
    rc.close()
    with grpc.insecure_channel(endpoint) as ch:
        stub = observer_pb2_grpc.ObserverStub(ch)
        nodes = stub.GetNodes(observer_pb2.GetNodesRequest()).nodes
        assert [n.name for n in nodes][:2] == ["default/node01", "default/node02"]
        namespaces = stub.GetNamespaces(observer_pb2.GetNamespacesRequest()).namespaces
        assert ("default", "demo") in {(n.cluster, n.namespace) for n in namespaces}
        bad = observer_pb2.GetFlowsRequest(number=1)
        bad.whitelist.add().source_port.append("99999")
        with pytest.raises(grpc.RpcError) as exc:
            list(stub.GetFlows(bad))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "invalid port" in exc.value.details()


def test_unreachable() -> None:
    from ai_infra_ops.errors import BackendUnreachable

    rc = RelayClient("127.0.0.1:1", timeout_s=2)
    with pytest.raises(BackendUnreachable):
        rc.get_flows({}, 1)
    rc.close()
