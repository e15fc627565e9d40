"""GPU checks (issue 2 item 8, issue 4 item 4): allocatable GPUs per pool node and in all, the
labels fake-gpu-operator's status-exporter writes (product and memory from the effective Helm
values), the CUDA test pod Running on a pool node with a GPU assigned in its node's topology
ConfigMap, and the chaos pod staying Pending with kube-scheduler's FailedScheduling message —
compared with the text expected for the spec's Kubernetes minor
(``../shared/reference/gpu-and-scheduling.md`` §0, §1.3, §4.3).
"""
from __future__ import annotations

import copy
from typing import Any

import yaml

from ..backend import Backend
from ..errors import AiInfraOpsError
from .checks import FAIL, PASS, SKIP, CheckResult
from .evidence import allocatable, event_ref, expected_failed_scheduling, failed_scheduling, pod_running, pod_unschedulable
from .workloads import cuda_test_pod, gpu_resource, namespace_of

GROUP = "gpu"


def _pool_nodes(spec: Any) -> list[tuple[Any, Any]]:
    return [(pool, node) for pool in spec.gpu_pools for node in spec.pool_nodes(pool)]


def allocatable_check(backend: Backend, spec: Any) -> CheckResult:
    res = gpu_resource(spec)
    want_total = spec.total_gpus()
    total, wrong, refs = 0, [], []
    for pool, node in _pool_nodes(spec):
        live = backend.get("Node", node.name)
        have = allocatable(live, res)
        total += have
        refs.append(f"node/{node.name}")
        if have != pool.count:
            wrong.append(f"{node.name}: {have} (want {pool.count})")
    title = f"{want_total} GPUs allocatable ({res})"
    observed = f"{total} allocatable"
    if wrong or total != want_total:
        return CheckResult("gpu-allocatable", GROUP, title, FAIL, f"{observed}; " + "; ".join(wrong),
                           objects=tuple(refs), expected=str(want_total), observed=observed)
    return CheckResult("gpu-allocatable", GROUP, title, PASS,
                       f"{total} {res} allocatable on {len(refs)} node(s)", objects=tuple(refs),
                       expected=str(want_total), observed=observed)


def labels_check(backend: Backend, spec: Any) -> CheckResult:
    topo = (spec.fake_gpu_operator_values().get("topology") or {})
    pools = topo.get("nodePools") or {}
    wrong, refs = [], []
    for pool, node in _pool_nodes(spec):
        want = pools.get(pool.name) or {}
        labels = ((backend.get("Node", node.name) or {}).get("metadata") or {}).get("labels") or {}
        refs.append(f"node/{node.name}")
        for key, vkey in (("nvidia.com/gpu.product", "gpuProduct"), ("nvidia.com/gpu.memory", "gpuMemory")):
            if str(labels.get(key)) != str(want.get(vkey)):
                wrong.append(f"{node.name} {key}={labels.get(key)} (want {want.get(vkey)})")
    title = "GPU node labels match the fake-gpu-operator values (product, memory)"
    expected = ", ".join(f"{n}: {p.get('gpuProduct')} {p.get('gpuMemory')} MiB" for n, p in pools.items())
    if wrong:
        return CheckResult("gpu-node-labels", GROUP, title, FAIL, "; ".join(wrong), objects=tuple(refs), expected=expected)
    return CheckResult("gpu-node-labels", GROUP, title, PASS, f"{len(refs)} node(s) labelled {expected}",
                       objects=tuple(refs), expected=expected, observed=expected)


