"""A client for Hubble's Observer API (Hubble Relay ``:4245``, an agent ``:4244``, or ``ObserverServer``).

``RelayClient(addr).get_flows(filters, last)`` returns flow dicts exactly as ``hubble observe -o
json`` prints them (``convert.flow_from_proto``), so the kube backend and the twin hand the same
shape to ``validate`` and ``report``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc

from ...errors import BackendUnreachable
from ..flowfilter import FilterSet
from ..sql import filter_set_from_dict
from .convert import flow_from_proto, request_to_proto
from .gen import observer_pb2, observer_pb2_grpc


class RelayClient:
    """Insecure channel to an Observer endpoint (use ``grpc.secure_channel`` via ``channel=`` for TLS)."""

    def __init__(self, address: str, *, channel: grpc.Channel | None = None, timeout_s: float = 30.0) -> None:
        self.address = address
        self._channel = channel or grpc.insecure_channel(address)
        self._stub = observer_pb2_grpc.ObserverStub(self._channel)
        self._timeout = timeout_s

    def get_flows(self, filters: FilterSet | Mapping[str, Any] | None = None, last: int | None = 20,
                  *, first: bool = False) -> list[dict[str, Any]]:
        """The flows matching ``filters`` (last ``last``, first with ``first``, all with None).

        Raises:
            BackendUnreachable: the endpoint cannot be reached or fails the call.
        """
        fs = filters if isinstance(filters, FilterSet) else filter_set_from_dict(filters or {})
        req = request_to_proto(fs, last, first)
        out: list[dict[str, Any]] = []
        try:
            for resp in self._stub.GetFlows(req, timeout=self._timeout):
                if resp.HasField("flow"):
                    out.append(flow_from_proto(resp.flow))
        except grpc.RpcError as exc:
            raise BackendUnreachable(f"Hubble Observer at {self.address}: {exc.code().name}: {exc.details()}") from None
        return out

    def server_status(self) -> dict[str, Any]:
        from google.protobuf import json_format

        try:
            resp = self._stub.ServerStatus(observer_pb2.ServerStatusRequest(), timeout=self._timeout)
        except grpc.RpcError as exc:
            raise BackendUnreachable(f"Hubble Observer at {self.address}: {exc.code().name}: {exc.details()}") from None
        status: dict[str, Any] = json_format.MessageToDict(resp, preserving_proto_field_name=True)
        return status

    def close(self) -> None:
        self._channel.close()
