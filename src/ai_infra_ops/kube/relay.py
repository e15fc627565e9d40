"""Flows from Hubble Relay over gRPC (Observer.GetFlows), for ``KubeBackend.observe``.

Uses the hubble builder's client (``ai_infra_ops.hubble.grpc.client.RelayClient``), which turns the
protobuf flows into the dicts ``hubble observe -o json`` prints, so the twin and a real cluster hand
``validate`` the same shape. This module only adapts ``backend.FlowQuery`` to it.
"""
from __future__ import annotations

from typing import Any

from ..backend import FlowDict, FlowQuery


class Relay:
    """A Hubble Relay (or agent) Observer endpoint, ``host:port``."""

    def __init__(self, address: str, *, timeout_s: float = 30.0) -> None:
        from ..hubble.grpc.client import RelayClient

        self.address = address
        self._client = RelayClient(address, timeout_s=timeout_s)

    def flows(self, query: FlowQuery) -> list[FlowDict]:
        """The flows matching ``query`` (its GetFlowsRequest-shaped filters), oldest first."""
        filters: dict[str, Any] = dict(query.filters)
        first = bool(filters.pop("first", False))
        got: list[FlowDict] = self._client.get_flows(filters, query.last, first=first)
        return got

    def status(self) -> dict[str, Any]:
        """Observer.ServerStatus (flow counts, connected nodes)."""
        return self._client.server_status()

    def close(self) -> None:
        self._client.close()
