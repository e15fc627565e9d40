"""Bad input through the CLI: one ``error:`` line naming file:line/field and what was expected,
exit code 2 (3 for an unreachable cluster), nothing written. Found by exercising every command
of the README as a user would; each test pins one fix."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from ai_infra_ops.cli.main import main
from ai_infra_ops.errors import BackendUnreachable

POD = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata: {name: %s, namespace: default}
    spec:
      containers:
        - {name: c, image: busybox}
    """)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def one_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if not ln.startswith("hint: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def spec_with(tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str) -> str:
    """The default spec (``init``) with one text replacement: a user's edit."""
    target = tmp_path / "platform.yaml"
    assert run(capsys, "init", "-o", str(target))[0] == 0
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new, 1))
    return str(target)


def test_get_takes_names_after_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = str(tmp_path / "st")
    assert run(capsys, "--state-dir", st, "apply", "-f", write(tmp_path / "p.yaml", POD % "web"))[0] == 0
    rc, out, err = run(capsys, "--state-dir", st, "get", "pods", "-n", "default", "web")
    assert rc == 0 and out.splitlines()[1].startswith("web "), (out, err)
    rc, out, _ = run(capsys, "--state-dir", st, "describe", "pod", "-n", "default", "web")
    assert rc == 0 and out.startswith("Name:             web\n")
    # kubectl prints what it found and a NotFound line per missing name, exit 1
    rc, out, err = run(capsys, "--state-dir", st, "get", "pods", "-n", "default", "web", "nope")
    assert rc == 1 and "web" in out
    assert err == 'Error from server (NotFound): pods "nope" not found\n'


@pytest.mark.parametrize("command", ["apply", "delete"])
def test_apply_or_delete_of_an_empty_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    empty = write(tmp_path / "empty.yaml", "")
    st = str(tmp_path / "st")
    rc, out, err = run(capsys, "--state-dir", st, command, "-f", empty)
    assert rc == 2 and out == ""
    assert one_error(err) == f"error: {empty}: no objects passed to {command} (expected YAML or JSON Kubernetes objects)"


@pytest.mark.parametrize(("old", "new", "line", "field", "reason"), [
    ("            nvidia.com/gpu: 48", "            nvidia.com/gpu: 4.5", 250,
     "chaosPod.spec.containers[0].resources.limits.nvidia.com/gpu", 'Invalid value: "4.5": must be an integer'),
    ("            nvidia.com/gpu: 48", "            nvidia.com/gpu: 12Gx", 250,
     "chaosPod.spec.containers[0].resources.limits.nvidia.com/gpu", 'Invalid value: "12Gx": quantities must match'),
    ("  metadata:\n    name: cudatestpodchaos", "  metadata:\n    name: cudatestpod", 237,
     "chaosPod.metadata.name", "duplicate Pod gpu/cudatestpod (also workloads[0])"),
    ("    name: cudatestpodchaos\n    namespace: gpu", "    name: cudatestpodchaos\n    namespace: zzz", 238,
     "chaosPod.metadata.namespace", "namespace 'zzz' is not declared under namespaces (gpu)"),
    ("      - name: cudatestpodchaos\n        image", "      - name: cudatestpodchaos\n        imagePullPolcy: x\n        image",
     244, "chaosPod.spec.containers[0].imagePullPolcy", 'unknown field "spec.containers[0].imagePullPolcy"'),
    ("          image: nvidia/cuda:13.1.1-cudnn-runtime-ubuntu24.04\n          command",
     "          image: nvidia/cuda:13.1.1-cudnn-runtime-ubuntu24.04\n          imagePullPolcy: x\n          command",
     102, "workloads[0].spec.containers[0].imagePullPolcy", 'unknown field "spec.containers[0].imagePullPolcy"'),
    ("    kind: Pod\n    metadata:\n      name: cudatestpod", "    kind: Pood\n    metadata:\n      name: cudatestpod", 92,
     "workloads[0].kind", "no Kubernetes 1.35.0 schema for kind Pood"),
    ("      name: inference-client", "      name: Inference_Client", 215,
     "workloads[5].metadata.name", 'Invalid value: "Inference_Client": a lowercase RFC 1123 subdomain'),
])
@pytest.mark.parametrize("command", ["up", "render"])
def test_spec_workloads_and_chaos_pod_are_checked_before_any_step(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
        old: str, new: str, line: int, field: str, reason: str) -> None:
    spec = spec_with(tmp_path, capsys, old, new)
    st, out_dir = tmp_path / "st", tmp_path / "rendered"
    argv = ["--state-dir", str(st), "--spec", spec, command] + (["--out", str(out_dir)] if command == "render" else [])
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and out == "", out
    assert one_error(err).startswith(f"error: {spec}:{line}:") and f": {field}: {reason}" in err
    assert not (st / "twin.db").exists() and not out_dir.exists()   # nothing built, nothing written


