"""Hubble's Observer gRPC API: ``.proto`` files (``proto/``), generated modules (``gen/``), a server
that serves flow dicts to the real ``hubble`` CLI (``server.py``) and a client (``client.py``).

Importing this package needs ``grpcio`` and ``protobuf`` (runtime dependencies of the toolkit).
"""
