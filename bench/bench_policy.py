#!/usr/bin/env python3
"""Policy engine benchmark (issue 3, Speed). One command; prints numbers and peak RSS; exit 1 if a
bound is missed.

1. 10,000 pods in 100 namespaces, 1,000 policies (KNP and CNP mixed, 10% with L7 rules):
   all per-identity policy maps computed <= 10 s (plus the batch tables, reported separately).
2. >= 500,000 L3/L4 verdicts/s (``BatchDecider.decide_many`` over arrays, egress+ingress each).
3. >= 50,000 L7 verdicts/s (``check_l7`` on redirected decisions, HTTP requests).
4. ``policy matrix`` on ``gen_netpol_inputs.py 1000 100`` vs NCA (``-o txt_no_fw_rules``, its
   fastest mode) side by side: same answers, ours >= 20x faster. Skipped (and said so) when
   ``.venv-nca`` is absent (``scripts/install-nca.sh`` creates it).

Usage: .venv/bin/python bench/bench_policy.py [--skip-nca]
"""
from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ai_infra_ops.policy import Endpoint, PolicyEngine  # noqa: E402
from ai_infra_ops.policy.batch import PROTO_INDEX, BatchDecider  # noqa: E402
from ai_infra_ops.policy.loader import engine_from_objects, load_objects_fast  # noqa: E402
from ai_infra_ops.policy.matrix import compare_with_nca, compute_matrix, parse_nca_connectivity  # noqa: E402

GEN = Path("/work/shared/bench/gen_netpol_inputs.py")
if not GEN.exists():
    GEN = ROOT / "bench" / "gen_netpol_inputs.py"


def big_cluster(n_pods: int = 10_000, n_ns: int = 100, n_pol: int = 1_000, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    tiers = ("web", "app", "data")
    objs: list[dict] = [{"kind": "Namespace", "metadata": {"name": f"ns-{i}", "labels": {"team": f"team-{i % 5}"}}} for i in range(n_ns)]
    objs.append({"kind": "Namespace", "metadata": {"name": "kube-system"}})
    objs.append({"kind": "Pod", "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
                 "spec": {"containers": [{"name": "c", "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"}]}]}})
    for i in range(n_pods):
        objs.append({"kind": "Pod", "metadata": {"name": f"app-{i}", "namespace": f"ns-{i % n_ns}", "labels": {"app": f"app-{i}", "tier": tiers[i % 3]}},
                     "spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                                                                      {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]}]}})
    for k in range(n_pol):
        ns = f"ns-{k % n_ns}"
        t = k % 10
        meta = {"name": f"pol-{k}", "namespace": ns}
        if t == 0:
            objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
                         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
        elif t in (1, 2):
            objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
                         "spec": {"podSelector": {"matchLabels": {"tier": "app"}}, "policyTypes": ["Ingress"],
                                  "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "web"}}}], "ports": [{"port": "http"}]}]}})
        elif t == 3:
            objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
                         "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                  "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}], "ports": [{"protocol": "UDP", "port": 53}]}]}})
        elif t == 4:  # L7 CNP (10% of all policies)
            objs.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": meta, "spec": {
                "endpointSelector": {"matchLabels": {"tier": "data"}},
                "ingress": [{"fromEndpoints": [{"matchLabels": {"tier": "app"}}], "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}],
                             "rules": {"http": [{"method": "GET", "path": "/v1/.*"}, {"method": "POST", "path": f"/v1/predict/{k}"}]}}]}]}})
        elif t == 5:
            objs.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": meta, "spec": {
                "endpointSelector": {"matchLabels": {"tier": "web"}},
                "egress": [{"toEndpoints": [{"matchLabels": {"tier": "app"}}], "toPorts": [{"ports": [{"port": "8080", "endPort": 8090}]}]},
                           {"toEntities": ["world"], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}]}})
        elif t == 6:
            other = f"ns-{rnd.randrange(n_ns)}"
            objs.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": meta, "spec": {
                "endpointSelector": {"matchLabels": {"app": f"app-{rnd.randrange(n_pods)}"}},
                "ingress": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": other, "tier": "web"}}]}]}})
        elif t == 7:
            objs.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": meta, "spec": {
                "endpointSelector": {}, "egressDeny": [{"toCIDRSet": [{"cidr": "10.0.0.0/8"}]}],
                "egress": [{"toCIDR": ["1.1.1.1/32"]}]}})
        elif t == 8:
            objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta,
                         "spec": {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "app"]}]}, "policyTypes": ["Ingress"],
                                  "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "team-0"}}, "podSelector": {"matchLabels": {"tier": "data"}}}],
                                               "ports": [{"port": "metrics"}]}]}})
        else:
            objs.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": meta, "spec": {
                "endpointSelector": {"matchLabels": {"tier": "data"}},
                "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"tier": "web"}}], "toPorts": [{"ports": [{"port": "9090", "protocol": "TCP"}]}]}]}})
    return objs


