"""Connectivity matrix: the L3/L4 connections allowed between every pair of pods.

Owns :func:`compute_matrix` and its output forms (json, csv, grouped text), plus
:func:`parse_nca_connectivity` to read network-config-analyzer's ``txt_no_fw_rules`` output for
the cross-check. Work is done per identity, not per pod pair: each identity's egress/ingress policy
map becomes one *row* (a default connection set plus the remote identities it names explicitly),
connection sets are interned to small ints, and the pod x pod result is two numpy gathers and an
intersection per distinct pair of interned sets. Called by ``policy matrix`` and ``bench``.

L7 rules count as allowed at L4 (the proxy decides per request); self-traffic is excluded (it
never leaves the pod), as NCA does.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .engine import PolicyEngine
from .policymap import PolicyMap

PROTOS = ("TCP", "UDP", "SCTP", "ICMP")
FULL = ((0, 65535),)
Intervals = tuple[tuple[int, int], ...]
# A connection set: per protocol, sorted disjoint inclusive port intervals (ICMP: type numbers).
ConnSet = tuple[tuple[str, Intervals], ...]
ALL: ConnSet = tuple((p, FULL) for p in PROTOS)
NONE: ConnSet = ()


def _norm(iv: list[tuple[int, int]]) -> Intervals:
    out: list[list[int]] = []
    for lo, hi in sorted(iv):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


def _sub(a: Intervals, b: Intervals) -> Intervals:
    res = list(a)
    for blo, bhi in b:
        nxt: list[tuple[int, int]] = []
        for lo, hi in res:
            if bhi < lo or blo > hi:
                nxt.append((lo, hi))
                continue
            if lo < blo:
                nxt.append((lo, blo - 1))
            if hi > bhi:
                nxt.append((bhi + 1, hi))
        res = nxt
    return tuple(res)


def _inter(a: Intervals, b: Intervals) -> Intervals:
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def intersect(a: ConnSet, b: ConnSet) -> ConnSet:
    bd = dict(b)
    out = []
    for p, iv in a:
        if p in bd:
            x = _inter(iv, bd[p])
            if x:
                out.append((p, x))
    return tuple(out)


def render_conn(c: ConnSet) -> str:
    if c == ALL:
        return "All connections"
    if not c:
        return "No connections"
    parts = []
    for p, iv in c:
        ports = ",".join(str(a) if a == b else f"{a}-{b}" for a, b in iv)
        parts.append(f"{p} {'all' if iv == FULL else ports}")
    return "; ".join(parts)


def conn_of(pm: PolicyMap, remote: int) -> ConnSet:
    """What ``pm`` allows from/to ``remote`` at L3/L4 (denies subtracted, allow-localhost applied)."""
    if not pm.enforced:
        return ALL
    allow: dict[str, list[tuple[int, int]]] = {p: [] for p in PROTOS}
    deny: dict[str, list[tuple[int, int]]] = {p: [] for p in PROTOS}
    keys = [(remote, p) for p in (*PROTOS, "*")] + ([(0, p) for p in (*PROTOS, "*")] if remote else [])
    for key in keys:
        for c in pm.entries.get(key, ()):
            target = deny if c.deny else allow
            if c.entry is not None and not c.deny and c.entry.auth in ("required", "test-always-fail"):
                continue
            protos = PROTOS if key[1] == "*" else ((key[1],) if key[1] in PROTOS else ())
            for p in protos:
                target[p].append((c.lo, c.hi))
    if pm.fallback_allow or (pm.direction == "INGRESS" and remote == 1):
        allow = {p: [(0, 65535)] for p in PROTOS}
    out = []
    for p in PROTOS:
        iv = _sub(_norm(allow[p]), _norm(deny[p]))
        if iv:
            out.append((p, iv))
    return tuple(out)


@dataclass
class Matrix:
    pods: list[str]
    sets: list[ConnSet]               # interned connection sets; index 0 = no connections
    result: np.ndarray                # pods x pods, index into ``sets`` (-1 on the diagonal)

    def pairs(self) -> list[tuple[str, str, ConnSet]]:
        src, dst = np.nonzero(self.result > 0)
        return [(self.pods[s], self.pods[d], self.sets[self.result[s, d]]) for s, d in zip(src.tolist(), dst.tolist())]

    def to_json(self) -> str:
        return json.dumps([{"src": s, "dst": d, "connections": render_conn(c),
                            "ports": {p: [list(x) for x in iv] for p, iv in c}} for s, d, c in self.pairs()], indent=1)

    def to_csv(self) -> str:
        lines = ["src,dst,connections"] + [f'{s},{d},"{render_conn(c)}"' for s, d, c in self.pairs()]
        return "\n".join(lines) + "\n"

    def to_text(self) -> str:
        """Grouped form: one line per source pod and connection set, destinations listed."""
        rendered = [render_conn(c) for c in self.sets]
        names = np.array(self.pods, dtype=object)
        out: list[str] = []
        for i, src in enumerate(self.pods):
            row = self.result[i]
            for sid in np.unique(row[row > 0]).tolist():
                out.append(f"{src} => {', '.join(names[row == sid].tolist())} : {rendered[sid]}\n")
        return "".join(out)


def compute_matrix(eng: PolicyEngine) -> Matrix:
    """All allowed pod -> pod L3/L4 connections (Cilium semantics) of the engine's cluster."""
    pods = sorted(k for k, p in eng.pods.items() if not p.host_network)
    ids = sorted({eng.pods[k].identity for k in pods})
    dense = {num: i for i, num in enumerate(ids)}
    n = len(ids)
    interned: dict[ConnSet, int] = {NONE: 0}
    sets: list[ConnSet] = [NONE]

    def intern(c: ConnSet) -> int:
        v = interned.get(c)
        if v is None:
            v = interned[c] = len(sets)
            sets.append(c)
        return v

    eg = np.zeros((n, n), dtype=np.int32)
    ing = np.zeros((n, n), dtype=np.int32)
    memo: dict[tuple[object, ...], int] = {}

    def cell(pm: PolicyMap, remote: int) -> int:
        # Maps of identities selected by the same rules hold equal contributions (shared rule
        # entries), so the connection set is computed once per distinct signature.
        sig: list[object] = [pm.enforced, pm.fallback_allow, pm.direction == "INGRESS" and remote == 1]
        for r in ((remote, 0) if remote > 0 else (0,)):
            for p in (*PROTOS, "*"):
                sig.append(tuple((c.lo, c.hi, c.deny, id(c.entry)) for c in pm.entries.get((r, p), ())))
        key = tuple(sig)
        v = memo.get(key)
        if v is None:
            v = memo[key] = intern(conn_of(pm, remote))
        return v

    for num in ids:
        i = dense[num]
        for direction, mat in (("EGRESS", eg), ("INGRESS", ing)):
            pm = eng.policy_map(num, direction)
            mat[i, :] = cell(pm, -1)  # -1: a remote the map does not name explicitly
            for rid in {k[0] for k in pm.entries if k[0] in dense}:
                mat[i, dense[rid]] = cell(pm, rid)
    pid = np.array([dense[eng.pods[k].identity] for k in pods], dtype=np.int64)
    a = eg[pid[:, None], pid[None, :]]          # src egress towards dst identity
    b = ing[pid[None, :], pid[:, None]]         # dst ingress from src identity
    k = len(sets)
    present = np.zeros((k, k), dtype=bool)
    present[a, b] = True
    table = np.zeros((k, k), dtype=np.int32)
    for x, y in zip(*(v.tolist() for v in np.nonzero(present))):
        table[x, y] = intern(intersect(sets[x], sets[y]))
    result = table[a, b]
    np.fill_diagonal(result, -1)
    return Matrix(pods, sets, result)


