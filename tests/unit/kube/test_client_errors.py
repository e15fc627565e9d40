"""``kube.client`` retry policy and ``kube.errors`` translation, at the HTTP transport seam.

The real API server is exercised in ``tests/testbed/``; these cases cover answers the test bed
cannot be made to give on demand (429 with Retry-After, 503) plus the translation table, by
injecting an ``httpx`` transport (lightkube's documented test seam) that returns Kubernetes
``Status`` bodies as the API server writes them.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest

from ai_infra_ops.errors import AdmissionError, BackendUnreachable
from ai_infra_ops.kube.client import APPLY_PATCH, KubeClient
from ai_infra_ops.kube.errors import ConflictError, CredentialsRejected, Forbidden, ServerBusy

SERVER = "https://k8s.example.invalid:6443"


def status(code: int, reason: str, message: str) -> dict[str, object]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason,
            "code": code}


def client(tmp_path: Path, answers: list[httpx.Response] | Callable[[httpx.Request], httpx.Response],
           sleeps: list[float]) -> tuple[KubeClient, list[httpx.Request]]:
    kc = tmp_path / "kubeconfig"
    kc.write_text(f"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {SERVER}\n"
                  "    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t0k\n"
                  "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n")
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if callable(answers):
            return answers(req)
        return answers.pop(0)
    return KubeClient(kc, transport=httpx.MockTransport(handler), sleep=sleeps.append), seen


def test_429_honours_retry_after(tmp_path: Path) -> None:
    sleeps: list[float] = []
    c, seen = client(tmp_path, [httpx.Response(429, headers={"Retry-After": "2"},
                                               json=status(429, "TooManyRequests", "slow down")),
                                httpx.Response(200, json={"kind": "NodeList", "items": []})], sleeps)
    assert c.request("GET", "/api/v1/nodes") == {"kind": "NodeList", "items": []}
    assert sleeps == [2.0] and len(seen) == 2
    assert seen[0].headers["Authorization"] == "Bearer t0k"


def test_429_forever_gives_up_with_backoff(tmp_path: Path) -> None:
    sleeps: list[float] = []
    c, _ = client(tmp_path, lambda _r: httpx.Response(429, json=status(429, "TooManyRequests", "slow down")), sleeps)
    with pytest.raises(ServerBusy) as exc:
        c.request("POST", "/api/v1/namespaces/a/pods", body={})
    assert sleeps == [0.2, 0.4, 0.8, 1.6, 3.2]
    assert "slow down" in str(exc.value) and SERVER in str(exc.value)


@pytest.mark.parametrize(("method", "ctype", "retried"), [
    ("GET", "application/json", True),
    ("DELETE", "application/json", True),
    ("PATCH", APPLY_PATCH, True),          # server-side apply is declarative: safe to repeat
    ("POST", "application/json", False),   # a create might have happened: not repeated
    ("PATCH", "application/merge-patch+json", False),
])
def test_5xx_retried_only_where_safe(tmp_path: Path, method: str, ctype: str, retried: bool) -> None:
    sleeps: list[float] = []
    answers = [httpx.Response(503, json=status(503, "ServiceUnavailable", "etcd leader changed")),
               httpx.Response(200, json={"kind": "Pod"})]
    c, seen = client(tmp_path, answers, sleeps)
    if retried:
        assert c.request(method, "/api/v1/namespaces/a/pods/p", body={}, content_type=ctype) == {"kind": "Pod"}
        assert sleeps == [0.2]
    else:
        with pytest.raises(Exception, match="etcd leader changed"):
            c.request(method, "/api/v1/namespaces/a/pods/p", body={}, content_type=ctype)
        assert sleeps == [] and len(seen) == 1


@pytest.mark.parametrize(("code", "reason", "message", "err", "text"), [
    (401, "Unauthorized", "Unauthorized", CredentialsRejected, "credentials rejected"),
    (403, "Forbidden", 'configmaps "x" is forbidden: User "u" cannot patch resource "configmaps"', Forbidden,
     'RBAC denied: cannot patch configmaps x: configmaps "x" is forbidden'),
    (409, "AlreadyExists", 'configmaps "x" already exists', ConflictError, "already exists"),
    (422, "Invalid", 'ConfigMap "Bad" is invalid: metadata.name: Invalid value', AdmissionError, "is invalid"),
    (500, "InternalError", "failed to create typed patch object (a/x): .spec: expected map", AdmissionError,
     "typed patch"),
])
def test_status_translation(tmp_path: Path, code: int, reason: str, message: str, err: type[Exception],
                            text: str) -> None:
    sleeps: list[float] = []
    c, seen = client(tmp_path, lambda _r: httpx.Response(code, json=status(code, reason, message)), sleeps)
    with pytest.raises(err) as exc:
        c.request("PATCH", "/api/v1/namespaces/a/configmaps/x", body={}, content_type=APPLY_PATCH,
                  verb="patch", what="configmaps x")
    assert text in str(exc.value)
    assert len(seen) == 1 and sleeps == []


def test_connection_refused_is_unreachable_exit_3(tmp_path: Path) -> None:
    def refuse(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=req)
    c, _ = client(tmp_path, refuse, [])
    with pytest.raises(BackendUnreachable) as exc:
        c.request("GET", "/api/v1/nodes")
    assert exc.value.exit_code == 3 and SERVER in str(exc.value) and "Connection refused" in str(exc.value)
