"""``KubeBackend``: the backend seam (``ai_infra_ops.backend.Backend``) against a real cluster.

Built by ``cli.context`` when ``--kubeconfig`` is given. Objects cross the seam as plain dicts of
any kind (CRDs included); writes are server-side applies with field manager ``ai-infra-ops``
(``kube.apply``); waits are watches (``kube.wait``); errors are translated at ``kube.client``.

Capabilities are what the cluster can actually show: ``objects``, ``scheduling`` and ``gpu``
always; ``flows`` when a Hubble Relay address is given; ``network`` only when Cilium runs (its
``ciliumnetworkpolicies.cilium.io`` CRD exists and a cilium agent pod is Running). The KWOK test
bed has no Cilium and no container runtime, so network probes there answer "needs Cilium/Hubble".
"""
from __future__ import annotations

import builtins  # the method named ``list`` shadows the builtin in annotations below it

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..backend import ApplyResult, FlowDict, FlowQuery, KubeObject, ProbeRequest, ProbeResult, WaitResult
from ..errors import BackendError, UserInputError
from .apply import apply_objects
from .client import KubeClient, ResourceInfo
from .errors import NotFound
from .events import list_events
from .probes import run_probe, unsupported
from .relay import Relay
from .wait import get_object, wait_for


class KubeBackend:
    """A real cluster reached through a kubeconfig (and optionally a Hubble Relay)."""

    name = "kube"

    def __init__(self, kubeconfig: str | Path, relay: str | None = None, spec: Any = None, *,
                 context: str | None = None, client: KubeClient | None = None) -> None:
        self.kubeconfig = str(kubeconfig)
        self.context = context
        self.client = client or KubeClient(kubeconfig, context)
        self.relay = Relay(relay) if relay else None
        self.spec = spec
        self._caps: set[str] | None = None

    def close(self) -> None:
        self.client.close()
        if self.relay is not None:
            self.relay.close()

    def __enter__(self) -> KubeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server(self) -> str:
        return self.client.server

    # ---- capabilities --------------------------------------------------------------------
    def capabilities(self) -> set[str]:
        if self._caps is None:
            caps = {"objects", "scheduling", "gpu"}
            if self.relay is not None:
                caps.add("flows")
            if self.cilium_running():
                caps.add("network")
            self._caps = caps
        return set(self._caps)

    def cilium_running(self) -> bool:
        """Cilium's policy CRD is installed and at least one cilium agent pod is Running."""
        crds = self.client.resolve("CustomResourceDefinition", "apiextensions.k8s.io/v1")
        if get_object(self.client, crds, "ciliumnetworkpolicies.cilium.io", None) is None:
            return False
        pods = self.list("Pod", "kube-system", "k8s-app=cilium")
        return any(p.get("status", {}).get("phase") == "Running" for p in pods)

    # ---- objects -------------------------------------------------------------------------
    def apply(self, objects: list[KubeObject], *, dry_run: bool = False) -> list[ApplyResult]:
        dicts = [getattr(o, "value", o) for o in objects]  # kube_model.Document or dict
        return apply_objects(self.client, dicts, dry_run=dry_run)

    def _info(self, kind: str) -> ResourceInfo:
        return self.client.resolve(kind)

    def _ns(self, info: ResourceInfo, namespace: str | None) -> str | None:
        return (namespace or "default") if info.namespaced else None

    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None:
        """One object, or None. A kind the server does not serve (e.g. CiliumNetworkPolicy where
        Cilium is not installed) has no objects, so that is None too, as in the twin."""
        try:
            info = self._info(kind)
        except NotFound:
            return None
        obj = get_object(self.client, info, name, self._ns(info, namespace))
        return obj

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[KubeObject]:
        """Objects of a kind; ``namespace=None`` lists all namespaces (``-A``); [] for a kind the
        server does not serve (no CRD installed)."""
        try:
            info = self._info(kind)
        except NotFound:
            return []
        params: dict[str, Any] = {"limit": 500}
        if label_selector:
            params["labelSelector"] = label_selector
        out: list[KubeObject] = []
        while True:
            page = self.client.request("GET", info.path(namespace if info.namespaced else None), params=params,
                                       verb="list", what=info.plural)
            for item in page.get("items", []):
                item.setdefault("apiVersion", info.api_version)
                item.setdefault("kind", info.kind)
                out.append(item)
            cont = page.get("metadata", {}).get("continue")
            if not cont:
                break
            params["continue"] = cont
        out.sort(key=lambda o: (o.get("metadata", {}).get("namespace", ""), o.get("metadata", {}).get("name", "")))
        return out

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete one object (background propagation, as kubectl); False if it did not exist."""
        info = self._info(kind)
        try:
            self.client.request("DELETE", info.path(self._ns(info, namespace), name),
                                body={"kind": "DeleteOptions", "apiVersion": "v1",
                                      "propagationPolicy": "Background"},
                                verb="delete", what=f"{info.plural} {name}")
        except NotFound:
            return False
        return True

    def wait_for(self, kind: str, name: str, namespace: str | None,
                 predicate: Callable[[KubeObject | None], bool], *, timeout_s: float = 60.0,
                 description: str = "") -> WaitResult:
        info = self._info(kind)
        return wait_for(self.client, info, name, self._ns(info, namespace), predicate,
                        timeout_s=timeout_s, description=description)

    def events(self, namespace: str | None = None, involved_name: str | None = None) -> builtins.list[KubeObject]:
        return list_events(self.client, namespace, involved_name)

    # ---- network -------------------------------------------------------------------------
    def probe(self, request: ProbeRequest) -> ProbeResult:
        if "network" not in self.capabilities():
            return unsupported(request, f"the cluster at {self.server} runs no Cilium agent (no "
                                        "ciliumnetworkpolicies.cilium.io CRD or no Running cilium pod)")
        return run_probe(request, self._exec, self._pod_ip, self.observe if self.relay else None)

    def _pod_ip(self, ref: str) -> str:
        ns, _, name = ref.partition("/")
        pod = self.get("Pod", name, ns)
        ip = (pod or {}).get("status", {}).get("podIP")
        if not ip:
            raise BackendError(f"pod {ref} has no IP (not found or not running)")
        return str(ip)

    def _exec(self, namespace: str, pod: str, argv: builtins.list[str]) -> tuple[int, str, str]:
        from lightkube import Client
        from lightkube.config.kubeconfig import KubeConfig

        client = Client(KubeConfig.from_file(self.kubeconfig), trust_env=False)
        try:
            resp = client.exec(pod, namespace=namespace, command=argv, stdout=True, stderr=True, timeout=30)
        finally:
            client.close()
        return int(resp.exit_code or 0), str(resp.stdout or ""), str(resp.stderr or "")

    def observe(self, query: FlowQuery) -> builtins.list[FlowDict]:
        if self.relay is None:
            # A missing option is the user's to fix (exit 2), not a cluster failure.
            raise UserInputError("no Hubble Relay configured: flows from a real cluster need --hubble-relay HOST:PORT "
                                 "(e.g. a port-forward to hubble-relay 4245)")
        return self.relay.flows(query)
