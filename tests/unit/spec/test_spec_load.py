"""Loading platform.yaml: round trip, and every bad input -> one SpecError naming file, line, field."""
from __future__ import annotations

from pathlib import Path

import pytest

from ai_infra_ops.errors import SpecError, UserInputError
from ai_infra_ops.spec import default_spec, dump_spec_yaml, load_spec, spec_from_text

QTY = "quantities must match the regular expression"


def _pod(resources: str) -> str:
    return ("workloads:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a, namespace: gpu}\n    spec:\n"
            "      containers:\n        - name: c\n          image: x\n          resources:\n" + resources +
            "\nzeroTrust: {grpcAllow: [], httpAllow: []}\n")


NODES3 = "nodes:\n  - {name: cp01, role: control-plane, ip: 192.168.64.10}\n"

# (case id, YAML, line, column, field, fragment of the message)
BAD = [
    ("zero-gpus", "gpuPools:\n  - name: default\n    model: h100\n    gpusPerNode: 0\n",
     4, 5, "gpuPools[0].gpusPerNode", "must be greater than 0"),
    ("negative-gpus", "gpuPools:\n  - name: default\n    gpusPerNode: -2\n",
     3, 5, "gpuPools[0].gpusPerNode", "must be greater than 0"),
    ("gpus-not-int", "gpuPools:\n  - name: default\n    gpusPerNode: eight\n",
     3, 5, "gpuPools[0].gpusPerNode", "expected an integer"),
    ("unknown-model", "gpuPools:\n  - name: default\n    model: h900\n",
     3, 5, "gpuPools[0].model", "unknown GPU model 'h900'; known models: gb200"),
    ("cancelled-model", "gpuPools:\n  - name: default\n    model: falcon-shores\n",
     3, 5, "gpuPools[0].model", "status cancelled) has no Kubernetes resource name"),
    ("announced-no-memory", "gpuPools:\n  - name: default\n    model: Jaguar Shores\n",
     3, 5, "gpuPools[0].model", "no published memory size, so it cannot back a GPU pool"),
    ("unknown-field", "clusterName: x\nnetwork:\n  podCIDR: 10.0.0.0/16\n",
     3, 3, "network.podCIDR", "unknown field; expected one of: podCidr, serviceCidr"),
    ("unknown-pool-field", "gpuPools:\n  - name: default\n    gpuCount: 8\n",
     3, 5, "gpuPools[0].gpuCount", "expected one of: name, model, gpusPerNode"),
    ("duplicate-node", NODES3 + "  - {name: node01, ip: 192.168.64.11}\n  - {name: node01, ip: 192.168.64.12}\n"
     "gpuPools:\n  - {name: default, nodes: [node01]}\n",
     4, 6, "nodes[2].name", "duplicate node name 'node01' (also nodes[1])"),
    ("duplicate-ip", NODES3 + "  - name: node01\n    ip: 192.168.64.11\n  - name: node02\n    ip: 192.168.64.11\n"
     "gpuPools:\n  - {name: default, nodes: [node01, node02]}\n",
     6, 5, "nodes[2].ip", "duplicate node IP 192.168.64.11"),
    ("node-ip-in-pod-cidr", "nodes:\n  - name: cp01\n    role: control-plane\n    ip: 10.244.9.9\n"
     "gpuPools:\n  - {name: default, nodes: [cp01]}\n",
     4, 5, "nodes[0].ip", "inside network.podCidr"),
    ("bad-ip", "nodes:\n  - {name: cp01, role: control-plane, ip: 192.168.64.300}\n",
     2, 39, "nodes[0].ip", "expected an IPv4 address"),
    ("bad-role", "nodes:\n  - {name: cp01, role: master, ip: 192.168.64.10}\n",
     2, 18, "nodes[0].role", "must be 'control-plane' or 'worker'"),
    ("no-control-plane", "nodes:\n  - {name: node01, ip: 192.168.64.11}\n",
     1, 1, "nodes", "needs exactly one node with role control-plane"),
    ("pool-selects-no-node", "gpuPools:\n  - name: default\n    nodeSelector:\n      gpu: 'yes'\n",
     3, 5, "gpuPools[0].nodeSelector", "GPU pool 'default' selects no node"),
    ("pool-unknown-node", "gpuPools:\n  - name: default\n    nodes: [node01, node09]\n",
     3, 21, "gpuPools[0].nodes[1]", "unknown node 'node09'"),
    ("node-in-two-pools", "gpuPools:\n  - {name: a, nodes: [node01]}\n  - {name: b, nodes: [node01]}\n",
     3, 5, "gpuPools[1]", "node 'node01' is in GPU pools 'a' and 'b'"),
    ("pool-label-keys-differ", "gpuPools:\n  - {name: a, nodes: [node01]}\n  - {name: b, nodes: [node02], labelKey: example.com/pool}\n",
     3, 32, "gpuPools[1].labelKey", "fake-gpu-operator reads one nodePoolLabelKey"),
    ("duplicate-namespace", "namespaces:\n  - name: gpu\n  - name: gpu\n",
     3, 5, "namespaces[1].name", "duplicate namespace 'gpu'"),
    ("malformed-quota", "namespaces:\n  - name: gpu\n    quota:\n      requests.memory: 12Gx\n",
     4, 7, "namespaces[0].quota.requests.memory", 'Invalid value: "12Gx": ' + QTY),
    ("malformed-node-memory", "nodes:\n  - name: cp01\n    role: control-plane\n    ip: 192.168.64.10\n    memory: 12Gx\n",
     5, 5, "nodes[0].memory", 'Invalid value: "12Gx": ' + QTY),
    ("malformed-workload-quantity", "workloads:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: a, namespace: gpu}\n"
     "    spec:\n      containers:\n        - name: c\n          image: x\n          resources:\n            limits:\n"
     "              memory: 12Gx\n",
     11, 15, "workloads[0].spec.containers[0].resources.limits.memory", 'Invalid value: "12Gx"'),
    ("quota-below-one-workload", "namespaces:\n  - name: gpu\n    quota:\n      requests.nvidia.com/gpu: '0'\n",
     4, 7, "namespaces[0].quota.requests.nvidia.com/gpu",
     "ResourceQuota gpu/gpu-quota allows requests.nvidia.com/gpu=0 but workloads[0] (Pod gpu/cudatestpod) requests 1"),
    ("quota-below-model-server", "namespaces:\n  - name: gpu\n    quota:\n      requests.nvidia.com/gpu: 0\n"
     "workloads:\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: model-server, namespace: gpu}\n"
     "    spec:\n      replicas: 1\n      template:\n        metadata: {labels: {app: model-server}}\n"
     "        spec:\n          containers:\n            - name: m\n              image: x\n"
     "              resources: {limits: {nvidia.com/gpu: 1}}\nzeroTrust: {grpcAllow: [], httpAllow: []}\n",
     4, 7, "namespaces[0].quota.requests.nvidia.com/gpu", "workloads[0] (Deployment gpu/model-server) requests 1"),
    ("quota-below-sum", "namespaces:\n  - name: gpu\n    quota:\n      requests.nvidia.com/gpu: '1'\nchaosPod: null\n",
     4, 7, "namespaces[0].quota.requests.nvidia.com/gpu", "the workloads in gpu request 2 together"),
    # the chaos pod is created next to the workloads: quota admission would refuse it mid-`up`
    ("quota-below-chaos-pod", "namespaces:\n  - name: gpu\n    quota: {requests.nvidia.com/gpu: 24}\n",
     3, 13, "namespaces[0].quota.requests.nvidia.com/gpu", "but chaosPod (Pod gpu/cudatestpodchaos) requests 48"),
    ("chaos-pod-non-integer-gpu", "chaosPod:\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: chaos, namespace: gpu}\n"
     "  spec:\n    containers:\n      - name: c\n        image: x\n        resources: {limits: {nvidia.com/gpu: 4.5}}\n",
     9, 30, "chaosPod.spec.containers[0].resources.limits.nvidia.com/gpu", 'Invalid value: "4.5": must be an integer'),
    ("chaos-pod-duplicate-name", "chaosPod:\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: cudatestpod, namespace: gpu}\n"
     "  spec: {containers: [{name: c, image: x}]}\n",
     4, 14, "chaosPod.metadata.name", "duplicate Pod gpu/cudatestpod (also workloads[0])"),
    ("workload-bad-name", "workloads:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: Bad_Name, namespace: gpu}\n"
     "    spec: {containers: [{name: c, image: x}]}\nzeroTrust: {grpcAllow: [], httpAllow: []}\n",
     4, 16, "workloads[0].metadata.name", 'Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'),
    ("intent-unknown-namespace", "zeroTrust:\n  workloadNamespaces: [gpu, ml]\n",
     2, 29, "zeroTrust.workloadNamespaces[1]", "unknown namespace 'ml'; declared namespaces: gpu"),
    ("grpc-intent-unknown-namespace", "zeroTrust:\n  grpcAllow:\n    - namespace: ml\n      from: {app: a}\n      to: {app: b}\n"
     "      port: 50051\n      service: x.Y\n      methods: [Z]\n",
     3, 7, "zeroTrust.grpcAllow[0].namespace", "unknown namespace 'ml'"),
    ("grpc-intent-selects-nothing", "zeroTrust:\n  grpcAllow:\n    - namespace: gpu\n      from: {app: inference-gateway}\n"
     "      to: {app: model-srv}\n      port: 50051\n      service: x.Y\n      methods: [Z]\n",
     5, 7, "zeroTrust.grpcAllow[0].to", "matches no workload in namespace 'gpu'"),
    ("grpc-bad-method", "zeroTrust:\n  grpcAllow:\n    - namespace: gpu\n      from: {app: a}\n      to: {app: b}\n"
     "      port: 50051\n      service: x.Y\n      methods: ['Pre dict']\n",
     8, 7, "zeroTrust.grpcAllow[0].methods", "is not a gRPC method name"),
    ("dns-allow-covers-c2c", "zeroTrust:\n  dnsAllow: ['*']\n",
     2, 14, "zeroTrust.dnsAllow[0]", "lets pods resolve 'c2.evil.example'"),
    ("egress-allow-covers-c2c", "zeroTrust:\n  egressAllow:\n    - pattern: '*.evil.example'\n",
     3, 7, "zeroTrust.egressAllow[0]", "allows 'c2.evil.example'"),
    ("egress-fqdn-and-pattern", "zeroTrust:\n  egressAllow:\n    - fqdn: a.com\n      pattern: '*.a.com'\n",
     3, 7, "zeroTrust.egressAllow[0]", "give exactly one of 'fqdn' or 'pattern'"),
    ("bad-dns-pattern", "zeroTrust:\n  dnsAllow: ['a..b']\n",
     2, 3, "zeroTrust.dnsAllow", "is not a Cilium DNS matchPattern"),
    ("pod-cidr-too-small", "network:\n  podCidr: 10.244.0.0/23\n",
     2, 3, "network.podCidr", "holds 2 node slices of /24 but the spec has 4 nodes"),
    ("cidr-host-bits", "network:\n  serviceCidr: 10.244.0.0/12\n",
     2, 3, "network.serviceCidr", "expected an IPv4 CIDR"),
    ("pod-service-overlap", "network:\n  serviceCidr: 10.240.0.0/12\n  clusterDnsIp: 10.240.0.10\n",
     1, 1, "network", "podCidr 10.244.0.0/16 overlaps serviceCidr 10.240.0.0/12"),
    ("unsupported-k8s", "kubernetesVersion: '1.31'\n",
     1, 1, "kubernetesVersion", "must be one of 1.33, 1.34, 1.35"),
    ("bad-patch", "kubernetesVersion: '1.34'\nkubernetesPatch: 1.35.2\n",
     1, 1, None, "is not a 1.34.x release"),
    ("duplicate-workload", "workloads:\n  - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: gpu}, spec: {containers: []}}\n"
     "  - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: gpu}, spec: {containers: []}}\n"
     "zeroTrust: {grpcAllow: [], httpAllow: []}\n",
     3, 44, "workloads[1].metadata.name", "duplicate Pod gpu/a (also workloads[0])"),
    ("workload-undeclared-namespace", "workloads:\n  - {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: ml}, spec: {containers: []}}\n"
     "zeroTrust: {grpcAllow: [], httpAllow: []}\n",
     2, 53, "workloads[0].metadata.namespace", "namespace 'ml' is not declared"),
    ("workload-without-kind", "workloads:\n  - {metadata: {name: a}}\n",
     2, 5, "workloads[0]", "needs apiVersion, kind and metadata.name"),
    ("fractional-gpu", _pod("            limits: {nvidia.com/gpu: 0.5}"),
     10, 22, "workloads[0].spec.containers[0].resources.limits.nvidia.com/gpu", 'Invalid value: "0.5": must be an integer'),
    ("gpu-requests-differ-from-limits", _pod("            limits: {nvidia.com/gpu: 1}\n            requests: {nvidia.com/gpu: 2}"),
     11, 24, "workloads[0].spec.containers[0].resources.requests.nvidia.com/gpu",
     'Invalid value: "2": must be equal to nvidia.com/gpu limit of 1'),
    ("gpu-request-without-limit", _pod("            requests: {nvidia.com/gpu: 2}"),
     9, 11, "workloads[0].spec.containers[0].resources.limits.nvidia.com/gpu",
     "Required value: Limit must be set for non overcommitable resources"),
    ("negative-cpu", _pod("            requests: {cpu: -1}"),
     10, 24, "workloads[0].spec.containers[0].resources.requests.cpu", "must be greater than or equal to 0"),
    ("bad-label-value", "nodes:\n  - {name: cp01, role: control-plane, ip: 192.168.64.10, labels: {a: 'bad value!'}}\n",
     2, 67, "nodes[0].labels.a", 'Invalid value: "bad value!": a valid label must be an empty string or consist of'),
    ("bad-label-key-prefix", "namespaces:\n  - name: gpu\n    labels: {'Example.com/x': y}\n",
     3, 14, "namespaces[0].labels.Example.com/x", "prefix part a lowercase RFC 1123 subdomain must consist of"),
    ("bad-label-key-name", "namespaces:\n  - name: gpu\n    labels: {'-x': y}\n",
     3, 14, "namespaces[0].labels.-x", "name part must consist of alphanumeric characters"),
    ("bad-pool-label-key", "gpuPools:\n  - {name: default, labelKey: 'a/b/c'}\n",
     2, 21, "gpuPools[0].labelKey", 'Invalid value: "a/b/c": a qualified name must consist of'),
    ("invalid-yaml", "nodes:\n  - name: \"cp01\n", 3, 1, None, "invalid YAML: while scanning a quoted scalar"),
    ("top-level-list", "- a\n- b\n", 1, 1, None, "expected a mapping of spec fields at the top, got list"),
    ("two-documents", "clusterName: a\n---\nclusterName: b\n", 3, 1, None, "holds one YAML document"),
]


