"""A real sandbox exchange on an ephemeral 127.0.0.1 port, one per test."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
import structlog
from helpers import mint  # noqa: F401  (re-exported: `from conftest import mint` also works)

from rocky_bot.ops.logs import configure_logging
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


#: Libraries whose loggers `configure_logging` quietens: their levels are restored after `journal`.
LIBRARY_LOGGERS = ("httpx", "httpcore", "websockets", "uvicorn.access")


@pytest.fixture
def journal() -> Iterator[io.StringIO]:
    """Logging configured as under systemd (JSON lines, debug), into a buffer; the global
    set-up restored after."""
    saved = structlog.get_config()
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved_levels = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    buffer = io.StringIO()
    configure_logging("json", "debug", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.configure(**saved)
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
