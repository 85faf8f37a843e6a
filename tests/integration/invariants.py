"""Issue 5's invariants, checked continuously from the exchange's side while a scenario runs.

`InvariantChecker` samples the sandbox's engine every `period_s` and wraps `engine.submit`, so
it sees every order the exchange ever accepted — not what the bot believes it did:

1. at most one live order per account, symbol and side; a second one is tolerated for `grace_s`
   (the instant of a make-before-break replace). While the exchange refuses or drops requests
   (`refusing()` … `answering()`), the replaced order's cancel cannot go through: a second order
   is judged from the moment the exchange answers again;
2. |position·mark| ≤ cap + one order's notional, per account and symbol;
3. no clientOrderId accepted twice for one account (a retry must never double a decision);
4. while the feed is down (`feed_down()` … `feed_up()`): nothing placed after `feed_stale_s`
   (+ slack for requests already in flight), and no maker order resting after `feed_stale_s` + 3 s;
   plus: no order priced far from the exchange's mark (never decided from a bad input).

5/6 (SIGTERM/SIGKILL) are asserted by the process tests; 7 (`loops_stalled`) and 8
(`secrets_exposed`) are helpers called at the end of a scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rocky_bot.funnel import Role, parse_account_id, qty_for
from rocky_bot.sandbox.app import SandboxExchange
from rocky_bot.settings import Settings

#: An order priced further than this from the exchange's mark was not decided from a live mid
#: (L3 quotes 100 bps away, takers cross 50 bps; a jump or a stale feed is exempted).
MAX_PRICE_DEVIATION = Decimal("0.02")
BPS = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Submitted:
    at: float
    account: str  # sandbox account name
    client_order_id: str
    symbol: str
    side: str
    price: Decimal | None
    accepted: bool


@dataclass
class InvariantChecker:
    sandbox: SandboxExchange
    names: dict[str, str]  # bot account id → sandbox account name
    settings: Settings
    period_s: float = 0.05
    grace_s: float = 0.3
    violations: list[str] = field(default_factory=list)
    submitted: list[Submitted] = field(default_factory=list)
    checks: int = 0
    longest_double_s: float = 0.0  # the longest a second live order on one side was seen
    #: Called with (account name, OrderRequest) before the engine sees each order.
    before_submit: list[Callable[[str, Any], None]] = field(default_factory=list)
    _bot_of: dict[str, str] = field(default_factory=dict)
    _seen_ids: Counter[tuple[str, str]] = field(default_factory=Counter)
    _doubles_since: dict[tuple[str, str, str], float] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)
    _feed_down_at: float | None = None
    _refusing: bool = False
    _exempt_until: float = 0.0
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self._bot_of = {name: bot for bot, name in self.names.items()}

    # -- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> InvariantChecker:
        engine = self.sandbox.engine
        original = engine.submit

        def submit(name, req):  # the exchange's own record of every order it accepted
            for look in self.before_submit:
                look(name, req)
            accepted = False
            try:
                view = original(name, req)
                accepted = True
                return view
            finally:
                self._on_submit(name, req, accepted)

        engine.submit = submit  # type: ignore[method-assign]
        self._task = asyncio.create_task(self._sample_forever(), name="invariants")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        with contextlib.suppress(AttributeError):
            del self.sandbox.engine.submit  # back to the class's method

    def names_changed(self, names: dict[str, str]) -> None:
        self.names = names
        self.__post_init__()

    # -- scenario markers ------------------------------------------------------------------
    def feed_down(self) -> None:
        self._feed_down_at = time.monotonic()

    def feed_up(self) -> None:
        self._feed_down_at = None
        self.exempt_prices(2.0)

    def refusing(self) -> None:
        """The exchange refuses or drops requests: a make-before-break cannot finish."""
        self._refusing = True

    def answering(self) -> None:
        self._refusing = False

    def exempt_prices(self, seconds: float) -> None:
        """A price jump: orders decided on the old mid may still arrive for a moment."""
        self._exempt_until = time.monotonic() + seconds

    # -- checks ----------------------------------------------------------------------------
    def violate(self, key: str, text: str) -> None:
        """Record a violation once per `key` (the checks here, or a scenario's own)."""
        if key not in self._reported:
            self._reported.add(key)
            self.violations.append(f"{time.monotonic():.3f} {text}")

    def _on_submit(self, name: str, req, accepted: bool) -> None:
        now = time.monotonic()
        cid = req.client_order_id or ""
        self.submitted.append(Submitted(now, name, cid, req.symbol, req.side, req.price, accepted))
        if not accepted or name not in self._bot_of:
            return
        bot = self._bot_of[name]
        self._seen_ids[(name, cid)] += 1
        if self._seen_ids[(name, cid)] > 1:
            self.violate(f"dup {name} {cid}", f"inv3: {bot} {cid} accepted twice")
        down = self._feed_down_at
        if down is not None and now > down + self.settings.feed_stale_s + 0.5:
            self.violate(
                f"stale-place {bot}",
                f"inv4: {bot} placed {req.side} {req.symbol} {now - down:.1f}s into a dead feed",
            )
        mark = self.sandbox.engine.mark(req.symbol)
        judged = req.price is not None and now > self._exempt_until and down is None
        if judged and abs(req.price / mark - 1) > MAX_PRICE_DEVIATION:
            self.violate(
                f"price {bot} {cid}", f"bad input: {bot} priced {req.price} vs mark {mark}"
            )

    async def _sample_forever(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.period_s)

    def sample(self) -> None:
        now = time.monotonic()
        engine = self.sandbox.engine
        self.checks += 1
        doubled: set[tuple[str, str, str]] = set()
        down = self._feed_down_at
        for bot, name in self.names.items():
            orders = engine.open_orders(name)
            per_side = Counter((o.symbol, str(o.side)) for o in orders)
            for (symbol, side), n in per_side.items():
                if n > 1:
                    doubled.add((name, symbol, side))
            spec = parse_account_id(bot)
            dead_feed = down is not None and now > down + self.settings.feed_stale_s + 3
            if dead_feed and orders and spec.role is not Role.TAKER:
                self.violate(
                    f"stale-rest {bot}",
                    f"inv4: {bot} has {len(orders)} orders {now - down:.1f}s into a dead feed",
                )
            cap = Decimal(str(self.settings.cap_for(spec.layer)))
            for position in engine.account_view(name).positions:
                mark = engine.mark(position.symbol)
                notional = abs(Decimal(str(position.amount)) * mark)
                limit = cap + qty_for(spec.layer, position.symbol) * mark
                if notional > limit:
                    self.violate(
                        f"cap {bot} {position.symbol}",
                        f"inv2: {bot} {position.symbol} notional {notional:.2f} > {limit:.2f}",
                    )
        for key in list(self._doubles_since):
            if key not in doubled:
                del self._doubles_since[key]
        for key in doubled:
            if self._refusing:
                self._doubles_since[key] = now  # judged once the exchange answers again
            since = self._doubles_since.setdefault(key, now)
            self.longest_double_s = max(self.longest_double_s, now - since)
            if now - since > self.grace_s:
                name, symbol, side = key
                self.violate(
                    f"double {key} {since}",
                    f"inv1: {self._bot_of.get(name)} {symbol} {side}: 2+ live orders "
                    f"for {now - since:.2f}s",
                )

    # -- reading -----------------------------------------------------------------------------
    def accepted(self, since: float = 0.0) -> list[Submitted]:
        return [s for s in self.submitted if s.accepted and s.at >= since]


# --- the funnel, from the exchange's side --------------------------------------------------------


def funnel_gaps(sandbox: SandboxExchange, names: dict[str, str], settings: Settings) -> list[str]:
    """Maker levels not quoted near their target that the cap gate does not explain.

    A level counts when its account has a live order on that side within 2.5× its drift (+1 bps
    for the feed's lag behind the mark) of mark·(1 ∓ offset): an order left behind by a frozen
    client is on the book but not *quoting*. Empty list = the funnel is in full.
    """
    engine = sandbox.engine
    gaps = []
    for bot, name in names.items():
        spec = parse_account_id(bot)
        if spec.role is Role.TAKER:
            continue
        drift = settings.anchor_drift_bps if spec.role is Role.ANCHOR else settings.ladder_drift_bps
        tolerance = Decimal(str(2.5 * drift + 1)) * BPS
        cap = Decimal(str(settings.cap_for(spec.layer)))
        live = engine.open_orders(name)
        positions = {p.symbol: Decimal(str(p.amount)) for p in engine.account_view(name).positions}
        for symbol in settings.symbols:
            # a maker's own size is its layer's × (1 ± maker_size_jitter): the largest counts
            mark = engine.mark(symbol)
            qty = qty_for(spec.layer, symbol) * Decimal(str(1 + settings.maker_size_jitter))
            for side in spec.sides():
                target = mark * (1 - side.sign * spec.offset_bps * BPS)
                if any(
                    o.symbol == symbol and str(o.side) == side.value
                    and abs(o.price / target - 1) <= tolerance
                    for o in live
                ):  # fmt: skip
                    continue
                worst = positions.get(symbol, Decimal(0)) + side.sign * qty
                if side.sign * worst * mark > cap * Decimal("0.98"):
                    continue  # the cap gate keeps this level empty, as it should
                gaps.append(f"{bot} {symbol} {side.value}")
    return gaps


def loops_stalled(fleet, before: dict[str, int]) -> list[str]:
    """Invariant 7: loops that did not iterate since `before` (a name → iterations snapshot)."""
    return [loop.name for loop in fleet.loops if loop.iterations <= before.get(loop.name, -1)]


def iterations(fleet) -> dict[str, int]:
    return {loop.name: loop.iterations for loop in fleet.loops}


def secrets_exposed(secrets: Iterable[str], texts: dict[str, str]) -> list[str]:
    """Invariant 8: which text (log, /status, /metrics) contains which secret (by its head)."""
    found = []
    for secret in secrets:
        for where, text in texts.items():
            if secret and secret in text:
                found.append(f"{secret[:4]}… in {where}")
    return found
