"""Builds the fleet from settings and keys, supervises its tasks, and stops it cleanly.

One feed, one client + state + breaker + upkeep per account, one loop per account × symbol.
A crashed task is logged and restarted, never silently gone. Stop: loops first, then every open
order of every account cancelled (bounded by stop_timeout_s), dead-man disarmed, clients closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import structlog

from rocky_bot.account import AccountState
from rocky_bot.exchange.client import Capabilities, ExchangeClient, ReplyProblems
from rocky_bot.exchange.errors import ExchangeError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import SymbolRules
from rocky_bot.exchange.paths import ApiPaths
from rocky_bot.exchange.user_stream import UserStream
from rocky_bot.feed.binance import BinanceFeed, FeedSettings
from rocky_bot.funnel import Role
from rocky_bot.keys import AccountKeys, KeysFile
from rocky_bot.ops.metrics import Metrics
from rocky_bot.ops.upkeep import AccountUpkeep
from rocky_bot.risk import BreakerConfig, CircuitBreaker, Transition
from rocky_bot.settings import Settings
from rocky_bot.strategies.context import AccountContext
from rocky_bot.strategies.executor import ClientIds, Executor, OrderRateGuard, process_prefix
from rocky_bot.strategies.loop import LoopTiming, StrategyLoop
from rocky_bot.strategies.maker import MakerLoop
from rocky_bot.strategies.taker import TakerLoop
from rocky_bot.strategies.tape_keeper import TapeKeeper

log = structlog.get_logger()

#: The feed knocks at least this often while its host is down: quoting must resume within
#: seconds of the feed's return (issue 5, invariant 4), not after a 30 s backoff ceiling. One
#: websocket attempt every 1.5–3 s is far inside Binance's 300 connections per 5 min per IP.
FEED_RECONNECT_MAX_S = 3.0


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
        self.metrics = Metrics()
        self.governor = WeightGovernor(limit_per_min=settings.weight_limit_per_min)
        self.reply_problems = ReplyProblems()  # malformed replies: counted, logged once a minute
        self.capabilities = Capabilities()  # one exchange: learnt (and logged) once for all
        self.feed = BinanceFeed(
            FeedSettings(
                url=settings.feed_url, streams=settings.feed_streams(),
                stale_after_s=settings.feed_stale_s, max_jump_pct=settings.feed_max_jump_pct,
                shock_pct=settings.feed_shock_pct, shock_window_s=settings.feed_shock_window_s,
                shock_pause_s=settings.feed_shock_pause_s, backoff_max_s=FEED_RECONNECT_MAX_S,
            )
        )  # fmt: skip
        self.prefix = process_prefix()
        self._seed = seed
        self._transport_factory = transport_factory
        self.contexts: list[AccountContext] = []
        self.upkeeps: dict[str, AccountUpkeep] = {}
        self.loops: list[StrategyLoop] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()
        self.started_at = time.monotonic()
        self.restarts = 0
        self.status_url: str | None = None

    # --- building -----------------------------------------------------------------------------
    def _client(self, account: AccountKeys) -> ExchangeClient:
        s = self.settings
        paths = ApiPaths(balance=s.balance_path, position_risk=s.position_risk_path)
        return ExchangeClient(
            self.keys.base_url, account.key, account.secret, account=account.account_id,
            governor=self.governor, paths=paths, recv_window_ms=s.recv_window_ms,
            timeout_s=s.request_timeout_s, on_request=self._on_request,
            reply_problems=self.reply_problems, capabilities=self.capabilities,
            transport=self._transport_factory() if self._transport_factory else None,
        )  # fmt: skip

    def _on_request(self, record) -> None:  # RequestRecord
        self.metrics.record_request(record, self.governor.used_weight)

    def _rng(self, name: str) -> random.Random:
        if self._seed is None:
            return random.Random()
        digest = hashlib.sha256(f"{self._seed}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def _build(self, rules: dict[str, SymbolRules]) -> None:
        s = self.settings
        symbols = s.symbols
        breaker_config = BreakerConfig(
            s.breaker_max_errors, s.breaker_error_window_s, s.breaker_max_margin_rejects,
            s.breaker_error_window_s, s.breaker_max_drawdown, s.breaker_cooldown_s,
            s.breaker_max_cooldown_s,
        )  # fmt: skip
        for index, account in enumerate(self.keys.accounts):
            spec = account.spec
            client = self._client(account)
            state = AccountState(spec.account_id, symbols)
            rng = self._rng(spec.account_id)
            breaker = CircuitBreaker(breaker_config, time.monotonic)
            ctx_holder: list[AccountContext] = []
            executor = Executor(
                client, state, ClientIds(self.prefix, index, symbols),
                OrderRateGuard(s.max_orders_per_10s, time.monotonic), self.metrics, spec.role.value,
                on_margin_reject=lambda h=ctx_holder: h[0].record_margin_reject(),
                on_success=lambda h=ctx_holder: h[0].record_success(),
            )  # fmt: skip
            ctx = AccountContext(
                spec=spec, client=client, state=state, executor=executor, breaker=breaker,
                feed=self.feed, rules=rules, cap=Decimal(str(s.cap_for(spec.layer))), rng=rng,
                use_modify=s.use_modify, position_max_age_s=s.position_max_age_s,
                on_breaker=self._on_breaker,
                lean=self._anchor_lean if spec.role is Role.TAKER and s.taker_lean else None,
            )  # fmt: skip
            ctx_holder.append(ctx)
            self.contexts.append(ctx)
            upkeep = AccountUpkeep(ctx, s)
            self.upkeeps[spec.account_id] = upkeep
            account_loops = [self._loop(ctx, symbol, rng) for symbol in symbols]
            for loop in account_loops:
                loop.on_iteration = self._observe_iteration
            self.loops += account_loops
            state.on_change(self._waker(account_loops, upkeep))

    def _anchor_lean(self, symbol: str) -> float:
        """The anchors' inventory on `symbol` as a share of their cap, in [-1, 1] (long > 0)."""
        mid = self.feed.mid(symbol)
        anchors = [c for c in self.contexts if c.spec.role is Role.ANCHOR]
        if mid is None or not anchors:
            return 0.0
        share = sum(float(c.state.position(symbol) * mid / c.cap) for c in anchors) / len(anchors)
        return max(-1.0, min(1.0, share))

    def _loop(self, ctx: AccountContext, symbol: str, rng: random.Random) -> StrategyLoop:
        s = self.settings
        role = ctx.spec.role
        if role is Role.TAKER:
            timing = LoopTiming(s.taker_interval_s, s.taker_jitter_s, s.min_sleep_s, 0, s.stagger)
            return TakerLoop(ctx, symbol, timing, ioc=s.taker_ioc)
        if role is Role.ANCHOR:
            interval, jitter, drift = s.anchor_interval_s, s.anchor_jitter_s, s.anchor_drift_bps
        else:
            interval, jitter, drift = s.ladder_interval_s, s.ladder_jitter_s, s.ladder_drift_bps
        # Each account's drift threshold is jittered so a mid move does not requote every
        # maker in the same millisecond (DESIGN.md §3.2: spread the herd, don't race it).
        drift *= 1 + rng.uniform(-s.drift_jitter, s.drift_jitter)
        timing = LoopTiming(interval, jitter, s.min_sleep_s, s.min_requote_interval_s, s.stagger)
        return MakerLoop(ctx, symbol, timing, Decimal(str(round(drift, 4))))

    def _observe_iteration(self, loop: StrategyLoop) -> None:
        self.metrics.observe_iteration(loop.role, loop.last_iteration_s)

    @staticmethod
    def _waker(loops: list[StrategyLoop], upkeep: AccountUpkeep):
        def wake(symbol: str, side) -> None:
            for loop in loops:
                if loop.symbol == symbol and loop.owns(side):  # type: ignore[attr-defined]
                    loop.wake()

        return wake

    def _on_breaker(self, ctx: AccountContext, transition: Transition) -> None:
        self.metrics.breaker_open.labels(ctx.account_id).set(
            1 if transition.new.value == "open" else 0
        )
        for loop in self.loops:  # an open breaker pulls quotes at once; half-open requotes
            if loop.account_id == ctx.account_id:
                loop.wake()

    def _on_feed_state(self, symbol: str) -> None:
        for loop in self.loops:
            if loop.symbol == symbol:
                loop.wake()

    # --- running ------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        """Run until `stop` is set, then shut down cleanly."""
        feed_task = self.spawn("feed", self.feed.run)
        try:
            rules = await self._load_rules(stop)
            if rules is None:
                return
            self._build(rules)
            self.feed.on_state_change(self._on_feed_state)
            await self._setup_accounts(stop)
            if stop.is_set():
                return
            self._start_tasks()
            # READY means a fresh mid (sd_notify): wait for it as long as it takes.
            while not await self.feed.wait_live(self.settings.symbols, timeout=1.0):
                if stop.is_set():
                    return
            self.ready.set()
            log.info("fleet_ready", accounts=len(self.contexts), loops=len(self.loops))
            if on_ready:
                on_ready()
            await stop.wait()
        finally:
            await self.shutdown(feed_task)

    async def _load_rules(self, stop: asyncio.Event) -> dict[str, SymbolRules] | None:
        probe = self._client(self.keys.accounts[0])
        try:
            delay = 0.5
            while not stop.is_set():
                try:
                    rules = await probe.exchange_info()
                    missing = [s for s in self.settings.symbols if s not in rules]
                    if missing:
                        raise ExchangeError(f"exchange does not list symbols {missing}")
                    return rules
                except ExchangeError as exc:
                    log.warning("exchange_info_failed", error=str(exc), retry_in_s=delay)
                    await _wait(stop, delay)
                    delay = min(delay * 2, 30.0)
            return None
        finally:
            await probe.aclose()

    async def _setup_accounts(self, stop: asyncio.Event) -> None:
        async def setup(ctx: AccountContext) -> None:
            # its own task (gather): the binding names the account in set-up's log lines
            structlog.contextvars.bind_contextvars(account=ctx.account_id, role="upkeep")
            delay = 0.5
            while not stop.is_set():
                try:
                    await self.upkeeps[ctx.account_id].setup()
                    return
                except ExchangeError as exc:
                    log.warning("account_setup_failed", account=ctx.account_id, error=str(exc))
                    await _wait(stop, delay)
                    delay = min(delay * 2, 30.0)

        await asyncio.gather(*(setup(ctx) for ctx in self.contexts))

    def _start_tasks(self) -> None:
        for ctx in self.contexts:
            upkeep = self.upkeeps[ctx.account_id]
            self.spawn(f"upkeep[{ctx.account_id}]", upkeep.run)
            if self.settings.user_stream:
                upkeep.stream = UserStream(
                    ctx.client, self._stream_url(), upkeep.on_stream_event,
                    upkeep.on_stream_connected,
                )  # fmt: skip
                with structlog.contextvars.bound_contextvars(account=ctx.account_id):
                    # the task copies this context: its log lines name the account
                    self.spawn(f"user_stream[{ctx.account_id}]", upkeep.stream.run, restart=False)
        for loop in self.loops:
            self.spawn(loop.name, loop.run)
        takers = [loop for loop in self.loops if isinstance(loop, TakerLoop)]
        self.tape_keeper = TapeKeeper(takers, self.settings.tape_max_gap_s, self._rng("tape"))
        self.spawn("tape_keeper", self.tape_keeper.run, restart=False)

    def _stream_url(self) -> str:
        if self.settings.user_stream_url:
            return self.settings.user_stream_url.rstrip("/")
        base = self.keys.base_url
        return "ws" + base[4:] if base.startswith("http") else base

    def spawn(
        self, name: str, factory: Callable[[], Awaitable[None]], *, restart: bool = True
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(self._supervise(name, factory, restart), name=name)
        self._tasks.append(task)
        return task

    async def _supervise(
        self, name: str, factory: Callable[[], Awaitable[None]], restart: bool
    ) -> None:
        while True:
            try:
                await factory()
                if not restart:
                    return
                log.error("task_exited", task=name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("task_crashed", task=name, error=repr(exc))
            self.restarts += 1
            await asyncio.sleep(1.0)

    # --- stopping -----------------------------------------------------------------------------
    async def shutdown(self, feed_task: asyncio.Task[None] | None = None) -> None:
        log.info("fleet_stopping")
        tasks = [t for t in self._tasks if t is not feed_task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(self._flatten_orders(ctx) for ctx in self.contexts)),
                self.settings.stop_timeout_s,
            )
        except TimeoutError:
            log.error("stop_timeout", timeout_s=self.settings.stop_timeout_s)
        if feed_task is not None:
            feed_task.cancel()
            await asyncio.gather(feed_task, return_exceptions=True)
        await self.feed.close()
        await asyncio.gather(
            *(ctx.client.aclose() for ctx in self.contexts), return_exceptions=True
        )
        log.info("fleet_stopped")

    async def _flatten_orders(self, ctx: AccountContext) -> None:
        """Cancel every open order of the account; verify; then disarm its dead-man switch."""
        structlog.contextvars.bind_contextvars(account=ctx.account_id)  # own task (gather)
        upkeep = self.upkeeps[ctx.account_id]
        for attempt in range(3):
            try:
                left = 0
                for symbol in ctx.state.symbols:
                    await upkeep.cancel_everything(symbol)
                    left += len(await ctx.client.open_orders(symbol))
                if left == 0:
                    break
            except ExchangeError as exc:
                log.warning(
                    "stop_cancel_failed",
                    account=ctx.account_id,
                    error=str(exc),
                    attempt=attempt + 1,
                )
                await asyncio.sleep(0.2 * (attempt + 1))
        try:
            await upkeep.disarm_deadman()
        except ExchangeError:
            pass  # the countdown fires by itself and finds nothing to cancel
        if upkeep.stream is not None:
            await upkeep.stream.close()


async def _wait(stop: asyncio.Event, delay: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), delay)
    except TimeoutError:
        pass
