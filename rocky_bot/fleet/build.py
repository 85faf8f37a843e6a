"""One account's parts, from its keys: client, state, breaker, executor, upkeep and loops.

Built in dependency order, each part handed what it needs and nothing else: the breaker before
the executor that reports to it, the upkeep before the executor that asks it for a reconcile,
the context (what the loops share) last. Nothing here performs I/O; the fleet starts it.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from rocky_bot.account import Account, AccountBreaker, AccountState, PositionRefresher
from rocky_bot.exchange.capabilities import Capabilities, ReplyProblems
from rocky_bot.exchange.client import ExchangeClient, RequestRecord
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Side, SymbolRules
from rocky_bot.exchange.paths import ApiPaths
from rocky_bot.feed.binance import BinanceFeed
from rocky_bot.funnel import Role
from rocky_bot.keys import AccountKeys
from rocky_bot.ops.metrics import Metrics
from rocky_bot.ops.upkeep import AccountUpkeep
from rocky_bot.risk import BreakerConfig, CircuitBreaker, Transition
from rocky_bot.settings import Settings
from rocky_bot.sizing import SymbolSizes
from rocky_bot.strategies.context import AccountContext
from rocky_bot.strategies.executor import ClientIds, Executor, OrderGate, OrderRateGuard
from rocky_bot.strategies.loop import LoopTiming, StrategyLoop
from rocky_bot.strategies.maker import MakerLoop
from rocky_bot.strategies.taker import TakerLoop


def client_for(
    s: Settings, base_url: str, account: AccountKeys, governor: WeightGovernor, **extra
) -> ExchangeClient:
    """An account's signed client as the settings describe it (the fleet, reset, check-keys)."""
    paths = ApiPaths(balance=s.balance_path, position_risk=s.position_risk_path)
    return ExchangeClient(
        base_url, account.key, account.secret, account=account.account_id, governor=governor,
        paths=paths, recv_window_ms=s.recv_window_ms, timeout_s=s.request_timeout_s,
        max_reply_bytes=s.max_reply_bytes, **extra,
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class FleetParts:
    """What every account of the fleet shares: one exchange, one IP, one feed, one stop."""

    settings: Settings
    base_url: str
    governor: WeightGovernor
    capabilities: Capabilities
    reply_problems: ReplyProblems
    metrics: Metrics
    feed: BinanceFeed
    gate: OrderGate
    prefix: str
    seed: int | None = None
    transport_factory: Callable[[], object] | None = None

    def rng(self, name: str) -> random.Random:
        """A per-name generator: seeded runs (tests, the bench) draw the same jitter each time."""
        if self.seed is None:
            return random.Random()
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def client(self, account: AccountKeys) -> ExchangeClient:
        return client_for(
            self.settings, self.base_url, account, self.governor, on_request=self._on_request,
            reply_problems=self.reply_problems, capabilities=self.capabilities,
            transport=self.transport_factory() if self.transport_factory else None,
        )  # fmt: skip

    def _on_request(self, record: RequestRecord) -> None:
        self.metrics.record_request(record, self.governor.used_weight)


@dataclass(frozen=True, eq=False)
class AccountUnit:
    """One account as the fleet runs it."""

    ctx: AccountContext
    upkeep: AccountUpkeep
    loops: tuple[StrategyLoop, ...]

    @property
    def account_id(self) -> str:
        return self.ctx.account_id


def build_account(
    parts: FleetParts,
    index: int,
    keys: AccountKeys,
    rules: dict[str, SymbolRules],
    sizes: SymbolSizes,
    *,
    on_breaker: Callable[[str, Transition], None],
    lean: Callable[[str], float] | None,
    taken: Callable[[str, Side, str], frozenset[Decimal]] | None = None,
) -> AccountUnit:
    s = parts.settings
    spec = keys.spec
    client = parts.client(keys)
    state = AccountState(spec.account_id, s.symbols)
    breaker = AccountBreaker(
        spec.account_id, CircuitBreaker(breaker_config(s, spec.role), time.monotonic), on_breaker
    )
    positions = PositionRefresher(client, state, s.position_max_age_s)
    account = Account(spec, client, state, breaker, positions)
    upkeep = AccountUpkeep(account, s, parts.governor, margin_asset=margin_asset(rules, s))
    executor = Executor(
        client, state, breaker, ClientIds(parts.prefix, index, s.symbols),
        OrderRateGuard(s.max_orders_per_10s, time.monotonic), parts.metrics, spec.role.value,
        gate=parts.gate, on_unknown_outcome=upkeep.request_reconcile,
    )  # fmt: skip
    rng = parts.rng(spec.account_id)
    ctx = AccountContext(
        account=account, executor=executor, feed=parts.feed, rules=rules, sizes=sizes,
        cap=Decimal(str(s.cap_for(spec.layer))), rng=rng, use_modify=s.use_modify,
        lean=lean if spec.role is Role.TAKER and s.taker_lean else None,
        band_wakeups=s.band_wakeups, poll=upkeep.poll if s.poll_each_iteration else None,
        size_sigma=s.taker_size_sigma,
        size_max=s.taker_size_max, taken=taken if spec.role is Role.LADDER else None,
    )  # fmt: skip
    loops = tuple(make_loop(s, ctx, symbol, rng) for symbol in s.symbols)
    state.on_change(waker(loops))
    return AccountUnit(ctx, upkeep, loops)


def breaker_config(s: Settings, role: Role) -> BreakerConfig:
    cost = s.breaker_taker_cost_bps if role is Role.TAKER else s.breaker_maker_cost_bps
    return BreakerConfig(
        s.breaker_max_errors, s.breaker_error_window_s, s.breaker_max_margin_rejects,
        s.breaker_error_window_s, s.breaker_max_drawdown, s.breaker_cooldown_s,
        s.breaker_max_cooldown_s, expected_cost_bps=cost, cost_slack=s.breaker_cost_slack,
    )  # fmt: skip


def margin_asset(rules: dict[str, SymbolRules], s: Settings) -> str:
    """The wallet that counts: the margin asset of the symbols traded (the first one's)."""
    for symbol in s.symbols:
        if symbol in rules:
            return rules[symbol].margin_asset
    return "USDT"


def make_loop(s: Settings, ctx: AccountContext, symbol: str, rng: random.Random) -> StrategyLoop:
    role = ctx.spec.role
    if role is Role.TAKER:
        timing = LoopTiming(s.taker_interval_s, s.taker_jitter_s, s.min_sleep_s, 0, s.stagger)
        return TakerLoop(ctx, symbol, timing, ioc=s.taker_ioc)
    if role is Role.ANCHOR:
        interval, jitter = s.anchor_interval_s, s.anchor_jitter_s
    else:
        interval, jitter = s.ladder_interval_s, s.ladder_jitter_s
    drift = s.drift_for(ctx.spec.layer, float(ctx.spec.offset_bps))
    # Each account's drift threshold is jittered so a mid move does not requote every maker in
    # the same millisecond (DESIGN.md §3.2: spread the herd, don't race it).
    drift *= 1 + rng.uniform(-s.drift_jitter, s.drift_jitter)
    # Its own size, drawn once: levels of one layer differ a little, as people's orders do.
    spread = s.maker_size_jitter
    factor = 1 + rng.uniform(-spread, spread) if spread else 1.0
    timing = LoopTiming(interval, jitter, s.min_sleep_s, s.min_requote_interval_s, s.stagger)
    return MakerLoop(ctx, symbol, timing, Decimal(str(round(drift, 4))), factor)


def waker(loops: tuple[StrategyLoop, ...]) -> Callable[[str, Side | None], None]:
    """An AccountState listener: a fill or a vanished order wakes the loop that owns it."""

    def wake(symbol: str, side: Side | None) -> None:
        for loop in loops:
            if loop.symbol == symbol and loop.owns(side):
                loop.wake()

    return wake


def makers_lean(contexts: list[AccountContext], feed: BinanceFeed, symbol: str) -> float:
    """The makers' net inventory on `symbol` (anchors and ladders) as a share of the anchors'
    caps, in [-1, 1] (long > 0): what the takers lean against (`taking.taker_side`).

    Takers trade only with the fleet's makers, so whatever net position the takers drift into,
    the makers hold the other side of it. Leaning against the anchor alone let the takers walk
    to −$750 (five at their caps) while the anchor stayed centred, and the ladders nearest the
    mid held the rest: the 5 and 6 bps levels sat at their caps, off the book (issue 10).
    """
    mid = feed.mid(symbol)
    makers = [c for c in contexts if c.spec.role is not Role.TAKER]
    scale = sum(c.cap for c in makers if c.spec.role is Role.ANCHOR)
    if mid is None or not makers or scale <= 0:
        return 0.0
    share = float(sum(c.state.position(symbol) for c in makers) * mid / scale)
    return max(-1.0, min(1.0, share))


def prices_taken(
    contexts: list[AccountContext], symbol: str, side: Side, account_id: str
) -> frozenset[Decimal]:
    """Prices the fleet's makers other than `account_id` rest on `symbol`'s `side`: the ones a
    ladder's own level keeps off (`quoting.untaken_price`)."""
    return frozenset(
        q.price
        for c in contexts
        if c.account_id != account_id and c.spec.role is not Role.TAKER
        for q in c.state.live_quotes(symbol, side)
    )
