"""Benchmark: ``observe`` over 1,000,000 stored flows with a namespace+verdict filter (<= 1 s).

Builds an SQLite database with the contract's ``flows`` table (docs/contracts.md) in a temp dir,
filled with flows made by ``hubble.flow.FlowBuilder`` (TCP/UDP/ICMP connections, allowed and
denied, HTTP and DNS exchanges, pods spread over namespaces and nodes), indexed with
``hubble.flow.index_columns``. Then times ``hubble.sql.select_flows`` (SQL pushdown through
``compile_sql``) for ``--namespace NS --verdict DROPPED`` with ``--last 20`` and ``--last 1000``,
plus a filter that needs the residual Python predicate. Prints sizes, seconds, peak RSS; exits 1
if a namespace+verdict query takes more than 1 s.

    .venv/bin/python bench/bench_observe.py [--flows 1000000] [--db PATH]
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ai_infra_ops.hubble.filters import parse_observe_args
from ai_infra_ops.hubble.flow import FlowBuilder, Peer, PolicyOutcome, endpoint_dict, index_columns
from ai_infra_ops.hubble.sql import select_flows

SCHEMA = """
CREATE TABLE flows (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, time TEXT NOT NULL,
  node_name TEXT, verdict TEXT, drop_reason_desc TEXT, type TEXT, event_type INTEGER,
  traffic_direction TEXT, src_namespace TEXT, src_pod TEXT, dst_namespace TEXT, dst_pod TEXT,
  src_ip TEXT, dst_ip TEXT, src_identity INTEGER, dst_identity INTEGER, protocol TEXT,
  src_port INTEGER, dst_port INTEGER, l7_type TEXT, http_code INTEGER, http_method TEXT,
  probe TEXT, json TEXT NOT NULL);
