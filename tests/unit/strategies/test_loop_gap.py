"""The minimum requote interval holds a loop only after a look that sent the exchange something,
and only a band exit waits it out.

A heartbeat that found every quote in place used to hold the next look for 50 ms as well, and
the band exit that came in those 50 ms waited: most bench requotes over 25 ms (issue 14). A fill
waited out the gap after its loop's last order: the bench's slowest refill, 63 ms (≤ 50).
"""

import asyncio
import random

from rocky_bot.strategies.loop import LoopTiming, StrategyLoop, requote_gap

GAP_S = 0.05


def test_the_gap_follows_only_a_look_that_sent() -> None:
    assert requote_gap(GAP_S, since_start_s=0.01, acted=True) == GAP_S - 0.01
    assert requote_gap(GAP_S, since_start_s=0.01, acted=False) == 0.0
    assert requote_gap(GAP_S, since_start_s=0.2, acted=True) == 0.0  # a quiet spell: no wait


class ScriptedLoop(StrategyLoop):
    """Each look returns the next scripted 'sent something' (or raises it) and says it ran."""

    def __init__(self, script: list[bool | Exception], sleeps: list[float]) -> None:
        async def no_wait(urgent: asyncio.Event, seconds: float) -> None:
            sleeps.append(seconds)

        timing = LoopTiming(interval_s=3600.0, jitter_s=0.0, min_requote_interval_s=GAP_S,
                            stagger=False)  # fmt: skip
        super().__init__("acct", "BTCUSDT", timing, lambda exc: None, random.Random(1),
                         clock=lambda: 100.0, hold=no_wait)  # fmt: skip
        self.script = script
        self.looked = asyncio.Queue[int]()

    async def iterate(self) -> bool:
        step = self.script.pop(0)
        self.looked.put_nowait(len(self.script))
        if isinstance(step, Exception):
            raise step
        return step


async def test_only_looks_that_sent_or_failed_hold_a_band_exit() -> None:
    sleeps: list[float] = []
    loop = ScriptedLoop([False, True, RuntimeError("bug"), False], sleeps)
    task = asyncio.create_task(loop.run())
    held_before_each_look = ([], [], [GAP_S], [GAP_S, GAP_S])
    try:
        for held in held_before_each_look:
            await asyncio.wait_for(loop.looked.get(), 5)
            assert sleeps == held
            loop.wake(urgent=False)  # the mid left a band: look again, after the gap
    finally:
        task.cancel()
    # A no-op heartbeat (False) held nothing; an order sent (True) and a failure each held one gap.


async def test_a_fill_after_an_order_is_looked_at_without_the_gap() -> None:
    sleeps: list[float] = []
    loop = ScriptedLoop([True, True, False], sleeps)
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(loop.looked.get(), 5)
        loop.wake()  # a fill (urgent): the order just sent does not hold its refill
        await asyncio.wait_for(loop.looked.get(), 5)
        assert sleeps == []
        loop.wake(urgent=False)
        await asyncio.wait_for(loop.looked.get(), 5)
        assert sleeps == [GAP_S]
    finally:
        task.cancel()
