"""A real sandbox exchange on an ephemeral 127.0.0.1 port, one per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from helpers import mint  # noqa: F401  (re-exported: `from conftest import mint` also works)

from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxExchange]:
    # Tests compress the fleet's timings ~10x, which multiplies its request weight by as much:
    # the limit is raised to match (the 429 path is tested on its own, in test_faults_rest).
    exchange = SandboxExchange(SandboxConfig(port=0, seed=1, weight_limit_per_min=48_000))
    await exchange.start()
    try:
        yield exchange
    finally:
        await exchange.stop()
