"""An asyncio event loop on virtual time: idle, it jumps to its next timer instead of waiting.

`loop.time()` (which `asyncio.sleep`, `asyncio.timeout`, `call_later` and every library timeout
read) starts at 0 and only moves when the loop has nothing ready to run: then it advances to
the earliest scheduled timer at once. A week of keepalives, recycles and cooldowns runs in as
long as the work itself takes. Components are handed `clock=loop.time` so their own clocks
agree with the loop's.

Real sockets on 127.0.0.1 still work when both ends run on this loop: a loopback write is in
the peer's receive queue by the time `send()` returns (the kernel delivers it in the sender's
system call), and before jumping the loop yields the CPU and polls again a few times for what a
busy kernel may have deferred, so bytes in flight are read before a timeout can expire in
virtual time.
"""

from __future__ import annotations

import asyncio
import os
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
YIELDS = 3


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None):  # type: ignore[override]
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        sockets = len(self.get_map()) > 1  # more than the loop's own wake-up pipe
        for _ in range(
            YIELDS if sockets else 0
        ):  # let the kernel deliver what loopback writes are in flight
            os.sched_yield()
            ready = super().select(0)
            if ready:
                return ready
        if timeout is None:  # nothing scheduled: only I/O can wake us (real time passes)
            return super().select(None)
        assert self.loop is not None
        self.loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, start: float = 0.0) -> None:
        self._virtual_now = start
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += max(0.0, seconds)


def run_virtual(coro: Coroutine[Any, Any, T], *, start: float = 0.0) -> T:
    """Run `coro` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop(start)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
