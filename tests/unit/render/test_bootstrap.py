"""The node bootstrap script: shellcheck, guarded mutations, and a real double run against stubs.

The double run executes the rendered script with ``BOOTSTRAP_ROOT`` pointing at a scratch tree
and every system command replaced by a stub that records its call and keeps state in files, so
the second run must find everything in place and call no mutating command.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ai_infra_ops.render.bootstrap import render_bootstrap, render_bootstrap_script
from ai_infra_ops.spec import spec_from_data

MUTATING = re.compile(r"^\s*(swapoff|modprobe|sysctl --system|sed -i|apt-get install|apt-mark hold|"
                      r"systemctl (enable|restart)|curl|containerd config default)\b")

STUBS = {
    "swapon": 'if [ -f "$S/swap_on" ]; then echo "/swap.img file 1G 0B -2"; fi',
    "swapoff": 'rm -f "$S/swap_on"',
    "lsmod": 'echo "Module Size Used by"; for f in "$S"/mod_*; do [ -e "$f" ] && echo "${f##*/mod_} 1 0"; done; true',
    "modprobe": 'touch "$S/mod_$1"',
    "sysctl": 'if [ "$1" = "-n" ]; then cat "$S/sysctl_$2" 2>/dev/null || true; '
              'else for k in net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward; '
              'do echo 1 > "$S/sysctl_$k"; done; fi',
    "dpkg-query": 'for a in "$@"; do p=$a; done; cat "$S/pkg_$p" 2>/dev/null || exit 1',
    "dpkg": 'echo amd64',
    "apt-get": 'if [ "$1" = "install" ]; then for a in "$@"; do case $a in -*|install) ;; '
               '*=*) printf %s "${a#*=}" > "$S/pkg_${a%%=*}";; *) printf %s 1.7.27-1 > "$S/pkg_$a";; esac; done; fi',
    "apt-mark": 'case $1 in hold) touch "$S/hold_$2";; unhold) shift; for p in "$@"; do rm -f "$S/hold_$p"; done;; '
                'showhold) for f in "$S"/hold_*; do [ -e "$f" ] && echo "${f##*/hold_}"; done; true;; esac',
    "curl": 'out=""; while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then out=$2; shift; fi; shift; done; '
            'if [ -n "$out" ]; then echo key > "$out"; else echo key; fi',
    "gpg": 'cat > "$3"',
    "containerd": 'printf "version = 3\\n  [plugins.runc.options]\\n    SystemdCgroup = false\\n"',
    "systemctl": 'case $1 in is-enabled) [ -f "$S/enabled_$3" ];; enable) for u in "$@"; do touch "$S/enabled_$u"; done;; esac',
    "id": 'echo 0',
}


def _stub_env(tmp: Path) -> tuple[dict[str, str], Path, Path]:
    bindir, state, root = tmp / "bin", tmp / "state", tmp / "root"
    for d in (bindir, state, root / "etc"):
        d.mkdir(parents=True)
    for name, body in STUBS.items():
        f = bindir / name
        f.write_text(f'#!/bin/bash\nS="{state}"\necho "{name} $*" >> "$S/calls"\n{body}\n')
        f.chmod(0o755)
    (root / "etc/fstab").write_text("UUID=abc / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n")
    (root / "etc/os-release").write_text('NAME="Ubuntu"\nVERSION_CODENAME=noble\n')
    (state / "swap_on").touch()
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "BOOTSTRAP_ROOT": str(root), "HOME": str(tmp)}
    return env, state, root


def _run(script: Path, env: dict[str, str], state: Path) -> tuple[str, list[str]]:
    calls = state / "calls"
    if calls.exists():
        calls.unlink()
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_second_run_changes_nothing(tmp_path: Path) -> None:
    spec = spec_from_data({})
    script = tmp_path / "node-bootstrap.sh"
    script.write_text(render_bootstrap_script(spec))
    env, state, root = _stub_env(tmp_path)
    out1, calls1 = _run(script, env, state)
    assert "done: node prepared" in out1
    for expected in ("swapoff -a", "modprobe overlay", "modprobe br_netfilter", "sysctl --system",
                     "apt-get install -y -q containerd.io", "apt-mark hold kubelet", "systemctl enable kubelet"):
        assert any(c.startswith(expected) for c in calls1), (expected, calls1)
    assert any("kubeadm=1.35.0-1.1" in c for c in calls1)
    assert "# /swap.img none swap sw 0 0" in (root / "etc/fstab").read_text()
    assert (root / "etc/modules-load.d/k8s.conf").read_text() == "overlay\nbr_netfilter\n"
    assert "net.ipv4.ip_forward                 = 1" in (root / "etc/sysctl.d/k8s.conf").read_text()
    assert "SystemdCgroup = true" in (root / "etc/containerd/config.toml").read_text()
    assert "core:/stable:/v1.35/deb/" in (root / "etc/apt/sources.list.d/kubernetes.list").read_text()

    out2, calls2 = _run(script, env, state)
    assert "done: nothing to change" in out2, (out2, calls2)
    mutating = [c for c in calls2 if re.match(r"^(swapoff|modprobe|apt-get|curl|gpg|containerd)\b", c)
                or c.startswith(("sysctl --system", "apt-mark hold", "apt-mark unhold", "systemctl enable", "systemctl restart"))]
    assert mutating == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_version_drift_reinstalls_only_kube_packages(tmp_path: Path) -> None:
    script = tmp_path / "node-bootstrap.sh"
    script.write_text(render_bootstrap_script(spec_from_data({})))
    env, state, _root = _stub_env(tmp_path)
    _run(script, env, state)
    (state / "pkg_kubeadm").write_text("1.34.2-1.1")   # someone upgraded kubeadm by hand
    out, calls = _run(script, env, state)
    assert any("kubeadm=1.35.0-1.1" in c for c in calls)
    assert not any(c.startswith(("swapoff", "modprobe", "sysctl --system")) for c in calls)
    assert "kubelet, kubeadm, kubectl 1.35.0-1.1 installed" in out


@pytest.mark.parametrize("version", ["1.33", "1.34", "1.35"])
def test_versions_come_from_the_spec(version: str) -> None:
    text = render_bootstrap_script(spec_from_data({"kubernetesVersion": version}))
    assert f'K8S_MINOR="v{version}"' in text
    assert f'K8S_PKG_VERSION="{version}.0-1.1"' in text
    assert "@@" not in text


def test_every_mutation_is_guarded() -> None:
    """Each mutating command sits inside an if/else branch (or after a || guard), never bare."""
    text = render_bootstrap_script(spec_from_data({}))
    depth = 0
    unguarded = []
    for line in text.splitlines():
        stripped = line.strip()
        if re.match(r"^(if|elif)\b", stripped):
            depth += 1 if stripped.startswith("if") else 0
        if stripped.startswith("fi") or stripped.endswith("; fi"):
            depth -= 1
        if MUTATING.match(line) and depth <= 0:
            unguarded.append(stripped)
        if re.match(r"^if\b.*; fi$", stripped):
            depth -= 1
    assert unguarded == []
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (apt-get install shellcheck)")
def test_shellcheck_clean(tmp_path: Path) -> None:
    from ai_infra_ops.render.cilium import render_install_script

    spec = spec_from_data({})
    for name, text in (("node-bootstrap.sh", render_bootstrap(spec).content), ("install.sh", render_install_script(spec))):
        f = tmp_path / name
        f.write_text(text)
        proc = subprocess.run(["shellcheck", "--severity=style", str(f)], capture_output=True, text=True,
                              env={**os.environ}, timeout=60)
        assert proc.returncode == 0, proc.stdout