@pytest.mark.parametrize("text, line, column, field, fragment", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_spec_names_file_line_and_field(tmp_path: Path, text: str, line: int, column: int, field: str | None, fragment: str) -> None:
    f = tmp_path / "platform.yaml"
    f.write_text(text)
    with pytest.raises(SpecError) as exc:
        load_spec(f)
    err = exc.value
    assert isinstance(err, UserInputError) and err.exit_code == 2
    assert (err.location.file, err.location.line, err.location.column) == (str(f), line, column)
    if field is not None:
        assert err.location.field == field
        assert f"{f}:{line}:{column}: {field}: " in str(err)
    assert fragment in err.message
    assert "\n" not in str(err)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "nope.yaml")


def test_several_problems_are_summarised_in_the_hint() -> None:
    with pytest.raises(SpecError) as exc:
        spec_from_text("namespaces:\n  - name: gpu\n  - name: gpu\nzeroTrust:\n  workloadNamespaces: [ml]\n", "p.yaml")
    assert exc.value.location.field == "namespaces[1].name"
    assert exc.value.hint is not None and "zeroTrust.workloadNamespaces[0]: unknown namespace 'ml'" in exc.value.hint


def test_round_trip_default(tmp_path: Path) -> None:
    spec = default_spec()
    f = tmp_path / "platform.yaml"
    f.write_text(dump_spec_yaml(spec))
    again = load_spec(f)
    assert again == spec
    assert dump_spec_yaml(again) == dump_spec_yaml(spec)


