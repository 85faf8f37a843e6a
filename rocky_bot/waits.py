"""Waiting on an event with a timeout, in the one way that never swallows a cancellation.

`asyncio.wait_for(event.wait(), t)` on Python 3.11 returns normally when the event is set in the
same loop turn as the waiting task is cancelled, and the cancellation is lost: a task told to stop
keeps running. `asyncio.timeout` does not have that flaw; every timed wait on an event in the
daemon goes through here.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """True if `event` is (or becomes) set within `timeout_s`, False once it passes."""
    if event.is_set():
        return True
    try:
        async with asyncio.timeout(max(0.0, timeout_s)):
            await event.wait()
    except TimeoutError:
        return False
    return True
