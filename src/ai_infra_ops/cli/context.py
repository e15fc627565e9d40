"""The per-invocation context every command receives: spec path, state dir, backend choice."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import Location, UserInputError

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

            path = Path(self.kubeconfig).expanduser()
            if not path.is_file():
                what = "is a directory" if path.is_dir() else "file not found"
                raise UserInputError(f"{what}; expected a kubeconfig file (kubectl config view --raw)",
                                     Location(file=self.kubeconfig, field="--kubeconfig"))

            return KubeBackend(self.kubeconfig, relay=self.hubble_relay, spec=spec)
        import sqlite3

        from ..twin.backend import TwinBackend

        try:
            return TwinBackend.open(self.state_dir, spec=spec)
        except sqlite3.DatabaseError as exc:   # a twin.db that is not (or no longer) a SQLite database
            raise UserInputError(f"{self.state_dir / 'twin.db'} is not a twin state database ({exc}); "
                                 "expected a state directory written by ai-infra-ops (remove it to start afresh)",
                                 Location(file=str(self.state_dir), field="--state-dir")) from None
        except OSError as exc:
            raise state_dir_error(self.state_dir, exc) from None


def state_dir_error(state_dir: Path, exc: OSError) -> UserInputError:
    """``--state-dir`` names a file, or a place that cannot be created or written."""
    reason = "exists and is not a directory" if state_dir.exists() and not state_dir.is_dir() else \
        f"cannot create or write it: {exc.strerror or exc}"
    return UserInputError(f"{reason}; expected a writable directory for the twin's state",
                          Location(file=str(state_dir), field="--state-dir"))
