"""The real-cluster backend: ``KubeBackend`` over a kubeconfig (see docs/kube-backend.md).

Modules: ``client`` (lightkube-configured HTTP client, discovery, retries), ``errors`` (status and
transport translation), ``apply`` (validated server-side apply), ``wait`` (watch-based waits),
``events``, ``probes`` (exec probes or "needs Cilium/Hubble"), ``relay`` (Hubble Relay flows),
``backend`` (the ``Backend`` implementation). Imported lazily by ``cli.context``.
"""
from __future__ import annotations