@pytest.mark.parametrize("text, check", [
    ("", lambda s: s == default_spec()),
    ("kubernetesVersion: 1.34\n", lambda s: (s.kubernetes_version, s.kubernetes_patch) == ("1.34", "1.34.0")),
    ("kubernetesVersion: v1.33\nkubernetesPatch: v1.33.4\n", lambda s: (s.kubernetes_version, s.kubernetes_patch) == ("1.33", "1.33.4")),
    ("gpuPools:\n  - {name: l4s, model: L4}\n", lambda s: (s.gpu_pools[0].model, s.gpu_pools[0].gpus_per_node, s.total_gpus()) == ("l4", 8, 24)),
    ("gpuPools:\n  - {name: a, model: a30, nodes: [node01]}\n", lambda s: (s.gpu_pools[0].gpus_per_node, s.pool_for_node("node02")) == (4, None)),
    ("gpuPools:\n  - name: sel\n    nodeSelector: {matchExpressions: [{key: node-role.kubernetes.io/worker, operator: In, values: [worker02]}]}\n",
     lambda s: [n.name for n in s.pool_nodes(s.gpu_pools[0])] == ["node02"]),
    ("gpuPools:\n  - {name: amd, model: mi300x}\n", lambda s: s.fake_gpu_operator_values()["topology"]["nodePools"]["amd"]["otherDevices"] == [{"name": "amd.com/gpu", "count": 8}]),
    ("zeroTrust:\n  dnsAllow: ['*.svc.cluster.local']\n", lambda s: [e.fqdn for e in s.zero_trust.egress_allow] == ["api.openai.com", "huggingface.co"]),
    ("namespaces:\n  - name: gpu\n    quota: {requests.nvidia.com/gpu: 64}\n", lambda s: s.namespaces[0].quota == {"requests.nvidia.com/gpu": "64"}),
    ("nodes:\n  - {name: cp01, role: control-plane, ip: 192.168.64.10, labels: {a: 1}}\n  - {name: node01, ip: 192.168.64.11}\n"
     "  - {name: node02, ip: 192.168.64.12}\n  - {name: node03, ip: 192.168.64.13}\n",
     lambda s: s.nodes[0].labels == {"a": "1"} and s.nodes[1].cpu == "4"),
])
def test_partial_specs_fill_in_seed_defaults(text: str, check) -> None:
    assert check(spec_from_text(text, "p.yaml"))


@pytest.mark.parametrize("text", [
    "gpuPools:\n  - {name: default, model: mi300x, gpusPerNode: 4}\n",
    "fakeGpuOperator:\n  values:\n    topology:\n      nodePools:\n        default: {gpuCount: 8, gpuProduct: H100}\n",
    "zeroTrust:\n  egressAllow:\n    - pattern: '*.hf.co'\n      ports: [443, 80]\n",
])
def test_round_trip_variants(text: str) -> None:
    spec = spec_from_text(text, "p.yaml")
    assert spec_from_text(dump_spec_yaml(spec), "again.yaml") == spec
