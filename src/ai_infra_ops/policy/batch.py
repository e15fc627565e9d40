"""Array verdicts: many (source identity, destination identity, protocol, port) at once.

Owns :class:`BatchDecider`, built from the engine's cached policy maps: every (subject identity,
direction, remote identity) gets a *segment table* (per protocol, the port boundaries where the
map's verdict changes, obtained by ``PolicyMap.lookup`` at those boundaries, so it is exact by
construction); identical tables are shared. ``decide_many`` is then two ``numpy.searchsorted``
passes (pair -> table, (table, proto, port) -> verdict) per direction. Called by the bench and by
callers that need bulk verdicts (matrix-like checks over flows).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import PolicyEngine
from .policymap import PolicyMap

PROTO_INDEX = {"TCP": 0, "UDP": 1, "SCTP": 2, "ICMP": 3, "ICMPV6": 4}
_PROTOS = tuple(PROTO_INDEX)
# verdict codes
DEFAULT_DENY, ALLOW, REDIRECT, EXPLICIT_DENY = 0, 1, 2, 3
_CODE = {"ALLOW": ALLOW, "REDIRECT": REDIRECT}


@dataclass
class BatchResult:
    forwarded: np.ndarray      # bool
    redirect: np.ndarray       # bool: some side redirects to an L7 proxy
    drop_reason: np.ndarray    # 0, 133 (POLICY_DENIED) or 181 (POLICY_DENY)


class BatchDecider:
    """Vectorised egress+ingress verdicts for pod identities of one engine revision."""

    def __init__(self, eng: PolicyEngine) -> None:
        self.revision = eng.revision
        pods = eng.pods  # refreshes identities first
        ids = sorted(eng.registry.by_id)
        self.dense = {num: i for i, num in enumerate(ids)}
        self.n = len(ids)
        self._id_array = np.full(max(ids) + 1 if ids else 1, -1, dtype=np.int64) if ids and max(ids) < 50_000_000 else None
        if self._id_array is not None:
            for num, i in self.dense.items():
                self._id_array[num] = i
        self._tables: dict[tuple[object, ...], int] = {}
        seg_keys: list[int] = []
        seg_vals: list[int] = []
        self._seg = (seg_keys, seg_vals)
        subjects = sorted({p.identity for p in pods.values() if not p.host_network})
        pair_keys: list[int] = []
        pair_tabs: list[int] = []
        default = np.zeros((2, self.n), dtype=np.int64)
        for num in subjects:
            s = self.dense[num]
            for d, direction in enumerate(("EGRESS", "INGRESS")):
                pm = eng.policy_map(num, direction)
                default[d, s] = self._table(pm, -1)
                for rid in sorted({k[0] for k in pm.entries if k[0] > 0 and k[0] in self.dense}):
                    pair_keys.append((d * self.n + s) * (self.n + 1) + self.dense[rid])
                    pair_tabs.append(self._table(pm, rid))
        order = np.argsort(np.array(pair_keys, dtype=np.int64), kind="stable")
        self.pair_keys = np.array(pair_keys, dtype=np.int64)[order]
        self.pair_tabs = np.array(pair_tabs, dtype=np.int64)[order]
        self.default = default
        sk = np.array(seg_keys, dtype=np.int64)
        o = np.argsort(sk, kind="stable")
        self.seg_keys, self.seg_vals = sk[o], np.array(seg_vals, dtype=np.int8)[o]
        self.tables = len(self._tables)

    def _table(self, pm: PolicyMap, remote: int) -> int:
        sig_parts: list[object] = [pm.enforced, pm.fallback_allow, pm.direction, remote == 1]
        for key in [(r, p) for r in ((remote, 0) if remote > 0 else (0,)) for p in (*_PROTOS, "*")]:
            sig_parts.append(tuple((c.lo, c.hi, c.deny, id(c.entry), id(c.l7)) for c in pm.entries.get(key, ())))
        sig = tuple(sig_parts)
        tid = self._tables.get(sig)
        if tid is not None:
            return tid
        tid = len(self._tables)
        self._tables[sig] = tid
        keys, vals = self._seg
        look = remote if remote > 0 else -7  # a remote no entry names
        for pi, proto in enumerate(_PROTOS):
            bounds = {0}
            for key in ((remote, proto), (remote, "*"), (0, proto), (0, "*")) if remote > 0 else ((0, proto), (0, "*")):
                for c in pm.entries.get(key, ()):
                    bounds.add(c.lo)
                    if c.hi < 65535:
                        bounds.add(c.hi + 1)
            base = (tid * 8 + pi) << 16
            last = None
            for b in sorted(bounds):
                res = pm.lookup(look, proto, b)
                code = _CODE.get(res.verdict, EXPLICIT_DENY if res.deny_kind == "explicit" else DEFAULT_DENY)
                if code != last:
                    keys.append(base + b)
                    vals.append(code)
                    last = code
        return tid

    def _dense(self, ids: np.ndarray) -> np.ndarray:
        if self._id_array is not None:
            return np.asarray(self._id_array[ids], dtype=np.int64)
        return np.array([self.dense.get(int(x), -1) for x in ids], dtype=np.int64)

    def _side(self, d: int, subj: np.ndarray, remote: np.ndarray, proto: np.ndarray, port: np.ndarray) -> np.ndarray:
        key = (d * self.n + subj) * (self.n + 1) + remote
        pos = np.searchsorted(self.pair_keys, key)
        pos_c = np.minimum(pos, max(len(self.pair_keys) - 1, 0))
        found = (len(self.pair_keys) > 0) & (self.pair_keys[pos_c] == key) if len(self.pair_keys) else np.zeros(len(key), bool)
        tab = np.where(found, self.pair_tabs[pos_c] if len(self.pair_tabs) else 0, self.default[d, subj])
        q = ((tab * 8 + proto) << 16) + port
        idx = np.searchsorted(self.seg_keys, q, side="right") - 1
        return np.asarray(self.seg_vals[idx])

    def decide_many(self, src_ids: np.ndarray, dst_ids: np.ndarray, protos: np.ndarray, ports: np.ndarray) -> BatchResult:
        """Verdicts for pod->pod flows given as arrays of identity ids, protocol indices
        (``PROTO_INDEX``) and destination ports (ICMP: type)."""
        s, t = self._dense(src_ids), self._dense(dst_ids)
        eg = self._side(0, s, t, protos, ports)
        ing = self._side(1, t, s, protos, ports)
        eg_ok = (eg == ALLOW) | (eg == REDIRECT)
        in_ok = (ing == ALLOW) | (ing == REDIRECT)
        fwd = eg_ok & in_ok
        code = np.where(~eg_ok, eg, np.where(~in_ok, ing, 0))
        reason = np.where(fwd, 0, np.where(code == EXPLICIT_DENY, 181, 133))
        return BatchResult(fwd, fwd & ((eg == REDIRECT) | (ing == REDIRECT)), reason)
