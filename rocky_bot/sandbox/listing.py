"""What the sandbox can list: the larger USDⓈ-M perpetuals, with Binance's grids.

`rocky-bot sandbox --symbols BTCUSDT,ETHUSDT,SOLUSDT,...` lists any of these, each with its own
synthetic mid from its price level (or a replayed file). The grids and price levels are
`binance_api.grids`' (shared with the request budget); the minimum notional is Binance's 5 USDT.
BTC and ETH are the sandbox's own specs (`sandbox.config`) on the same grids.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rocky_bot.binance_api.grids import GRIDS, Grid
from rocky_bot.sandbox.config import BTCUSDT, ETHUSDT, SymbolSpec

#: The sandbox's own specs (precisions, caps), on the same grids as `GRIDS` says.
OWN = {BTCUSDT.symbol, ETHUSDT.symbol}

#: Binance's minimum order notional on these perpetuals, in USDT.
MIN_NOTIONAL = Decimal(5)


def _decimals(value: Decimal) -> int:
    return max(0, -int(value.normalize().as_tuple().exponent))


def _perpetual(grid: Grid) -> SymbolSpec:
    price, tick_size, step_size = grid.price_level, grid.tick_size, grid.step_size
    # room for ~$10M an order, and prices up to 1,000× the start (the feed's plausible range)
    max_qty = Decimal(10) ** len(str(int(Decimal(10_000_000) / price)))
    return SymbolSpec(
        symbol=grid.symbol, base_asset=grid.base_asset, start_price=price, tick_size=tick_size,
        step_size=step_size, min_qty=step_size, min_notional=MIN_NOTIONAL,
        price_precision=_decimals(tick_size), quantity_precision=_decimals(step_size),
        max_qty=max_qty, max_price=price * 1000,
    )  # fmt: skip


LISTING: dict[str, SymbolSpec] = {
    spec.symbol: spec
    for spec in (BTCUSDT, ETHUSDT, *(_perpetual(g) for g in GRIDS.values() if g.symbol not in OWN))
}


def listed(symbols: Iterable[str]) -> tuple[SymbolSpec, ...]:
    """The specs of `symbols`, in order; ValueError naming any the table does not have."""
    names = [s.strip().upper() for s in symbols if s.strip()]
    unknown = [s for s in names if s not in LISTING]
    if unknown:
        raise ValueError(f"not in the sandbox's listing: {', '.join(unknown)} "
                         f"(it lists {', '.join(LISTING)})")  # fmt: skip
    if not names:
        raise ValueError("at least one symbol is required")
    return tuple(LISTING[s] for s in dict.fromkeys(names))