_NCA_LINE = re.compile(r"^(\S+?)\[[A-Za-z]+\] => (\S+?)\[[A-Za-z]+\] : (.*)$")


def parse_nca_conn(text: str) -> ConnSet:
    """NCA's connection text (``All connections`` or ``{protocols:TCP, UDP,dst_ports:53},...``)."""
    text = text.strip()
    if text == "All connections":
        return ALL
    acc: dict[str, list[tuple[int, int]]] = {}
    for grp in re.findall(r"\{([^}]*)\}", text):
        m = re.match(r"protocols:([A-Za-z0-9, ]+?)(?:,dst_ports:(.*))?$", grp.strip())
        if not m:
            raise ValueError(f"unrecognised NCA connection set: {grp!r}")
        protos = [p.strip().upper() for p in m.group(1).split(",") if p.strip()]
        ports: list[tuple[int, int]] = []
        if m.group(2):
            for part in m.group(2).split(","):
                lo, _, hi = part.strip().partition("-")
                ports.append((int(lo), int(hi or lo)))
        else:
            ports = [(0, 65535)]
        for p in protos:
            p = "ICMP" if p.startswith("ICMP") else p
            acc.setdefault(p, []).extend(ports)
    return tuple((p, _norm(acc[p])) for p in PROTOS if p in acc)


def parse_nca_connectivity(text: str) -> dict[tuple[str, str], ConnSet]:
    """Pod -> pod connections from ``nca --connectivity ... -o txt_no_fw_rules`` (IP ranges skipped)."""
    out: dict[tuple[str, str], ConnSet] = {}
    for line in text.splitlines():
        m = _NCA_LINE.match(line.strip())
        if m and "/" in m.group(1) and "/" in m.group(2):
            out[(m.group(1), m.group(2))] = parse_nca_conn(m.group(3))
    return out


def compare_with_nca(ours: Matrix, nca: dict[tuple[str, str], ConnSet], tcp_udp_sctp_only: bool = True) -> list[str]:
    """Differences (as lines). ICMP/other protocols are folded: NCA's "All connections" also
    covers protocols Cilium's matrix lists as ICMP; both sides are compared on TCP/UDP/SCTP+ICMP."""
    mine = {(s, d): c for s, d, c in ours.pairs()}
    diffs = []
    for key in sorted(set(mine) | set(nca)):
        a, b = mine.get(key, NONE), nca.get(key, NONE)
        if a != b:
            diffs.append(f"{key[0]} => {key[1]}: ours {render_conn(a)!r} vs NCA {render_conn(b)!r}")
    return diffs


def as_dict(m: Matrix) -> dict[str, Any]:
    return {"pods": m.pods, "pairs": len(m.pairs())}
