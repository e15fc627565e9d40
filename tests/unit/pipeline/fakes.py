"""A tiny in-memory Backend for unit tests of the runner and the checks (tests only).

Objects live in a dict; ``apply`` reports created/configured/unchanged; ``wait_for`` runs the
optional ``settle`` hook (a stand-in controller) then evaluates the predicate once; probes answer
from a table ``(source, target) -> ProbeResult factory``. Real behaviour lives in the twin.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from ai_infra_ops.backend import ApplyResult, FlowQuery, ProbeRequest, ProbeResult, WaitResult
from ai_infra_ops.kube_model import kind_is_namespaced, parse_selector_string

Key = tuple[str, str, str]


def flow(verdict: str, *, drop: str = "", src: str = "gpu/cudatestpod", dst_ip: str = "8.8.8.8", uuid: str = "f-1",
         time: str = "2026-01-01T00:00:00.000000001Z", port: int | None = None) -> dict[str, Any]:
    """A minimal Hubble flow dict."""
    ns, pod = src.split("/")
    f: dict[str, Any] = {"time": time, "uuid": uuid, "verdict": verdict,
                         "IP": {"source": "10.244.1.2", "destination": dst_ip},
                         "l4": {"TCP": {"source_port": 40000, "destination_port": port}} if port else {"ICMPv4": {"type": 8}},
                         "source": {"identity": 1234, "namespace": ns, "pod_name": pod, "labels": [f"k8s:app={pod}"]},
                         "destination": {"identity": 2, "labels": ["reserved:world"]},
                         "Type": "L3_L4", "node_name": "node01", "traffic_direction": "EGRESS",
                         "Summary": "ICMPv4 EchoRequest"}
    if drop:
        f["drop_reason_desc"] = drop
    return f


class FakeBackend:
    name = "fake"

    def __init__(self, caps: set[str] | None = None, settle: Callable[[FakeBackend], None] | None = None):
        self.objects: dict[Key, dict[str, Any]] = {}
        self.caps = caps if caps is not None else {"objects", "scheduling", "network", "flows", "gpu"}
        self.settle = settle
        self.probes: dict[tuple[str, str], Callable[[ProbeRequest], ProbeResult]] = {}
        self.event_list: list[dict[str, Any]] = []
        self.applied: list[str] = []
        self.deleted: list[str] = []
        self.probed: list[ProbeRequest] = []

    def _key(self, kind: str, name: str, ns: str | None) -> Key:
        return (kind, (ns or "default") if kind_is_namespaced(kind) else "", name)

    def capabilities(self) -> set[str]:
        return set(self.caps)

    def apply(self, objects: list[dict[str, Any]], *, dry_run: bool = False) -> list[ApplyResult]:
        out = []
        for o in objects:
            md = o["metadata"]
            key = self._key(o["kind"], md["name"], md.get("namespace"))
            old = self.objects.get(key)
            new = copy.deepcopy(o)
            if old is not None and "status" in old and "status" not in new:
                new["status"] = old["status"]
            action = "created" if old is None else ("unchanged" if json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True) else "configured")
            self.objects[key] = new
            self.applied.append(f"{o['kind']}/{md['name']}")
            out.append(ApplyResult(o["kind"], key[1], md["name"], action))
        if self.settle:
            self.settle(self)
        return out

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        o = self.objects.get(self._key(kind, name, namespace))
        return copy.deepcopy(o) if o is not None else None

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[dict[str, Any]]:
        sel = parse_selector_string(label_selector) if label_selector else None
        out = [copy.deepcopy(o) for (k, ns, _), o in sorted(self.objects.items())
               if k == kind and (namespace is None or ns == namespace)
               and (sel is None or sel.matches(o["metadata"].get("labels") or {}))]
        return out

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        key = self._key(kind, name, namespace)
        if key in self.objects:
            del self.objects[key]
            self.deleted.append(f"{kind}/{name}")
            return True
        return False

    def wait_for(self, kind: str, name: str, namespace: str | None, predicate: Callable[[Any], bool], *,
                 timeout_s: float = 60.0, description: str = "") -> WaitResult:
        if self.settle:
            self.settle(self)
        obj = self.get(kind, name, namespace)
        ok = bool(predicate(obj))
        return WaitResult(ok, obj, 0.0, "" if ok else f"{kind}/{name}: {description} does not hold")

    def events(self, namespace: str | None = None, involved_name: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.event_list
                if (namespace is None or e["metadata"].get("namespace") == namespace)
                and (involved_name is None or e["involvedObject"].get("name") == involved_name)]

    def probe(self, request: ProbeRequest) -> ProbeResult:
        self.probed.append(request)
        fn = self.probes.get((request.source, request.target))
        if fn is None:
            return ProbeResult(request, "DROPPED", explanation="fake: no answer configured", supported=False)
        return fn(request)

    def observe(self, query: FlowQuery) -> list[dict[str, Any]]:
        return []
