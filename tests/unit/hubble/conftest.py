"""pytest fixtures for the hubble tests."""
from __future__ import annotations

import pytest
from hubble_fixtures import make_builder

from ai_infra_ops.hubble.flow import FlowBuilder


@pytest.fixture
def builder() -> FlowBuilder:
    return make_builder()
