"""The built-in platform: the seed platform of ``../shared/seed/`` as plain data.

Owns every default value of the spec (``spec.model`` uses these as field defaults, so an empty
``platform.yaml`` IS the seed platform). Each function returns a fresh copy, so callers may
mutate what they get. Facts come from ``../shared/seed/PHASES.md`` and its manifests:

- kubeadm cluster ``cp01`` + workers ``node01..node03`` labelled
  ``node-role.kubernetes.io/worker=worker01..03`` (Phase 1, step 7);
- ``kubeadm init --pod-network-cidr=10.244.0.0/16``, kubeadm's default service CIDR 10.96.0.0/12
  (kubernetes/kubernetes: cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go DefaultServicesSubnet);
- Cilium 1.18.6 with kubeProxyReplacement, Hubble relay and UI (Phase 1, steps 4-6);
- pool label ``run.ai/simulated-gpu-node-pool=default``, 8 H100 per worker (Phase 2, steps 2-3);
- ``cudaTestPod.yaml`` and ``cudaTestPodChaos.yaml`` verbatim;
- the inference demo of issue 4 item 3 (gRPC model server on a GPU, HTTP gateway, client).
"""
from __future__ import annotations

import copy
from typing import Any

#: kubeadm puts these on the first control-plane node (kubernetes/kubernetes:
#: cmd/kubeadm/app/phases/markcontrolplane/markcontrolplane.go).
CONTROL_PLANE_LABELS = {
    "node-role.kubernetes.io/control-plane": "",
    "node.kubernetes.io/exclude-from-external-load-balancers": "",
}
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
WORKER_ROLE_LABEL = "node-role.kubernetes.io/worker"
POOL_LABEL_KEY = "run.ai/simulated-gpu-node-pool"
SUPPORTED_KUBERNETES_MINORS = ("1.33", "1.34", "1.35")

CUDA_IMAGE = "nvidia/cuda:13.1.1-cudnn-runtime-ubuntu24.04"
#: Image of the inference demo (model server, gateway, client share one image, chosen by args).
#: The twin does not pull images; a real cluster needs this image built and pushed.
INFERENCE_IMAGE = "ghcr.io/ai-infra-ops/inference-demo:0.1.0"
GRPC_SERVICE = "inference.v1.Predictor"


def default_nodes() -> list[dict[str, Any]]:
    """cp01 (192.168.64.10) and node01..03 (.11-.13) as NodeSpec data."""
    nodes: list[dict[str, Any]] = [{
        "name": "cp01", "role": "control-plane", "ip": "192.168.64.10",
        "labels": dict(CONTROL_PLANE_LABELS), "taints": [dict(CONTROL_PLANE_TAINT)],
    }]
    for i in range(1, 4):
        nodes.append({
            "name": f"node{i:02d}", "role": "worker", "ip": f"192.168.64.{10 + i}",
            "labels": {WORKER_ROLE_LABEL: f"worker{i:02d}"}, "taints": [],
        })
    return nodes


def default_gpu_pools() -> list[dict[str, Any]]:
    """Pool ``default``: 8 H100 on each worker, selected by the worker role label."""
    return [{
        "name": "default", "model": "h100", "gpusPerNode": 8,
        "nodes": ["node01", "node02", "node03"], "labelKey": POOL_LABEL_KEY,
    }]


def default_namespaces() -> list[dict[str, Any]]:
    """Namespace ``gpu`` with ResourceQuota ``gpu-quota``.

    The quota is 64 GPUs, not the fleet's 24: quota admission runs before the scheduler, so a quota
    below the chaos pod's 48 (plus the GPU pods already running) would reject the chaos pod with
    ``exceeded quota`` and Phase 2's check -- the *scheduler* leaving it Pending with
    ``Insufficient nvidia.com/gpu`` -- could never be shown (reference gpu-and-scheduling.md §4.12).
    """
    return [{"name": "gpu", "labels": {}, "quota": {"requests.nvidia.com/gpu": "64"}, "quotaName": "gpu-quota"}]


