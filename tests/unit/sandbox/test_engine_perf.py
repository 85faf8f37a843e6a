"""The engine must never be the bottleneck: ≥ 5,000 order submissions per second on one core."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from decimal import Decimal as D

from rocky_bot.sandbox.config import BTCUSDT, ETHUSDT
from rocky_bot.sandbox.engine import Engine
from rocky_bot.sandbox.orders import OrderRequest

FLOOR_PER_S = 5_000


def test_submissions_per_second_stay_above_the_floor_with_a_deep_book() -> None:
    # 667 resting orders per account: past exchangeInfo's MAX_NUM_ORDERS (200), raised here
    deep = replace(BTCUSDT, max_num_orders=1_000)
    engine = Engine([deep, ETHUSDT], clock_ms=lambda: 1_700_000_000_000)
    names = [f"mm-{i}" for i in range(30)]
    for name in names:
        engine.open_account(name)
        engine.credit(name, D("100000000"))
    rng = random.Random(7)
    # 20,000 resting orders far from the action: per-submission work must not grow with them.
    for i in range(20_000):
        price = D(90_000 - i % 2_000)
        engine.submit(names[i % 30], OrderRequest("BTCUSDT", "BUY", "LIMIT", D("0.001"), price))
    requests = [
        (
            rng.choice(names),
            OrderRequest("BTCUSDT", rng.choice(("BUY", "SELL")), "LIMIT", D("0.001"),
                         D(950_000 + rng.randint(-20, 20)) / 10, rng.choice(("GTC", "IOC"))),
        )
        for _ in range(10_000)
    ]  # fmt: skip
    start = time.perf_counter()
    for name, request in requests:
        engine.submit(name, request)
    rate = len(requests) / (time.perf_counter() - start)
    print(f"engine: {rate:,.0f} submissions/s")
    assert engine.tapes["BTCUSDT"].trades, "the workload must include matching"
    assert rate >= FLOOR_PER_S