def cuda_pod_check(backend: Backend, spec: Any) -> CheckResult:
    tp = cuda_test_pod(spec)
    title = "CUDA test pod Running on a GPU node with a GPU assigned"
    if tp is None:
        return CheckResult("gpu-test-pod", GROUP, title, SKIP, "the spec has no bare Pod asking for a GPU")
    ns, name = namespace_of(tp), tp["metadata"]["name"]
    pref = f"pod/{ns}/{name}"
    pod = backend.get("Pod", name, ns)
    if pod is None or not pod_running(pod):
        phase = ((pod or {}).get("status") or {}).get("phase", "absent")
        return CheckResult("gpu-test-pod", GROUP, title, FAIL, f"{pref} is {phase}", objects=(pref,))
    node = (pod.get("spec") or {}).get("nodeName", "")
    pool_nodes = {n.name for _, n in _pool_nodes(spec)}
    if node not in pool_nodes:
        return CheckResult("gpu-test-pod", GROUP, title, FAIL, f"{pref} runs on {node}, not on a GPU pool node",
                           objects=(pref, f"node/{node}"))
    fgo_ns = spec.fake_gpu_operator.namespace
    cm_name = f"topology-{node}"
    cm = backend.get("ConfigMap", cm_name, fgo_ns)
    cref = f"configmap/{fgo_ns}/{cm_name}"
    try:
        topo = yaml.safe_load(((cm or {}).get("data") or {}).get("topology.yml") or "") or {}
    except yaml.YAMLError as exc:
        return CheckResult("gpu-test-pod", GROUP, title, FAIL, f"{cref}: unreadable topology ({exc})", objects=(pref, cref))
    held = [i for i, g in enumerate(topo.get("gpus") or [])
            if ((g.get("status") or {}).get("allocatedBy") or {}).get("pod") == name
            and ((g.get("status") or {}).get("allocatedBy") or {}).get("namespace") == ns]
    if not held:
        return CheckResult("gpu-test-pod", GROUP, title, FAIL,
                           f"{pref} runs on {node} but {cref} records no GPU allocated to it", objects=(pref, cref))
    gid = (topo["gpus"][held[0]] or {}).get("id", "")
    return CheckResult("gpu-test-pod", GROUP, title, PASS,
                       f"{pref} Running on {node}, GPU index {held[0]} ({gid}) allocated in {cref}",
                       objects=(pref, f"node/{node}", cref), observed=f"{node} gpu {held}")


def chaos_check(backend: Backend, spec: Any, timeout_s: float = 120.0) -> CheckResult:
    """Apply the chaos pod, wait until kube-scheduler marks it Unschedulable, compare the event
    text, delete it, and verify the test pod still runs."""
    title = "chaos pod Pending with the scheduler's FailedScheduling message"
    chaos = spec.chaos_pod
    if not chaos:
        return CheckResult("gpu-chaos-pending", GROUP, title, SKIP, "the spec has no chaos pod")
    if "scheduling" not in backend.capabilities():
        return CheckResult("gpu-chaos-pending", GROUP, title, SKIP, f"backend {backend.name} does not schedule pods")
    ns, name = namespace_of(chaos), chaos["metadata"]["name"]
    pref = f"pod/{ns}/{name}"
    nodes = backend.list("Node")
    expected = expected_failed_scheduling(nodes, chaos, spec.kubernetes_version, gpu_resource(spec)) or ""
    try:
        backend.apply([copy.deepcopy(chaos)])
    except AiInfraOpsError as exc:
        return CheckResult("gpu-chaos-pending", GROUP, title, FAIL, f"{pref} could not be created: {exc}",
                           objects=(pref,), expected=expected)
    try:
        res = backend.wait_for("Pod", name, ns, pod_unschedulable, timeout_s=timeout_s, description="Unschedulable")
        evs = failed_scheduling(backend, ns, name)
    finally:
        backend.delete("Pod", name, ns)
    gone = backend.wait_for("Pod", name, ns, lambda o: o is None, timeout_s=timeout_s, description="deleted")
    tp = cuda_test_pod(spec)
    still = True if tp is None else pod_running(backend.get("Pod", tp["metadata"]["name"], namespace_of(tp)))
    texts = tuple(f"FailedScheduling {pref}: {e.get('message', '')}" for e in evs)
    refs = tuple(event_ref(e) for e in evs)
    observed = str(evs[-1].get("message", "")) if evs else ""
    problems = []
    if not res.ok:
        problems.append(f"{pref} did not become Unschedulable ({res.message or 'timeout'})")
    if not evs:
        problems.append("no FailedScheduling event was recorded")
    elif expected and observed != expected:
        problems.append(f"message differs from the expected text for Kubernetes {spec.kubernetes_version}")
    if not gone.ok:
        problems.append(f"{pref} was not deleted")
    if not still:
        problems.append("the CUDA test pod is no longer Running")
    status = FAIL if problems else PASS
    msg = "; ".join(problems) if problems else f"{pref} Pending: {observed}; deleted; test pod still Running"
    return CheckResult("gpu-chaos-pending", GROUP, title, status, msg, events=refs + texts, objects=(pref,),
                       expected=expected, observed=observed)


def gpu_checks(backend: Backend, spec: Any) -> list[CheckResult]:
    """Every GPU check, in order."""
    if not spec.gpu_pools:
        return [CheckResult("gpu-pools", GROUP, "GPU pools", SKIP, "the spec declares no GPU pool")]
    return [allocatable_check(backend, spec), labels_check(backend, spec), cuda_pod_check(backend, spec),
            chaos_check(backend, spec)]
