"""Start and stop the test bed from Python (pytest fixtures, benchmarks).

Wraps ``testbed/start.sh`` / ``testbed/stop.sh`` with free loopback ports and a private run
directory, so a test session never collides with a developer's running test bed. Also the small
helpers every testbed test needs: KWOK node objects shaped like a spec's nodes, and "wait until
all KWOK nodes are Ready and untainted by the node lifecycle controller".
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
K8S_VERSION = os.environ.get("K8S_VERSION", "v1.35.4")
KINE_VERSION = os.environ.get("KINE_VERSION", "v0.17.5")
KWOK_VERSION = os.environ.get("KWOK_VERSION", "v0.8.0")
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
KWOK_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}
KWOK_TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Equal", "value": "fake", "effect": "NoSchedule"}


def cache_dir() -> Path:
    return Path(os.environ.get("AI_INFRA_OPS_CACHE", Path.home() / ".cache" / "ai-infra-ops")) / "testbed"


def missing_binaries() -> list[str]:
    """The test bed binaries that are not built yet (empty: the test bed can start)."""
    c = cache_dir()
    want = [c / f"k8s-{K8S_VERSION}/bin/kube-apiserver", c / f"k8s-{K8S_VERSION}/bin/kube-scheduler",
            c / f"k8s-{K8S_VERSION}/bin/kube-controller-manager",
            c / f"kine-{KINE_VERSION}/bin/kine", c / f"kwok-{KWOK_VERSION}/bin/kwok",
            c / f"kwok-{KWOK_VERSION}/stages.yaml"]
    return [str(p) for p in want if not p.exists()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Testbed:
    """A running test bed: its run directory, admin kubeconfig and start time."""

    __test__ = False  # not a pytest test class

    run_dir: Path
    kubeconfig: Path
    start_s: float
    env: dict[str, str]

    @classmethod
    def start(cls, run_dir: Path, timeout_s: int = 180) -> Testbed:
        """Start everything (``start.sh``) on free loopback ports; raises if it does not come up."""
        env = dict(os.environ)
        for var in ("TESTBED_KINE_PORT", "TESTBED_API_PORT", "TESTBED_KCM_PORT", "TESTBED_SCHED_PORT",
                    "TESTBED_KWOK_PORT"):
            env[var] = str(free_port())
        env["TESTBED_START_TIMEOUT"] = str(timeout_s)
        t0 = time.monotonic()
        proc = subprocess.run([str(HERE / "start.sh"), str(run_dir)], env=env, capture_output=True, text=True,
                              timeout=timeout_s + 600)
        if proc.returncode != 0:
            raise RuntimeError(f"testbed/start.sh failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        kubeconfig = Path(proc.stdout.strip().splitlines()[-1])
        return cls(run_dir, kubeconfig, time.monotonic() - t0, env)

    def stop(self) -> None:
        subprocess.run([str(HERE / "stop.sh"), str(self.run_dir)], env=self.env, capture_output=True, timeout=120)

    def token(self) -> str:
        """The static bearer token of the ``tester`` user (system:masters)."""
        return (self.run_dir / "pki" / "tokens.csv").read_text().split(",")[0]

    def kubeconfig_with_token(self, path: Path, token: str, server: str | None = None) -> Path:
        """A kubeconfig for the same server (or ``server``) that authenticates with ``token``."""
        ca = self.run_dir / "pki" / "ca.crt"
        url = server or next(line.split("server:")[1].strip() for line in self.kubeconfig.read_text().splitlines()
                             if "server:" in line)
        path.write_text(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
            f"    server: {url}\n    certificate-authority: {ca}\n"
            f"users:\n- name: u\n  user:\n    token: {token}\n"
            "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n")
        return path


def kwok_node(name: str, allocatable: dict[str, str], labels: dict[str, str] | None = None,
              taints: list[dict[str, Any]] | None = None, kwok_taint: bool = True) -> dict[str, Any]:
    """A Node managed by kwok: annotation ``kwok.x-k8s.io/node=fake``, status with capacity.

    ``status.capacity/allocatable`` is written at creation, as fake-gpu-operator's
    kwok-gpu-device-plugin writes ``nvidia.com/gpu`` for a pool node (its module is not served by
    the Go proxy here, so the test bed sets what it would set). kwok's node-initialize stage keeps
    given allocatable and marks the node Ready.
    """
    lab = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok", **(labels or {})}
    all_taints = list(taints or []) + ([dict(KWOK_TAINT)] if kwok_taint else [])
    node: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": lab, "annotations": {KWOK_ANNOTATION: "fake"}},
        "spec": {"taints": all_taints} if all_taints else {},
        "status": {"capacity": dict(allocatable), "allocatable": dict(allocatable)},
    }
    return node


def node_settled(node: dict[str, Any] | None) -> bool:
    """Ready=True and no taint added by the node lifecycle controller (node.kubernetes.io/*), except
    the unschedulable taint of a cordoned node, which stays."""
    if not node:
        return False
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in node.get("status", {}).get("conditions", []) or [])
    # node.kubernetes.io/unschedulable is expected on a cordoned node (TaintNodesByCondition).
    cordoned = bool(node.get("spec", {}).get("unschedulable"))
    lifecycle = [t for t in node.get("spec", {}).get("taints", []) or []
                 if str(t.get("key", "")).startswith("node.kubernetes.io/")
                 and not (cordoned and t.get("key") == "node.kubernetes.io/unschedulable")]
    return ready and not lifecycle
