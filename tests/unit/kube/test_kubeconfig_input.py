"""A kubeconfig the user got wrong is bad input (exit 2, file:line:field), not a backend failure."""
from __future__ import annotations

from pathlib import Path

import pytest

from ai_infra_ops.cli.main import main
from ai_infra_ops.errors import ManifestError, UserInputError
from ai_infra_ops.kube.client import KubeClient

GOOD_TAIL = ("contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
             "users: [{name: u, user: {token: abc}}]\n")


@pytest.mark.parametrize(("text", "expected"), [
    ("", "empty or not a mapping"),
    ("- a\n- b\n", "empty or not a mapping"),
    ("apiVersion: v1\nkind: Config\nclusters: []\n" + GOOD_TAIL, "clusters: expected a non-empty list of clusters"),
    ("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
     "users: [{name: u, user: {token: abc}}]\n", "contexts: expected a non-empty list of contexts"),
], ids=["empty", "not-a-mapping", "no-clusters", "no-contexts"])
def test_malformed_kubeconfig_is_user_input_error(tmp_path: Path, text: str, expected: str) -> None:
    kc = tmp_path / "kubeconfig"
    kc.write_text(text)
    with pytest.raises(UserInputError) as info:
        KubeClient(kc)
    assert expected in str(info.value)
    assert str(kc) in str(info.value)


def test_broken_yaml_names_line(tmp_path: Path) -> None:
    kc = tmp_path / "kubeconfig"
    kc.write_text("clusters: [\n")
    with pytest.raises(ManifestError) as info:
        KubeClient(kc)
    assert f"{kc}:" in str(info.value)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad"
    bad.write_text("")
    assert main(["--kubeconfig", str(bad), "get", "nodes"]) == 2
    unreachable = tmp_path / "unreachable"
    unreachable.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                           + GOOD_TAIL)
    assert main(["--kubeconfig", str(unreachable), "get", "nodes"]) == 3
    err = capsys.readouterr().err
    assert "cluster unreachable" in err and "Traceback" not in err


def test_observe_without_relay_is_user_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kc = tmp_path / "kubeconfig"
    kc.write_text("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                  + GOOD_TAIL)
    assert main(["--kubeconfig", str(kc), "observe"]) == 2
    assert "--hubble-relay" in capsys.readouterr().err
