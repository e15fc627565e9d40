"""The twin's persistent state: one SQLite file (``<state_dir>/twin.db``, WAL mode) with the
objects, the events and the flows of the simulated cluster.

Owns the schema (the ``flows`` table exactly as ``docs/contracts.md`` pins it), the counters that
make UIDs and resourceVersions deterministic, and an in-memory copy of the objects so reads never
touch the disk. Writes go through to SQLite; inside :meth:`Store.transaction` they are batched and
committed (or rolled back, cache included) together. Knows nothing of Kubernetes semantics.

Called by ``twin.backend`` and ``twin.controllers``; the hubble builder's SQL filters run against
the flows table through :meth:`Store.query_flows`.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["Store", "FLOWS_DDL"]

KubeObject = dict[str, Any]
Key = tuple[str, str, str]  # kind, namespace ("" when cluster-scoped), name

FLOWS_DDL = """
CREATE TABLE IF NOT EXISTS flows (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, time TEXT NOT NULL,
  node_name TEXT, verdict TEXT, drop_reason_desc TEXT, type TEXT, event_type INTEGER,
  traffic_direction TEXT, src_namespace TEXT, src_pod TEXT, dst_namespace TEXT, dst_pod TEXT,
  src_ip TEXT, dst_ip TEXT, src_identity INTEGER, dst_identity INTEGER, protocol TEXT,
  src_port INTEGER, dst_port INTEGER, l7_type TEXT, http_code INTEGER, http_method TEXT,
  probe TEXT, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS flows_src ON flows(src_namespace, verdict, time_ns);
CREATE INDEX IF NOT EXISTS flows_dst ON flows(dst_namespace, verdict, time_ns);
CREATE INDEX IF NOT EXISTS flows_time ON flows(time_ns);
"""

_DDL = """
CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  uid TEXT, resource_version INTEGER, json TEXT NOT NULL, PRIMARY KEY (kind, namespace, name));
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, namespace TEXT, name TEXT,
  involved_kind TEXT, involved_name TEXT, reason TEXT, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_involved ON events(namespace, involved_name);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""" + FLOWS_DDL

FLOW_COLUMNS = (
    "time_ns", "time", "node_name", "verdict", "drop_reason_desc", "type", "event_type",
    "traffic_direction", "src_namespace", "src_pod", "dst_namespace", "dst_pod", "src_ip", "dst_ip",
    "src_identity", "dst_identity", "protocol", "src_port", "dst_port", "l7_type", "http_code",
    "http_method",
)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=False)


class Store:
    """Objects, events and flows of one twin, persisted in SQLite.

    Objects handed to :meth:`put_object` are owned by the store afterwards (callers copy first if
    they keep using them); objects returned by :meth:`get_object`/:meth:`list_objects` are the
    cached ones and must not be mutated by callers outside the twin.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = str(path) if path is not None else ":memory:"
        self._db = sqlite3.connect(self.path, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_DDL)
        self._depth = 0
        self._dirty: dict[Key, KubeObject | None] = {}
        self._meta_dirty: set[str] = set()
        self._meta_deleted: set[str] = set()
        self._load()

    @classmethod
    def open(cls, state_dir: str | Path) -> Store:
        """The store of ``state_dir`` (created if missing)."""
        d = Path(state_dir)
        d.mkdir(parents=True, exist_ok=True)
        return cls(d / "twin.db")

    def close(self) -> None:
        self._db.close()

    # ---- cache -----------------------------------------------------------------------------
    def _load(self) -> None:
        self._objects: dict[str, dict[tuple[str, str], KubeObject]] = {}
        for kind, ns, name, text in self._db.execute("SELECT kind, namespace, name, json FROM objects"):
            self._objects.setdefault(kind, {})[(ns, name)] = json.loads(text)
        self._events: list[KubeObject] = [json.loads(t) for (t,) in self._db.execute("SELECT json FROM events ORDER BY id")]
        self._event_ids: list[int] = [i for (i,) in self._db.execute("SELECT id FROM events ORDER BY id")]
        self._meta: dict[str, str] = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        self._events_dirty: dict[int, KubeObject] = {}

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Batch writes; commit together at the end, or roll everything back on an exception."""
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._dirty.clear()
                self._meta_dirty.clear()
                self._meta_deleted.clear()
                self._events_dirty.clear()
                self._load()
            raise
        self._depth -= 1
        if self._depth == 0:
            self._flush()

    def _flush(self) -> None:
        if not (self._dirty or self._meta_dirty or self._events_dirty or self._meta_deleted):
            return
        db = self._db
        db.execute("BEGIN")
        try:
            puts = [(k[0], k[1], k[2], (o.get("metadata") or {}).get("uid"),
                     int((o.get("metadata") or {}).get("resourceVersion") or 0), _dumps(o))
                    for k, o in self._dirty.items() if o is not None]
            dels = [k for k, o in self._dirty.items() if o is None]
            if dels:
                db.executemany("DELETE FROM objects WHERE kind=? AND namespace=? AND name=?", dels)
            if puts:
                db.executemany("INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?,?)", puts)
            if self._events_dirty:
                rows = []
                for eid, ev in sorted(self._events_dirty.items()):
                    inv = ev.get("involvedObject") or {}
                    md = ev.get("metadata") or {}
                    rows.append((eid, md.get("namespace", ""), md.get("name", ""), inv.get("kind", ""),
                                 inv.get("name", ""), ev.get("reason", ""), _dumps(ev)))
                db.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?)", rows)
            if self._meta_deleted:
                db.executemany("DELETE FROM meta WHERE key=?", [(k,) for k in sorted(self._meta_deleted)])
            if self._meta_dirty:
                db.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)",
                               [(k, self._meta[k]) for k in sorted(self._meta_dirty)])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            self._dirty.clear()
            self._meta_dirty.clear()
            self._meta_deleted.clear()
            self._events_dirty.clear()

    def _maybe_flush(self) -> None:
        if self._depth == 0:
            self._flush()

    # ---- counters --------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        return self._meta.get(key, default)

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value
        self._meta_dirty.add(key)
        self._maybe_flush()

    def delete_meta(self, key: str) -> None:
        if self._meta.pop(key, None) is not None:
            self._meta_dirty.discard(key)
            self._meta_deleted.add(key)
            self._maybe_flush()

    def next_counter(self, name: str, start: int = 1) -> int:
        """Increment and return the counter ``name`` (persisted; first value is ``start``)."""
        v = int(self._meta.get(f"counter:{name}", str(start - 1))) + 1
        self.set_meta(f"counter:{name}", str(v))
        return v

    # ---- objects ---------------------------------------------------------------------------
    def put_object(self, obj: KubeObject) -> KubeObject:
        """Store (create or replace) ``obj``; the key comes from kind, metadata.namespace, name."""
        md = obj.get("metadata") or {}
        key = (str(obj.get("kind", "")), str(md.get("namespace") or ""), str(md.get("name", "")))
        self._objects.setdefault(key[0], {})[(key[1], key[2])] = obj
        self._dirty[key] = obj
        self._maybe_flush()
        return obj

    def get_object(self, kind: str, namespace: str | None, name: str) -> KubeObject | None:
        return self._objects.get(kind, {}).get((namespace or "", name))

    def list_objects(self, kind: str, namespace: str | None = None) -> list[KubeObject]:
        """Objects of ``kind`` (in ``namespace`` when given), sorted by namespace then name."""
        objs = self._objects.get(kind, {})
        keys = sorted(k for k in objs if namespace is None or k[0] == namespace)
        return [objs[k] for k in keys]

    def kinds(self) -> list[str]:
        return sorted(k for k, v in self._objects.items() if v)

    def delete_object(self, kind: str, namespace: str | None, name: str) -> KubeObject | None:
        obj = self._objects.get(kind, {}).pop((namespace or "", name), None)
        if obj is not None:
            self._dirty[(kind, namespace or "", name)] = None
            self._maybe_flush()
        return obj

    # ---- events ----------------------------------------------------------------------------
    def add_event(self, event: KubeObject) -> int:
        """Append an Event object; returns its row id."""
        eid = (self._event_ids[-1] + 1) if self._event_ids else 1
        self._events.append(event)
        self._event_ids.append(eid)
        self._events_dirty[eid] = event
        self._maybe_flush()
        return eid

    def update_event(self, index: int, event: KubeObject) -> None:
        """Replace the event at position ``index`` of :meth:`list_events` (aggregation)."""
        self._events[index] = event
        self._events_dirty[self._event_ids[index]] = event
        self._maybe_flush()

    def all_events(self) -> list[KubeObject]:
        """The cached event list itself (insertion order; do not mutate)."""
        return self._events

    def list_events(self, namespace: str | None = None, involved_name: str | None = None) -> list[KubeObject]:
        """Events in insertion order, optionally of one namespace and/or one involved object."""
        out = []
        for ev in self._events:
            inv = ev.get("involvedObject") or {}
            if namespace is not None and (ev.get("metadata") or {}).get("namespace", "") != namespace:
                continue
            if involved_name is not None and inv.get("name") != involved_name:
                continue
            out.append(ev)
        return out

    # ---- flows -----------------------------------------------------------------------------
    def add_flows(self, flows: list[dict[str, Any]], probe: str = "") -> list[int]:
        """Store Hubble flow dicts; the indexed columns come from ``hubble.flow.index_columns``.

        Returns the new row ids, in the order given.
        """
        from ..hubble.flow import index_columns

        rows = []
        for f in flows:
            cols = index_columns(f)
            rows.append(tuple(cols.get(c) for c in FLOW_COLUMNS) + (probe, cols.get("json") or _dumps(f)))
        if not rows:
            return []
        own = self._depth == 0
        if own:
            self._db.execute("BEGIN")
        cur = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM flows")
        first = int(cur.fetchone()[0]) + 1
        ids = list(range(first, first + len(rows)))
        self._db.executemany(
            f"INSERT INTO flows (id, {', '.join(FLOW_COLUMNS)}, probe, json) VALUES "
            f"({', '.join('?' * (len(FLOW_COLUMNS) + 3))})",
            [(i,) + r for i, r in zip(ids, rows)],
        )
        if own:
            self._db.execute("COMMIT")
        return ids

    def query_flows(self, where_sql: str = "", params: list[Any] | tuple[Any, ...] = (), *,
                    order: str = "DESC", limit: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(id, flow)`` pairs matching ``where_sql`` (a trusted SQL fragment with ``?`` params),
        newest first by default (``order="ASC"`` for oldest first)."""
        if order.upper() not in ("ASC", "DESC"):
            raise ValueError(f"order must be ASC or DESC, got {order!r}")
        sql = "SELECT id, json FROM flows"
        if where_sql.strip():
            sql += f" WHERE {where_sql}"
        sql += f" ORDER BY time_ns {order.upper()}, id {order.upper()}"
        args = list(params)
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        for fid, text in self._db.execute(sql, args):
            yield int(fid), json.loads(text)

    def clear(self) -> None:
        """Forget everything (``reset``)."""
        db = self._db
        db.execute("BEGIN")
        for table in ("objects", "events", "meta", "flows"):
            db.execute(f"DELETE FROM {table}")
        db.execute("COMMIT")
        self._dirty.clear()
        self._meta_dirty.clear()
        self._load()
