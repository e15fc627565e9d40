"""The plan of ``up``: both phases of the seed platform as an ordered list of steps, from the spec.

Phase 1 — cluster, Cilium, Hubble (``../shared/seed/PHASES.md``): prepare nodes, ``kubeadm init``
with the kube-proxy addon skipped, joins with a derived token (never hand-copied), Cilium with
kubeProxyReplacement (+ CoreDNS/kube-dns), Hubble relay and UI, worker role labels, all nodes
Ready, the connectivity suite.
Phase 2 — simulated H100s and zero trust: workload namespaces and quotas, pool labels,
fake-gpu-operator (values generated from the pools: the right product and memory), the GPUs
allocatable, the CUDA test pod Running with a GPU, the chaos pod Pending and deleted (test pod
still Running), the inference workloads, baseline egress to 8.8.8.8 FORWARDED, the zero-trust
policies, egress to 8.8.8.8 DROPPED.

Every artifact comes from ``render``; every condition is read back through the backend.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..backend import Backend, KubeObject, ProbeRequest
from ..render.bootstrap import render_bootstrap
from ..render.cilium import render_cilium, render_cilium_values
from ..render.fake_gpu import render_fake_gpu_artifacts, render_fake_gpu_operator
from ..render.kubeadm import derive_bootstrap_token, render_kubeadm
from ..render.policies import render_policies
from ..render.workloads import render_namespaces, render_quotas
from ..validate.connectivity import connectivity_checks
from ..validate.evidence import allocatable, deployment_available, node_ready, pod_running
from ..validate.gpu import chaos_check
from ..validate.probecheck import Expect
from ..validate.workloads import cuda_test_pod, gpu_resource, namespace_of, other_workloads
from .objectsteps import ApplyObjects, LabelNodes, Wait, WaitFor
from .observesteps import HostStep, InstallStep, NetworkGated, ProbeStep, ScenarioStep
from .preflight import check_spec_objects
from .steps import Condition, Evidence, Step

KUBE_SYSTEM = "kube-system"
EGRESS_TARGET = "8.8.8.8"


def _uid(backend: Backend, kind: str, name: str, ns: str | None) -> str:
    obj = backend.get(kind, name, ns)
    if obj is None:
        return ""
    md = obj.get("metadata") or {}
    return str(md.get("uid") or md.get("creationTimestamp") or "")


def _nodes_registered(spec: Any, names: Sequence[str]) -> Any:
    def goal(backend: Backend) -> Condition:
        missing = [n for n in names if backend.get("Node", n) is None]
        if missing:
            return Condition(False, f"node(s) not registered: {', '.join(missing)}")
        return Condition(True, f"{len(names)} node(s) registered", Evidence(objects=tuple(f"node/{n}" for n in names)))
    return goal


def _init_goal(spec: Any) -> Any:
    cp = spec.control_plane().name
    registered = _nodes_registered(spec, [cp])

    def goal(backend: Backend) -> Condition:
        base: Condition = registered(backend)
        if not base:
            return base
        node = backend.get("Node", cp) or {}
        taints = (node.get("spec") or {}).get("taints") or []
        if not any(t.get("key") == "node-role.kubernetes.io/control-plane" for t in taints):
            return Condition(False, f"node/{cp} lacks kubeadm's control-plane taint")
        if backend.get("DaemonSet", "kube-proxy", KUBE_SYSTEM) is not None:
            return Condition(False, "daemonset/kube-system/kube-proxy exists although kube-proxy is replaced by Cilium")
        return Condition(True, f"node/{cp} registered with the control-plane taint; no kube-proxy DaemonSet "
                               "(skipPhases: addon/kube-proxy)", base.evidence)
    return goal


def cilium_config(spec: Any) -> KubeObject:
    """The ``cilium-config`` ConfigMap the Helm chart writes, for the rendered values."""
    v = render_cilium_values(spec)
    hub = v["hubble"]
    data = {
        "cluster-name": v["cluster"]["name"],
        "kube-proxy-replacement": str(v["kubeProxyReplacement"]).lower(),
        "k8s-service-host": str(v["k8sServiceHost"]),
        "k8s-service-port": str(v["k8sServicePort"]),
        "ipam": v["ipam"]["mode"],
        "enable-l7-proxy": str(v["l7Proxy"]).lower(),
        "enable-policy": v["policyEnforcementMode"],
        "policy-audit-mode": str(v["policyAuditMode"]).lower(),
        "enable-host-firewall": str(v["hostFirewall"]["enabled"]).lower(),
        "enable-hubble": str(hub["enabled"]).lower(),
        "hubble-metrics": " ".join(hub["metrics"]["enabled"]),
        "cluster-pool-ipv4-cidr": spec.network.pod_cidr,
    }
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cilium-config", "namespace": KUBE_SYSTEM},
            "data": data}


def _hubble_objects(spec: Any) -> list[KubeObject]:
    ver = spec.cni.version
    out: list[KubeObject] = []
    comps = [("hubble-relay", f"quay.io/cilium/hubble-relay:v{ver}", 4245, "grpc", spec.cni.hubble.relay)]
    comps.append(("hubble-ui", "quay.io/cilium/hubble-ui-backend:v0.13.3", 8081, "http", spec.cni.hubble.ui))
    for name, image, port, pname, on in comps:
        if not (spec.cni.hubble.enabled and on):
            continue
        labels = {"k8s-app": name, "app.kubernetes.io/part-of": "cilium", "app.kubernetes.io/name": name}
        out.append({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name, "namespace": KUBE_SYSTEM, "labels": labels},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"k8s-app": name}},
                             "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                                 "name": name, "image": image,
                                 "ports": [{"name": pname, "containerPort": port, "protocol": "TCP"}]}]}}}})
        out.append({"apiVersion": "v1", "kind": "Service",
                    "metadata": {"name": name, "namespace": KUBE_SYSTEM, "labels": {"k8s-app": name}},
                    "spec": {"type": "ClusterIP", "selector": {"k8s-app": name},
                             "ports": [{"name": pname, "port": 80, "targetPort": port, "protocol": "TCP"}]}})
    return out


def _waits_for(objs: Sequence[KubeObject]) -> tuple[Wait, ...]:
    out = []
    for o in objs:
        md = o.get("metadata") or {}
        if o.get("kind") == "Deployment":
            out.append(Wait("Deployment", md["name"], md.get("namespace"), deployment_available, "available"))
        elif o.get("kind") == "Pod":
            out.append(Wait("Pod", md["name"], namespace_of(o), pod_running, "Running"))
    return tuple(out)


def phase1(spec: Any, *, addons: Sequence[KubeObject] = (), token_secret: bytes = b"") -> list[Step]:
    """The Phase 1 steps."""
    names = [n.name for n in spec.nodes]
    workers = [n.name for n in spec.workers()]
    kubeadm = {a.path: a.content for a in render_kubeadm(spec, token_secret=token_secret)}
    token = derive_bootstrap_token(spec.cluster_name, token_secret)
    boot = render_bootstrap(spec)
    steps: list[Step] = [
        HostStep("prepare-nodes", 1, "prepare nodes: swap off, overlay/br_netfilter, sysctl, containerd "
                 "(SystemdCgroup), pinned kubelet/kubeadm/kubectl", ((boot.path, boot.content),),
                 _nodes_registered(spec, names)),
        HostStep("kubeadm-init", 1, f"kubeadm init on {spec.control_plane().name} (kube-proxy addon skipped)",
                 (("kubeadm/init-config.yaml", kubeadm["kubeadm/init-config.yaml"]),), _init_goal(spec)),
        HostStep("kubeadm-join", 1, f"kubeadm join of {len(workers)} worker(s) with a derived bootstrap token",
                 tuple((p, c) for p, c in sorted(kubeadm.items()) if p.startswith("kubeadm/join-")),
                 _nodes_registered(spec, workers),
                 notes=(f"bootstrap token {token.split('.')[0]}.**************** derived from the installation "
                        "secret (never copied by hand); CA hash filled at provision time",)),
    ]
    cilium_objs = (cilium_config(spec), *addons)
    steps.append(InstallStep(
        "cilium", 1, f"Cilium {spec.cni.version} with kubeProxyReplacement={spec.cni.kube_proxy_replacement}, CoreDNS",
        ApplyObjects("cilium", 1, "cilium", tuple(cilium_objs), _waits_for(cilium_objs), undoable=True),
        tuple((a.path, a.content) for a in render_cilium(spec)), "install Cilium with helm/install.sh"))
    hubble = _hubble_objects(spec)
    if hubble:
        steps.append(InstallStep(
            "hubble", 1, "Hubble relay and UI",
            ApplyObjects("hubble", 1, "hubble", tuple(hubble), _waits_for(hubble)),
            (), "enable Hubble relay and UI (cilium-values.yaml hubble.relay/ui) with helm/install.sh"))
    role_labels = {n.name: {k: v for k, v in n.labels.items() if k.startswith("node-role.kubernetes.io/")}
                   for n in spec.workers()}
    steps.append(LabelNodes("worker-labels", 1, "worker role labels",
                            {k: v for k, v in role_labels.items() if v}, undoable=False))
    steps.append(WaitFor("nodes-ready", 1, f"all {len(names)} nodes Ready",
                         tuple(Wait("Node", n, None, node_ready, "Ready") for n in names),
                         lambda b: Evidence(objects=tuple(f"node/{n}" for n in names),
                                            notes=(f"{sum(node_ready(b.get('Node', n)) for n in names)} of {len(names)} nodes Ready",))))
    steps.append(ScenarioStep("connectivity", 1, "connectivity suite (cilium connectivity test analogue)",
                              lambda b: connectivity_checks(b, spec),
                              lambda b: _uid(b, "Pod", "client", "cilium-test-1"), needs_network=True))
    return steps


def phase2(spec: Any) -> list[Step]:
    """The Phase 2 steps."""
    res = gpu_resource(spec)
    steps: list[Step] = []
    ns_objs = [*render_namespaces(spec), *render_quotas(spec)]
    steps.append(ApplyObjects("namespaces", 2, "namespaces and ResourceQuotas (" +
                              ", ".join(o["metadata"]["name"] for o in ns_objs) + ")", tuple(ns_objs)))
    pool_labels: dict[str, dict[str, str]] = {}
    for pool in spec.gpu_pools:
        for node in spec.pool_nodes(pool):
            pool_labels.setdefault(node.name, {})[pool.label_key] = pool.name
    if pool_labels:
        steps.append(LabelNodes("pool-labels", 2, "GPU pool labels", pool_labels))
    if spec.fake_gpu_operator.enabled and spec.gpu_pools:
        fgo = render_fake_gpu_operator(spec)
        topo = (spec.fake_gpu_operator_values().get("topology") or {}).get("nodePools") or {}
        desc = ", ".join(f"{k}: {v.get('gpuCount')}x {v.get('gpuProduct')} {v.get('gpuMemory')} MiB" for k, v in topo.items())
        steps.append(InstallStep(
            "fake-gpu-operator", 2, f"fake-gpu-operator {spec.fake_gpu_operator.chart_version} ({desc})",
            ApplyObjects("fake-gpu-operator", 2, "fake-gpu-operator", tuple(fgo)),
            tuple((a.path, a.content) for a in render_fake_gpu_artifacts(spec)),
            "install fake-gpu-operator with helm/install.sh"))
        waits = tuple(Wait("Node", n.name, None, (lambda c: lambda o: allocatable(o, res) == c)(p.count),
                           f"{p.count} {res} allocatable") for p in spec.gpu_pools for n in spec.pool_nodes(p))
        steps.append(WaitFor("gpus-allocatable", 2, f"{spec.total_gpus()} {res} allocatable", waits,
                             lambda b: Evidence(objects=tuple(f"node/{w.name}" for w in waits),
                                                notes=(f"{sum(allocatable(b.get('Node', w.name), res) for w in waits)} {res} allocatable",)),
                             # status-updater writes topology-<node> once (gpu-and-scheduling.md §1.2)
                             hint="fake-gpu-operator writes a node's topology-<node> ConfigMap only once, so a changed "
                                  "gpusPerNode or model does not reach nodes that already have one: run "
                                  "`ai-infra-ops down --phase 2`, then `up`"))
    tp = cuda_test_pod(spec)
    if tp is not None:
        steps.append(ApplyObjects("cuda-test-pod", 2, f"CUDA test pod {tp['metadata']['name']} Running with a GPU",
                                  (tp,), _waits_for([tp])))
        tp_ns, tp_name = namespace_of(tp), tp["metadata"]["name"]
        if spec.chaos_pod:
            steps.append(ScenarioStep("chaos-pod", 2, f"chaos pod {spec.chaos_pod['metadata']['name']} Pending, "
                                      "deleted; test pod still Running", lambda b: [chaos_check(b, spec)],
                                      lambda b: _uid(b, "Pod", tp_name, tp_ns)))
    rest = other_workloads(spec)
    if rest:
        steps.append(ApplyObjects("workloads", 2, "inference workloads (" +
                                  ", ".join(f"{o['kind'].lower()}/{o['metadata']['name']}" for o in rest) + ")",
                                  tuple(rest), _waits_for(rest)))
    policies = render_policies(spec) if spec.zero_trust.enabled else []
    if tp is not None and policies and tp_ns in spec.zero_trust.workload_namespaces:
        src = f"{tp_ns}/{tp_name}"

        def pol_fp(b: Backend) -> str:  # the live policies' UIDs: a recreated policy is probed again
            return ",".join(_uid(b, p["kind"], p["metadata"]["name"], p["metadata"].get("namespace")) for p in policies)

        def policies_present(b: Backend) -> Condition:
            present = [p for p in policies if b.get(p["kind"], p["metadata"]["name"], p["metadata"].get("namespace"))]
            if present:
                return Condition(True, f"{len(present)} policies already enforced: the baseline before any policy "
                                       "can no longer be observed")
            return Condition(False, "")
        steps.append(ProbeStep("baseline-egress", 2, f"baseline: {src} -> {EGRESS_TARGET} FORWARDED before any policy",
                               ProbeRequest(src, f"ip:{EGRESS_TARGET}", None, "ICMP", label="baseline-egress"),
                               Expect(allowed=True), lambda b: _uid(b, "Pod", tp_name, tp_ns), moot=policies_present))
    if policies:
        desc = f"{len(policies)} zero-trust policies from the intents"
        steps.append(NetworkGated("zero-trust-policies", 2, desc,
                                  ApplyObjects("zero-trust-policies", 2, desc, tuple(policies))))
    if tp is not None and policies and tp_ns in spec.zero_trust.workload_namespaces:
        steps.append(ProbeStep("egress-dropped", 2, f"{src} -> {EGRESS_TARGET} DROPPED (POLICY_DENIED)",
                               ProbeRequest(src, f"ip:{EGRESS_TARGET}", None, "ICMP", label="egress-dropped"),
                               Expect(allowed=False, drop_reason="POLICY_DENIED"),
                               lambda b: _uid(b, "Pod", tp_name, tp_ns) + "/" + pol_fp(b)))
    return steps


def build_plan(spec: Any, *, phases: Sequence[int] = (1, 2), addons: Sequence[KubeObject] = (),
               token_secret: bytes = b"") -> list[Step]:
    """The ordered steps of ``up`` for ``spec``.

    Args:
        spec: a validated ``PlatformSpec``.
        phases: which phases (1, 2 or both).
        addons: cluster add-on objects kubeadm would create (CoreDNS, kube-dns, kubernetes Service),
            applied with Cilium; the CLI passes the backend's own (the twin's network module).
        token_secret: per-installation secret for the bootstrap token.

    Raises:
        SpecError: a workload or the chaos pod the API server would refuse (unknown kind or
            field), before any step exists (``pipeline.preflight``).
    """
    check_spec_objects(spec)
    steps: list[Step] = []
    if 1 in phases:
        steps += phase1(spec, addons=addons, token_secret=token_secret)
    if 2 in phases:
        steps += phase2(spec)
    return steps
