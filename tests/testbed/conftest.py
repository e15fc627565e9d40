"""One real test bed per test module (testbed/start.sh on free loopback ports), stopped at the end.

Every test in this folder is marked ``testbed``. They are skipped, with the reason, only when the
test bed binaries are not built (``testbed/build.sh``; ``.ci/run`` builds them first).
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "testbed"))

from harness import Testbed, missing_binaries  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    missing = missing_binaries()
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.testbed)
            if missing:
                item.add_marker(pytest.mark.skip(
                    reason=f"test bed binaries not built (run testbed/build.sh): missing {', '.join(missing)}"))


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Testbed]:
    tb = Testbed.start(tmp_path_factory.mktemp("testbed"))
    try:
        yield tb
    finally:
        tb.stop()


@pytest.fixture(scope="module")
def kube(testbed: Testbed) -> Iterator[object]:
    from ai_infra_ops.kube.backend import KubeBackend

    backend = KubeBackend(testbed.kubeconfig)
    try:
        yield backend
    finally:
        backend.close()
