"""The price and quantity grids of the USDⓈ-M perpetuals rocky-bot knows, each with a plausible
price level: data shared by the sandbox, which lists these symbols, and the request budget,
which plans a coarse price grid's extra requotes (`tick_grid`).

Tick and step sizes are those Binance's USDⓈ-M exchangeInfo gives each perpetual, but for BTC's
and ETH's steps: finer, as Rocky's demo lists them, so the spec's 0.0003 BTC anchor is a valid
order. Price levels are plausible, not quotes: the sandbox's synthetic mid starts there and
wanders at the run's volatility, and a tick's size in bps is judged against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Grid:
    symbol: str
    base_asset: str
    price_level: Decimal
    tick_size: Decimal
    step_size: Decimal

    def tick_bps(self) -> float:
        """One tick in bps of the price level."""
        return float(self.tick_size / self.price_level * Decimal(10_000))


#: symbol, base asset, price level, tick size, step size.
_TABLE = (
    ("BTCUSDT", "BTC", "95000", "0.1", "0.0001"),
    ("ETHUSDT", "ETH", "3500", "0.01", "0.001"),
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

GRIDS: dict[str, Grid] = {
    row[0]: Grid(row[0], row[1], *(Decimal(v) for v in row[2:])) for row in _TABLE
}