def test_render_to_an_unwritable_place_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, _, err = run(capsys, "--state-dir", str(tmp_path / "st"), "render", "--out", str(blocker / "sub"))
    assert rc == 2
    assert "cannot write: " in one_error(err) and "expected a writable directory for --out" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--src", "default/ghost", "--dst", "default/web", "--dport", "80/TCP"], "--src: unknown pod 'default/ghost'"),
    (["--src", "default/web", "--dst", "default/ghost", "--dport", "80/TCP"], "--dst: unknown pod 'default/ghost'"),
    (["--src", "default/web", "--dst", "ip:8.8.8.8", "--dport", "70000/UDP"],
     "--dport: port 70000 is out of range; expected 1-65535 for UDP"),
    (["--src", "default/web", "--dst", "ip:8.8.8.8", "--dport", "0/TCP"], "--dport: port 0 is out of range"),
    (["--src", "default/web", "--dst", "ip:8.8.8.8", "--dport", "300/ICMP"], "--dport: port 300 is out of range; expected 0-255 for ICMP"),
])
def test_policy_trace_bad_endpoints_and_ports(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              args: list[str], message: str) -> None:
    pods = write(tmp_path / "pods.yaml", POD % "web")
    rc, out, err = run(capsys, "--state-dir", str(tmp_path / "st"), "policy", "trace", "-f", pods, *args)
    assert rc == 2 and out == ""
    assert one_error(err).startswith(f"error: {message}")


def test_policy_trace_allowed_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pods = write(tmp_path / "pods.yaml", POD % "web")
    rc, out, _ = run(capsys, "policy", "trace", "-f", pods, "--src", "default/web", "--dst", "ip:8.8.8.8", "--dport", "53/UDP")
    assert rc == 0 and "Final verdict: ALLOWED" in out


@pytest.mark.parametrize("make", [lambda p: p / "missing.yaml", lambda p: p])
def test_kubeconfig_that_is_not_a_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any) -> None:
    path = make(tmp_path)
    rc, _, err = run(capsys, "--kubeconfig", str(path), "get", "nodes")
    assert rc == 2
    assert one_error(err).startswith(f"error: {path}: --kubeconfig: ") and "expected a kubeconfig file" in err


class _Unreachable:
    """A backend whose every call finds the API server down (what the kube backend raises)."""

    name = "kube"

    def __getattr__(self, attr: str) -> Any:
        def fail(*_a: Any, **_k: Any) -> Any:
            raise BackendUnreachable("cluster unreachable: API server https://127.0.0.1:1: connection refused")
        return fail

    def capabilities(self) -> set[str]:
        return set()

    def close(self) -> None:
        return None


