"""Store: objects/events/meta persist in SQLite, transactions roll back, flows round-trip."""
from __future__ import annotations

from pathlib import Path

import pytest

from ai_infra_ops.twin.store import Store


def _cm(name: str, ns: str = "default", rv: str = "1") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "uid": f"u-{name}",
                                                                  "resourceVersion": rv}, "data": {"k": name}}


def test_objects_persist_across_reopen(tmp_path: Path) -> None:
    s = Store.open(tmp_path)
    s.put_object(_cm("b"))
    s.put_object(_cm("a", "kube-system"))
    s.next_counter("uid")
    s.close()
    s2 = Store.open(tmp_path)
    assert [o["metadata"]["name"] for o in s2.list_objects("ConfigMap")] == ["b", "a"]  # default < kube-system
    assert s2.get_object("ConfigMap", "kube-system", "a")["data"] == {"k": "a"}
    assert s2.next_counter("uid") == 2
    assert (tmp_path / "twin.db").exists()
    s2.close()


def test_wal_mode(tmp_path: Path) -> None:
    s = Store.open(tmp_path)
    mode = s._db.execute("PRAGMA journal_mode").fetchone()[0]
    s.close()
    assert mode == "wal"


def test_transaction_rolls_back_everything(tmp_path: Path) -> None:
    s = Store.open(tmp_path)
    s.put_object(_cm("keep"))
    with pytest.raises(RuntimeError):
        with s.transaction():
            s.put_object(_cm("gone"))
            s.delete_object("ConfigMap", "default", "keep")
            s.next_counter("resourceVersion")
            raise RuntimeError("boom")
    assert [o["metadata"]["name"] for o in s.list_objects("ConfigMap")] == ["keep"]
    assert s.get_meta("counter:resourceVersion") is None
    s.close()


@pytest.mark.parametrize("ns,expected", [(None, ["e1", "e2"]), ("gpu", ["e2"]), ("default", ["e1"])])
def test_events_filter(tmp_path: Path, ns: str | None, expected: list[str]) -> None:
    s = Store.open(tmp_path)
    s.add_event({"metadata": {"name": "e1", "namespace": "default"}, "involvedObject": {"name": "p1"}, "reason": "X"})
    s.add_event({"metadata": {"name": "e2", "namespace": "gpu"}, "involvedObject": {"name": "p2"}, "reason": "Y"})
    assert [e["metadata"]["name"] for e in s.list_events(ns)] == expected
    s.close()


def _flow(t: str, verdict: str, ns: str, port: int) -> dict:
    return {"time": t, "verdict": verdict, "Type": "L3_L4", "event_type": {"type": 4},
            "source": {"namespace": ns, "pod_name": "client", "identity": 1234},
            "destination": {"identity": 2}, "IP": {"source": "10.244.1.2", "destination": "8.8.8.8"},
            "l4": {"UDP": {"source_port": 40000, "destination_port": port}}, "traffic_direction": "EGRESS"}


def test_flows_table_columns_and_query(tmp_path: Path) -> None:
    s = Store.open(tmp_path)
    ids = s.add_flows([_flow("2026-01-01T00:00:01.000000001Z", "DROPPED", "gpu", 53),
                       _flow("2026-01-01T00:00:02Z", "FORWARDED", "gpu", 443)], probe="p1")
    assert ids == [1, 2]
    cols = [r[1] for r in s._db.execute("PRAGMA table_info(flows)")]
    assert cols[:5] == ["id", "time_ns", "time", "node_name", "verdict"] and cols[-2:] == ["probe", "json"]
    rows = s._db.execute("SELECT time_ns, verdict, src_namespace, protocol, dst_port, src_identity, probe FROM flows ORDER BY id").fetchall()
    assert rows[0] == (1767225601000000001, "DROPPED", "gpu", "UDP", 53, 1234, "p1")
    got = list(s.query_flows("verdict = ?", ["FORWARDED"]))
    assert [(i, f["verdict"]) for i, f in got] == [(2, "FORWARDED")]
    assert [i for i, _ in s.query_flows(order="ASC", limit=1)] == [1]
    s.close()
