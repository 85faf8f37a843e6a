"""The integer grid one symbol trades on: prices in ticks, sizes in steps, money in 1e-8 units.

Requests arrive as decimal strings and responses leave as decimal strings; in between the engine
only adds and multiplies integers, so no amount ever drifts (Binance itself quotes balances to
8 decimals, hence the money unit). Conversions here are the only place a `Decimal` meets the
engine, and they raise the Binance error a malformed value deserves; they are exact whatever
the value's length (numbers.py), never rounded by the decimal context.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from rocky_bot.sandbox import errors
from rocky_bot.sandbox.config import SymbolSpec
from rocky_bot.sandbox.numbers import decimals_of, scaled

MONEY_DECIMALS = 8
MONEY_SCALE = 10**MONEY_DECIMALS


def fmt_units(units: int, decimals: int) -> str:
    """Integer `units` of 10**-decimals as a fixed-point string (no float, no exponent)."""
    if decimals == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}"


def fmt_money(money: int) -> str:
    return fmt_units(money, MONEY_DECIMALS)


def money_decimal(money: int) -> Decimal:
    return Decimal(money).scaleb(-MONEY_DECIMALS)


def to_money(value: Decimal) -> int:
    """A decimal amount of the margin asset in money units, rejecting sub-1e-8 dust."""
    if decimals_of(value) > MONEY_DECIMALS:
        raise errors.rejected(errors.PRECISION)
    return scaled(value, MONEY_DECIMALS)


@dataclass(frozen=True, slots=True)
class Grid:
    """Exact conversions between a symbol's decimal values and its integer ticks and steps."""

    spec: SymbolSpec
    tick_units: int  # one tick in units of 10**-price_precision
    step_units: int  # one step in units of 10**-quantity_precision
    money_per_tick_step: int  # notional of 1 tick × 1 step, in money units
    min_qty_steps: int
    max_qty_steps: int
    min_price_ticks: int
    max_price_ticks: int
    min_notional_money: int
    up: tuple[int, int]  # PERCENT_PRICE multipliers and marketTakeBound as exact fractions
    down: tuple[int, int]
    take_bound: tuple[int, int]

    @classmethod
    def of(cls, spec: SymbolSpec) -> Grid:
        pp, qp = spec.price_precision, spec.quantity_precision
        if decimals_of(spec.tick_size) > pp or decimals_of(spec.step_size) > qp:
            raise ValueError(f"{spec.symbol}: precision finer than tick/step is required")
        mpts = spec.tick_size * spec.step_size * MONEY_SCALE
        if mpts != mpts.to_integral_value() or mpts < 1:
            raise ValueError(f"{spec.symbol}: tick×step must be a multiple of 1e-8")
        tick_units = scaled(spec.tick_size, pp)
        step_units = scaled(spec.step_size, qp)
        min_price = spec.min_price if spec.min_price is not None else spec.tick_size
        return cls(
            spec=spec,
            tick_units=tick_units,
            step_units=step_units,
            money_per_tick_step=int(mpts),
            min_qty_steps=scaled(spec.min_qty, qp) // step_units,
            max_qty_steps=scaled(spec.max_qty, qp) // step_units,
            min_price_ticks=scaled(min_price, pp) // tick_units,
            max_price_ticks=scaled(spec.max_price, pp) // tick_units,
            min_notional_money=to_money(spec.min_notional),
            up=spec.multiplier_up.as_integer_ratio(),
            down=spec.multiplier_down.as_integer_ratio(),
            take_bound=spec.market_take_bound.as_integer_ratio(),
        )

    @property
    def symbol(self) -> str:
        return self.spec.symbol

    # -- requests → integers ------------------------------------------------------------
    def price_ticks(self, price: Decimal) -> int:
        if price <= 0:
            raise errors.rejected(errors.PRICE_NOT_POSITIVE)
        if decimals_of(price) > self.spec.price_precision:
            raise errors.rejected(errors.PRECISION)
        units = scaled(price, self.spec.price_precision)
        ticks, off_grid = divmod(units, self.tick_units)
        if off_grid:
            raise errors.rejected(errors.TICK)
        if ticks > self.max_price_ticks:
            raise errors.rejected(errors.PRICE_TOO_HIGH)
        if ticks < self.min_price_ticks:
            raise errors.rejected(errors.PRICE_TOO_LOW)
        return ticks

    def qty_steps(self, qty: Decimal) -> int:
        if qty <= 0:
            raise errors.rejected(errors.QTY_NOT_POSITIVE)
        if decimals_of(qty) > self.spec.quantity_precision:
            raise errors.rejected(errors.PRECISION)
        units = scaled(qty, self.spec.quantity_precision)
        steps, off_grid = divmod(units, self.step_units)
        if off_grid:
            raise errors.rejected(errors.STEP)
        if steps < self.min_qty_steps:
            raise errors.rejected(errors.QTY_TOO_SMALL)
        if steps > self.max_qty_steps:
            raise errors.rejected(errors.QTY_TOO_BIG)
        return steps

    def mark_money_per_step(self, mid: Decimal) -> int:
        """A (possibly off-tick) mark price as money per step, rounded to the money unit."""
        exact = mid * self.spec.step_size * MONEY_SCALE
        return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))

    # -- integers → responses -----------------------------------------------------------
    def fmt_price(self, ticks: int) -> str:
        return fmt_units(ticks * self.tick_units, self.spec.price_precision)

    def fmt_qty(self, steps: int) -> str:
        return fmt_units(steps * self.step_units, self.spec.quantity_precision)

    def price(self, ticks: int) -> Decimal:
        return Decimal(ticks * self.tick_units).scaleb(-self.spec.price_precision)

    def qty(self, steps: int) -> Decimal:
        return Decimal(steps * self.step_units).scaleb(-self.spec.quantity_precision)

    def price_from_money(self, money: int, steps: int, decimals: int = 8) -> Decimal:
        """Average price of `steps` that cost `money` (entry/avg price), rounded for display."""
        exact = money_decimal(money) / self.qty(abs(steps)) if steps else Decimal(0)
        return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)

    def fmt_avg_price(self, money: int, steps: int) -> str:
        """Average prices carry more digits than the tick (8, like Binance's entryPrice)."""
        return f"{self.price_from_money(money, steps):f}"
