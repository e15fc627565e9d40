"""The root error and its families.

Errors are named after what the caller should do next:

    AiInfraOpsError            root; the CLI catches it in one place (cli/main.py)
    ├── UserInputError         fix the input (exit code 2): file, line, field, what was expected
    │   ├── SpecError          the platform spec (platform.yaml)
    │   ├── ManifestError      Kubernetes/Cilium manifests given to apply/probe/schedule
    │   └── PolicyError        a policy Cilium would reject (names the policy, field and reason)
    ├── AdmissionError         the (twin) API server refused an object, Kubernetes' own text (exit 2)
    ├── BackendError           a backend failed (exit 1); BackendUnreachable -> exit 3
    └── ProvisionError         a host step failed (exit 1)

A failed *check* is not an exception: it is a verdict value (see ``validate``).
"""
from __future__ import annotations

from dataclasses import dataclass


class AiInfraOpsError(Exception):
    """Root of every error this toolkit raises on purpose."""

    exit_code: int = 1
    hint: str | None = None


@dataclass
class Location:
    """Where in a user's file a problem is: file, 1-based line and column, dotted field path."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def render(self) -> str:
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)


class UserInputError(AiInfraOpsError):
    """The input is wrong; the message says where and what was expected. Exit code 2."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        self.message = message
        self.location = location or Location()
        self.hint = hint
        where = self.location.render()
        super().__init__(f"{where}: {message}" if where else message)


class SpecError(UserInputError):
    """The platform spec is invalid or contradicts itself."""


class ManifestError(UserInputError):
    """A Kubernetes or Cilium manifest is malformed (YAML, unknown kind/field, bad quantity)."""


class PolicyError(UserInputError):
    """A network policy that Cilium would reject."""


class AdmissionError(AiInfraOpsError):
    """The API server (twin or real) rejected an object; the message is Kubernetes' own text."""

    exit_code = 2


class BackendError(AiInfraOpsError):
    """A backend operation failed."""


class BackendUnreachable(BackendError):
    """The cluster cannot be reached (exit code 3)."""

    exit_code = 3


class ProvisionError(AiInfraOpsError):
    """A provisioning step on a host failed."""
