"""Translate what a real API server (or the network to it) says into this toolkit's errors.

The boundary between the kube backend and the rest of the package: nothing above
``kube.client`` sees an ``httpx2`` exception or a raw HTTP status. Each translated error keeps
the server's own ``Status.message`` (Kubernetes' wording) and names what to do next:

    transport failure (refused, DNS, TLS, timeout) -> BackendUnreachable  (exit 3, names the URL)
    401                                            -> CredentialsRejected (re-issue the token/cert)
    403                                            -> Forbidden           (RBAC: names verb + resource)
    409 (AlreadyExists / Conflict)                 -> ConflictError
    404                                            -> NotFound
    400 / 422 (Invalid, BadRequest, admission)     -> AdmissionError      (exit 2, Kubernetes' text)
    500 "failed to create typed patch object"      -> AdmissionError      (SSA's answer to a wrong field type)
    429 / 5xx                                      -> retried by ``kube.client``; if retries run out,
                                                      ServerBusy (429) or ApiStatusError
"""
from __future__ import annotations

from typing import Any

from ..errors import AdmissionError, BackendError, BackendUnreachable


class ApiStatusError(BackendError):
    """An API call failed with an HTTP status; ``status`` is the server's ``Status`` object."""

    def __init__(self, message: str, *, code: int, status: dict[str, Any] | None = None, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.status = status or {}
        self.reason = str(self.status.get("reason", ""))
        self.hint = hint


class CredentialsRejected(ApiStatusError):
    """401: the API server did not accept the credentials (expired or unknown token/cert)."""


class Forbidden(ApiStatusError):
    """403: authenticated, but RBAC (or another authorizer) denies this verb on this resource."""


class ConflictError(ApiStatusError):
    """409: the object already exists, or a resourceVersion / field-manager conflict."""


class NotFound(ApiStatusError):
    """404: the object (or its namespace, or its kind) does not exist."""


class ServerBusy(ApiStatusError):
    """429 after every retry: the API server keeps throttling this client."""


class ApiAdmissionError(AdmissionError):
    """400/422: the server validated the object and refused it (Kubernetes' text kept)."""

    def __init__(self, message: str, *, code: int, status: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.status = status or {}


def status_message(body: Any, fallback: str) -> str:
    """The ``message`` of a Kubernetes ``Status`` body, or ``fallback`` if there is none."""
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return fallback


def is_typed_patch_error(code: int, body: Any) -> bool:
    """Server-side apply answers 500 when an object does not fit the kind's schema (a field of
    the wrong type): "failed to create typed patch object". That is the object's fault, not the
    server's, so it is an admission error and must not be retried."""
    return code == 500 and "failed to create typed patch object" in status_message(body, "")


def translate_status(code: int, body: Any, *, server: str, verb: str, what: str) -> Exception:
    """The error for an HTTP error response.

    Args:
        code: the HTTP status code.
        body: the decoded JSON body (a ``Status`` dict) or ``None``.
        server: the API server URL (for messages).
        verb: the Kubernetes verb tried (get, list, create, patch, delete, watch).
        what: the resource tried, as ``kind name`` / ``resource in namespace``.
    """
    status = body if isinstance(body, dict) else {}
    msg = status_message(body, f"HTTP {code}")
    if code == 401:
        return CredentialsRejected(
            f"credentials rejected by {server} (401 Unauthorized): the token or client certificate is "
            f"invalid or expired", code=code, status=status,
            hint="refresh the kubeconfig's credentials (a new token or certificate) and retry")
    if code == 403:
        return Forbidden(
            f"RBAC denied: cannot {verb} {what}: {msg}", code=code, status=status,
            hint="grant this user a Role/ClusterRole with that verb on that resource, or use another context")
    if code == 409:
        return ConflictError(f"conflict on {what}: {msg}", code=code, status=status)
    if code == 404:
        return NotFound(msg, code=code, status=status)
    if code in (400, 422) or is_typed_patch_error(code, body):
        return ApiAdmissionError(msg, code=code, status=status)
    if code == 429:
        return ServerBusy(f"{server} kept throttling ({verb} {what}): {msg}", code=code, status=status,
                          hint="the API server is overloaded (429 Too Many Requests); retry later")
    return ApiStatusError(f"{verb} {what} failed on {server}: HTTP {code}: {msg}", code=code, status=status)


def unreachable(server: str, exc: BaseException) -> BackendUnreachable:
    """A transport failure (connection refused, DNS, TLS, timeout) as ``BackendUnreachable``."""
    kind = type(exc).__name__
    detail = str(exc) or kind
    err = BackendUnreachable(f"cluster unreachable: API server {server}: {kind}: {detail}")
    err.hint = "check that the API server runs and that the kubeconfig's server URL and CA are right"
    return err
