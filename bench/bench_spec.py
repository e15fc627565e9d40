"""Benchmark: load and check a hyperscale platform spec (100 nodes per usable catalog model).

Run: ``.venv/bin/python bench/bench_spec.py [NODES_PER_MODEL]``. Prints the spec's size, the
seconds to load it (YAML with positions + pydantic + cross-field checks), to dump it, to map every
node to its pool, and the peak RSS. The hyperscale phase of the platform has 20 models x 100
nodes; two catalog models (Falcon Shores, Jaguar Shores) cannot back a pool, so 18 x N here.
"""
from __future__ import annotations

import resource
import sys
import time

from ai_infra_ops.catalog import all_models
from ai_infra_ops.kube_model import dump_yaml
from ai_infra_ops.spec import dump_spec_yaml, spec_from_text


def build(per_model: int) -> str:
    models = [m for m in all_models() if m.usable]
    nodes: list[dict[str, object]] = [{"name": "cp01", "role": "control-plane", "ip": "10.0.0.1"}]
    pools = []
    i = 0
    for m in models:
        for k in range(per_model):
            i += 1
            nodes.append({"name": f"{m.id}-{k:04d}", "ip": f"10.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}",
                          "labels": {"gpu.example.com/model": m.id}})
        pools.append({"name": m.id, "model": m.id, "gpusPerNode": 10, "nodeSelector": {"gpu.example.com/model": m.id}})
    return dump_yaml({"network": {"podCidr": "10.128.0.0/9"}, "nodes": nodes, "gpuPools": pools})


def main() -> None:
    per_model = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    text = build(per_model)
    t0 = time.perf_counter()
    spec = spec_from_text(text, "hyperscale.yaml")
    t1 = time.perf_counter()
    out = dump_spec_yaml(spec)
    t2 = time.perf_counter()
    mapping = {n.name: spec.pool_for_node(n.name) for n in spec.nodes}
    t3 = time.perf_counter()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"nodes={len(spec.nodes)} pools={len(spec.gpu_pools)} gpus={spec.total_gpus()} yaml_bytes={len(text)}")
    print(f"load+check_s={t1 - t0:.3f} dump_s={t2 - t1:.3f} pool_map_s={t3 - t2:.3f} "
          f"nodes_per_s={len(spec.nodes) / (t1 - t0):.0f} dumped_bytes={len(out)} mapped={sum(1 for v in mapping.values() if v)}")
    print(f"peak_rss_mib={rss_mib:.1f}")


if __name__ == "__main__":
    main()
