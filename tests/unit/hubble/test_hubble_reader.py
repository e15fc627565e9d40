"""Reading real `hubble observe -o json` output and writing it back byte for byte."""
from __future__ import annotations

from pathlib import Path

import pytest
from hubble_fixtures import SAMPLE_FILES

from ai_infra_ops.errors import UserInputError
from ai_infra_ops.hubble.encoding import canonical, format_timestamp, parse_timestamp_ns
from ai_infra_ops.hubble.flow import flow_to_json_line
from ai_infra_ops.hubble.reader import ReadStats, load_flows


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_samples_round_trip_byte_for_byte(path: Path) -> None:
    raw = path.read_text(encoding="utf-8").splitlines(keepends=True)
    flows = load_flows(path)
    assert len(flows) == len(raw) > 0
    assert [flow_to_json_line(f) for f in flows] == raw
    # canonical ordering (proto declaration order) is a no-op on real output
    assert [flow_to_json_line(canonical(f)) for f in flows] == raw


def test_three_sample_files_present() -> None:
    assert len(SAMPLE_FILES) == 3


def test_bare_flows_and_side_messages(tmp_path: Path) -> None:
    f = tmp_path / "mixed.json"
    f.write_text(
        '{"node_status":{"state_change":"NODE_CONNECTED","node_names":["a"]},"time":"2025-01-01T00:00:00Z"}\n'
        "\n"
        '{"time":"2025-01-01T00:00:01Z","verdict":"FORWARDED","Summary":"UDP"}\n'
        '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"3"}}\n'
        '{"flow":{"time":"2025-01-01T00:00:02Z","verdict":"DROPPED"},"node_name":"n","time":"2025-01-01T00:00:02Z"}\n'
    )
    stats = ReadStats()
    flows = load_flows(f, stats)
    assert [fl["verdict"] for fl in flows] == ["FORWARDED", "DROPPED"]
    assert (stats.flows, stats.node_status, stats.lost_events) == (2, 1, 1)


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        ('{"flow":{}}\n{"flow":\n', 2, "malformed JSON"),
        ("[1,2]\n", 1, "expected a JSON object"),
        ('{"foo":1}\n', 1, "not a Hubble flow"),
        ('{"flow":[1]}\n', 1, "`flow` must be a JSON object"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, content: str, line: int, needle: str) -> None:
    f = tmp_path / "bad.json"
    f.write_text(content)
    with pytest.raises(UserInputError) as exc:
        load_flows(f)
    assert f"{f}:{line}" in str(exc.value)
    assert needle in str(exc.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="cannot read flows file"):
        load_flows(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1970-01-01T00:20:34.567800Z", 1_234_567_800_000),
        ("2021-06-16T16:52:13.136834446Z", 1_623_862_333_136_834_446),
        ("2021-06-16T16:52:13Z", 1_623_862_333_000_000_000),
        ("2021-06-16T16:52:13.100Z", 1_623_862_333_100_000_000),
    ],
)
def test_timestamps(text: str, ns: int) -> None:
    assert parse_timestamp_ns(text) == ns
    assert format_timestamp(ns) == text


def test_go_escaping() -> None:
    line = flow_to_json_line({"time": "2025-01-01T00:00:00Z", "Summary": "a<b>&c é\u2028"})
    assert line == ('{"flow":{"time":"2025-01-01T00:00:00Z","Summary":"a\\u003cb\\u003e\\u0026c é\\u2028"},'
                    '"time":"2025-01-01T00:00:00Z"}\n')
