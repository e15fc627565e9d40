"""The kubectl-like commands end to end through the CLI (twin backend in a temporary state dir)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from twin_fixtures import SEED

from ai_infra_ops.cli.main import main

NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: gpu\n"


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["--state-dir", str(tmp_path / "state"), *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_apply_seed_pod_needs_namespace_then_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(tmp_path, capsys, "apply", "-f", str(SEED / "cudaTestPod.yaml"))
    assert rc == 2 and out == ""
    assert err.strip() == f'error: error when creating "{SEED / "cudaTestPod.yaml"}": namespaces "gpu" not found'
    (tmp_path / "ns.yaml").write_text(NS)
    rc, out, _ = run(tmp_path, capsys, "apply", "-f", str(tmp_path / "ns.yaml"), "-f", str(SEED / "cudaTestPod.yaml"))
    assert rc == 0 and out == "namespace/gpu created\npod/cudatestpod created\n"
    rc, out, _ = run(tmp_path, capsys, "apply", "-f", str(SEED / "cudaTestPod.yaml"))
    assert out == "pod/cudatestpod unchanged\n"


def test_broken_yaml_applies_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ns.yaml").write_text(NS)
    rc, out, err = run(tmp_path, capsys, "apply", "-f", str(tmp_path / "ns.yaml"), "-f", str(SEED / "h100ConfigMap.yaml"))
    assert rc == 2 and out == ""
    assert err.startswith(f"error: {SEED / 'h100ConfigMap.yaml'}:10:19: data.topology: invalid YAML: ")
    assert len(err.strip().splitlines()) == 1
    rc, _, err = run(tmp_path, capsys, "get", "namespace", "gpu")
    assert rc == 1 and 'namespaces "gpu" not found' in err


@pytest.mark.parametrize("text,needle", [
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n    imagePullPolicyX: Always\n",
     ':8:5: spec.containers[0].imagePullPolicyX: strict decoding error: unknown field "spec.containers[0].imagePullPolicyX"'),
    ("apiVersion: v1\nkind: Gadget\nmetadata: {name: g}\n", ':2:1: kind: no matches for kind "Gadget"'),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x\n    resources: {limits: {memory: 12Gx}}\n",
     "spec.containers[0].resources.limits.memory: Invalid value: \"12Gx\": quantities must match"),
    ("a: [1\n", ":2:1: invalid YAML:"),
], ids=["unknown-field", "unknown-kind", "bad-quantity", "broken-yaml"])
def test_bad_input_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    rc, out, err = run(tmp_path, capsys, "apply", "-f", str(f))
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_get_describe_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ns.yaml").write_text(NS)
    run(tmp_path, capsys, "apply", "-f", str(tmp_path / "ns.yaml"), "-f", str(SEED / "cudaTestPod.yaml"))
    rc, out, _ = run(tmp_path, capsys, "get", "nodes")
    assert rc == 0 and out.splitlines()[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert len(out.splitlines()) == 5
    rc, out, _ = run(tmp_path, capsys, "get", "pods", "-A", "-o", "wide")
    assert out.splitlines()[1].split()[:4] == ["gpu", "cudatestpod", "0/1", "Pending"]
    rc, out, _ = run(tmp_path, capsys, "get", "pods", "-n", "gpu", "-o", "json")
    doc = json.loads(out)
    assert doc["kind"] == "List" and doc["items"][0]["metadata"]["name"] == "cudatestpod"
    rc, out, _ = run(tmp_path, capsys, "get", "pod", "cudatestpod", "-n", "gpu", "-o", "yaml")
    assert out.startswith("apiVersion: v1\nkind: Pod\n")
    rc, out, _ = run(tmp_path, capsys, "describe", "pod", "cudatestpod", "-n", "gpu")
    assert "Warning  FailedScheduling" in out and "default-scheduler  0/4 nodes are available:" in out
    rc, out, _ = run(tmp_path, capsys, "describe", "node", "node01")
    assert "Allocated resources:" in out and "Capacity:" in out
    rc, out, err = run(tmp_path, capsys, "get", "deployments", "-n", "gpu")
    assert rc == 0 and out == "" and err.strip() == "No resources found in gpu namespace."
    rc, out, _ = run(tmp_path, capsys, "delete", "-f", str(SEED / "cudaTestPod.yaml"))
    assert rc == 0 and out == 'pod "cudatestpod" deleted\n'
    rc, out, err = run(tmp_path, capsys, "delete", "pod", "cudatestpod", "-n", "gpu")
    assert rc == 1 and 'pods "cudatestpod" not found' in err


def test_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ns.yaml").write_text(NS)
    rc, out, _ = run(tmp_path, capsys, "apply", "-f", str(tmp_path / "ns.yaml"), "--dry-run")
    assert rc == 0 and out == "namespace/gpu created (dry run)\n"
    rc, _, _ = run(tmp_path, capsys, "get", "ns", "gpu")
    assert rc == 1


def test_unknown_resource_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(tmp_path, capsys, "get", "widgets")
    assert rc == 2 and 'the server doesn\'t have a resource type "widgets"' in err


def test_apply_directory_and_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    d = tmp_path / "manifests"
    d.mkdir()
    (d / "00-ns.yaml").write_text(NS)
    (d / "10-pod.yaml").write_text((SEED / "cudaTestPod.yaml").read_text())
    (d / "README.md").write_text("not a manifest")
    rc, out, _ = run(tmp_path, capsys, "apply", "-f", str(d))
    assert rc == 0 and out == "namespace/gpu created\npod/cudatestpod created\n"
    rc, out, err = run(tmp_path, capsys, "apply", "-f", str(SEED))  # the seed folder holds the broken ConfigMap
    assert rc == 2 and out == "" and "h100ConfigMap.yaml:10:19" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: gpu}\n"))
    rc, out, _ = run(tmp_path, capsys, "apply", "-f", "-")
    assert rc == 0 and out == "configmap/c created\n"
    rc, out, _ = run(tmp_path, capsys, "describe", "deployment", "-n", "gpu")
    assert rc == 0 and out == ""


def test_invalid_policy_reported_others_applied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = ("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: bad, namespace: gpu}\n"
           "spec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [nowhere]\n")
    (tmp_path / "p.yaml").write_text(NS + "---\n" + (SEED / "ztpCudaTestPod.yaml").read_text() + "\n---\n" + bad)
    rc, out, err = run(tmp_path, capsys, "apply", "-f", str(tmp_path / "p.yaml"))
    assert rc == 2
    assert out == "namespace/gpu created\nciliumnetworkpolicy.cilium.io/ztp-cuda-rule created\n"
    assert err.startswith("error: ") and "bad" in err and "hint: 2 other object(s) applied" in err
