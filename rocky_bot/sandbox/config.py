"""What a sandbox exchange is made of: its symbols, fees, limits and network address.

Everything here is a frozen value so one object describes a whole run and can be logged (it holds
no secret: the admin token is only a *requested* token; the live one is on `SandboxExchange`).
Prices, sizes and fee rates are `Decimal` because the engine turns them into exact integer grids.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One perpetual contract: its grid (tick/step), filters and where its synthetic mid starts.

    Price protection is Binance's BTCUSDT: PERCENT_PRICE 1.05 / 0.95 around the mark and a 5 %
    `marketTakeBound`; the fleet's takers cross 50 bps past mid, far inside both.

    `price_precision` / `quantity_precision` are Binance's `pricePrecision`/`quantityPrecision`:
    the most decimals a request may carry (-1111 beyond), and the decimals responses are formatted
    with. Like Binance's BTCUSDT (tick 0.10, pricePrecision 2) they may exceed the tick's decimals,
    which is what makes -4014/-4023 (on precision, off grid) distinct from -1111.
    """

    symbol: str
    base_asset: str
    start_price: Decimal
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal
    price_precision: int
    quantity_precision: int
    max_qty: Decimal = Decimal("1000")
    max_price: Decimal = Decimal("4529764")
    min_price: Decimal | None = None  # None → one tick
    # PERCENT_PRICE: a BUY may not be priced above mark × up, a SELL not below mark × down
    multiplier_up: Decimal = Decimal("1.0500")
    multiplier_down: Decimal = Decimal("0.9500")
    # how far from the mark a MARKET order may trade before its remainder expires
    market_take_bound: Decimal = Decimal("0.05")
    # MAX_NUM_ORDERS: open orders one account may have on the symbol (-2025 past it)
    max_num_orders: int = 200


BTCUSDT = SymbolSpec(
    symbol="BTCUSDT",
    base_asset="BTC",
    start_price=Decimal("95000"),
    tick_size=Decimal("0.1"),
    step_size=Decimal("0.0001"),
    min_qty=Decimal("0.0001"),
    min_notional=Decimal("5"),
    price_precision=2,
    quantity_precision=4,
)

ETHUSDT = SymbolSpec(
    symbol="ETHUSDT",
    base_asset="ETH",
    start_price=Decimal("3500"),
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    min_notional=Decimal("5"),
    price_precision=2,
    quantity_precision=3,
    max_qty=Decimal("10000"),
    max_price=Decimal("306177"),
)


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """One sandbox run. `port=0` binds an ephemeral port (read the real one from `base_url`)."""

    host: str = "127.0.0.1"
    port: int = 0
    admin_token: str | None = None  # None → a random token is generated at start
    symbols: tuple[SymbolSpec, ...] = (BTCUSDT, ETHUSDT)
    margin_asset: str = "USDT"  # also the quote asset: Binance clients expect them equal
    annual_vol: float = 0.6  # handed to the price driver only; the engine never sees a float
    msgs_per_s: float = 20.0  # per symbol
    replay_path: str | None = None
    maker_fee: Decimal = Decimal("0.0002")
    taker_fee: Decimal = Decimal("0.0005")
    # Both fees are charged × this (an accelerated life test: `rocky-bot soak` lives a week of
    # fees in an hour by charging 168×; the clocks are not compressed).
    fee_multiplier: Decimal = Decimal(1)
    default_leverage: int = 20
    weight_limit_per_min: int = 2400
    order_limit_per_10s: int = 300
    order_limit_per_min: int = 1200
    recv_window_default: int = 5000
    seed: int | None = None
    countdown_poll_ms: int = 100
    fleet_status_url: str | None = None  # the daemon's /status, for the page's fleet panel
    # Websocket connections per client IP: open at once, and begun within 5 minutes
    # (Binance's 300); past either the handshake is refused with 429 (ws_limits.py).
    ws_open_per_ip: int = 300
    ws_new_per_ip_5min: int = 300

    @property
    def effective_maker_fee(self) -> Decimal:
        return self.maker_fee * self.fee_multiplier

    @property
    def effective_taker_fee(self) -> Decimal:
        return self.taker_fee * self.fee_multiplier

    def symbol(self, name: str) -> SymbolSpec:
        for spec in self.symbols:
            if spec.symbol == name:
                return spec
        raise KeyError(name)
