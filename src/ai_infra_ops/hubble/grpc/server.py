"""An Observer gRPC server over a flow source, so the real ``hubble`` CLI can read the twin's flows.

Serves ``GetFlows`` (number / first / since / until, whitelist / blacklist FlowFilters evaluated
with the same predicates as ``ai-infra-ops observe``; ``follow`` sends what exists and ends the
stream, as the source is a snapshot), ``ServerStatus``, ``GetNodes`` and ``GetNamespaces``.

    server = ObserverServer(lambda: flows)
    port = server.start("127.0.0.1:0")        # hubble observe --server 127.0.0.1:<port>
    server.stop()
"""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from typing import IO, Any

import grpc

from ...errors import UserInputError
from ..encoding import parse_timestamp_ns
from ..match import compile_set
from .convert import flow_to_proto, request_from_proto
from .gen import observer_pb2, observer_pb2_grpc, relay_pb2

FlowSource = Callable[[], Iterable[dict[str, Any]]]
VERSION = "ai-infra-ops-twin"


class _Servicer:
    """Every RPC of ``observer.Observer`` (registered with the generated ``add_ObserverServicer_to_server``)."""

    def __init__(self, source: FlowSource) -> None:
        self._source = source
        self._started = time.time_ns()

    def GetFlows(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:  # noqa: N802
        try:
            fs, number, first = request_from_proto(request)
            pred = compile_set(fs)
        except (ValueError, UserInputError) as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            return
        selected: Iterable[dict[str, Any]]
        matching = (f for f in self._source() if pred(f))
        if number is None:
            selected = list(matching)
        elif first:
            selected = [f for _, f in zip(range(number), matching)]
        else:
            selected = deque(matching, maxlen=number) if number else []
        for flow in selected:
            resp = observer_pb2.GetFlowsResponse(flow=flow_to_proto(flow), node_name=flow.get("node_name", ""))
            if flow.get("time"):
                resp.time.FromNanoseconds(parse_timestamp_ns(flow["time"]))
            yield resp

    def ServerStatus(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        flows = list(self._source())
        nodes = {f.get("node_name", "") for f in flows if f.get("node_name")}
        resp = observer_pb2.ServerStatusResponse(num_flows=len(flows), max_flows=len(flows), seen_flows=len(flows),
                                                 uptime_ns=time.time_ns() - self._started, version=VERSION)
        resp.num_connected_nodes.value = len(nodes)
        resp.num_unavailable_nodes.value = 0
        return resp

    def GetNodes(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        counts: dict[str, int] = {}
        for f in self._source():
            name = f.get("node_name")
            if name:
                counts[name] = counts.get(name, 0) + 1
        return observer_pb2.GetNodesResponse(nodes=[
            observer_pb2.Node(name=n, version=VERSION, state=relay_pb2.NODE_CONNECTED,
                              uptime_ns=time.time_ns() - self._started, num_flows=c, max_flows=c, seen_flows=c)
            for n, c in sorted(counts.items())
        ])

    def GetNamespaces(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        seen: set[tuple[str, str]] = set()
        for f in self._source():
            for side in ("source", "destination"):
                ep = f.get(side) or {}
                if ep.get("namespace"):
                    seen.add((ep.get("cluster_name", ""), ep["namespace"]))
        return observer_pb2.GetNamespacesResponse(namespaces=[
            observer_pb2.Namespace(cluster=c, namespace=n) for c, n in sorted(seen)])


class ObserverServer:
    """``observer.Observer`` on a TCP address, serving the flows ``source()`` returns."""

    def __init__(self, source: FlowSource, max_workers: int = 4) -> None:
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
        observer_pb2_grpc.add_ObserverServicer_to_server(_Servicer(source), self._server)

    def start(self, address: str = "127.0.0.1:0") -> int:
        """Bind (``host:port``; port 0 = any free one) and start; returns the bound port.

        Raises:
            UserInputError: the address cannot be bound.
        """
        try:
            port = int(self._server.add_insecure_port(address))
        except RuntimeError as exc:
            raise UserInputError(f"cannot listen on {address!r}: {exc}") from None
        if port == 0:
            raise UserInputError(f"cannot listen on {address!r}: expected host:port that is free")
        self._server.start()
        return port

    def stop(self, grace: float | None = None) -> None:
        self._server.stop(grace)

    def wait(self) -> None:
        self._server.wait_for_termination()


def serve_forever(address: str, source: FlowSource, out: IO[str] | None = None) -> None:
    """Serve until interrupted (``ai-infra-ops observe --serve ADDR``)."""
    server = ObserverServer(source)
    port = server.start(address)
    host = address.rsplit(":", 1)[0] or "localhost"
    if out is not None:
        out.write(f"serving Hubble Observer API on {host}:{port}; try: hubble observe --server {host}:{port}\n")
        out.flush()
    try:
        server.wait()
    except KeyboardInterrupt:
        server.stop(0)
