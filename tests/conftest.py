"""Shared fixtures for the whole test suite."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: every random test input is reproducible."""
    return np.random.default_rng(12345)
