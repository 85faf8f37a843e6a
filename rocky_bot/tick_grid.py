"""How coarse each symbol's price grid is, and what that costs in requotes (issue 13, point 3).

A tick is 0.01 bps of BTC's price but 0.4–0.56 bps of DOGE's, XRP's and SOL's, where the drift
bands are 1–2 bps: the grid then moves every quote off its exact target (rounded away from the
mid, or up to 3 ticks aside to a price no other maker of the fleet rests on), the mid itself
jumps a whole tick at a time, and a ladder whose price another maker takes moves. Each side
leaves its band sooner, and the unwinds (1–2 bps from the mid, drift ≤ half that) most.

Measured with the bench, one symbol at a time on the same price path (`rocky-bot bench
--symbols X --duration 120 --restart-s 0`, seed 1, 30 accounts, 60 % volatility, with
`ROCKY_BENCH_WORKDIR` kept and the exchange's order events split by account and side): order
actions a minute per role, and weight a minute at 1:

    symbol  tick    anchor  L1   L2  L3  unwinds  takers   weight
    BTC     0.01    108     230  29  1    83      10.5     590
    XRP     0.43    129     266  26  1    54      10.5     614
    DOGE    0.40    149     262  28  1    62      10.5     640
    SOL     0.56    120     276  30  2   113      10.5     680

The excess is requotes (modifies), spread over the anchor, the L1 ladders and the unwinds; the
takers and what they set off do not change. The volatility does not differ by symbol: the
sandbox moves every mid at the run's σ (prices.py) and these runs share one path. The planned
requotes are scaled by 1 + `COARSE_GRID_GAIN` · tick in bps.

Not covered (open, issue 13): a five-symbol bench sharded BTC,ETH,SOL | XRP,DOGE (seed 1)
measured 2,441 and 1,109 where this plans 1,786 and 1,271: SOL's anchor alone made 524 modifies
a minute (108–149 elsewhere), about one for every tick the quantized mid moves. Its jittered
drift (down to 0.75 bps) is under the ≈ 0.95 bps its quote can be off target after one
0.56-bps mid step (centred_price rounds half-even, half a tick off centre, plus the width's
rounding): a quoting fault to fix (band_drift), not a cost to plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rocky_bot.sandbox.listing import LISTING

#: Requotes grow by this share per bps of tick. Requote weight (the measured weight less the
#: plan's other lines, 181) in the runs above: BTC 409, XRP 433 (×1.06), DOGE 459 (×1.12), SOL
#: 499 (×1.22), a least-squares 0.30 per bps; the five-symbol bench's shards
#: (docs/bench/extra/five-symbols-seed1.json: SOL+DOGE ×1.39, XRP ×1.07) say 0.81 and 0.15. A
#: 2-minute run varies by ±8 % (the BTC+ETH seeds: 1,090–1,291); 0.40 plans every one of these
#: runs within 8 % (singles: −1 % SOL, +1 % DOGE, +6 % XRP, −1 % BTC; shards −8 % and +4 %).
COARSE_GRID_GAIN = 0.40
#: A symbol the table does not know is planned as coarse as the listed ones mostly are.
UNKNOWN_TICK_BPS = 0.6


def tick_bps(symbol: str) -> float:
    """One tick in bps of the symbol's price: Binance's tick size over the listing's price level
    (the sandbox lists the same ticks; its synthetic mid starts at that price)."""
    spec = LISTING.get(symbol.upper())
    if spec is None:
        return UNKNOWN_TICK_BPS
    return float(spec.tick_size / spec.start_price * Decimal(10_000))


def grid_factor(tick: float) -> float:
    """What a symbol's requotes cost against a fine grid's (1 on BTC, ≈ 1.22 on SOL)."""
    return 1 + COARSE_GRID_GAIN * max(0.0, tick)


def grid_factors(symbols: Iterable[str]) -> tuple[float, ...]:
    return tuple(grid_factor(tick_bps(s)) for s in symbols)
