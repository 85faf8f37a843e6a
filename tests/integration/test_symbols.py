"""Any symbol the exchange lists, against the real sandbox: sized by notional at its mid, sizes
that vary like people's, and a symbol that cannot be priced refused at start (exit 78)."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import pytest
from fleet_harness import running_fleet
from waiting import wait_for

from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import Layer, parse_account_id
from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.listing import listed
from rocky_bot.sizing import DEFAULT_NOTIONAL_USD

SYMBOLS = ("SOLUSDT", "DOGEUSDT")


@pytest.fixture
async def alts():
    exchange = SandboxExchange(
        SandboxConfig(port=0, seed=3, symbols=listed(SYMBOLS), weight_limit_per_min=48_000)
    )
    await exchange.start()
    try:
        yield exchange
    finally:
        await exchange.stop()


def following(sandbox: SandboxExchange) -> str:
    """The reference feed without streams: the daemon appends its symbols' (feed/names.py)."""
    return f"{sandbox.ws_url}/reference/stream"


def formed(sandbox: SandboxExchange) -> bool:
    """Every level quoted and the anchor's tight spread in place (a taker's fill or a requote
    opens it for a moment: the spread's p95 is the bench's to judge, per symbol)."""
    for symbol in SYMBOLS:
        book = sandbox.engine.book_summary(symbol)
        if book.bid_levels < 12 or book.ask_levels < 12 or not book.spread_bps:
            return False
        if book.spread_bps > 2.5:  # the anchor rounds its spread, not each side
            return False
    return True


async def test_listed_alts_are_quoted_at_notional_sizes_that_vary_per_level(alts, tmp_path):
    async with running_fleet(alts, tmp_path, symbols=SYMBOLS, feed_url=following(alts)) as handle:
        assert await wait_for(lambda: formed(alts), 15, interval=0.1)
        names = handle.account_names
        sizes: dict[tuple[str, Layer], list[Decimal]] = {}
        for bot_id, name in names.items():
            layer = parse_account_id(bot_id).layer
            for order in alts.engine.open_orders(name):
                if not order.reduce_only:  # an unwind is at most the position, not a level
                    sizes.setdefault((order.symbol, layer), []).append(Decimal(order.orig_qty))
        for symbol in SYMBOLS:
            mid = alts.engine.mark(symbol)
            l1 = sizes[(symbol, Layer.L1)]
            # L1 is worth its $50 at the mid, each level ±20 % (maker_size_jitter): not equal
            # steps, never under the $5 minimum
            assert all(30 <= q * mid <= 70 for q in l1), (symbol, sorted(l1), mid)
            assert len(set(l1)) > 1, l1
            mean = sum(l1) / len(l1) * mid
            assert abs(mean - DEFAULT_NOTIONAL_USD[Layer.L1]) < 15, mean
        # takers trade sizes, not one size (median the layer's, sigma 0.5): the tape's taker
        # orders, each the sum of its fills (an IOC may fill part of itself)
        orders: Counter[int] = Counter()

        def taker_sizes() -> int:
            orders.clear()
            for agg in alts.engine.tapes["DOGEUSDT"].aggs:
                orders[agg.taker_order_id] += agg.qty_steps
            return len(set(orders.values()))

        assert await wait_for(lambda: taker_sizes() >= 3, 15, interval=0.2), orders


async def test_a_symbol_the_exchange_does_not_list_is_refused_at_once(sandbox, tmp_path):
    """A config error: one line, exit 78 (ConfigError), never the retry loop of an outage."""
    async with running_fleet(
        sandbox, tmp_path, wait_ready=False, symbols=("BTCUSDT", "SOLUSDT"),
        feed_url=following(sandbox),
    ) as handle:  # fmt: skip
        with pytest.raises(ConfigError, match="does not list SOLUSDT"):
            await asyncio.wait_for(handle.task, 5)


async def test_a_symbol_whose_stream_stays_silent_is_refused(alts, tmp_path):
    async with running_fleet(
        alts, tmp_path, wait_ready=False, symbols=SYMBOLS, feed_url=following(alts),
        feed_symbols={"DOGEUSDT": "dogecoinusdt"}, feed_first_tick_s=1.0,
    ) as handle:  # fmt: skip
        with pytest.raises(ConfigError, match=r"no reference price for DOGEUSDT.*dogecoinusdt"):
            await asyncio.wait_for(handle.task, 10)