def cuda_test_pod() -> dict[str, Any]:
    """``../shared/seed/manifests/cudaTestPod.yaml`` verbatim."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "cudatestpod", "namespace": "gpu", "labels": {"app": "cuda"}},
        "spec": {"containers": [{
            "name": "cudatestpod", "image": CUDA_IMAGE, "command": ["sleep", "3600"],
            "resources": {"limits": {"nvidia.com/gpu": 1}},
        }]},
    }


def chaos_pod() -> dict[str, Any]:
    """``../shared/seed/manifests/cudaTestPodChaos.yaml`` verbatim (48 GPUs: never schedulable)."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "cudatestpodchaos", "namespace": "gpu", "labels": {"app": "cuda"}},
        "spec": {"containers": [{
            "name": "cudatestpodchaos", "image": CUDA_IMAGE, "command": ["sleep", "3600"],
            "resources": {"limits": {"nvidia.com/gpu": 48}},
        }]},
    }


def _deployment(name: str, port_name: str, port: int, args: list[str], gpus: int) -> dict[str, Any]:
    limits: dict[str, Any] = {"cpu": "500m", "memory": "512Mi"}
    if gpus:
        limits["nvidia.com/gpu"] = gpus
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "gpu", "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": name, "image": INFERENCE_IMAGE, "args": args,
                    "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": limits},
                }]},
            },
        },
    }


def _service(name: str, port_name: str, port: int, app_protocol: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "gpu", "labels": {"app": name}},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": name},
            "ports": [{"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP",
                       "appProtocol": app_protocol}],
        },
    }


def inference_workloads() -> list[dict[str, Any]]:
    """Issue 4 item 3: gRPC model server (1 GPU), HTTP gateway, client — with their Services."""
    client = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "inference-client", "namespace": "gpu", "labels": {"app": "inference-client"}},
        "spec": {"containers": [{
            "name": "inference-client", "image": INFERENCE_IMAGE,
            "args": ["client", "--gateway=http://inference-gateway.gpu.svc.cluster.local:8080"],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                          "limits": {"cpu": "200m", "memory": "128Mi"}},
        }]},
    }
    return [
        _deployment("model-server", "grpc", 50051, ["model-server", "--port=50051"], gpus=1),
        _service("model-server", "grpc", 50051, "grpc"),
        _deployment("inference-gateway", "http", 8080,
                    ["gateway", "--port=8080", "--model-server=model-server.gpu.svc.cluster.local:50051"], gpus=0),
        _service("inference-gateway", "http", 8080, "http"),
        client,
    ]


def default_workloads() -> list[dict[str, Any]]:
    """The CUDA test pod followed by the inference demo."""
    return [cuda_test_pod(), *inference_workloads()]


def default_world_dns() -> dict[str, list[str]]:
    """Names the twin's outside world resolves. Invented addresses use documentation ranges
    (RFC 5737: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)."""
    return {
        "dns.google": ["8.8.8.8", "8.8.4.4"],
        "one.one.one.one": ["1.1.1.1", "1.0.0.1"],
        "api.openai.com": ["192.0.2.10"],
        "huggingface.co": ["192.0.2.20"],
        "pypi.org": ["192.0.2.30"],
        "exfil.example.net": ["198.51.100.23"],
        "c2.evil.example": ["203.0.113.66"],
    }


def default_zero_trust() -> dict[str, Any]:
    """The intents of issue 4 item 3 for namespace ``gpu``."""
    return {
        "enabled": True,
        "workloadNamespaces": ["gpu"],
        "allowIntraNamespace": False,
        "dnsAllow": ["**.cluster.local"],
        "egressAllow": [
            {"fqdn": "api.openai.com", "ports": [443]},
            {"fqdn": "huggingface.co", "ports": [443]},
        ],
        "c2cDeny": {"cidrs": ["203.0.113.66/32", "198.51.100.0/24"], "fqdns": ["c2.evil.example"]},
        "grpcAllow": [{
            "namespace": "gpu", "from": {"app": "inference-gateway"}, "to": {"app": "model-server"},
            "port": 50051, "service": GRPC_SERVICE, "methods": ["Predict", "ModelInfo"],
        }],
        "httpAllow": [{
            "namespace": "gpu", "from": {"app": "inference-client"}, "to": {"app": "inference-gateway"},
            "port": 8080,
            "rules": [{"method": "POST", "path": "/v1/predict"}, {"method": "GET", "path": "/v1/models"},
                      {"method": "GET", "path": "/healthz"}],
        }],
        "kubeletProtection": True,
    }


def fresh(value: Any) -> Any:
    """A deep copy (defaults must never be shared between spec instances)."""
    return copy.deepcopy(value)
