"""Enum tables against flow.proto / drop.go / types.go values."""
from __future__ import annotations

import pytest

from ai_infra_ops.hubble.enums import (
    DropReason,
    EventType,
    TraceObservationPoint,
    Verdict,
    drop_reason_text,
    identity_name,
)


@pytest.mark.parametrize(
    ("number", "name", "text"),
    [
        (133, "POLICY_DENIED", "Policy denied"),
        (181, "POLICY_DENY", "Policy denied by denylist"),
        (189, "AUTH_REQUIRED", "Authentication required"),
        (136, "CT_MISSING_TCP_ACK_FLAG", "Fragmentation needed"),
        (161, "FAILED_TO_INSERT_INTO_PROXYMAP", "NAT 46/64 not enabled"),
        (205, "DROP_PUNT_PROXY", "Punt to proxy"),
        (130, "INVALID_SOURCE_MAC", "Invalid source mac"),
    ],
)
def test_drop_reasons(number: int, name: str, text: str) -> None:
    member = DropReason.from_number(number)
    assert member.value == name
    assert member.text == text
    assert drop_reason_text(number) == text


def test_drop_reason_table_is_complete() -> None:
    numbers = sorted(m.number for m in DropReason)
    assert numbers[0] == 0 and numbers[-1] == 205
    assert 159 not in numbers  # no code 159 upstream
    assert len(numbers) == len(set(numbers)) == 1 + (205 - 130 + 1) - 1
    assert drop_reason_text(250) == "250"


@pytest.mark.parametrize(
    ("point", "sub_type", "cli"),
    [
        (TraceObservationPoint.TO_ENDPOINT, 0, "to-endpoint"),
        (TraceObservationPoint.TO_PROXY, 1, "to-proxy"),
        (TraceObservationPoint.TO_STACK, 3, "to-stack"),
        (TraceObservationPoint.TO_OVERLAY, 4, "to-overlay"),
        (TraceObservationPoint.FROM_ENDPOINT, 5, "from-endpoint"),
        (TraceObservationPoint.TO_CRYPTO, 13, "to-crypto"),
    ],
)
def test_trace_points(point: TraceObservationPoint, sub_type: int, cli: str) -> None:
    assert point.sub_type == sub_type
    assert point.cli_name == cli
    assert TraceObservationPoint.from_sub_type(sub_type) is point


@pytest.mark.parametrize(("verdict", "number"), [("FORWARDED", 1), ("DROPPED", 2), ("AUDIT", 4), ("REDIRECTED", 5), ("TRANSLATED", 7)])
def test_verdict_numbers(verdict: str, number: int) -> None:
    assert Verdict(verdict).number == number


@pytest.mark.parametrize(("name", "number"), [("drop", 1), ("trace", 4), ("policy-verdict", 5), ("l7", 129), ("trace-sock", 7)])
def test_event_types(name: str, number: int) -> None:
    assert EventType.from_cli_name(name) == number
    assert EventType(number).cli_name == name


@pytest.mark.parametrize(("identity", "text"), [(0, "(unknown)"), (1, "(host)"), (2, "(world)"), (6, "(remote-node)"),
                                                (7, "(kube-apiserver)"), (9, "(world-ipv4)"), (48312, "(ID:48312)")])
def test_identity_names(identity: int, text: str) -> None:
    assert identity_name(identity) == text
