"""The per-invocation context every command receives: spec path, state dir, backend choice."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

DEFAULT_STATE_DIR = ".ai-infra-ops"


@dataclass
class Context:
    spec_path: str | None = None
    state_dir: Path = field(default_factory=lambda: Path(DEFAULT_STATE_DIR))
    kubeconfig: str | None = None
    hubble_relay: str | None = None
    debug: bool = False
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    err: IO[str] = field(default_factory=lambda: sys.stderr)

    def load_spec(self) -> Any:
        """The platform spec from ``--spec`` (or ./platform.yaml if present, else the built-in default)."""
        from ..spec import load_spec

        path = self.spec_path
        if path is None and Path("platform.yaml").exists():
            path = "platform.yaml"
        return load_spec(path)

    def backend(self, spec: Any = None) -> Any:
        """The backend: the twin unless ``--kubeconfig`` was given."""
        if self.kubeconfig:
            from ..kube.backend import KubeBackend

            return KubeBackend(self.kubeconfig, relay=self.hubble_relay, spec=spec)
        from ..twin.backend import TwinBackend

        return TwinBackend.open(self.state_dir, spec=spec)
