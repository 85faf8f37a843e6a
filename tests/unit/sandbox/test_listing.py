"""The sandbox lists every symbol of `binance_api.grids` on the grid the budget plans with."""

from __future__ import annotations

from rocky_bot.binance_api.grids import GRIDS
from rocky_bot.sandbox.listing import LISTING
from rocky_bot.tick_grid import UNKNOWN_TICK_BPS, tick_bps


def test_each_listed_symbol_trades_on_the_grid_the_budget_plans_with():
    assert set(LISTING) == set(GRIDS)
    for symbol, spec in LISTING.items():
        grid = GRIDS[symbol]
        assert (spec.tick_size, spec.step_size, spec.start_price, spec.base_asset) == (
            grid.tick_size, grid.step_size, grid.price_level, grid.base_asset,
        ), symbol  # fmt: skip


def test_a_tick_is_judged_in_bps_of_the_price_level():
    assert round(tick_bps("BTCUSDT"), 4) == 0.0105  # 0.1 on 95,000
    assert round(tick_bps("solusdt"), 3) == 0.556  # 0.01 on 180, any case
    assert tick_bps("NOTLISTED") == UNKNOWN_TICK_BPS