CREATE INDEX flows_src ON flows(src_namespace, verdict, time_ns);
CREATE INDEX flows_dst ON flows(dst_namespace, verdict, time_ns);
CREATE INDEX flows_time ON flows(time_ns);
"""
COLUMNS = ("time_ns", "time", "node_name", "verdict", "drop_reason_desc", "type", "event_type", "traffic_direction",
           "src_namespace", "src_pod", "dst_namespace", "dst_pod", "src_ip", "dst_ip", "src_identity", "dst_identity",
           "protocol", "src_port", "dst_port", "l7_type", "http_code", "http_method", "probe", "json")


def _pods(n_ns: int, per_ns: int, nodes: int) -> list[Peer]:
    pods = []
    for ns_i in range(n_ns):
        ns = f"team-{ns_i:02d}"
        for p in range(per_ns):
            idx = ns_i * per_ns + p
            labels = [f"k8s:app=app-{p}", f"k8s:io.kubernetes.pod.namespace={ns}",
                      "k8s:io.cilium.k8s.policy.cluster=default"]
            ep = endpoint_dict(ID=100 + idx, identity=20000 + idx, namespace=ns, labels=labels,
                               pod_name=f"app-{p}-{idx:05d}", cluster_name="default",
                               workloads=[{"name": f"app-{p}", "kind": "Deployment"}])
            pods.append(Peer(f"10.244.{idx % nodes}.{2 + idx // nodes}", ep, f"node{idx % nodes + 1:02d}"))
    return pods


def generate(path: Path, target: int, seed: int = 7) -> tuple[int, float]:
    """Fill ``path`` with ``target`` flows; returns (count, seconds)."""
    t0 = time.perf_counter()
    clock_ns = [1_760_000_000_000_000_000]

    def clock() -> int:
        clock_ns[0] += 250_000
        return clock_ns[0]

    builder = FlowBuilder(seed=seed, clock=clock)
    rng = random.Random(seed)
    pods = _pods(40, 25, 8)
    world = [Peer.world("8.8.8.8"), Peer.world("1.1.1.1", ["one.one.one.one"]), Peer.world("203.0.113.10")]
    pol = ({"name": "allow-app", "namespace": "team-00", "labels": ["k8s:io.cilium.k8s.policy.name=allow-app"],
            "revision": "7", "kind": "CiliumNetworkPolicy"},)
    allow = PolicyOutcome("ALLOW", match_type=2, policies=pol)
    deny = PolicyOutcome("DENY", 133)
    denylist = PolicyOutcome("DENY", 181, policies=pol)
    redirect = PolicyOutcome("REDIRECT", match_type=2, policies=pol, proxy_port=15001)
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    placeholders = ",".join("?" * len(COLUMNS))
    sql = f"INSERT INTO flows ({','.join(COLUMNS)}) VALUES ({placeholders})"
    count, batch = 0, []
    while count < target:
        src, dst = rng.choice(pods), rng.choice(pods)
        kind = rng.random()
        if kind < 0.35:
            flows = builder.connection(src, dst, dport=8080, egress=allow, ingress=allow, data=rng.random() < 0.5)
        elif kind < 0.55:
            flows = builder.connection(src, dst, dport=8080, ingress=rng.choice((deny, denylist)), retries=2)
        elif kind < 0.65:
            flows = builder.connection(src, rng.choice(world), protocol=rng.choice(("TCP", "ICMP")), dport=443,
                                       egress=deny, retries=1)
        elif kind < 0.75:
            flows = builder.connection(src, dst, protocol="UDP", dport=9000, ingress=allow)
        elif kind < 0.9:
            flows = builder.http(src, dst, dport=8080, path=rng.choice(("/healthz", "/v1/predict")),
                                 method=rng.choice(("GET", "POST")), ingress=redirect, l7_allowed=rng.random() < 0.7)
        else:
            flows = builder.dns(src, pods[0], query=rng.choice(("one.one.one.one", "api.openai.com", "nx.example")),
                                ips=["1.1.1.1"], allowed=rng.random() < 0.8)
        for f in flows:
            cols = index_columns(f)
            cols["probe"] = "bench"
            batch.append(tuple(cols[c] for c in COLUMNS))
        count += len(flows)
        if len(batch) >= 20_000:
            con.executemany(sql, batch)
            batch.clear()
    if batch:
        con.executemany(sql, batch)
    con.commit()
    con.close()
    return count, time.perf_counter() - t0


def make_query(con: sqlite3.Connection):  # type: ignore[no-untyped-def]
    """A ``Store.query_flows`` stand-in with the contract's signature."""

    def query_flows(where: str, params: list[Any], *, order: str = "DESC", limit: int | None = None):  # type: ignore[no-untyped-def]
        sql = f"SELECT id, json FROM flows WHERE {where} ORDER BY time_ns {order}, id {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for row_id, text in con.execute(sql, params):
            yield row_id, json.loads(text)

    return query_flows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, help="reuse/keep the database here (default: a temp dir)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "flows.db"
    if not db.exists():
        n, secs = generate(db, args.flows)
        print(f"generated {n:,} flows with FlowBuilder in {secs:.1f} s -> {db} ({db.stat().st_size / 2**20:.0f} MiB)")
    con = sqlite3.connect(db)
    total = con.execute("SELECT count(*) FROM flows").fetchone()[0]
    query = make_query(con)
    cases = [
        ("--namespace team-07 --verdict DROPPED --last 20", True),
        ("--namespace team-07 --verdict DROPPED --last 1000", True),
        ("--namespace team-31 --verdict FORWARDED --last 20", True),
        ("--namespace team-31 --verdict AUDIT --last 20", True),  # no match: worst case, nothing to stop early
        ("--namespace team-07 --verdict DROPPED --since 2025-01-01T00:00:00Z", True),  # every match (no limit)
        ("--namespace team-07 --verdict DROPPED --http-path /v1 --last 20", False),
        ("--label k8s:app=app-3 --verdict DROPPED --last 20", False),
    ]
    worst = 0.0
    for argv, gated in cases:
        req = parse_observe_args(argv.split())
        t0 = time.perf_counter()
        flows = select_flows(query, req.filters, req.number, first=req.first)
        secs = time.perf_counter() - t0
        if gated:
            worst = max(worst, secs)
        print(f"observe {argv:<62} -> {len(flows):5d} flows in {secs:.3f} s{'' if gated else ' (residual, not gated)'}")
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"stored flows: {total:,}; peak RSS {rss_mib:.0f} MiB; worst namespace+verdict query {worst:.3f} s (limit 1 s)")
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
