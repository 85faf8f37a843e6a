"""The request weight a configuration will cost, planned at start instead of found out by 429s.

Every order action is counted at 1, as the bench counts it and as DESIGN.md §7 plans (Rocky does
not say what it charges for them), every other call at the weight of the one table
(`binance_api/weights.py`). Per minute:

- **periodic calls** (account × symbol × 60 / period): the dead-man heartbeat
  (countdownCancelAll, 10), the openOrders reconcile (1), the wallet read (5, per account),
  the listenKey keepalive (1, per account); without the user stream, positions every reconcile;
  with `poll_each_iteration` (the spec's loop), balance + positions + open orders every
  iteration of every loop instead;
- **requotes**: a quote is moved when the mid leaves its drift band. For a mid following a
  random walk of volatility σ (bps per √s) the time to leave ±d bps from the centre averages
  d²/σ² (Wald), so each maker side costs σ²/d² actions a second; the per-account jitter of d
  (×1 ± j) makes that × 1/(1 − j²). The anchor moves both sides at once (2 actions); cancel +
  new (no modify) doubles an action; timer-only makers requote at most once an iteration;
- **takers**: each order is one action, plus `FOLLOW_UPS_PER_TAKE` maker refills and cancels it
  sets off (larger orders, more of them: × the mean size e^(σ_size²/2)), plus one cancel each
  for GTC takers; the tape keeper adds a wake-up for each gap longer than its limit;
- **the price grid**: a symbol whose tick is a sizeable part of a bps (SOL, XRP, DOGE) requotes
  more than the random walk says, `tick_grid.grid_factor` times (the factor is measured).

Checked against the bench: 30 accounts × 2 symbols at 60 % volatility plan ≈ 1,140 a minute,
where `docs/bench/ours-seed{1,2,3}.json` measured 1,072, 1,111 and 1,265; at d560b0d one symbol
at a time plans 585–618 where BTC, XRP, DOGE, SOL measured 586, 596, 628, 611, and five symbols
sharded BTC,ETH,SOL | XRP,DOGE plan 1,726 and 1,188 where they measured 1,863 and 1,120
(tests/unit/test_budget.py holds them together; tick_grid.py has the split by role). Those
measured figures add the wallet's 30 a minute, which the bench at d560b0d left out (it owed a
wallet read only to set-up's GET balance, which set-up had replaced by the account call; fixed
in 510a4c1).

The unwinds (12–28 % of the order actions: 55–139 a symbol, with the fleet's inventory) have no
line of their own: the Wald estimate is over what the bench counts on the anchor (146 planned,
95–121 modifies measured), the L2s and L3s (37, 20–44) and, on a fine grid, the L1s (219,
184–210), and that covers the typical unwinds. Not all of them: the run with BTC's 139 is the
one planned 7 % under. A line of their own would be a measured constant, as noisy as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rocky_bot.binance_api.weights import cost_of, with_symbol
from rocky_bot.config_errors import ConfigError
from rocky_bot.funnel import AccountSpec, Role
from rocky_bot.settings import Settings
from rocky_bot.tick_grid import grid_factors

#: Share of the IP's limit a configuration may plan to use: the rest is for restarts and bursts.
BUDGET_SHARE = 0.8
SECONDS_PER_YEAR = 365 * 24 * 3600
#: Maker order actions each taker order sets off (refills of the levels it filled, cancels of
#: replaced orders): 3.0 in the bench (per symbol and minute ≈ 11 taker orders, 21–26 maker
#: places, 9–11 cancels; docs/bench/ours-seed*.json).
FOLLOW_UPS_PER_TAKE = 3.0
#: The user stream's listenKey keepalive (UserStream's default).
KEEPALIVE_S = 1800.0


@dataclass(frozen=True, slots=True)
class Line:
    """One kind of request and what it costs a minute: per symbol traded, or whatever they are."""

    what: str
    call: str
    per_symbol: float = 0.0
    fixed: float = 0.0
    #: Its per-symbol cost grows with the symbol's tick (`tick_grid.grid_factor`).
    on_grid: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    symbols: tuple[str, ...]
    accounts: int
    limit: int
    lines: tuple[Line, ...]
    #: Each symbol's `tick_grid.grid_factor`, in the order of `symbols` (1: a fine grid).
    grid: tuple[float, ...] = ()

    def cost_of(self, line: Line, index: int) -> float:
        """One line's weight a minute for `symbols[index]`."""
        scale = self.grid[index] if line.on_grid and self.grid else 1.0
        return line.per_symbol * scale

    def symbol_costs(self) -> dict[str, float]:
        return {
            symbol: sum(self.cost_of(line, i) for line in self.lines)
            for i, symbol in enumerate(self.symbols)
        }

    @property
    def per_symbol(self) -> float:
        """The mean symbol's cost (they differ with their grids)."""
        costs = self.symbol_costs().values()
        return sum(costs) / len(costs) if costs else 0.0

    @property
    def fixed(self) -> float:
        return sum(line.fixed for line in self.lines)

    @property
    def total(self) -> float:
        return self.fixed + sum(self.symbol_costs().values())

    @property
    def budget(self) -> float:
        return BUDGET_SHARE * self.limit

    def max_symbols(self) -> int:
        """The most of these symbols one daemon (one IP) may trade, the cheapest first."""
        room, most = self.budget - self.fixed, 0
        for cost in sorted(self.symbol_costs().values()):
            if cost > room:
                break
            room, most = room - cost, most + 1
        return most if self.symbols else 10**6

    def shards(self) -> list[tuple[str, ...]]:
        """The symbols split into the fewest shards that each fit, as evenly as they go: the
        costliest first, each onto the lightest shard (symbols keep their order within one)."""
        costs = self.symbol_costs()
        room = self.budget - self.fixed
        order = sorted(self.symbols, key=lambda s: -costs[s])
        count = max(1, math.ceil(sum(costs.values()) / room)) if room > 0 else len(order)
        while True:
            loads, groups = [0.0] * count, [[] for _ in range(count)]
            for symbol in order:
                i = loads.index(min(loads))
                loads[i] += costs[symbol]
                groups[i].append(symbol)
            if count >= len(order) or max(loads) <= room:
                rank = {s: i for i, s in enumerate(self.symbols)}
                return [tuple(sorted(g, key=rank.__getitem__)) for g in groups if g]
            count += 1

    def line_total(self, line: Line) -> float:
        return line.fixed + sum(self.cost_of(line, i) for i in range(len(self.symbols)))

    def as_log(self) -> dict[str, object]:
        return {
            "weight_per_min": round(self.total), "per_symbol": round(self.per_symbol),
            "fixed": round(self.fixed), "symbols": len(self.symbols), "accounts": self.accounts,
            "budget": round(self.budget), "max_symbols_per_ip": self.max_symbols(),
            "lines": {line.what: round(self.line_total(line)) for line in self.lines},
        }  # fmt: skip


