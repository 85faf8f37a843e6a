"""The sandbox price driver: reproducible mids, exact book prices, pacing, faults, replay."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import statistics
from decimal import Decimal
from typing import Any

import pytest

from rocky_bot.sandbox.prices import PriceDriver, Tick

STARTS = {"BTCUSDT": Decimal("95000"), "ETHUSDT": Decimal("3500")}
TICKS = {"BTCUSDT": Decimal("0.1"), "ETHUSDT": Decimal("0.01")}
T0 = 1_700_000_000.0


class _Stop(Exception):
    """Ends a driver run after a set number of sleeps."""


class FakeTime:
    """A clock that only moves when the driver sleeps (plus any lateness we inject)."""

    def __init__(self, max_sleeps: int, late: dict[int, float] | None = None) -> None:
        self.now = T0
        self.sleeps: list[float] = []
        self.max_sleeps = max_sleeps
        self.late = late or {}  # sleep number -> extra seconds the wake-up comes late

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if len(self.sleeps) == self.max_sleeps:
            raise _Stop
        self.sleeps.append(seconds)
        self.now += seconds + self.late.get(len(self.sleeps), 0.0)


def make_driver(
    fake: FakeTime,
    ticks: list[Tick],
    *,
    seed: int | None = 7,
    starts: dict[str, Decimal] = STARTS,
    annual_vol: float = 0.6,
    msgs_per_s: float = 20.0,
    replay_path: str | None = None,
) -> PriceDriver:
    return PriceDriver(
        dict(starts),
        TICKS,
        annual_vol=annual_vol,
        msgs_per_s=msgs_per_s,
        on_tick=ticks.append,
        seed=seed,
        replay_path=replay_path,
        clock=fake.clock,
        sleep=fake.sleep,
    )


async def run_for(
    sleeps: int, *, late: dict[int, float] | None = None, **kwargs: Any
) -> tuple[list[Tick], FakeTime, PriceDriver]:
    fake = FakeTime(sleeps, late)
    ticks: list[Tick] = []
    driver = make_driver(fake, ticks, **kwargs)
    with pytest.raises(_Stop):
        await driver.run()
    return ticks, fake, driver


async def test_same_seed_gives_the_same_ticks_and_another_seed_does_not() -> None:
    first, _, _ = await run_for(200, seed=42)
    again, _, _ = await run_for(200, seed=42)
    other, _, _ = await run_for(200, seed=43)
    assert first == again
    assert [t.mid for t in first] != [t.mid for t in other]


async def test_every_symbol_ticks_once_per_period_on_absolute_deadlines() -> None:
    ticks, fake, _ = await run_for(100, msgs_per_s=20.0)
    per_symbol = {s: [t for t in ticks if t.symbol == s] for s in STARTS}
    assert all(len(v) == 100 for v in per_symbol.values())
    times = [t.event_time_ms for t in per_symbol["BTCUSDT"]]
    assert {b - a for a, b in itertools.pairwise(times)} <= {49, 50, 51}
    assert all(math.isclose(s, 0.05, abs_tol=1e-6) for s in fake.sleeps)
    ids = [t.update_id for t in ticks]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_book_is_one_tick_wide_on_the_grid_with_an_exact_mid() -> None:
    ticks, _, driver = await run_for(1000)
    for t in ticks:
        tick = TICKS[t.symbol]
        assert t.bid % tick == 0 and t.ask % tick == 0
        assert t.ask - t.bid == tick
        assert t.mid == (t.bid + t.ask) / 2
        assert Decimal("0.001") <= t.bid_qty < 10 and Decimal("0.001") <= t.ask_qty < 10
    last_btc = [t for t in ticks if t.symbol == "BTCUSDT"][-1]
    assert driver.mid("BTCUSDT") == last_btc.mid


async def test_realised_volatility_matches_annual_vol() -> None:
    steps = 20_000
    ticks, _, _ = await run_for(
        steps, msgs_per_s=1.0, annual_vol=0.6, starts={"BTCUSDT": Decimal("95000")}
    )
    mids = [float(t.mid) for t in ticks]
    returns = [math.log(b / a) for a, b in itertools.pairwise(mids)]
    annualised = statistics.pstdev(returns) * math.sqrt(365 * 24 * 3600)
    assert annualised == pytest.approx(0.6, rel=0.05)


async def test_a_late_wakeup_catches_up_along_the_same_path_and_emits_once() -> None:
    on_time, _, _ = await run_for(60, seed=5)
    late, _, _ = await run_for(50, seed=5, late={10: 0.5})  # woke 10 periods late once
    by_time = {(t.symbol, t.event_time_ms): t.mid for t in on_time}
    # After the late wake-up: one tick per symbol, then the same path as if nothing happened.
    late_times = sorted({t.event_time_ms for t in late})
    assert len(late_times) == 50
    assert all(by_time[(t.symbol, t.event_time_ms)] == t.mid for t in late)


async def test_a_long_stall_skips_ahead_instead_of_replaying_the_backlog() -> None:
    ticks, fake, _ = await run_for(5, late={2: 3600.0})  # host suspended for an hour
    assert len(ticks) == 5 * len(STARTS)
    assert fake.sleeps[-1] == pytest.approx(0.05)


async def test_jump_moves_every_mid_by_that_percentage_at_once() -> None:
    ticks: list[Tick] = []
    driver = make_driver(FakeTime(0), ticks)
    before = {s: driver.mid(s) for s in STARTS}
    driver.jump(5.0)
    assert sorted(t.symbol for t in ticks) == sorted(STARTS)
    for t in ticks:
        assert t.mid == driver.mid(t.symbol)
        assert float(t.mid / before[t.symbol]) == pytest.approx(1.05, abs=2e-6)
    driver.jump(-10.0)
    assert float(driver.mid("BTCUSDT") / before["BTCUSDT"]) == pytest.approx(0.945, abs=2e-6)
    with pytest.raises(ValueError):
        driver.jump(-100.0)


async def test_frozen_feed_emits_nothing_while_the_mid_keeps_moving() -> None:
    fake = FakeTime(50)
    ticks: list[Tick] = []
    driver = make_driver(fake, ticks, annual_vol=5.0)
    driver.frozen = True
    start_mid = driver.mid("BTCUSDT")
    with pytest.raises(_Stop):
        await driver.run()
    driver.jump(1.0)
    assert ticks == []
    assert driver.mid("BTCUSDT") != start_mid  # the mark price stays live
    driver.frozen = False
    driver.jump(1.0)
    assert len(ticks) == len(STARTS)


async def test_a_failing_subscriber_does_not_stop_the_market() -> None:
    fake = FakeTime(10)
    seen: list[Tick] = []

    def flaky(tick: Tick) -> None:
        seen.append(tick)
        raise RuntimeError("subscriber bug")

    driver = PriceDriver(
        STARTS, TICKS, annual_vol=0.6, msgs_per_s=20, on_tick=flaky, clock=fake.clock,
        sleep=fake.sleep,
    )  # fmt: skip
    with pytest.raises(_Stop):
        await driver.run()
    assert len(seen) == 10 * len(STARTS)


async def test_runs_on_the_real_event_loop_until_cancelled() -> None:
    ticks: list[Tick] = []
    driver = PriceDriver(STARTS, TICKS, annual_vol=0.6, msgs_per_s=100, on_tick=ticks.append)
    task = asyncio.create_task(driver.run())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    per_symbol = sum(1 for t in ticks if t.symbol == "BTCUSDT")
    assert 10 <= per_symbol <= 25


def _book(symbol: str, e: int, bid: str, ask: str) -> dict[str, object]:
    return {"e": "bookTicker", "u": e, "E": e, "T": e, "s": symbol, "b": bid, "B": "1.5",
            "a": ask, "A": "0.25"}  # fmt: skip


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "book.jsonl"
    lines = [
        "# recorded from fstream, trimmed",
        json.dumps(_book("BTCUSDT", 1_000, "94000.0", "94000.1")),
        json.dumps(
            {"stream": "ethusdt@bookTicker", "data": _book("ETHUSDT", 1_000, "3400.00", "3400.01")}
        ),
        json.dumps(_book("SOLUSDT", 1_100, "150.00", "150.01")),  # not a sandbox symbol
        "",
        json.dumps(_book("BTCUSDT", 1_250, "94001.0", "94001.2")),
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


async def test_replay_plays_the_recording_at_its_pace_and_loops(recording) -> None:
    ticks, fake, driver = await run_for(4, replay_path=recording, msgs_per_s=10.0)
    got = [(t.symbol, str(t.bid), str(t.ask), str(t.bid_qty), str(t.ask_qty)) for t in ticks]
    assert got == [
        ("BTCUSDT", "94000.0", "94000.1", "1.5", "0.25"),
        ("ETHUSDT", "3400.00", "3400.01", "1.5", "0.25"),  # same "E": emitted together
        ("BTCUSDT", "94001.0", "94001.2", "1.5", "0.25"),  # 250 ms later
        ("BTCUSDT", "94000.0", "94000.1", "1.5", "0.25"),  # looped, one period later
        ("ETHUSDT", "3400.00", "3400.01", "1.5", "0.25"),
        ("BTCUSDT", "94001.0", "94001.2", "1.5", "0.25"),
    ]
    assert fake.sleeps[1:] == pytest.approx([0.25, 0.1, 0.25])
    assert driver.mid("BTCUSDT") == Decimal("94001.1")
    assert [t.update_id for t in ticks] == [1, 2, 3, 4, 5, 6]  # ours: the recording's repeat
    assert ticks[-1].event_time_ms == int(fake.now * 1000)


async def test_replay_jump_scales_the_recorded_prices(recording) -> None:
    ticks, _, driver = await run_for(2, replay_path=recording)
    driver.jump(10.0)
    moved = ticks[-2:]
    assert [t.symbol for t in moved] == ["BTCUSDT", "ETHUSDT"]
    assert float(driver.mid("BTCUSDT")) == pytest.approx(94001.1 * 1.1, abs=0.2)
    for t in moved:
        assert t.bid % TICKS[t.symbol] == 0 and t.bid < t.ask


def test_a_malformed_recording_is_refused_with_its_line_number(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_book("BTCUSDT", 1, "1", "2")) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        PriceDriver(STARTS, TICKS, annual_vol=0.6, msgs_per_s=1, on_tick=print,
                    replay_path=str(path))  # fmt: skip
