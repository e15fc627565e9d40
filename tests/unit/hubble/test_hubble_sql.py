"""compile_sql + residual selects exactly what the Python predicates select (random flows, random filters)."""
from __future__ import annotations

import json
import random
import sqlite3
from typing import Any

import pytest
from hubble_fixtures import SAMPLES

from ai_infra_ops.hubble.encoding import parse_timestamp_ns
from ai_infra_ops.hubble.filters import apply_filters, build_filter_set
from ai_infra_ops.hubble.flow import FlowBuilder, Peer, PolicyOutcome, endpoint_dict, index_columns
from ai_infra_ops.hubble.reader import load_flows
from ai_infra_ops.hubble.sql import compile_sql, select_flows

SCHEMA = """
CREATE TABLE flows (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, time TEXT NOT NULL,
  node_name TEXT, verdict TEXT, drop_reason_desc TEXT, type TEXT, event_type INTEGER,
  traffic_direction TEXT, src_namespace TEXT, src_pod TEXT, dst_namespace TEXT, dst_pod TEXT,
  src_ip TEXT, dst_ip TEXT, src_identity INTEGER, dst_identity INTEGER, protocol TEXT,
  src_port INTEGER, dst_port INTEGER, l7_type TEXT, http_code INTEGER, http_method TEXT,
  probe TEXT, json TEXT NOT NULL);
"""
NS = ("alpha", "beta", "gamma")


