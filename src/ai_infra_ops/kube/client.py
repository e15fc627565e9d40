"""A small Kubernetes REST client built on lightkube's kubeconfig and transport layer.

Why lightkube (see ``docs/kube-backend.md``): it parses kubeconfigs completely (contexts, client
certificates, static and file tokens, exec plugins), builds a configured ``httpx`` client whose
transport a test can replace, ships typed models and server-side apply, and is small and sync+async.
The backend seam (``ai_infra_ops.backend``) moves plain dicts of any kind, CRDs included, so this
module uses lightkube's configured HTTP client with API discovery instead of its typed model
classes: a kind becomes ``ResourceInfo`` (group, version, plural, scope) by asking the server.

Everything that can fail on the wire is translated here (``kube.errors``): transport failures become
``BackendUnreachable`` naming the server URL; 429 is retried honouring ``Retry-After``; 5xx is
retried with backoff for idempotent verbs only.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
from lightkube.config import client_adapter
from lightkube.config.kubeconfig import KubeConfig

from ..errors import BackendError, Location, UserInputError
from ..kube_model import load_yaml_file
from .errors import NotFound, is_typed_patch_error, translate_status, unreachable

FIELD_MANAGER = "ai-infra-ops"
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
APPLY_PATCH = "application/apply-patch+yaml"


@dataclass(frozen=True)
class ResourceInfo:
    """One REST resource as discovery reports it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    singular: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        """The URL path of the collection, or of one object (and its subresource)."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if sub:
                base += f"/{sub}"
        return base


class KubeClient:
    """Requests against one API server, credentials and TLS taken from a kubeconfig.

    Args:
        kubeconfig: path of the kubeconfig file.
        context: a context name (default: the file's current-context).
        transport: an ``httpx`` transport to use instead of the network (tests).
        timeout_s: connect/read timeout of one request.
        max_retries: how often a 429 or a retryable 5xx is retried.
        sleep: the sleep function used between retries (tests pass a recorder).
    """

    def __init__(self, kubeconfig: str | Path, context: str | None = None, *,
                 transport: httpx.BaseTransport | None = None, timeout_s: float = 30.0,
                 max_retries: int = 5, sleep: Callable[[float], None] = time.sleep,
                 pool_size: int = 20) -> None:
        _check_kubeconfig_shape(Path(kubeconfig))
        try:
            config = KubeConfig.from_file(str(kubeconfig)).get(context)
        except Exception as exc:  # lightkube raises ConfigError/KeyError/OSError for bad files
            raise UserInputError(f"not a usable kubeconfig: {exc}", Location(file=str(kubeconfig))) from exc
        if config is None:
            raise UserInputError("no usable context (set current-context or pass a context)",
                                 Location(file=str(kubeconfig), field="current-context"))
        self.config = config
        self.server = str(config.cluster.server).rstrip("/")
        params = client_adapter.ConnectionParams(timeout=httpx.Timeout(timeout_s), trust_env=False,
                                                 transport=transport)
        kwargs = params.httpx_params(config)
        kwargs["limits"] = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self.http = httpx.Client(**kwargs)
        self._max_retries = max_retries
        self._sleep = sleep
        self._by_gv: dict[str, list[ResourceInfo]] = {}
        self._preferred: list[str] | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A client dropped without close() (e.g. a CLI run) must not leak its pooled TLS sockets.
        http = getattr(self, "http", None)
        if http is not None:
            http.close()

    # ---- requests ------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                body: Any = None, content_type: str = "application/json",
                verb: str = "", what: str = "") -> Any:
        """One API call; returns the decoded JSON body. Raises the translated errors."""
        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if body is not None else {}
        attempt = 0
        while True:
            try:
                resp = self.http.request(method, path, params=params, content=content, headers=headers)
            except httpx.TransportError as exc:
                raise unreachable(self.server, exc) from exc
            if resp.status_code < 400:
                return resp.json() if resp.content else {}
            body_json = _json_or_none(resp)
            # 429: always safe (the server did nothing). 5xx: only where repeating cannot
            # do something twice (reads, deletes, server-side apply, which is declarative).
            idempotent = method in IDEMPOTENT or content_type == APPLY_PATCH
            retryable = resp.status_code == 429 or (resp.status_code >= 500 and idempotent
                                                    and not is_typed_patch_error(resp.status_code, body_json))
            if retryable and attempt < self._max_retries:
                self._sleep(_retry_delay(resp, attempt))
                attempt += 1
                continue
            raise translate_status(resp.status_code, body_json, server=self.server,
                                   verb=verb or method.lower(), what=what or path)

    def stream(self, path: str, params: dict[str, Any], *, what: str = "") -> Iterator[dict[str, Any]]:
        """The events of a watch request (one JSON object per line)."""
        try:
            with self.http.stream("GET", path, params=params, timeout=httpx.Timeout(30.0, read=None)) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise translate_status(resp.status_code, _json_or_none(resp), server=self.server,
                                           verb="watch", what=what or path)
                for line in resp.iter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.TransportError as exc:
            raise unreachable(self.server, exc) from exc

    # ---- discovery -----------------------------------------------------------------------
    def resources_of(self, api_version: str) -> list[ResourceInfo]:
        """Discovery for one group/version (cached)."""
        if api_version not in self._by_gv:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            group, _, version = api_version.rpartition("/")
            try:
                doc = self.request("GET", path, verb="get", what=f"API group {api_version}")
            except NotFound:
                return []
            self._by_gv[api_version] = [
                ResourceInfo(group, version, r["kind"], r["name"], bool(r.get("namespaced")),
                             tuple(r.get("shortNames") or ()), r.get("singularName") or "")
                for r in doc.get("resources", []) if "/" not in r["name"]]
        return self._by_gv[api_version]

    def preferred_versions(self) -> list[str]:
        """``v1`` and every group's preferred version, in the server's order (cached)."""
        if self._preferred is None:
            groups = self.request("GET", "/apis", verb="get", what="API groups")
            self._preferred = ["v1"] + [g["preferredVersion"]["groupVersion"] for g in groups.get("groups", [])]
        return self._preferred

    def forget_discovery(self) -> None:
        """Drop cached discovery (after a CRD was installed)."""
        self._by_gv.clear()
        self._preferred = None

    def resolve(self, kind: str, api_version: str | None = None) -> ResourceInfo:
        """The resource for a kind (also plural, singular or short name, any case).

        Raises:
            NotFound: the server serves no such kind (after refreshing discovery once).
        """
        for attempt in range(2):
            found = self._find(kind, api_version)
            if found is not None:
                return found
            if attempt == 0:
                self.forget_discovery()
        where = f" in {api_version}" if api_version else ""
        raise NotFound(f'the server doesn\'t have a resource type "{kind}"{where}', code=404)

    def _find(self, kind: str, api_version: str | None) -> ResourceInfo | None:
        want = kind.lower()
        versions = [api_version] if api_version else self.preferred_versions()
        for gv in versions:
            for info in self.resources_of(gv):
                if want in (info.kind.lower(), info.plural, info.singular) or want in info.short_names:
                    return info
        return None


def _check_kubeconfig_shape(path: Path) -> None:
    """A kubeconfig is a YAML mapping with ``clusters``, ``contexts`` and ``users`` lists; say which
    part is missing instead of letting the client library fail with an attribute error.

    Raises:
        UserInputError: the file is empty, not YAML, or lacks one of the three lists (exit 2).
    """
    docs = load_yaml_file(path)  # ManifestError (file:line:col) for unreadable or broken YAML
    if not docs or not isinstance(docs[0].value, dict):
        raise UserInputError("empty or not a mapping; expected a kubeconfig (apiVersion: v1, kind: Config)",
                             Location(file=str(path)))
    doc = docs[0]
    for key in ("clusters", "contexts", "users"):
        if not isinstance(doc.value.get(key), list) or not doc.value.get(key):
            raise UserInputError(f"expected a non-empty list of {key}", doc.location((key,)))


def _json_or_none(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _retry_delay(resp: httpx.Response, attempt: int) -> float:
    """Seconds to wait: the server's ``Retry-After`` if given, else 0.2 s doubling, capped at 5 s."""
    header = resp.headers.get("Retry-After")
    if header:
        try:
            return min(float(header), 30.0)
        except ValueError:
            pass
    return float(min(0.2 * (2 ** attempt), 5.0))
