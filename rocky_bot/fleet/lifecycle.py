"""`Fleet`: build every account around one feed, run them until told to stop, stop cleanly.

Start (fleet/startup.py): before any I/O, every symbol must have a feed stream and the plan
must fit the IP's request budget (budget.py); then the feed, exchangeInfo, every account set up
(clock, leverage, leftovers cancelled, positions, wallet, dead-man armed), then the loops; READY
once every symbol has a live mid (each symbol's sizes fixed at its first one, sizing.py).
A symbol the exchange does not list, or whose stream stays silent while the others tick, is a
configuration error (exit 78), never retried. An account whose credentials the exchange refuses
is set aside with one error naming it (the rest of the fleet runs, /status shows it); any other
set-up failure is retried with jittered backoff, each account on its own schedule.

Stop (`stop_timeout_s` + ~1.5 s at most, whatever the tasks do): the order gate closes (no order
request starts after `fleet_stopping`), loops and duties are cancelled within a second, the feed
is closed, every account's orders are cancelled and verified (fleet/stop.py), clients closed.
Orders left behind keep their dead-man armed, are listed in one `orders_left` event and make
`exit_code` non-zero.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

import structlog

from rocky_bot.exchange.capabilities import Capabilities, ReplyProblems
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import Side, SymbolRules
from rocky_bot.exchange.user_stream import UserStream
from rocky_bot.feed.binance import BinanceFeed, FeedSettings
from rocky_bot.fleet.build import AccountUnit, FleetParts, build_account, makers_lean, prices_taken
from rocky_bot.fleet.shards import own_events
from rocky_bot.fleet.startup import load_rules, preflight, setup_accounts, wait_live
from rocky_bot.fleet.stop import LeftBehind, cancel_every_order, close_account
from rocky_bot.fleet.supervisor import Supervisor, run_bounded
from rocky_bot.funnel import Layer
from rocky_bot.keys import KeysFile
from rocky_bot.ops.metrics import Metrics
from rocky_bot.ops.upkeep import AccountUpkeep
from rocky_bot.risk import Transition, TripKind
from rocky_bot.settings import Settings
from rocky_bot.sizing import SymbolSizes
from rocky_bot.strategies.context import AccountContext
from rocky_bot.strategies.executor import OrderGate, process_prefix
from rocky_bot.strategies.loop import StrategyLoop
from rocky_bot.strategies.taker import TakerLoop
from rocky_bot.strategies.tape_keeper import TapeKeeper

log = structlog.get_logger()

#: The feed knocks at least this often while its host is down: quoting must resume within
#: seconds of the feed's return, not after a 30 s backoff ceiling. One websocket attempt every
#: 1.5–3 s is far inside Binance's 300 connections per 5 min per IP.
FEED_RECONNECT_MAX_S = 3.0
#: How long the stop waits for cancelled loops and duties before it goes on without them.
TASKS_STOP_S = 1.0
#: Closing clients and streams after the orders are handled.
CLOSE_S = 1.0
#: The feed is useless once the loops are gone: it gets a short bound, not a close handshake
#: that a flood of ticks can drag out.
FEED_STOP_S = 0.3
#: Exit status when the stop left orders behind (systemd logs it as a failed stop).
EXIT_ORDERS_LEFT = 1


class Fleet:
    def __init__(
        self,
        settings: Settings,
        keys: KeysFile,
        *,
        seed: int | None = None,
        transport_factory: Callable[[], object] | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys
        #: What these settings will cost in request weight (refused here when over budget).
        self.plan = preflight(settings, keys)
        self.metrics = Metrics()
        self.governor = WeightGovernor(limit_per_min=settings.weight_limit_per_min)
        self.reply_problems = ReplyProblems()  # malformed replies: counted, logged once a minute
        self.capabilities = Capabilities()  # one exchange: learnt (and logged) once for all
        self.feed = BinanceFeed(
            FeedSettings(
                url=settings.feed_endpoint(), streams=settings.feed_streams(),
                stale_after_s=settings.feed_stale_s, max_jump_pct=settings.feed_max_jump_pct,
                shock_pct=settings.feed_shock_pct, shock_window_s=settings.feed_shock_window_s,
                shock_pause_s=settings.feed_shock_pause_s, backoff_max_s=FEED_RECONNECT_MAX_S,
            )
        )  # fmt: skip
        self.gate = OrderGate()
        self.parts = FleetParts(
            settings, keys.base_url, self.governor, self.capabilities, self.reply_problems,
            self.metrics, self.feed, self.gate, process_prefix(), seed, transport_factory,
        )  # fmt: skip
        self.units: list[AccountUnit] = []
        #: Each symbol's size per layer, fixed at its first mid (built with the rules).
        self.sizes: SymbolSizes | None = None
        #: Accounts refused at set-up (wrong credentials): account id → why. They never quote.
        self.set_aside: dict[str, str] = {}
        self.supervisor = Supervisor()
        self.ready = asyncio.Event()
        self.started_at = time.monotonic()
        self.status_url: str | None = None
        self.tape_keeper: TapeKeeper | None = None
        #: What the stop could not cancel (fleet/stop.py); non-empty makes `exit_code` 1.
        self.left_behind: list[LeftBehind] = []
        self.exit_code = 0
        self._clock_offset_ms: int | None = None

    # --- what the fleet is made of ------------------------------------------------------------
    @property
    def contexts(self) -> list[AccountContext]:
        return [unit.ctx for unit in self.units]

    @property
    def upkeeps(self) -> dict[str, AccountUpkeep]:
        return {unit.account_id: unit.upkeep for unit in self.units}

    @property
    def loops(self) -> list[StrategyLoop]:
        return [loop for unit in self.units for loop in unit.loops]

    @property
    def restarts(self) -> int:
        return self.supervisor.restarts

    def spawn(self, name: str, factory, *, restart: bool = True) -> asyncio.Task[None]:
        return self.supervisor.spawn(name, factory, restart=restart)

    def build(self, rules: dict[str, SymbolRules]) -> None:
        """Every account's parts (no I/O): what `run` starts, and what the bench inspects."""
        self.feed.bound_prices({s: (r.min_price, r.max_price) for s, r in rules.items()})
        notionals = {
            layer: None if usd is None else Decimal(str(usd))
            for layer in Layer
            for usd in (self.settings.notional_for(layer),)
        }
        self.sizes = SymbolSizes(rules, notionals)
        for index, account in enumerate(self.keys.accounts):
            unit = build_account(
                self.parts, index, account, rules, self.sizes, on_breaker=self._on_breaker,
                lean=self._makers_lean, taken=self._prices_taken,
            )  # fmt: skip
            for loop in unit.loops:
                loop.on_iteration = self._observe_iteration
            if self._clock_offset_ms is not None:  # one exchange, one host: one clock offset
                unit.ctx.account.client.server_clock.adopt(self._clock_offset_ms)
            self.units.append(unit)

    def _makers_lean(self, symbol: str) -> float:
        return makers_lean(self.contexts, self.feed, symbol)

    def _prices_taken(self, symbol: str, side: Side, account_id: str) -> frozenset[Decimal]:
        return prices_taken(self.contexts, symbol, side, account_id)

    def _observe_iteration(self, loop: StrategyLoop) -> None:
        self.metrics.observe_iteration(loop.role, loop.last_iteration_s)

    def _on_breaker(self, account_id: str, transition: Transition) -> None:
        self.metrics.breaker_open.labels(account_id).set(1 if transition.new.value == "open" else 0)
        for loop in self.loops:  # an open breaker pulls quotes at once; half-open requotes
            if loop.account_id == account_id:
                loop.wake()

    def _on_feed_state(self, symbol: str) -> None:
        if self.feed.in_shock_pause(symbol):  # a price jump: every account stops, cools down
            for unit in self.units:
                unit.ctx.breaker.record_anomaly(TripKind.PRICE_JUMP, f"price shock on {symbol}")
        for loop in self.loops:
            if loop.symbol == symbol:
                loop.wake()

    # --- running ------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        """Run until `stop` is set, then shut down cleanly (see the module doc)."""
        feed_task = self.spawn("feed", self.feed.run)
        started = False
        try:
            probe = self.parts.client(self.keys.accounts[0])
            try:
                loaded = await load_rules(
                    probe, self.settings.symbols, stop, self.parts.rng("exchange_info")
                )
            finally:
                await probe.aclose()
            if loaded is None:
                return
            rules, self._clock_offset_ms = loaded
            self.build(rules)
            self.feed.on_state_change(self._on_feed_state)
            await setup_accounts(self.units, stop, self.parts.rng, self.set_aside)
            if stop.is_set():
                return
            self._start_tasks()
            started = True
            # READY means a fresh mid (sd_notify): wait for it as long as it takes.
            symbols = self.settings.symbols
            if not await wait_live(self.feed, symbols, stop, self.settings.feed_first_tick_s):
                return
            for symbol in symbols:  # sized by now at the latest, and said so (`symbol_sized`)
                self.sizes.table(symbol, self.feed.mid(symbol))
            self.ready.set()
            log.info(
                "fleet_ready", accounts=len(self.units) - len(self.set_aside),
                set_aside=sorted(self.set_aside), loops=len(self.loops),
            )  # fmt: skip
            if on_ready:
                on_ready()
            await stop.wait()
        finally:
            await self.shutdown(feed_task, cancel_orders=started)

    def active_units(self) -> list[AccountUnit]:
        return [u for u in self.units if u.account_id not in self.set_aside]

    def _start_tasks(self) -> None:
        for unit in self.active_units():
            upkeep, account_id = unit.upkeep, unit.account_id
            self.spawn(f"upkeep[{account_id}]", upkeep.run)
            if self.settings.user_stream:
                upkeep.stream = UserStream(
                    unit.ctx.account.client, self._stream_url(), own_events(upkeep),
                    upkeep.on_stream_connected, delete_key=not self.settings.symbol_shard,
                )  # fmt: skip
                with structlog.contextvars.bound_contextvars(account=account_id):
                    # the task copies this context: its log lines name the account
                    self.spawn(f"user_stream[{account_id}]", upkeep.stream.run, restart=False)
            for loop in unit.loops:
                self.spawn(loop.name, loop.run)
        takers = [
            loop for u in self.active_units() for loop in u.loops if isinstance(loop, TakerLoop)
        ]
        self.tape_keeper = TapeKeeper(takers, self.settings.tape_max_gap_s, self.parts.rng("tape"))
        self.spawn("tape_keeper", self.tape_keeper.run, restart=False)

    def _stream_url(self) -> str:
        if self.settings.user_stream_url:
            return self.settings.user_stream_url.rstrip("/")
        base = self.keys.base_url
        return "ws" + base[4:] if base.startswith("http") else base

    # --- stopping -----------------------------------------------------------------------------
    async def shutdown(
        self, feed_task: asyncio.Task[None] | None = None, *, cancel_orders: bool = True
    ) -> None:
        began = time.monotonic()
        steps: dict[str, float] = {}

        def step(name: str) -> None:
            steps[name] = round(time.monotonic() - began - sum(steps.values()), 3)

        self.gate.close()  # before the log line: no order request starts after it
        log.info("fleet_stopping")
        others = [t for t in self.supervisor.tasks if t is not feed_task]
        await self.supervisor.cancel(others, TASKS_STOP_S)
        step("tasks")
        # The feed is of no use once the loops are gone; stopping it first frees the event loop
        # (a busy feed can carry hundreds of ticks a second) for the cancels that follow.
        if feed_task is not None:
            await self.supervisor.cancel([feed_task], FEED_STOP_S)
        await run_bounded([self.feed.close()], FEED_STOP_S)
        step("feed")
        if cancel_orders:
            budget = self.settings.stop_timeout_s - (time.monotonic() - began)
            left = await cancel_every_order([u.upkeep for u in self.active_units()], budget)
            self.left_behind = left
            if left:
                self.exit_code = EXIT_ORDERS_LEFT
                log.error(
                    "orders_left", accounts=[item.as_log() for item in left],
                    hint="their dead-man switches stay armed; check with: rocky-bot reset",
                )  # fmt: skip
            step("orders")
        await run_bounded([close_account(unit.upkeep) for unit in self.units], CLOSE_S)
        step("close")
        log.info("fleet_stopped", stop_s=round(time.monotonic() - began, 3), steps_s=steps)
