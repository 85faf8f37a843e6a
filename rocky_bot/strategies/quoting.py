"""Pure decisions: what a maker or taker should do now. No I/O, no clock, no randomness.

Every function takes the state it needs and returns intents, so the whole strategy is tested
table-driven and with hypothesis (never past the cap, always on tick, never a crossed own quote).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

from rocky_bot.exchange.models import Side, SymbolRules, TimeInForce
from rocky_bot.sizing import LOWEST_PRICE_SHARE
from rocky_bot.strategies.intents import Cancel, Exposure, Intent, LiveQuote, Modify, Place

BPS = Decimal("0.0001")
#: Where a ladder the cap gate has emptied rests its unwind: just outside the anchor's 1 bps, so
#: the next taker on that side fills it. At the ladder's own offset it queued behind the anchor
#: and the other ladders, and the level stayed empty for minutes (issue 14: quote uptime).
URGENT_UNWIND_BPS = Decimal(2)


@dataclass(frozen=True, slots=True)
class MakerInputs:
    symbol: str
    side: Side
    mid: Decimal
    rules: SymbolRules
    qty: Decimal
    offset_bps: Decimal
    drift_bps: Decimal
    cap_usd: Decimal
    exposure: Exposure
    live: Sequence[LiveQuote]  # our live orders on this symbol and side
    can_modify: bool = False
    reduce_only: bool = False
    centred: bool = False  # the anchor: both sides 2·offset apart, centred (`centred_price`)


def target_price(mid: Decimal, side: Side, offset_bps: Decimal, rules: SymbolRules) -> Decimal:
    """mid·(1 ∓ offset), rounded onto the tick grid away from the mid."""
    raw = mid * (1 - side.sign * offset_bps * BPS)
    return rules.round_price(raw, side)


def centred_price(mid: Decimal, side: Side, offset_bps: Decimal, rules: SymbolRules) -> Decimal:
    """The anchor's price: its two sides 2·offset apart to the nearest tick, centred on the mid
    as closely as the grid allows.

    Each side rounded away from the mid (`target_price`) widens the inside spread by up to two
    ticks: nothing on BTC (a tick is 0.01 bps) but a bps on SOL (0.5 bps), past the 2.5 bps the
    book is held to. The anchor's job is the spread, so it is the spread that is rounded.
    """
    tick = rules.tick_size
    width = max(Decimal(1), (2 * offset_bps * BPS * mid / tick).to_integral_value(ROUND_HALF_EVEN))
    low = (mid / tick - width / 2).to_integral_value(ROUND_HALF_EVEN)
    return ((low if side is Side.BUY else low + width) * tick).quantize(tick)


def quote_price(m: MakerInputs) -> Decimal:
    return (centred_price if m.centred else target_price)(m.mid, m.side, m.offset_bps, m.rules)


def band_drift(drift_limit_bps: Decimal, mid: Decimal, rules: SymbolRules) -> Decimal:
    """The drift a quote may have before it is moved: at least one tick, so a quote the grid put
    up to a tick from its exact target is in place, and inside its own band (else every tick
    would wake its loop)."""
    return max(drift_limit_bps, rules.tick_size / mid / BPS * Decimal("1.01"))


def drift_bps(price: Decimal, target: Decimal) -> Decimal:
    return abs(price - target) / target / BPS


def within_cap(signed_qty: Decimal, mark: Decimal, cap_usd: Decimal) -> bool:
    return abs(signed_qty * mark) <= cap_usd


def side_within_cap(side: Side, worst_case: Decimal, mark: Decimal, cap_usd: Decimal) -> bool:
    """The cap gate for one side: would its fills carry the position past the cap *its* way?

    Only the side that grows the position is gated: a long over the cap can always sell (its
    worst case moves toward zero), so the opposite side is never blocked (DESIGN.md §1).
    """
    return side.sign * worst_case * mark <= cap_usd


def band(
    price: Decimal, side: Side, offset_bps: Decimal, drift_limit_bps: Decimal
) -> tuple[Decimal, Decimal]:
    """The mids for which an order at `price` stays within the drift limit of its target.

    target(mid) = mid·(1+k) with k = ∓offset, and |price − target|/target ≤ d ⇔
    mid ∈ [price / ((1+d)(1+k)), price / ((1−d)(1+k))]. The feed wakes the loop when the mid
    leaves this band, instead of every loop re-checking on every tick.
    """
    k = 1 - side.sign * offset_bps * BPS
    d = drift_limit_bps * BPS
    return price / ((1 + d) * k), price / ((1 - d) * k)


def decide_maker_side(m: MakerInputs) -> list[Intent]:
    """Keep exactly one order at the target on one side, inside the cap gate."""
    intents: list[Intent] = []
    target = quote_price(m)
    qty = m.rules.round_qty(m.qty)
    live = sorted(m.live, key=lambda q: abs(q.price - target))
    keep, extras = (live[0], live[1:]) if live else (None, [])
    intents += [Cancel(m.symbol, q.client_order_id, "duplicate") for q in extras]
    exposure = m.exposure
    for q in extras:  # cancelled extras no longer count (their cancel is sent first)
        exposure = _without(exposure, q)
    if m.rules.check(target, qty) is not None or qty <= 0:
        if keep:
            intents.append(Cancel(m.symbol, keep.client_order_id, "below_exchange_minimum"))
        return intents

    if keep is None:
        if side_within_cap(m.side, exposure.worst_case(m.side, qty), m.mid, m.cap_usd):
            intents.append(Place(m.symbol, m.side, target, qty, reduce_only=m.reduce_only))
        return intents

    without_keep = _without(exposure, keep)
    # Drift is measured against the exact target, as band() is: against the tick-rounded one
    # the loop could hold at the band's edge and be woken again at once by a band already left.
    # Within a tick is in place whatever the drift: on a coarse grid (a tick past the drift)
    # the target would flip between two ticks as the mid crosses their middle, and thrash.
    exact = m.mid * (1 - m.side.sign * m.offset_bps * BPS)
    drifted = drift_bps(keep.price, exact) > band_drift(m.drift_bps, m.mid, m.rules)
    in_place = not drifted or keep.price == target
    if in_place and keep.remaining_qty == qty:
        if not side_within_cap(m.side, exposure.worst_case(m.side), m.mid, m.cap_usd):
            intents.append(Cancel(m.symbol, keep.client_order_id, "cap_gate"))
        return intents

    # Drifted (or partly filled): move it, keeping the level on the book where the cap allows.
    if not side_within_cap(m.side, without_keep.worst_case(m.side, qty), m.mid, m.cap_usd):
        intents.append(Cancel(m.symbol, keep.client_order_id, "cap_gate"))
    elif m.can_modify and keep.remaining_qty == qty:
        # Modify sets the order's total quantity: on a partly filled order it could not restore
        # the remaining size, and re-sending the same price and qty is rejected (-5027).
        intents.append(Modify(m.symbol, keep.client_order_id, m.side, qty, target))
    elif side_within_cap(m.side, exposure.worst_case(m.side, qty), m.mid, m.cap_usd):
        intents.append(
            Place(
                m.symbol, m.side, target, qty, reduce_only=m.reduce_only,
                replaces=keep.client_order_id,
            )
        )  # fmt: skip
    else:
        intents.append(Cancel(m.symbol, keep.client_order_id, "requote"))
        intents.append(Place(m.symbol, m.side, target, qty, reduce_only=m.reduce_only))
    return intents


def decide_anchor(bid: MakerInputs, ask: MakerInputs) -> list[Intent]:
    """Both sides at ±1 bps, and moved together.

    Each side alone drifts up to its threshold before moving, so after one side is re-placed at
    a new mid the two wander apart and the inside spread with them (2 ± 2·drift bps). When one
    side moves, the other is brought to its exact target in the same iteration.
    """
    bids, asks = decide_maker_side(bid), decide_maker_side(ask)
    if _moves(bids) and not asks and ask.live:
        asks = decide_maker_side(replace(ask, drift_bps=Decimal(0)))
    elif _moves(asks) and not bids and bid.live:
        bids = decide_maker_side(replace(bid, drift_bps=Decimal(0)))
    return bids + asks


def _moves(intents: list[Intent]) -> bool:
    return any(isinstance(i, Place | Modify) for i in intents)


def taker_side(fair: Side, lean: float, u: float) -> Side:
    """The taker's side: the fair coin, or with probability |lean| the side that `lean` favours.

    `lean` > 0 favours BUY. The fleet leans takers against the anchor's inventory: a taker BUY
    lifts the anchor's ask and so shrinks a long anchor, keeping it off its cap (where one side
    of the inside spread would go empty).
    """
    if u < abs(lean):
        return Side.BUY if lean > 0 else Side.SELL
    return fair


def decide_unwind(m: MakerInputs) -> list[Intent]:
    """A ladder holding inventory rests one reduce-only order at its offset on the other side.

    A one-sided ladder only ever adds to its position, so without this every ladder fills up to
    its cap and leaves the book for good (the spec's design empties the funnel within minutes of
    taker flow). Mirrored at the same offset, the unwind order keeps the funnel's shape: the
    buy ladder long at its cap provides the sell level its short twin can no longer quote.
    `m.side` is the unwind side; `m.qty` the layer quantity (the order is at most that big).
    """
    held = m.exposure.position * -m.side.sign  # > 0: inventory bought/sold by the other side
    qty = m.rules.round_qty(min(abs(m.exposure.position), m.qty)) if held > 0 else Decimal(0)
    if qty <= 0 or m.rules.check(target_price(m.mid, m.side, m.offset_bps, m.rules), qty):
        return [Cancel(m.symbol, q.client_order_id, "unwind_done") for q in m.live]
    return decide_maker_side(replace(m, qty=qty, reduce_only=True))


def unwind_inputs(own: MakerInputs, own_intents: list[Intent], unwind: MakerInputs) -> MakerInputs:
    """The unwind side's inputs: at the ladder's offset, or just outside the anchor while the cap
    gate keeps the ladder's own side empty (it cancelled, or it can place nothing). Nearer the
    mid, its drift is held to half that offset, so it never reaches the other side's anchor."""
    gated = any(isinstance(i, Cancel) and i.reason == "cap_gate" for i in own_intents) or (
        not own.live and not any(isinstance(i, Place | Modify) for i in own_intents)
    )
    if not gated:
        return unwind
    offset = min(unwind.offset_bps, URGENT_UNWIND_BPS)
    return replace(unwind, offset_bps=offset, drift_bps=min(unwind.drift_bps, offset / 2))


