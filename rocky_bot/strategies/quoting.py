"""Pure decisions: what a maker or taker should do now. No I/O, no clock, no randomness.

Every function takes the state it needs and returns intents, so the whole strategy is tested
table-driven and with hypothesis (never past the cap, always on tick, never a crossed own quote).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

from rocky_bot.exchange.models import Side, SymbolRules
from rocky_bot.sizing import LOWEST_PRICE_SHARE
from rocky_bot.strategies.intents import Cancel, Exposure, Intent, LiveQuote, Modify, Place

BPS = Decimal("0.0001")
#: Where a ladder rests its unwind: just outside the anchor's 1 bps, so the next taker on that
#: side fills it. Mirrored at the ladder's own offset it queued behind the twin ladder's older
#: order at the same price, so inventory only ever grew: the 5 bps ladders sat at their cap and
#: off the book for 40 % of an hour (issue 10: full funnel 62 %).
URGENT_UNWIND_BPS = Decimal(2)
#: ... and nearer still once the ladder holds half its cap: at one price, the unwinds of several
#: ladders queue in time order, and the one about to be gated waited behind the others.
NEAR_CAP_UNWIND_BPS = Decimal("1.5")
NEAR_CAP_SHARE = Decimal("0.5")


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
    #: The anchor's other side, moved with the side that moved: in place only within a tick.
    snap: bool = False
    #: Prices the fleet's other makers rest on this symbol and side: a ladder keeps off them.
    taken: frozenset[Decimal] = frozenset()


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
    price = (centred_price if m.centred else target_price)(m.mid, m.side, m.offset_bps, m.rules)
    return untaken_price(price, m) if m.taken else price


def untaken_price(price: Decimal, m: MakerInputs) -> Decimal:
    """The tick nearest `price` that no other maker of the fleet rests on (within 3 ticks).

    L1 levels are 1 bps apart and each drifts up to 2 bps: on a coarse grid (SOL, XRP, DOGE:
    a tick is 0.4–0.6 bps) two of them often landed on one tick, and the book showed 11 price
    levels a side instead of 13 (issue 13). A level is a price, so a ladder takes a free one.
    """
    tick = m.rules.tick_size
    for k in (0, 1, -1, 2, -2, 3, -3):
        candidate = price + k * tick * -m.side.sign  # k > 0: one tick further from the mid
        if candidate not in m.taken and candidate > 0:
            return candidate
    return price


#: The least drift a quote may have, in ticks: the grid puts a quote up to a tick from its exact
#: target (the centred anchor ¾ of one), and the mid then moves a tick at a time.
BAND_MIN_TICKS = Decimal("2.01")
#: ... but one tick for the anchor's side moved with the other (`decide_anchor`): with two, the
#: pair stood up to two ticks wider than its width, and DOGE's inside spread p95 was 2.8 bps.
SNAP_TICKS = Decimal("1.01")


def band_drift(
    drift_limit_bps: Decimal, mid: Decimal, rules: SymbolRules, min_ticks: Decimal = BAND_MIN_TICKS
) -> Decimal:
    """The drift a quote may have before it is moved: at least two ticks, so a quote the grid
    put up to a tick from its exact target is in place, and stays so when the mid moves one tick.

    With one tick, a drift under ~1.75 ticks chased every tick of the mid: SOL's anchor (a tick
    is 0.56 bps, the anchor's drift 0.75–1.25) made 524 modifies a minute where BTC's made ~110,
    and the weight the budget planned for five symbols was 27 % short (issue 13). No change where
    a tick is small beside the drift (BTC, ETH: 0.01–0.03 bps).
    """
    return max(drift_limit_bps, rules.tick_size / mid / BPS * min_ticks)


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
    """Keep exactly one order at the target on one side, inside the cap gate.

    Near its cap a maker quotes the room the cap leaves, not nothing: the spec's gate took the
    whole level off the book at the cap's edge (three L1 fills), and the 5 bps levels were gone
    for 40 % of an hour (issue 10). Thinner, the level stays; the size comes back as the
    position unwinds. Only when no size the exchange accepts fits is the level gated.
    """
    intents: list[Intent] = []
    target = quote_price(m)
    layer_qty = m.rules.round_qty(m.qty)
    live = sorted(m.live, key=lambda q: abs(q.price - target))
    keep, extras = (live[0], live[1:]) if live else (None, [])
    intents += [Cancel(m.symbol, q.client_order_id, "duplicate") for q in extras]
    exposure = m.exposure
    for q in extras:  # cancelled extras no longer count (their cancel is sent first)
        exposure = without_quote(exposure, q)
    if m.rules.check(target, layer_qty) is not None or layer_qty <= 0:
        if keep:
            intents.append(Cancel(m.symbol, keep.client_order_id, "below_exchange_minimum"))
        return intents

    qty = room_qty(m, without_quote(exposure, keep) if keep else exposure, target, layer_qty)
    if qty <= 0:
        if keep:
            intents.append(Cancel(m.symbol, keep.client_order_id, "cap_gate"))
        return intents
    if keep is None:
        intents.append(Place(m.symbol, m.side, target, qty, reduce_only=m.reduce_only))
        return intents

    # Drift is measured against the exact target, as band() is: against the tick-rounded one
    # the loop could hold at the band's edge and be woken again at once by a band already left.
    # Within a tick is in place whatever the drift: on a coarse grid (a tick past the drift)
    # the target would flip between two ticks as the mid crosses their middle, and thrash.
    exact = m.mid * (1 - m.side.sign * m.offset_bps * BPS)
    within = band_drift(m.drift_bps, m.mid, m.rules, SNAP_TICKS if m.snap else BAND_MIN_TICKS)
    drifted = drift_bps(keep.price, exact) > within
    in_place = (not drifted or keep.price == target) and keep.price not in m.taken
    if in_place and sized(keep.remaining_qty, qty, layer_qty, m.rules.step_size):
        return intents

    # Drifted, resized or partly filled: move it, keeping the level on the book where the cap
    # allows. Modify sets the order's total quantity: only an unfilled order is modified (to
    # any size: a thinned anchor moved by place + cancel had two orders resting for the moment
    # between, 0.6 s on a busy machine); the same price and qty would be refused (-5027).
    if m.can_modify and keep.unfilled:
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


def room_qty(m: MakerInputs, free: Exposure, target: Decimal, layer_qty: Decimal) -> Decimal:
    """The layer's size, or what the cap leaves room for beside `free` (everything but the
    order being decided); 0 when no size the exchange accepts fits."""
    room = m.cap_usd / m.mid - m.side.sign * free.worst_case(m.side)
    if m.centred:
        least = m.rules.least_qty(target)
        room = min(room, max(least, tapered_qty(room, m.cap_usd / m.mid, layer_qty)))
    qty = min(layer_qty, m.rules.round_qty(room)) if room > 0 else Decimal(0)
    fits = side_within_cap(m.side, free.worst_case(m.side, qty), m.mid, m.cap_usd)
    return qty if qty > 0 and fits and m.rules.check(target, qty) is None else Decimal(0)


def tapered_qty(room: Decimal, cap_qty: Decimal, layer_qty: Decimal) -> Decimal:
    """The anchor's size on the side that grows its position: the layer's while half the cap is
    left, then down in proportion to the room (never under the least the exchange takes, while
    the room allows that: the level stays as long as it did).

    The anchor is first in line for every taker order, so it nears its cap first, and the lean
    cannot bring it back when the ladders hold the other side (the hour-long soak: the anchor's
    BTC ask and the 5 bps buyers missing together, 94.6 % whole funnel; issue 10). Thinner on
    that side, it takes less of the next taker order, whose rest goes to the ladders' unwinds
    behind it; the level stays on the book.
    """
    return layer_qty * min(Decimal(1), 2 * room / cap_qty) if cap_qty > 0 else Decimal(0)


def sized(remaining: Decimal, qty: Decimal, layer_qty: Decimal, step: Decimal) -> bool:
    """A live order's size is right: `qty`, or where the cap trims it, up to a step under (the
    room moves with the mark: without the slack a trimmed order was resized on every tick)."""
    return remaining == qty or (qty < layer_qty and qty - step <= remaining <= qty)


def decide_anchor(bid: MakerInputs, ask: MakerInputs) -> list[Intent]:
    """Both sides at ±1 bps, and moved together.

    Each side alone drifts up to its threshold before moving, so after one side is re-placed at
    a new mid the two wander apart and the inside spread with them (2 ± 2·drift bps). When one
    side moves, the other is brought to its exact target in the same iteration.
    """
    bids, asks = decide_maker_side(bid), decide_maker_side(ask)
    if _moves(bids) and not asks and ask.live:
        asks = decide_maker_side(replace(ask, drift_bps=Decimal(0), snap=True))
    elif _moves(asks) and not bids and bid.live:
        bids = decide_maker_side(replace(bid, drift_bps=Decimal(0), snap=True))
    return bids + asks


def _moves(intents: list[Intent]) -> bool:
    return any(isinstance(i, Place | Modify) for i in intents)


def decide_unwind(m: MakerInputs) -> list[Intent]:
    """A ladder holding inventory rests one reduce-only order on the other side, near the mid.

    A one-sided ladder only ever adds to its position, so without this every ladder fills up to
    its cap and leaves the book for good (the spec's design empties the funnel within minutes of
    taker flow). `m` comes from `unwind_inputs`: the unwind side, the layer quantity (the order
    is at most that big), just outside the anchor.
    """
    held = m.exposure.position * -m.side.sign  # > 0: inventory bought/sold by the other side
    qty = m.rules.round_qty(min(abs(m.exposure.position), m.qty)) if held > 0 else Decimal(0)
    if qty <= 0 or m.rules.check(target_price(m.mid, m.side, m.offset_bps, m.rules), qty):
        return [Cancel(m.symbol, q.client_order_id, "unwind_done") for q in m.live]
    return decide_maker_side(replace(m, qty=qty, reduce_only=True))


def unwind_inputs(unwind: MakerInputs) -> MakerInputs:
    """The unwind side's inputs: just outside the anchor (`URGENT_UNWIND_BPS`, or
    `NEAR_CAP_UNWIND_BPS` from half the cap), so the next taker the other way, having taken the
    anchor's size, takes the ladder's inventory back before the ladder reaches its cap. Its
    drift is held to half that offset, so it never reaches the other side's anchor; and it adds
    a price level of its own while it rests."""
    held = abs(unwind.exposure.position) * unwind.mid
    near_cap = held >= NEAR_CAP_SHARE * unwind.cap_usd
    offset = min(unwind.offset_bps, NEAR_CAP_UNWIND_BPS if near_cap else URGENT_UNWIND_BPS)
    return replace(unwind, offset_bps=offset, drift_bps=min(unwind.drift_bps, offset / 2))


def without_quote(exposure: Exposure, quote: LiveQuote) -> Exposure:
    """The exposure once `quote` is gone (cancelled first, or replaced)."""
    if quote.side is Side.BUY:
        return replace(exposure, resting_buy=exposure.resting_buy - quote.remaining_qty)
    return replace(exposure, resting_sell=exposure.resting_sell - quote.remaining_qty)


def maker_qty(qty: Decimal, factor: float, mid: Decimal, rules: SymbolRules) -> Decimal:
    """A maker's own size: the layer's × `factor` (drawn once per account and symbol), to the
    nearest step, never under what the exchange accepts at the lowest price the funnel rests."""
    sized = rules.nearest_qty(qty * Decimal(repr(factor)))
    return max(sized, rules.least_qty(mid * LOWEST_PRICE_SHARE))


def order_exceeds_cap(qty: Decimal, mid: Decimal, cap_usd: Decimal) -> bool:
    """True when a single order is already over the cap: the gate would keep the level empty."""
    return qty * mid > cap_usd
