"""Fixtures for the twin's tests: a twin of the seed platform on a fixed clock."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from twin_fixtures import SEED_TOPOLOGY, START, fake_gpu_objects, gpu_namespace, label_workers

from ai_infra_ops.spec import PlatformSpec
from ai_infra_ops.twin.backend import TwinBackend
from ai_infra_ops.twin.clock import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def tb(tmp_path: Path, clock: FixedClock) -> Iterator[TwinBackend]:
    backend = TwinBackend.open(tmp_path / "state", spec=PlatformSpec(), clock=clock, seed=0)
    yield backend
    backend.close()


@pytest.fixture
def gpu_tb(tb: TwinBackend) -> TwinBackend:
    """The seed platform after Phase 2's install: gpu namespace + quota, pool labels, fake-gpu-operator
    with the seed's (wrong) values."""
    tb.apply(gpu_namespace())
    label_workers(tb)
    tb.apply(fake_gpu_objects(SEED_TOPOLOGY))
    return tb
