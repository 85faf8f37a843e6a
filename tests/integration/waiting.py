"""Polling waits for integration tests that watch a real sandbox or daemon from outside.

A test that cannot subscribe to the change it expects polls a predicate until it holds or a
deadline passes. Callers pass the interval: a tight one where the test measures promptness (a
requote within seconds), a looser one where the predicate itself costs something.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_for(predicate: Callable[[], object], timeout: float, *, interval: float) -> bool:
    """True once `predicate()` is truthy; False if it is still falsy after `timeout` seconds.

    The predicate is tried once more at the deadline, so a change landing during the last sleep
    still counts.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return bool(predicate())