def _without(exposure: Exposure, quote: LiveQuote) -> Exposure:
    if quote.side is Side.BUY:
        return replace(exposure, resting_buy=exposure.resting_buy - quote.remaining_qty)
    return replace(exposure, resting_sell=exposure.resting_sell - quote.remaining_qty)


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


def taker_qty(t: TakerInputs) -> Decimal:
    """This order's size: the layer's × e^(σ·z), to the nearest step, so that its median is the
    layer's size; never under what the exchange accepts at the taker's lower price, and never
    one order worth more than the cap by itself (people trade sizes, not one size)."""
    if t.size_sigma <= 0:
        return t.rules.round_qty(t.qty)
    z = max(-6.0, min(6.0, t.size_z))
    drawn = t.rules.nearest_qty(t.qty * Decimal(repr(math.exp(t.size_sigma * z))))
    least = t.rules.least_qty(t.mid * (1 - t.cross_bps * BPS))
    most = max(least, t.rules.round_qty(t.cap_usd / t.mid))
    return min(max(drawn, least), most)


def maker_qty(qty: Decimal, factor: float, mid: Decimal, rules: SymbolRules) -> Decimal:
    """A maker's own size: the layer's × `factor` (drawn once per account and symbol), to the
    nearest step, never under what the exchange accepts at the lowest price the funnel rests."""
    sized = rules.nearest_qty(qty * Decimal(repr(factor)))
    return max(sized, rules.least_qty(mid * LOWEST_PRICE_SHARE))


def decide_taker(t: TakerInputs) -> list[Intent]:
    """Cross the spread once: reduce when over the cap, else the random side if the cap allows."""
    intents: list[Intent] = [
        Cancel(t.symbol, q.client_order_id, "taker_leftover") for q in t.leftovers
    ]
    exposure = t.exposure
    for q in t.leftovers:
        exposure = _without(exposure, q)
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


def order_exceeds_cap(qty: Decimal, mid: Decimal, cap_usd: Decimal) -> bool:
    """True when a single order is already over the cap: the gate would keep the level empty."""
    return qty * mid > cap_usd