def main() -> int:
    """Runs the matrix comparison first (fresh process heap, as the CLI has), then the 10k-pod parts."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-nca", action="store_true")
    a = ap.parse_args()
    ok = True

    nca = ROOT / ".venv-nca" / "bin" / "nca"
    with tempfile.TemporaryDirectory() as td:
        subprocess.run([sys.executable, str(GEN), "1000", "100", td], check=True, capture_output=True)
        files = [f"{td}/namespaces.yaml", f"{td}/pods.yaml", f"{td}/policies.yaml"]
        t0 = time.perf_counter()
        e2, _ = engine_from_objects(load_objects_fast(files))
        mat = compute_matrix(e2)
        text = mat.to_text()
        t_ours = time.perf_counter() - t0
        print(f"[matrix] ours: 1000 pods / 100 policies: {len(mat.pairs()):,} allowed pairs in {t_ours:.3f} s (load+compute+render, {len(text):,} bytes)")
        if a.skip_nca or not nca.exists():
            print("[matrix] NCA comparison skipped: " + ("--skip-nca" if a.skip_nca else ".venv-nca absent (run scripts/install-nca.sh)"))
        else:
            t0 = time.perf_counter()
            out = subprocess.run([str(nca), "--connectivity", files[2], "-n", files[0], "-p", files[1], "-o", "txt_no_fw_rules"],
                                 capture_output=True, text=True, check=False).stdout
            t_nca = time.perf_counter() - t0
            diffs = compare_with_nca(mat, parse_nca_connectivity(out))
            ratio = t_nca / t_ours
            print(f"[matrix] NCA -o txt_no_fw_rules: {t_nca:.2f} s; ours {t_ours:.3f} s; ratio {ratio:.1f}x (bound 20x); differences: {len(diffs)}")
            for d in diffs[:5]:
                print("         ", d)
            ok &= ratio >= 20 and not diffs
    objs = big_cluster()
    t0 = time.perf_counter()
    eng, errors = engine_from_objects(objs)
    assert not errors, errors[:3]
    n_entries = eng.compute_all_maps()
    t_maps = time.perf_counter() - t0
    n_ids = len({p.identity for p in eng.pods.values()})
    print(f"[maps]   10,000 pods / 100 ns / 1,000 policies: {n_ids} identities, {n_entries} map entries computed in {t_maps:.2f} s (bound 10 s)")
    ok &= t_maps <= 10
    t0 = time.perf_counter()
    bd = BatchDecider(eng)
    t_batch = time.perf_counter() - t0
    print(f"[batch]  segment tables built in {t_batch:.2f} s ({bd.tables} distinct tables); maps+tables {t_maps + t_batch:.2f} s")

    rng = np.random.default_rng(1)
    pods = [p for p in eng.pods.values()]
    ident = np.array([p.identity for p in pods], dtype=np.int64)
    n = 2_000_000
    src = ident[rng.integers(0, len(ident), n)]
    dst = ident[rng.integers(0, len(ident), n)]
    protos = rng.choice([PROTO_INDEX["TCP"], PROTO_INDEX["UDP"]], n)
    ports = rng.choice([53, 443, 8080, 8085, 9090, 22], n)
    t0 = time.perf_counter()
    res = bd.decide_many(src, dst, protos, ports)
    t_l4 = time.perf_counter() - t0
    rate = n / t_l4
    # spot-check batch verdicts against the per-flow engine path
    by_id = {}
    for p in pods:
        by_id.setdefault(p.identity, p.key)
    names = {v: k for k, v in PROTO_INDEX.items()}
    mism = 0
    for i in range(0, n, n // 2000):
        f = eng.decide_flow(Endpoint.pod(by_id[int(src[i])]), Endpoint.pod(by_id[int(dst[i])]), names[int(protos[i])], int(ports[i]))
        if by_id[int(src[i])] == by_id[int(dst[i])]:
            continue
        mism += int(f.forwarded != bool(res.forwarded[i]))
    print(f"[L3/L4]  {n:,} verdicts in {t_l4:.3f} s = {rate:,.0f}/s (bound 500,000/s); forwarded {int(res.forwarded.sum()):,}, "
          f"redirected {int(res.redirect.sum()):,}; 2,000 spot checks vs decide_flow: {mism} mismatches")
    ok &= rate >= 500_000 and mism == 0

    # L7: requests against redirected decisions (app -> data on 8080)
    app = next(p for p in pods if p.key.startswith("ns-4/") and "tier=app" in " ".join(eng.identity(p.identity).labels))
    data = next(p for p in pods if p.key.startswith("ns-4/") and "tier=data" in " ".join(eng.identity(p.identity).labels))
    dec = eng.decide(Endpoint.pod(app.key), Endpoint.pod(data.key), "TCP", 8080, "INGRESS")
    assert dec.verdict == "REDIRECT", dec.explanation
    reqs = [{"method": m, "path": pth} for m in ("GET", "POST", "DELETE") for pth in ("/v1/models", "/v1/predict/4", "/admin", "/v2/x")]
    m = 200_000
    t0 = time.perf_counter()
    allowed = 0
    for i in range(m):
        allowed += eng.check_l7(dec, http=reqs[i % len(reqs)]).allowed
    t_l7 = time.perf_counter() - t0
    print(f"[L7]     {m:,} HTTP verdicts in {t_l7:.3f} s = {m / t_l7:,.0f}/s (bound 50,000/s); allowed {allowed:,}")
    ok &= m / t_l7 >= 50_000

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"[rss]    peak RSS {rss:,.0f} MiB")
    print("RESULT:", "all bounds met" if ok else "a bound was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
