"""An account's background duties, one task per account: set-up, reconcile, dead-man, wallet.

Loops decide and quote; this keeps the account's picture true: leftover orders from an earlier
run cancelled before anything is quoted, the exchange's open orders reconciled, the dead-man
countdown re-armed well inside its window, the wallet read for the breaker, and user data stream
events folded into AccountState so a fill wakes the loop that owns the order.

Essential duties (set-up, the dead-man heartbeat, a reconcile asked for because an order's outcome
is unknown, a streamless account's only reconcile) always run. Optional ones (the periodic
reconcile while streaming, the wallet read) are skipped while the IP has used over 80 % of its
weight this minute (`WeightGovernor.allow_optional`), and tried again soon: no tipping into 429s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from decimal import Decimal

import structlog

from rocky_bot.account import Account
from rocky_bot.exchange.errors import ApiError, ExchangeError, MalformedReplyError, UnsupportedError
from rocky_bot.exchange.governor import WeightGovernor
from rocky_bot.exchange.models import AccountUpdate, Balance, OrderUpdate
from rocky_bot.exchange.user_stream import UserStream
from rocky_bot.funnel import Role
from rocky_bot.ops.runway import Runway, WalletHistory, runway
from rocky_bot.settings import Settings
from rocky_bot.waits import wait_event

log = structlog.get_logger()

#: An optional poll skipped for lack of weight is tried again after this long.
OPTIONAL_RETRY_S = 5.0


class AccountUpkeep:
    def __init__(
        self,
        account: Account,
        settings: Settings,
        governor: WeightGovernor,
        clock: Callable[[], float] = time.monotonic,
        *,
        margin_asset: str = "USDT",
    ) -> None:
        self.account = account
        self.settings = settings
        self._governor = governor
        self._clock = clock
        #: The asset the traded symbols book margin in (exchangeInfo): the wallet that counts.
        self.margin_asset = margin_asset
        floor = Decimal(str(settings.wallet_seed_usd * settings.fund_floor))
        self.wallet_history = WalletHistory(fund_floor=floor)
        self._warned_wallet = False
        self._reconcile_wanted = asyncio.Event()
        self._armed: tuple[str, ...] = ()  # symbols whose dead-man countdown we keep armed
        self._setup_mark: int | None = None  # the state's change count when set-up finished
        self.stream: UserStream | None = None
        self.optional_skipped = 0

    @property
    def armed_symbols(self) -> tuple[str, ...]:
        return self._armed

    # --- set-up -------------------------------------------------------------------------------
    async def setup(self) -> None:
        """Before any quote: clock, leverage, leftovers cancelled, wallet and positions read,
        dead-man armed. Read after the leftovers are gone, the positions are final: the user
        stream's first snapshot need not read them again."""
        client = self.account.client
        if not client.server_clock.synced:  # the fleet syncs one client and shares its offset
            await client.sync_time()
        for symbol in self.account.state.symbols:
            try:
                await client.set_leverage(symbol, self.settings.leverage)
            except ApiError as exc:  # an exchange that refuses it is told once, not fatal
                log.warning("leverage_not_set", symbol=symbol, code=exc.code, reason=exc.msg)
            await self.cancel_everything(symbol)
        await self.read_account()
        await self.arm_deadman()
        self._setup_mark = self.account.state.snapshot_mark()

    async def cancel_everything(self, symbol: str) -> int:
        """Cancel every open order of the account on `symbol` (ours or an earlier run's)."""
        client, state = self.account.client, self.account.state
        leftovers = await client.open_orders(symbol)
        if leftovers:
            await client.cancel_all_orders(symbol)
            log.info("leftover_orders_cancelled", symbol=symbol, count=len(leftovers))
        for order in leftovers:
            state.forget(order.client_order_id)
        for tracked in state.live_orders(symbol):
            state.forget(tracked.client_order_id)
        return len(leftovers)

    # --- steady state -------------------------------------------------------------------------
    def request_reconcile(self) -> None:
        """Reconcile now, not at the next period: an order's outcome is unknown."""
        self._reconcile_wanted.set()

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(account=self.account.account_id, role="upkeep")
        s = self.settings
        now = self._clock()
        next_reconcile = now + s.reconcile_interval_s
        next_deadman = now + s.deadman_heartbeat_s
        next_wallet = now + s.balance_interval_s
        positions = self.account.positions
        positions.follow(lambda: self.stream is not None and self.stream.connected)
        while True:
            # Sleep until the next duty: 30 accounts ticking (to copy the streaming flag, which
            # positions now read from the stream itself) was CPU spent on nothing.
            due = min(
                next_reconcile, next_wallet, next_deadman if self._wants_deadman() else next_wallet
            )
            await wait_event(self._reconcile_wanted, max(0.01, due - now))
            now = self._clock()
            streamed = positions.streamed
            try:
                wanted = self._reconcile_wanted.is_set()
                # The spec's loops read open orders, positions and wallet every iteration: no
                # periodic duty of ours repeats that (poll_each_iteration, bench profile spec).
                periodic = not s.poll_each_iteration
                if wanted or (periodic and now >= next_reconcile):
                    # Streamless, the reconcile is the only news of fills: never optional.
                    if wanted or not streamed or self._may_poll("reconcile"):
                        self._reconcile_wanted.clear()
                        interval = s.reconcile_interval_s
                        if not streamed:
                            interval = min(interval, s.ladder_interval_s)
                        next_reconcile = now + interval
                        await self.reconcile()
                    else:
                        next_reconcile = now + OPTIONAL_RETRY_S
                if self._wants_deadman() and now >= next_deadman:
                    next_deadman = now + OPTIONAL_RETRY_S  # a failed heartbeat is retried soon
                    await self.arm_deadman()
                    next_deadman = now + s.deadman_heartbeat_s
                if periodic and now >= next_wallet:
                    if self._may_poll("wallet"):
                        next_wallet = now + s.balance_interval_s
                        await self.read_wallet()
                    else:
                        next_wallet = now + OPTIONAL_RETRY_S
            except ExchangeError as exc:
                # A malformed reply is reported by the client, once per kind per minute.
                if not isinstance(exc, MalformedReplyError):
                    log.warning("upkeep_failed", error=str(exc), kind=type(exc).__name__)
                self.account.state.note_error(exc)
                self.account.breaker.record_error(exc)

    async def poll(self, symbol: str) -> None:
        """The spec's iteration (profile `spec`): wallet, positions, the symbol's open orders."""
        await self.read_wallet()
        await self.account.positions.refresh()
        mark = self.account.state.snapshot_mark()
        orders = await self.account.client.open_orders(symbol)
        self.account.state.replace_open_orders(symbol, orders, mark)

    def _may_poll(self, what: str) -> bool:
        if self._governor.allow_optional():
            return True
        self.optional_skipped += 1
        log.debug("optional_poll_skipped", poll=what, used_weight=self._governor.used_weight)
        return False

    async def reconcile(self, *, positions: bool = False) -> None:
        """Open orders from the exchange; positions too when asked, streamless, or a fill is
        suspected (an order vanished)."""
        state = self.account.state
        vanished: list[str] = []
        for symbol in state.symbols:
            mark = state.snapshot_mark()
            orders = await self.account.client.open_orders(symbol)
            vanished += state.replace_open_orders(symbol, orders, mark)
        if positions or vanished or not self.account.positions.streamed:
            await self.account.positions.refresh()

    def _wants_deadman(self) -> bool:
        """Whether this account can leave orders resting: makers always, takers only when they
        send GTC (IOC off by setting, or learnt missing at run time)."""
        capabilities = self.account.client.capabilities
        if self.settings.deadman_countdown_s <= 0 or capabilities.missing("countdown"):
            return False
        if self.account.spec.role is not Role.TAKER:
            return True
        return not self.settings.taker_ioc or capabilities.missing("ioc")

    async def arm_deadman(self) -> None:
        """(Re-)arm countdownCancelAll on every symbol: if we die, the exchange empties the book."""
        if not self._wants_deadman():
            return
        client = self.account.client
        countdown_ms = int(self.settings.deadman_countdown_s * 1000)
        for symbol in self.account.state.symbols:
            try:
                await client.countdown_cancel_all(symbol, countdown_ms)
            except ApiError as exc:
                if client.capabilities.missing("countdown"):
                    log.warning("deadman_unavailable", code=exc.code, reason=exc.msg)
                    return
                raise
        self._armed = self.account.state.symbols

    async def read_account(self) -> None:
        """Wallet and positions in one account call: 5 weight where balance and positionRisk
        are 10 (150 of the start-up minute for 30 accounts, issue 14); both, without it."""
        client = self.account.client
        if client.capabilities.usable("account"):
            with contextlib.suppress(UnsupportedError, MalformedReplyError):
                balances, positions = await client.wallet_and_positions()
                self.account.positions.apply(positions)
                self.note_balances(balances)
                return
        await self.account.positions.refresh()
        await self.read_wallet()

    async def read_wallet(self) -> None:
        self.note_balances(await self.account.client.balance())

    def note_balances(self, balances: list[Balance]) -> None:
        """The wallet in the margin asset (not the first of USDT/USDC: an account can hold both).

        A REST reading cannot say why the wallet rose; a rise larger than trading can make
        between two reads (`deposit_threshold`) is taken as a deposit, not a gain.
        """
        balance = next((b for b in balances if b.asset == self.margin_asset), None)
        if balance is None:
            return
        before = self.account.state.wallet
        rise = Decimal(0) if before is None else balance.wallet - before
        deposit = rise if rise > self.deposit_threshold() else Decimal(0)
        self.note_wallet(balance.wallet, balance.available, deposit=deposit)

    def deposit_threshold(self) -> Decimal:
        return Decimal(str(max(1.0, self.settings.wallet_seed_usd * 0.01)))

    def note_wallet(
        self, wallet: Decimal, available: Decimal | None = None, *, deposit: Decimal = Decimal(0)
    ) -> None:
        state = self.account.state
        state.set_wallet(wallet, available)
        traded = state.traded_notional
        self.account.breaker.update_wallet(wallet, traded_notional=traded, deposit=deposit)
        self.wallet_history.note(self._clock(), wallet, traded, deposit)
        if deposit > 0:
            log.info("wallet_deposit_seen", amount=str(deposit), wallet=str(wallet))
        floor = Decimal(str(self.settings.wallet_seed_usd * self.settings.wallet_warn_share))
        if wallet < floor and not self._warned_wallet:
            self._warned_wallet = True
            log.warning(
                "wallet_low", wallet=str(wallet), floor=str(floor),
                hint="top up with: rocky-bot fund",
            )  # fmt: skip
        elif wallet >= floor:
            self._warned_wallet = False

    def burn_per_day(self) -> float | None:
        """Net wallet decrease per day over the last hour (deposits are not income)."""
        return self.wallet_history.burn_per_day(self._clock())

    def runway(self) -> Runway:
        """Hours until this account's wallet is empty, and until its breaker's line."""
        now, breaker = self._clock(), self.account.breaker
        notional = self.wallet_history.notional_per_hour(now) or 0.0
        allowance = notional * float(breaker.allowance_per_notional)
        return runway(
            self.account.state.wallet, breaker.drawdown_line, self.burn_per_day(), allowance
        )

    # --- user data stream ---------------------------------------------------------------------
    def on_stream_event(self, event: object) -> None:
        state = self.account.state
        if isinstance(event, OrderUpdate):
            if event.last_fill_qty > 0:
                state.apply_fill(event.symbol, event.side, event.last_fill_qty, event.event_time_ms)
            state.apply_order(event.as_order())
        elif isinstance(event, AccountUpdate):
            now = self._clock()
            for position in event.positions:
                if position.symbol in state.position_time:
                    state.set_position(position, event.event_time_ms, now)
            for balance in event.balances:
                if balance.asset == self.margin_asset:
                    self.note_wallet(balance.wallet, deposit=balance.change)

    async def on_stream_connected(self) -> None:
        """A full re-snapshot after every (re)connect, but the first when nothing was ordered
        since set-up emptied the book and read the positions: then both are known (with set-up's
        one account call, 150 weight less in the start-up minute for 30 accounts)."""
        self.account.positions.streamed = True
        state, mark = self.account.state, self._setup_mark
        self._setup_mark = None
        if mark != state.snapshot_mark() or state.inflight or state.orders:
            await self.reconcile(positions=True)
