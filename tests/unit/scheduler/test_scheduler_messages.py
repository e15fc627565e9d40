"""FailedScheduling text assembly and version switches (twin.scheduler.messages / versions)."""
from __future__ import annotations

import pytest

from ai_infra_ops.twin.scheduler import parse_version
from ai_infra_ops.twin.scheduler import messages as msg


@pytest.mark.parametrize("n, hist, post, want", [
    pytest.param(12, {"Insufficient cpu": 2, "node(s) were unschedulable": 10}, [],
                 "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu.",
                 id="string-sort-puts-10-before-2"),
    pytest.param(4, {"Insufficient nvidia.com/gpu": 3, "node(s) had untolerated taint(s)": 1},
                 ["no new claims to deallocate", "preemption: x."],
                 "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient nvidia.com/gpu. "
                 "no new claims to deallocate, preemption: x.", id="postfilter-joined-no-extra-period"),
    pytest.param(3, {"Insufficient memory": 1, "Insufficient cpu": 1, "Too many pods": 1}, [],
                 "0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods.",
                 id="counts-per-reason"),
])
def test_fit_error(n: int, hist: dict[str, int], post: list[str], want: str) -> None:
    assert msg.fit_error(n, hist, post) == want


@pytest.mark.parametrize("hist, evaluated, n, want", [
    ({}, 0, 4, "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."),
    ({msg.NO_VICTIMS: 3}, 3, 4, "preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, "
                                "3 No preemption victims found for incoming pod."),
    ({"Insufficient cpu": 1, "Insufficient memory": 1}, 1, 1,
     "preemption: 0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."),
])
def test_preemption_message(hist: dict[str, int], evaluated: int, n: int, want: str) -> None:
    assert msg.preemption_message(n, hist, evaluated) == want


@pytest.mark.parametrize("length, want_len, suffix", [(1024, 1024, "x"), (1025, 1024, " ..."), (5000, 1024, " ...")])
def test_truncate_event(length: int, want_len: int, suffix: str) -> None:
    out = msg.truncate_event("x" * length)
    assert len(out.encode()) == want_len and out.endswith(suffix)


@pytest.mark.parametrize("version, generic, dra, unresolvable", [
    ("1.33", False, False, False),
    ("v1.33.4", False, False, False),
    ("1.34", False, True, True),
    ("1.34.2", False, True, True),
    ("1.34.3", True, True, True),
    ("1.35", True, True, True),
    (1.35, True, True, True),
])
def test_version_traits(version: object, generic: bool, dra: bool, unresolvable: bool) -> None:
    t = parse_version(version)
    assert (t.generic_taint_text, t.dra_postfilter, t.unresolvable_fit) == (generic, dra, unresolvable)


@pytest.mark.parametrize("bad", ["1.32", "2.0", "latest", "1.36"])
def test_version_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="kubernetesVersion"):
        parse_version(bad)


@pytest.mark.parametrize("version, want", [
    ("1.33", "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"),
    ("1.35", "node(s) had untolerated taint(s)"),
])
def test_taint_reason(version: str, want: str) -> None:
    assert msg.taint_reason(parse_version(version), "node-role.kubernetes.io/control-plane", "") == want
