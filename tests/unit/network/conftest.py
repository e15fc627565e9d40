"""Fixtures for the twin network tests; the helpers live in ``network_fixtures``."""
from __future__ import annotations

from typing import Any

import pytest
from network_fixtures import make_cluster


@pytest.fixture()
def cluster_factory() -> Any:
    return make_cluster