def at_1(method: str, path: str) -> int:
    """A call's weight with order actions at 1 (symbol given, where that matters)."""
    return cost_of(method, path).weight_at_1(with_symbol(True))


def requotes_per_min(s: Settings, specs: Sequence[AccountSpec]) -> float:
    """Order actions a minute that keep one symbol's maker quotes within their drift."""
    sigma2 = (s.budget_annual_vol * 1e4) ** 2 / SECONDS_PER_YEAR * 60  # bps² a minute
    jitter = 1 / (1 - s.drift_jitter**2)
    per_action = at_1("PUT", "/fapi/v1/order") if s.use_modify else (
        at_1("POST", "/fapi/v1/order") + at_1("DELETE", "/fapi/v1/order")
    )  # fmt: skip
    total = 0.0
    for spec in specs:
        if spec.role is Role.TAKER:
            continue
        drift = s.drift_for(spec.layer, float(spec.offset_bps))
        exits = sigma2 / drift**2 * jitter
        interval = s.anchor_interval_s if spec.role is Role.ANCHOR else s.ladder_interval_s
        if not s.band_wakeups:  # the timer alone: at most one requote an iteration
            exits = min(exits, 60 / max(interval, s.min_sleep_s))
        total += exits * len(spec.sides()) * per_action
    return total