def _flows(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    ticks = [1_700_000_000_000_000_000]

    def clock() -> int:
        ticks[0] += rng.randint(1, 5) * 1_000_000
        return ticks[0]

    b = FlowBuilder(seed=seed, clock=clock)
    pods = [Peer(f"10.244.{i % 3}.{10 + i}", endpoint_dict(ID=100 + i, identity=30000 + i, namespace=NS[i % 3],
                                                           labels=[f"k8s:app=a{i % 4}"], pod_name=f"p{i}-x"), f"n{i % 3}")
            for i in range(9)]
    out: list[dict[str, Any]] = []
    outcomes = [None, PolicyOutcome("ALLOW", match_type=1), PolicyOutcome("DENY", 133), PolicyOutcome("DENY", 181),
                PolicyOutcome("AUDIT")]
    for _ in range(25):
        s, d = rng.choice(pods), rng.choice(pods)
        k = rng.randrange(5)
        if k == 0:
            out += b.connection(s, d, protocol=rng.choice(("TCP", "UDP", "ICMP", "SCTP")), dport=rng.choice((80, 53, 443)),
                                egress=rng.choice(outcomes), ingress=rng.choice(outcomes), data=False)
        elif k == 1:
            out += b.connection(s, Peer.world("8.8.8.8", ["dns.google"]), dport=443, egress=rng.choice(outcomes))
        elif k == 2:
            out += b.http(s, d, dport=8080, method=rng.choice(("GET", "POST")), path=rng.choice(("/a", "/v1/b")),
                          ingress=PolicyOutcome("REDIRECT", proxy_port=15001), l7_allowed=rng.random() < 0.5,
                          status=rng.choice((200, 404, 503)))
        elif k == 3:
            out += b.dns(s, pods[0], query=rng.choice(("x.example", "dns.google")), allowed=rng.random() < 0.6,
                         rcode=rng.choice((0, 0, 3)), ips=["8.8.8.8"])
        else:
            out += b.connection(Peer.host(s.node or "n0", "192.168.0.1"), d, dport=10250)
    return out


FLAG_POOL: list[tuple[str, list[str]]] = [
    ("namespace", list(NS)), ("from-namespace", list(NS)), ("to-namespace", list(NS)),
    ("verdict", ["FORWARDED", "DROPPED", "AUDIT", "REDIRECTED"]), ("drop-reason-desc", ["POLICY_DENIED", "POLICY_DENY"]),
    ("protocol", ["tcp", "udp", "icmp", "http", "dns", "sctp"]), ("port", ["80", "53", "8080"]),
    ("to-port", ["443", "10250"]), ("type", ["drop", "trace", "policy-verdict", "l7", "trace:to-endpoint"]),
    ("http-status", ["200", "4+", "50+", "403"]), ("http-method", ["get", "POST"]), ("http-path", ["^/v1", "a$"]),
    ("traffic-direction", ["ingress", "egress"]), ("identity", ["world", "30001", "host", "6"]),
    ("from-ip", ["10.244.1.11", "10.244.0.0/16", "8.8.8.8"]), ("to-ip", ["8.8.8.8", "10.244.2.0/24"]),
    ("label", ["k8s:app=a1", "app=a2", "reserved:world"]), ("fqdn", ["dns.google", "*.google"]),
    ("to-pod", ["alpha/p0", "beta/"]), ("from-pod", ["gamma/p2", "/p1"]), ("tcp-flags", ["syn", "fin,ack"]),
]


def _random_flags(rng: random.Random) -> list[tuple[str, str | None]]:
    flags: list[tuple[str, str | None]] = []
    for _ in range(rng.randint(1, 4)):
        name, values = rng.choice(FLAG_POOL)
        if rng.random() < 0.2:
            flags.append(("not", None))
        flags.append((name, rng.choice(values)))
    return flags


@pytest.fixture(scope="module")
def db() -> tuple[sqlite3.Connection, list[dict[str, Any]]]:
    flows = _flows(3) + load_flows(SAMPLES / "hubble-otel-basic-sample-10-flows.json")
    con = sqlite3.connect(":memory:")
    con.executescript(SCHEMA)
    for f in flows:
        cols = index_columns(f)
        con.execute(f"INSERT INTO flows ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})", list(cols.values()))
    return con, flows


def _query(con: sqlite3.Connection):  # type: ignore[no-untyped-def]
    def query_flows(where: str, params: list[Any], *, order: str = "DESC", limit: int | None = None):  # type: ignore[no-untyped-def]
        sql = f"SELECT id, json FROM flows WHERE {where} ORDER BY time_ns {order}, id {order}"
        if limit is not None:
            sql += f" LIMIT {limit}"
        return ((i, json.loads(t)) for i, t in con.execute(sql, params))
    return query_flows


@pytest.mark.parametrize("seed", range(60))
def test_sql_equals_python(db: tuple[sqlite3.Connection, list[dict[str, Any]]], seed: int) -> None:
    con, flows = db
    rng = random.Random(seed)
    try:
        fs = build_filter_set(_random_flags(rng))
    except Exception as exc:  # conflicting random combinations are rejected like hubble does
        assert "cannot be combined" in str(exc) or "consecutive --not" in str(exc) or "requires the event type" in str(exc)
        return
    expected = [f["uuid"] if "uuid" in f else f["time"] for f in apply_filters(flows, fs)]
    where, params, residual = compile_sql(fs)
    rows = [json.loads(t) for (t,) in con.execute(f"SELECT json FROM flows WHERE {where} ORDER BY id", params)]
    got = [f["uuid"] if "uuid" in f else f["time"] for f in rows if residual is None or residual(f)]
    assert got == expected, (fs, where, params)
    by_time = sorted(apply_filters(flows, fs), key=lambda f: parse_timestamp_ns(f["time"]))  # stable: id order on ties
    last = select_flows(_query(con), fs, 7)
    assert last == by_time[-7:]
    assert select_flows(_query(con), fs, 3, first=True) == by_time[:3]
    assert select_flows(_query(con), fs, None) == by_time


@pytest.mark.parametrize(
    ("flags", "exact"),
    [
        ([("namespace", "alpha"), ("verdict", "DROPPED")], True),
        ([("protocol", "dns"), ("http-status", "503")], True),
        ([("from-ip", "10.244.1.11"), ("to-port", "443")], True),
        ([("not", None), ("verdict", "FORWARDED")], True),
        ([("label", "app=a1")], False),
        ([("from-ip", "10.0.0.0/8")], False),
        ([("type", "trace:to-endpoint")], False),
        ([("http-status", "5+")], False),
    ],
)
def test_pushdown_exactness(flags: list[tuple[str, str | None]], exact: bool) -> None:
    _, _, residual = compile_sql(build_filter_set(flags))
    assert (residual is None) is exact


def test_namespace_verdict_sql_shape() -> None:
    where, params, residual = compile_sql(build_filter_set([("namespace", "demo"), ("verdict", "DROPPED")]))
    assert where == "((verdict IN (?) AND ((src_namespace = ?))) OR (verdict IN (?) AND ((dst_namespace = ?))))"
    assert params == ["DROPPED", "demo", "DROPPED", "demo"] and residual is None


def test_dict_form_and_time_window() -> None:
    where, params, _ = compile_sql({"whitelist": [{"verdict": ["DROPPED"]}], "since_ns": 5, "until_ns": 9})
    assert "time_ns >= ?" in where and "time_ns <= ?" in where and params[:2] == [5, 9]
