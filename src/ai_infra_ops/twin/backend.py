"""``TwinBackend``: the embedded cluster behind ``ai_infra_ops.backend.Backend``.

Owns the API-server half of the twin: apply (validate the whole batch first — strict decoding,
names, namespaces, pod immutability, quota, Cilium's policy validation — then write it in one
transaction and let the controllers settle), get/list/delete with kubectl's resource spellings
and label selectors, cascading deletes, waits (the twin reconciles synchronously, so a wait is one
evaluation), events, probes (delegated to ``twin.network``) and flow queries (SQL pushdown through
``hubble.filters.compile_sql``).

Objects cross the seam as the dicts ``kubectl get -o json`` prints (deep copies).
Called by the CLI (through ``cli.context.Context.backend``), the pipeline and the validation suite.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..backend import ApplyResult, FlowQuery, KubeObject, ProbeRequest, ProbeResult, WaitResult
from ..kube_model import parse_selector_string
from .applier import Applier
from .clock import as_clock
from .controllers import Reconciler
from .kinds import resolve_kind
from .nodes import build_nodes
from .store import Store

__all__ = ["TwinBackend"]

ObjectList = list[KubeObject]  # (the method ``list`` shadows the builtin inside the class body)

_SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
_POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "NetworkPolicy")


class TwinBackend:
    """The twin as a :class:`ai_infra_ops.backend.Backend`."""

    name = "twin"

    def __init__(self, store: Store, spec: Any = None, clock: Any = None, seed: int = 0):
        self.store = store
        self.spec = spec
        self.clock = as_clock(clock)
        stored_seed = store.get_meta("seed")
        self.seed = int(stored_seed) if stored_seed is not None else seed
        minor = spec.kubernetes_version if spec is not None else store.get_meta("kubernetes_version", "1.35")
        self.kube_minor = str(minor)
        self.reconciler = Reconciler(store, self.clock, self.seed, self.kube_minor, spec)

    @classmethod
    def open(cls, state_dir: str | Path | None, spec: Any = None, clock: Any = None, seed: int = 0) -> TwinBackend:
        """Open (or create) the twin stored in ``state_dir`` (``None``: in memory only).

        A new twin starts as a freshly ``kubeadm``-built cluster: the system namespaces and, when
        ``spec`` is given, its nodes (Ready, control plane tainted); spec nodes missing from an
        existing twin join it.
        """
        store = Store.open(state_dir) if state_dir is not None else Store(None)
        tb = cls(store, spec, clock, seed)
        tb._bootstrap()
        return tb

    def _bootstrap(self) -> None:
        r = self.reconciler
        with self.store.transaction():
            if self.store.get_meta("seed") is None:
                self.store.set_meta("seed", str(self.seed))
            if self.spec is not None:
                self.store.set_meta("kubernetes_version", self.kube_minor)
            for ns in _SYSTEM_NAMESPACES:
                if self.store.get_object("Namespace", "", ns) is None:
                    r.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            if self.spec is not None:
                # the spec's machines have joined (kubeadm init/join cannot run in the twin);
                # a node added to the spec later joins on the next open
                for node in build_nodes(self.spec, r.now()):
                    if self.store.get_object("Node", "", node["metadata"]["name"]) is None:
                        r.create(node)
            r.reconcile()

    def close(self) -> None:
        self.store.close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One store transaction; if it fails, the store rolls back and the controllers' caches
        (event index, parsed topologies) are rebuilt so they match the store again."""
        try:
            with self.store.transaction():
                yield
        except BaseException:
            self.reconciler = Reconciler(self.store, self.clock, self.seed, self.kube_minor, self.spec)
            raise

    def capabilities(self) -> set[str]:
        return {"objects", "scheduling", "network", "flows", "gpu"}

    # ---- writes ----------------------------------------------------------------------------
    def apply(self, objects: list[Any], *, dry_run: bool = False) -> list[ApplyResult]:
        """Create or update objects (dicts or ``kube_model.Document``s), all or nothing.

        Raises:
            ManifestError: a malformed object (nothing applied).
            AdmissionError: the API server refuses an object, e.g. quota (nothing applied).
            PolicyError: Cilium rejects a policy; the other objects ARE applied (as Cilium does)
                and listed in the error's ``applied`` attribute.
        """
        applier = Applier(self.reconciler, self.spec)
        plan, rejected = applier.plan(objects)
        if dry_run:
            results = [ApplyResult(p.kind, p.namespace, p.name, p.action) for p in plan]
        else:
            with self._writing():
                results = applier.commit(plan)
                self.reconciler.reconcile()
        if rejected:
            err = rejected[0]
            if len(rejected) > 1:
                err.message += f" (and {len(rejected) - 1} more rejected polic{'ies' if len(rejected) > 2 else 'y'})"
                err.args = (f"{err.location.render()}: {err.message}" if err.location.render() else err.message,)
            err.applied = results  # type: ignore[attr-defined]
            err.rejected = rejected  # type: ignore[attr-defined]
            err.hint = (f"{len(results)} other object(s) applied; Cilium rejects an invalid policy and "
                        "enforces the others")
            raise err
        return results

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete one object; Pods free their node capacity and GPUs, owners cascade (background
        propagation: the garbage collector deletes dependents), Namespaces take their contents."""
        info = resolve_kind(kind)
        ns = (namespace or "default") if info.namespaced else ""
        with self._writing():
            gone = self._delete_tree(info.kind, ns, name)
            if gone:
                self.reconciler.reconcile()
        return gone

    def _delete_tree(self, kind: str, ns: str, name: str) -> bool:
        r = self.reconciler
        if kind == "Event":
            return False
        obj = r.delete(kind, ns, name)
        if obj is None:
            return False
        uid = obj["metadata"].get("uid")
        if kind == "Namespace":
            for k in self.store.kinds():
                for o in list(self.store.list_objects(k, name)):
                    self._delete_tree(k, name, o["metadata"]["name"])
            return True
        if kind == "Node":
            for p in list(self.store.list_objects("Pod")):
                if (p.get("spec") or {}).get("nodeName") == name:  # pod GC: orphaned pods
                    r.delete("Pod", p["metadata"]["namespace"], p["metadata"]["name"])
            return True
        for dep_kind in ("ReplicaSet", "Pod"):
            for o in list(self.store.list_objects(dep_kind, ns or None)):
                if any(ref.get("uid") == uid for ref in o["metadata"].get("ownerReferences") or []):
                    self._delete_tree(dep_kind, o["metadata"].get("namespace", ""), o["metadata"]["name"])
        return True

    def reset(self) -> None:
        """Forget every object, event and flow, and boot a fresh cluster from the spec."""
        self.store.clear()
        self.store.set_meta("seed", str(self.seed))
        self.reconciler = Reconciler(self.store, self.clock, self.seed, self.kube_minor, self.spec)
        self._bootstrap()

    # ---- reads -----------------------------------------------------------------------------
    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None:
        info = resolve_kind(kind)
        if info.kind == "Event":
            ev = next((e for e in self.store.list_events(namespace) if e["metadata"]["name"] == name), None)
            return copy.deepcopy(ev)
        obj = self.store.get_object(info.kind, (namespace or "default") if info.namespaced else "", name)
        return copy.deepcopy(obj) if obj is not None else None

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> ObjectList:
        """Objects of ``kind`` (any kubectl spelling), in ``namespace`` (None: all), matching
        ``label_selector`` (``app=cuda,tier!=web,!gpu``), sorted by namespace and name."""
        info = resolve_kind(kind)
        sel = parse_selector_string(label_selector) if label_selector else None
        ns = namespace if info.namespaced else None
        objs = self.store.list_events(ns) if info.kind == "Event" else self.store.list_objects(info.kind, ns)
        if info.kind == "Event":
            objs = sorted(objs, key=lambda e: (e["metadata"].get("namespace", ""), e["metadata"]["name"]))
        out = [o for o in objs if sel is None or sel.matches((o.get("metadata") or {}).get("labels") or {})]
        return copy.deepcopy(out)

    def events(self, namespace: str | None = None, involved_name: str | None = None) -> ObjectList:
        """Events (oldest first), optionally of one namespace and/or one involved object."""
        return copy.deepcopy(self.store.list_events(namespace, involved_name))

    def wait_for(self, kind: str, name: str, namespace: str | None, predicate: Callable[[KubeObject | None], bool],
                 *, timeout_s: float = 60.0, description: str = "") -> WaitResult:
        """Evaluate ``predicate`` on the settled object: the twin has nothing left to wait for."""
        with self._writing():
            self.reconciler.reconcile()
        obj = self.get(kind, name, namespace)
        if predicate(obj):
            return WaitResult(True, obj, 0.0)
        ref = f"{resolve_kind(kind).kind.lower()}/{name}"
        what = f" ({description})" if description else ""
        state = "not found" if obj is None else "the condition does not hold"
        return WaitResult(False, obj, 0.0, f"{ref}{what}: {state}; the twin is settled, so waiting "
                          f"{timeout_s:g}s would not change it")

    # ---- network ---------------------------------------------------------------------------
    def _view(self) -> Any:
        from .network.view import InMemoryView

        objs: ObjectList = []
        for kind in ("Namespace", "Pod", "Node", "Service", "Endpoints", *_POLICY_KINDS):
            objs.extend(self.store.list_objects(kind))
        return InMemoryView(objs, revision=self.store.get_meta("counter:resourceVersion", "0"),
                            scope=f"{self.store.path}#{id(self.store)}")

    def probe(self, request: ProbeRequest) -> ProbeResult:
        """Run one probe through the twin's network and policy engine; its flows are stored."""
        from .network.cluster import NetworkSettings, engine_for_view
        from .network.traffic import probe

        view = self._view()
        engine = engine_for_view(view, self.spec)
        settings = NetworkSettings.from_spec(self.spec) if self.spec is not None else None
        return probe(view, engine, request, self.clock, self.store.add_flows, settings=settings, seed=self.seed)

    def observe(self, query: FlowQuery) -> ObjectList:
        """Stored flows matching ``query`` (oldest first; ``last`` keeps the newest N).

        ``query.filters`` is a hubble ``FilterSet`` or its dict form (``{"whitelist": [...],
        "blacklist": [...]}``); ``since``/``until`` are RFC 3339 times or durations before the twin's
        now (``5m``). Filtering is pushed down to SQL by ``hubble.filters.compile_sql``.
        """
        from ..hubble.filters import compile_sql, parse_time

        now = self.clock.now()
        now_ns = int(now.timestamp()) * 1_000_000_000 + now.microsecond * 1000
        since_ns = parse_time(query.since, now_ns, "since") if query.since else None
        until_ns = parse_time(query.until, now_ns, "until") if query.until else None
        where, params, residual = compile_sql(query.filters or {}, since_ns=since_ns, until_ns=until_ns)
        out = []
        for _, flow in self.store.query_flows(where, list(params), order="DESC"):
            if residual is None or residual(flow):
                out.append(flow)
                if query.last is not None and len(out) >= query.last:
                    break
        out.reverse()
        return out
