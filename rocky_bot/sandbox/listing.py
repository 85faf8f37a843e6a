"""What the sandbox can list: the larger USDⓈ-M perpetuals, with Binance's grids.

`rocky-bot sandbox --symbols BTCUSDT,ETHUSDT,SOLUSDT,...` lists any of these, each with its own
synthetic mid from the start price below (or a replayed file). Tick and step sizes are those
Binance's USDⓈ-M exchangeInfo gives each perpetual; the minimum notional is its 5 USDT for the
alts. BTC and ETH are the sandbox's own (finer steps and a 5 USDT minimum, as Rocky's demo
lists them, so the spec's 0.0003 BTC anchor is a valid order). Start prices are plausible
levels, not quotes: the synthetic mid wanders from them at the run's volatility.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rocky_bot.sandbox.config import BTCUSDT, ETHUSDT, SymbolSpec

#: symbol, base asset, start price, tick size, step size (Binance USDⓈ-M perpetuals).
_TABLE = (
    ("BNBUSDT", "BNB", "650", "0.01", "0.01"),
    ("SOLUSDT", "SOL", "180", "0.01", "0.01"),
    ("XRPUSDT", "XRP", "2.3", "0.0001", "0.1"),
    ("DOGEUSDT", "DOGE", "0.25", "0.00001", "1"),
    ("ADAUSDT", "ADA", "0.75", "0.0001", "1"),
    ("TRXUSDT", "TRX", "0.25", "0.00001", "1"),
    ("AVAXUSDT", "AVAX", "30", "0.001", "1"),
    ("LINKUSDT", "LINK", "18", "0.001", "0.01"),
    ("DOTUSDT", "DOT", "5.5", "0.001", "0.1"),
    ("LTCUSDT", "LTC", "100", "0.01", "0.001"),
    ("BCHUSDT", "BCH", "450", "0.01", "0.001"),
    ("SUIUSDT", "SUI", "3.5", "0.0001", "0.1"),
    ("TONUSDT", "TON", "4", "0.0001", "0.1"),
    ("NEARUSDT", "NEAR", "4", "0.001", "1"),
    ("APTUSDT", "APT", "8", "0.0001", "0.1"),
    ("1000PEPEUSDT", "1000PEPE", "0.012", "0.0000001", "1"),
    ("ARBUSDT", "ARB", "0.6", "0.0001", "0.1"),
    ("OPUSDT", "OP", "1.5", "0.0001", "0.1"),
)
#: Binance's minimum order notional on these perpetuals, in USDT.
MIN_NOTIONAL = Decimal(5)


def _decimals(value: Decimal) -> int:
    return max(0, -int(value.normalize().as_tuple().exponent))


def _perpetual(symbol: str, base: str, start: str, tick: str, step: str) -> SymbolSpec:
    price, tick_size, step_size = Decimal(start), Decimal(tick), Decimal(step)
    # room for ~$10M an order, and prices up to 1,000× the start (the feed's plausible range)
    max_qty = Decimal(10) ** len(str(int(Decimal(10_000_000) / price)))
    return SymbolSpec(
        symbol=symbol, base_asset=base, start_price=price, tick_size=tick_size,
        step_size=step_size, min_qty=step_size, min_notional=MIN_NOTIONAL,
        price_precision=_decimals(tick_size), quantity_precision=_decimals(step_size),
        max_qty=max_qty, max_price=price * 1000,
    )  # fmt: skip


LISTING: dict[str, SymbolSpec] = {
    spec.symbol: spec for spec in (BTCUSDT, ETHUSDT, *(_perpetual(*row) for row in _TABLE))
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
