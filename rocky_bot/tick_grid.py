"""How coarse each symbol's price grid is, and what that costs in requotes (issue 13, point 3).

A tick is 0.01 bps of BTC's price but 0.4–0.56 bps of DOGE's, XRP's and SOL's, where the drift
bands are 1–2 bps: the grid then moves every quote off its exact target (rounded away from the
mid, or up to 3 ticks aside to a price no other maker of the fleet rests on), and the mid itself
jumps a whole tick at a time, so a quote leaves its band sooner. Since `quoting.band_drift` allows
every quote at least 2.01 ticks (`BAND_MIN_TICKS`, d560b0d; it was 1.01, and SOL's anchor
re-quoted on almost every tick of the mid: 524 modifies a minute in a five-symbol run) what is
left is small, and mostly the L1 ladders' (rounding and up to 3 ticks aside use up a share of
their 2-bps band).

Measured at d560b0d with the bench (`rocky-bot bench --symbols X --duration 120 --restart-s 0`,
seed 1, 30 accounts, 60 % volatility, `ROCKY_BENCH_WORKDIR` kept and the exchange's order
events split by account and side): order actions a minute per role, and weight a minute at 1
(the bench's figure + the 30 of wallet reads it left out at that commit, see budget.py):

    symbol  tick    anchor  L1   L2  L3  unwinds  takers   weight  (before the fix)
    BTC     0.01    108     221  28  1    89      10.5     586     590
    XRP     0.43    121     255  25  1    55      10.5     596     614
    DOGE    0.40    133     270  26  2    59      10.5     628     640
    SOL     0.56    120     266  29  1    56      10.5     611     680

One price path (a single symbol draws every step of the seed's walk), so only the grid and the
fleet's own randomness differ: the coarse grids cost +2 % to +7 % (XRP, SOL, DOGE: not in order
of their tick), their L1s +15–22 %, their anchors +10–23 %, offset by fewer unwinds (BTC's 89
are the most; unwinds follow the fleet's inventory and vary most from run to run: 55–139). The
five-symbol run (BTC,ETH,SOL | XRP,DOGE, each symbol on its own path) measured order actions
BTC 495, ETH 437, SOL 604 (its L1 320), XRP 444, DOGE 449; the shards 1,863 and 1,120 weight.
Seed 2, BTC and SOL again: 568 and 597 (SOL +5 %, its L1 215 against 176, as on seed 1).
The planned requotes are scaled by 1 + `COARSE_GRID_GAIN` · tick in bps.
"""

from __future__ import annotations

from collections.abc import Iterable

from rocky_bot.binance_api.grids import GRIDS

#: Requotes grow by this share per bps of tick: 0.10–0.15 fits these runs best, and 0.15 plans
#: every one within 8 % (singles −0 % BTC, +2 % XRP, −3 % DOGE, +1 % SOL; seed 2 +3 % BTC,
#: +4 % SOL; shards −7 % and +6 %), where a 2-minute run varies by ±8 % (the BTC+ETH seeds:
#: 1,072–1,265). Before the band_drift fix it was 0.40, most of it SOL's anchor chasing the mid.
COARSE_GRID_GAIN = 0.15
#: A symbol the table does not know is planned as coarse as the listed ones mostly are.
UNKNOWN_TICK_BPS = 0.6


def tick_bps(symbol: str) -> float:
    """One tick in bps of the symbol's price: Binance's tick size over a plausible price level
    (the sandbox lists the same grids; its synthetic mid starts at that price)."""
    grid = GRIDS.get(symbol.upper())
    return UNKNOWN_TICK_BPS if grid is None else grid.tick_bps()


def grid_factor(tick: float) -> float:
    """What a symbol's requotes cost against a fine grid's (1 on BTC, ≈ 1.08 on SOL)."""
    return 1 + COARSE_GRID_GAIN * max(0.0, tick)


def grid_factors(symbols: Iterable[str]) -> tuple[float, ...]:
    return tuple(grid_factor(tick_bps(s)) for s in symbols)
