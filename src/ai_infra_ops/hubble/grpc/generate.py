"""Regenerate ``gen/*_pb2.py`` and ``gen/*_pb2_grpc.py`` from ``proto/*.proto`` with grpcio-tools.

    .venv/bin/python -m ai_infra_ops.hubble.grpc.generate

protoc writes absolute imports (``import flow_pb2``); they are rewritten to package-relative ones
(``from . import flow_pb2``) so the generated modules live inside ``ai_infra_ops.hubble.grpc.gen``.
The generated ``*Servicer`` base classes (every method a "Method not implemented!" placeholder)
are dropped: ``server.py`` registers its own handler object, which implements every RPC of the
service, with ``add_*Servicer_to_server``.
grpcio-tools is a development dependency only; the generated files are committed.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTOS = ("flow.proto", "relay.proto", "observer.proto")


def _drop_servicer_bases(text: str) -> str:
    """Remove ``class XServicer:`` blocks (up to the next top-level definition)."""
    return re.sub(r"^class \w+Servicer(?:\(object\))?:\n(?:(?:    .*|)\n)*?(?=^\S)", "", text, flags=re.M)


def main() -> int:
    from grpc_tools import protoc  # development dependency

    include = str(Path(protoc.__file__).resolve().parent / "_proto")
    out = HERE / "gen"
    args = ["protoc", f"-I{HERE / 'proto'}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}"]
    rc = protoc.main(args + [str(HERE / "proto" / name) for name in PROTOS])
    if rc != 0:
        return int(rc)
    for path in sorted(out.glob("*_pb2*.py")):
        text = path.read_text()
        text = re.sub(r"^import (\w+_pb2) as (\w+)$", r"from . import \1 as \2", text, flags=re.M)
        text = _drop_servicer_bases(text)
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
