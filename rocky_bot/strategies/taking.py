"""Pure decisions of a taker: its side, its size, the one order that crosses the spread.

No I/O, no clock, no randomness: the loop draws the coin and the size's z and passes them in,
so the decisions are tested table-driven and with hypothesis (never past the cap, always on tick).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.exchange.models import Side, SymbolRules, TimeInForce
from rocky_bot.strategies.intents import Cancel, Exposure, Intent, LiveQuote, Place
from rocky_bot.strategies.quoting import BPS, side_within_cap, within_cap, without_quote


def taker_side(fair: Side, lean: float, u: float) -> Side:
    """The taker's side: the fair coin, or with probability |lean| the side that `lean` favours.

    `lean` > 0 favours BUY. The fleet leans takers against the makers' net inventory
    (`fleet.build.makers_lean`): a taker BUY lifts the makers' asks and so shrinks a long
    inventory, keeping the levels nearest the mid off their caps.
    """
    if u < abs(lean):
        return Side.BUY if lean > 0 else Side.SELL
    return fair


@dataclass(frozen=True, slots=True)
class TakerInputs:
    symbol: str
    mid: Decimal
    rules: SymbolRules
    qty: Decimal
    cross_bps: Decimal
    cap_usd: Decimal
    exposure: Exposure
    coin: Side  # the random side, drawn by the caller
    leftovers: Sequence[LiveQuote] = ()
    ioc: bool = True
    size_z: float = 0.0  # a standard normal, drawn by the caller: this order's size
    size_sigma: float = 0.0  # 0: the layer's size, as the spec
    size_max: float = 0.0  # the largest order, × the layer's size (0: the cap alone bounds it)


def taker_qty(t: TakerInputs) -> Decimal:
    """This order's size: the layer's × e^(σ·z), to the nearest step, so that its median is the
    layer's size; never under what the exchange accepts at the taker's lower price, and never
    one order worth more than the cap, or `size_max` × the layer's, by itself (people trade
    sizes, not one size; a rare giant would sweep the nearest ladders to their caps)."""
    if t.size_sigma <= 0:
        return t.rules.round_qty(t.qty)
    z = max(-6.0, min(6.0, t.size_z))
    drawn = t.rules.nearest_qty(t.qty * Decimal(repr(math.exp(t.size_sigma * z))))
    least = t.rules.least_qty(t.mid * (1 - t.cross_bps * BPS))
    most = t.cap_usd / t.mid
    if t.size_max > 0:
        most = min(most, t.qty * Decimal(repr(t.size_max)))
    most = max(least, t.rules.round_qty(most))
    return min(max(drawn, least), most)


def decide_taker(t: TakerInputs) -> list[Intent]:
    """Cross the spread once: reduce when over the cap, else the random side if the cap allows."""
    intents: list[Intent] = [
        Cancel(t.symbol, q.client_order_id, "taker_leftover") for q in t.leftovers
    ]
    exposure = t.exposure
    for q in t.leftovers:
        exposure = without_quote(exposure, q)
    qty = taker_qty(t)
    position = exposure.position
    if not within_cap(position, t.mid, t.cap_usd):
        candidates: tuple[Side, ...] = (Side.SELL if position > 0 else Side.BUY,)
    else:
        candidates = (t.coin, t.coin.opposite)
    allowed = [
        s for s in candidates if side_within_cap(s, exposure.worst_case(s, qty), t.mid, t.cap_usd)
    ]
    if not allowed:
        return intents
    side = allowed[0]
    price = t.rules.round_price(t.mid * (1 + side.sign * t.cross_bps * BPS), side.opposite)
    if t.rules.check(price, qty) is not None or qty <= 0:
        return intents
    tif = TimeInForce.IOC if t.ioc else TimeInForce.GTC
    intents.append(Place(t.symbol, side, price, qty, time_in_force=tif))
    return intents