@pytest.mark.parametrize("command", [["up"], ["plan"], ["validate"]])
def test_unreachable_cluster_is_exit_3_not_a_failed_step(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    from ai_infra_ops.cli import context

    monkeypatch.setattr(context.Context, "backend", lambda self, spec=None: _Unreachable())
    rc, _, err = run(capsys, "--state-dir", str(tmp_path / "st"), *command)
    assert rc == 3
    assert one_error(err) == "error: cluster unreachable: API server https://127.0.0.1:1: connection refused"


@pytest.mark.parametrize(("text", "message"), [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", ":1:1: apiVersion: unknown key (a case has: "),
    ("name: only-a-name\n", ":1:1: a case needs `objects:`"),
])
def test_schedule_rejects_a_file_that_is_not_a_case(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     text: str, message: str) -> None:
    case = write(tmp_path / "case.yaml", text)
    rc, out, err = run(capsys, "schedule", case)
    assert rc == 2 and out == ""
    assert one_error(err).startswith(f"error: {case}{message}")


@pytest.mark.parametrize("argv", [["probe", "{d}/f.yaml"], ["schedule", "{d}/f.yaml"], ["--spec", "{d}/f.yaml", "plan"]])
def test_a_directory_or_binary_where_a_yaml_file_belongs(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    (tmp_path / "f.yaml").mkdir()
    rc, _, err = run(capsys, "--state-dir", str(tmp_path / "st"), *[a.format(d=tmp_path) for a in argv])
    assert rc == 2 and one_error(err) == f"error: {tmp_path}/f.yaml: is a directory; expected a YAML file"
    (tmp_path / "f.yaml").rmdir()
    (tmp_path / "f.yaml").write_bytes(b"kind: \xff\xfe\n")
    rc, _, err = run(capsys, "--state-dir", str(tmp_path / "st"), *[a.format(d=tmp_path) for a in argv])
    assert rc == 2 and one_error(err) == f"error: {tmp_path}/f.yaml: not UTF-8 text (byte 6); expected a YAML file"


def test_up_step_lines_do_not_repeat_the_description(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--state-dir", str(tmp_path / "st"), "up", "--no-validate")
    assert rc == 0
    line = next(ln for ln in out.splitlines() if " chaos-pod " in ln)
    assert line.count("test pod still Running") == 1 and "Pending: 0/4 nodes are available" in line


def test_get_with_a_broken_label_selector_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "--state-dir", str(tmp_path / "st"), "get", "pods", "-A", "-l", "app in (x")
    assert rc == 2 and out == ""
    assert one_error(err) == ("error: -l/--selector: unable to parse requirement: 'app in (x'; "
                              "expected e.g. app=cuda,tier!=web or 'env in (a,b)'")


def test_apply_with_a_conflicting_namespace_flag_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = str(tmp_path / "st")
    pod = write(tmp_path / "p.yaml", POD % "web")
    rc, out, err = run(capsys, "--state-dir", st, "apply", "-f", pod, "-n", "other")
    assert rc == 2 and out == ""
    assert one_error(err).startswith(f'error: {pod}:3:')
    assert 'the namespace from the provided object "default" does not match the namespace "other"' in err
    assert run(capsys, "--state-dir", st, "get", "pods", "-A")[2] == "No resources found\n"   # nothing applied


def test_delete_names_the_resource_with_its_group_like_kubectl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = str(tmp_path / "st")
    deploy = write(tmp_path / "d.yaml", textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, image: busybox}]}
        """))
    assert run(capsys, "--state-dir", st, "apply", "-f", deploy)[1] == "deployment.apps/web created\n"
    rc, out, _ = run(capsys, "--state-dir", st, "delete", "deployment", "web")
    assert rc == 0 and out == 'deployment.apps "web" deleted\n'


@pytest.mark.parametrize("extra", [[], ["--schema"]])
def test_init_to_an_unwritable_place_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, out, err = run(capsys, "init", *extra, "-o", str(blocker / "platform.yaml"))
    assert rc == 2 and out == ""
    assert one_error(err).startswith(f"error: {blocker}/platform.yaml: cannot write: ")


def test_audit_set_without_value_names_the_flag_once(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "audit", "--set", "foo")
    assert rc == 2 and one_error(err) == "error: --set: key 'foo' has no value"


@pytest.mark.parametrize("command", [["get", "nodes"], ["up"]])
def test_a_state_dir_that_is_a_file_or_not_a_twin(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    as_file = tmp_path / "state"
    as_file.write_text("x")
    rc, out, err = run(capsys, "--state-dir", str(as_file), *command)
    assert rc == 2 and out == ""
    assert one_error(err) == (f"error: {as_file}: --state-dir: exists and is not a directory; "
                              "expected a writable directory for the twin's state")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "twin.db").write_text("garbage, not SQLite\n" * 10)
    rc, out, err = run(capsys, "--state-dir", str(broken), *command)
    assert rc == 2 and "twin.db is not a twin state database" in one_error(err)


def test_global_options_work_after_the_command_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = tmp_path / "st"
    rc, out, _ = run(capsys, "up", "--no-validate", "--state-dir", str(st))
    assert rc == 0 and (st / "twin.db").exists()
    rc, out, _ = run(capsys, "policy", "trace", "--state-dir", str(st), "--src", "gpu/cudatestpod",
                     "--dst", "ip:8.8.8.8", "--dport", "53/UDP")
    assert rc == 1 and out.endswith("Final verdict: DENIED\n")
    bad = write(tmp_path / "bad.yaml", "gpuPools:\n  - {name: default, model: h999}\n")
    rc, _, err = run(capsys, "plan", "--spec", bad, "--state-dir", str(st))
    assert rc == 2 and one_error(err).startswith(f"error: {bad}:2:21: gpuPools[0].model: unknown GPU model 'h999'")


def test_get_o_yaml_writes_strings_like_kubectl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = str(tmp_path / "st")
    assert run(capsys, "--state-dir", st, "apply", "-f", write(tmp_path / "p.yaml", POD % "web"))[0] == 0
    rc, out, _ = run(capsys, "--state-dir", st, "get", "pod", "web", "-o", "yaml")
    assert rc == 0
    # go-yaml v2 (kubectl): a multi-line string is a literal block, a string that reads as a number is "quoted"
    assert "    kubectl.kubernetes.io/last-applied-configuration: |\n      {\"apiVersion\":\"v1\"" in out
    assert '  resourceVersion: "' in out and "'" not in out


@pytest.mark.parametrize(("argv", "first"), [
    (["observe", "--namespce", "gpu"], "error: ai-infra-ops observe: unrecognized arguments: --namespce gpu"),
    (["get", "pods", "-o", "table"], "error: ai-infra-ops get: argument -o/--output: invalid choice: 'table'"),
    (["policy", "check", "-f", "x.yaml", "--zzz"], "error: ai-infra-ops policy check: unrecognized arguments: --zzz"),
    (["apply"], "error: ai-infra-ops apply: the following arguments are required: -f/--filename"),
])
def test_wrong_flags_are_one_line_naming_the_command(capsys: pytest.CaptureFixture[str], argv: list[str], first: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == ""
    assert one_error(err).startswith(first)
    command = first.split(":")[1].strip()
    assert err.splitlines()[1] == f"hint: see `{command} --help`"


def test_policy_matrix_takes_a_directory_and_rejects_empty_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "inputs"
    d.mkdir()
    write(d / "pods.yaml", (POD % "a") + "---\n" + (POD % "b"))
    rc, out, _ = run(capsys, "policy", "matrix", "-f", str(d), "-o", "csv")
    assert rc == 0 and out.splitlines()[0] == "src,dst,connections" and 'default/a,default/b,"All connections"' in out
    empty = write(tmp_path / "empty.yaml", "")
    rc, out, err = run(capsys, "policy", "matrix", "-f", empty)
    assert rc == 2 and out == ""
    assert one_error(err).startswith(f"error: no objects in {empty}; expected namespaces, pods and policies")


def test_policy_check_of_a_file_without_policies_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pods = write(tmp_path / "pods.yaml", POD % "a")
    rc, out, err = run(capsys, "policy", "check", "-f", pods)
    assert rc == 2 and out == ""
    assert one_error(err) == f"error: no CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy in {pods}"


def test_up_after_changing_gpus_per_node_says_how_to_converge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = str(tmp_path / "st")
    spec = spec_with(tmp_path, capsys, "gpusPerNode: 8", "gpusPerNode: 8")
    assert run(capsys, "--state-dir", st, "--spec", spec, "up", "--no-validate")[0] == 0
    Path(spec).write_text(Path(spec).read_text().replace("gpusPerNode: 8", "gpusPerNode: 4"))
    rc, _, err = run(capsys, "--state-dir", st, "--spec", spec, "up", "--no-validate")
    assert rc == 1 and "run `ai-infra-ops down --phase 2`, then `up`" in err
    assert run(capsys, "--state-dir", st, "--spec", spec, "down", "--phase", "2")[0] == 0
    assert run(capsys, "--state-dir", st, "--spec", spec, "up", "--no-validate")[0] == 0


def test_type_slash_name_form_like_kubectl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    st = str(tmp_path / "st")
    assert run(capsys, "--state-dir", st, "apply", "-f", write(tmp_path / "p.yaml", POD % "web"))[0] == 0
    rc, out, _ = run(capsys, "--state-dir", st, "get", "pod/web")
    assert rc == 0 and out.splitlines()[1].startswith("web ")
    assert run(capsys, "--state-dir", st, "describe", "po/web")[1].startswith("Name:             web\n")
    rc, _, err = run(capsys, "--state-dir", st, "get", "pod/web", "node/x")
    assert rc == 2 and one_error(err) == "error: TYPE/NAME: expected pod/NAME, got 'node/x': one resource type per command"
    rc, _, err = run(capsys, "--state-dir", st, "get", "pod/")
    assert rc == 2 and "expected pod/NAME" in one_error(err)
    assert run(capsys, "--state-dir", st, "delete", "pod/web")[1] == 'pod "web" deleted\n'


@pytest.mark.parametrize(("doc", "where", "message"), [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {x: 2}\n", ":4:8: data.x: ",
     'json: cannot unmarshal number into field of type string (quote it: "2")'),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {tier: true}}\nspec: {containers: [{name: c, image: x}]}\n",
     ":3:30: metadata.labels.tier: ", 'json: cannot unmarshal bool into field of type string (quote it: "true")'),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x, ports: [{containerPort: '80'}]}]}\n",
     ":4:50: spec.containers[0].ports[0].containerPort: ", "json: cannot unmarshal string into field of type integer"),
])
def test_apply_rejects_scalars_of_the_wrong_type(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 doc: str, where: str, message: str) -> None:
    st = str(tmp_path / "st")
    f = write(tmp_path / "o.yaml", doc)
    rc, out, err = run(capsys, "--state-dir", st, "apply", "-f", f)
    assert rc == 2 and out == ""
    assert one_error(err) == f"error: {f}{where}{message}"
    for kind in ("configmaps", "pods"):   # nothing written
        assert run(capsys, "--state-dir", st, "get", kind)[2].startswith("No resources found")


def test_policy_check_rejects_an_unknown_cnp_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `egres:` would otherwise leave a rule that selects pods and enforces nothing
    f = write(tmp_path / "cnp.yaml", "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x, namespace: gpu}\n"
                                     "spec:\n  endpointSelector: {}\n  egres:\n  - toEntities: [world]\n")
    rc, out, _ = run(capsys, "policy", "check", "-f", f)
    assert rc == 2
    assert out.splitlines() == [
        f'CiliumNetworkPolicy gpu/x: INVALID: unknown field "spec.egres" (CiliumNetworkPolicy CRD schema) ({f}:6:3: spec.egres)',
        "1 policies, 1 invalid (rejected by Cilium; the others would be enforced)"]