def taker_actions_per_min(s: Settings, takers: int) -> float:
    """Order actions a minute on one symbol from taker orders and what they set off."""
    orders = takers * 60 / max(s.taker_interval_s, s.min_sleep_s)
    if s.tape_max_gap_s > 0 and orders > 0:
        orders += orders * math.exp(-orders / 60 * s.tape_max_gap_s)
    follow_ups = FOLLOW_UPS_PER_TAKE * math.exp(s.taker_size_sigma**2 / 2)
    if not s.taker_ioc:
        follow_ups += 1  # its unfilled rest, cancelled
    return orders * (at_1("POST", "/fapi/v1/order") + follow_ups)


def plan_for(
    s: Settings,
    specs: Sequence[AccountSpec],
    symbols: Sequence[str] | None = None,
    grid: Sequence[float] | None = None,
) -> Plan:
    """What `specs` will cost trading `symbols` (the settings' by default); `grid` is each
    symbol's grid factor when the caller knows better than the listing (`tick_grid.py`)."""
    symbols = tuple(symbols or s.symbols)
    grid = tuple(grid) if grid is not None else grid_factors(symbols)
    n = len(specs)
    makers = sum(1 for spec in specs if spec.role is not Role.TAKER)
    takers = n - makers
    lines = [
        Line("requotes", "PUT /fapi/v1/order", requotes_per_min(s, specs), on_grid=True),
        Line("taker orders", "POST /fapi/v1/order", per_symbol=taker_actions_per_min(s, takers)),
    ]
    if s.deadman_countdown_s > 0:
        armed = makers + (0 if s.taker_ioc else takers)
        per = armed * at_1("POST", "/fapi/v1/countdownCancelAll") * 60 / s.deadman_heartbeat_s
        lines.append(Line("dead-man heartbeat", "POST /fapi/v1/countdownCancelAll", per))
    if s.poll_each_iteration:  # the spec's loop: every iteration reads everything
        reads = at_1("GET", s.balance_path) + at_1("GET", s.position_risk_path)
        reads += at_1("GET", "/fapi/v1/openOrders")
        per = 0.0
        for spec in specs:
            interval = {Role.ANCHOR: s.anchor_interval_s, Role.TAKER: s.taker_interval_s}.get(
                spec.role, s.ladder_interval_s
            )
            per += reads * 60 / max(interval, s.min_sleep_s)
        lines.append(Line("reads every iteration", "GET balance, positions, openOrders", per))
        return Plan(symbols, n, s.weight_limit_per_min, tuple(lines), grid)
    every = s.reconcile_interval_s if s.user_stream else min(
        s.reconcile_interval_s, s.ladder_interval_s
    )  # fmt: skip
    lines.append(Line(
        "reconcile", "GET /fapi/v1/openOrders",
        per_symbol=n * at_1("GET", "/fapi/v1/openOrders") * 60 / every,
    ))  # fmt: skip
    if not s.user_stream:  # positions are polled with every reconcile
        per = n * at_1("GET", s.position_risk_path) * 60 / every
        lines.append(Line("positions", f"GET {s.position_risk_path}", fixed=per))
    wallet = n * at_1("GET", s.balance_path) * 60 / s.balance_interval_s
    lines.append(Line("wallet", f"GET {s.balance_path}", fixed=wallet))
    if s.user_stream:
        keepalive = n * at_1("PUT", "/fapi/v1/listenKey") * 60 / KEEPALIVE_S
        lines.append(Line("listenKey keepalive", "PUT /fapi/v1/listenKey", fixed=keepalive))
    return Plan(symbols, n, s.weight_limit_per_min, tuple(lines), grid)


def refuse_over_budget(plan: Plan) -> None:
    """One line and exit 78 when the plan is over `BUDGET_SHARE` of the IP's limit."""
    if plan.total <= plan.budget:
        return
    most = plan.max_symbols()
    how = (
        f"shard by symbol, at most {most} a shard, one host or IP each "
        f"(e.g. {' | '.join(','.join(g) for g in plan.shards())}; README: Shards)"
        if most > 0
        else "even one symbol is over: fewer accounts per keys file, or longer periods"
    )
    raise ConfigError(
        f"these settings cost an expected {plan.total:,.0f} request weight a minute "
        f"({len(plan.symbols)} symbols × {plan.accounts} accounts: {plan.per_symbol:,.0f} a "
        f"symbol + {plan.fixed:,.0f}), over {BUDGET_SHARE:.0%} of ROCKY_WEIGHT_LIMIT_PER_MIN="
        f"{plan.limit} ({plan.budget:,.0f}): {how}"
    )
