"""Fault injection: the sandbox misbehaves on purpose, so reliability is tested, not hoped for.

    POST   /admin/v1/faults  {"latency_ms": 200, "error_rate": 0.2, ...}  → what is active
    GET    /admin/v1/faults                                                → what is active
    DELETE /admin/v1/faults                                                → everything cleared

Header `X-Admin-Token` (401 without it). POST merges: fields it names change, others stay.
`/admin/...` itself is never faulted, so a test can always clear what it set (except while
the whole exchange is down: `down_s` comes back up by itself).

REST faults (every reply of every signed or public endpoint):
  latency_ms        added before every reply
  error_rate        share answered 503 with an unknown-status body; of order mutations, half
                    were executed before the 503 (the outcome really is unknown)
  timeout_rate      share executed, then held until the client gives up (or `hang_s`)
  malformed_rate    share executed, then damaged: `malformed_kinds` ⊆ not_json, html (a
                    proxy's 502 page), missing_field, wrong_type
  rate_limit / ban  429 / 418 + Retry-After (`retry_after_s`) on everything
  clock_skew_ms     added to the server's clock (/time and the recvWindow check)
  reject_margin     -2019 on every new order
  unsupported       capabilities the exchange pretends to lack: modify (PUT order → 405),
                    countdown, user_stream, account (404), ioc (-1115 on timeInForce=IOC)
Feed faults act on the reference price (`/reference/...`, the stand-in for Binance's public feed
the daemon follows): feed_freeze (sockets open, no ticks), feed_drop (every reference socket
closed, new ones refused), feed_garbage_rate (share of ticks replaced by bad frames),
price_jump_pct (one step of every mid, an action rather than a state). `down_s`: refuse every
connection — listener closed, open connections cut — for that many seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, Protocol

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from rocky_bot.sandbox import errors
from rocky_bot.sandbox import fault_replies as replies
from rocky_bot.sandbox.config import SandboxConfig
from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.fault_spec import ActiveFaults, FaultUpdate
from rocky_bot.sandbox.http_limits import replay_body
from rocky_bot.sandbox.prices import PriceDriver, Tick
from rocky_bot.sandbox.reference import ReferenceFeed
from rocky_bot.sandbox.rest_gateway import FaultHooks

log = structlog.get_logger()


class FaultTarget(Protocol):
    """What the injector acts on: the exchange, seen only through what faults need of it."""

    config: SandboxConfig
    prices: PriceDriver
    reference: ReferenceFeed

    def clock_ms(self) -> int: ...

    async def refuse_connections(self) -> None: ...

    async def accept_connections(self) -> None: ...


class FaultInjector(FaultHooks):
    """The sandbox's FaultHooks: one per exchange, driven by the admin routes or by tests."""

    def __init__(self, exchange: FaultTarget, seed: int | None = None) -> None:
        self._exchange = exchange
        self.active = ActiveFaults()
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._release = asyncio.Event()  # set on clear: held requests answer at once
        self._up_again: asyncio.Task[None] | None = None
        self._down_soon: asyncio.Task[None] | None = None
        self._down_until: float | None = None

    # -- control ---------------------------------------------------------------------------
    async def apply(self, **changes: Any) -> dict[str, Any]:
        """Validate and apply a POST body's worth of changes; returns the snapshot."""
        update = FaultUpdate(**changes).model_dump(exclude_none=True)
        if "seed" in update:
            self._rng = random.Random(update.pop("seed"))
        jump, down_s = update.pop("price_jump_pct", None), update.pop("down_s", None)
        was = asdict(self.active)
        for name, value in update.items():
            setattr(self.active, name, value)
        if self._release.is_set():
            self._release = asyncio.Event()
        prices, reference = self._exchange.prices, self._exchange.reference
        prices.frozen = self.active.feed_freeze
        reference.refuse_new = self.active.feed_drop
        if self.active.feed_drop and not was["feed_drop"]:
            self.injected["feed_drop"] += 1
            await reference.drop_all()
        if self.active.feed_freeze and not was["feed_freeze"]:
            self.injected["feed_freeze"] += 1
        if jump is not None:
            self.injected["price_jump"] += 1
            prices.jump(jump)
        if down_s is not None:  # after a moment, so this very reply still reaches the caller
            self._down_soon = asyncio.create_task(self._after(0.05, self.go_down, down_s))
        log.warning("faults_applied", **update, price_jump_pct=jump, down_s=down_s)
        return self.snapshot()

    async def clear(self) -> dict[str, Any]:
        """Back to a healthy exchange: every fault off, held requests answered, listener up."""
        self.active = ActiveFaults()
        self._release.set()
        self._exchange.prices.frozen = False
        self._exchange.reference.refuse_new = False
        await self._cancel_timers()
        if self._down_until is not None:
            await self._come_up()
        log.warning("faults_cleared")
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        until = self._down_until
        down = None if until is None else round(max(0.0, until - time.monotonic()), 3)
        return {**asdict(self.active), "down_remaining_s": down, "injected": dict(self.injected)}

    async def go_down(self, seconds: float) -> None:
        """Refuse every connection now, and come back up by itself after `seconds`."""
        self.injected["down"] += 1
        if self._down_until is None:
            await self._exchange.refuse_connections()
        self._down_until = time.monotonic() + seconds
        if self._up_again is not None:
            self._up_again.cancel()
        self._up_again = asyncio.create_task(self._after(seconds, self._come_up))

    @staticmethod
    async def _after(delay: float, then: Callable[..., Awaitable[None]], *args: Any) -> None:
        await asyncio.sleep(delay)
        await then(*args)

    async def _come_up(self) -> None:
        self._up_again = None
        self._down_until = None
        await self._exchange.accept_connections()

    async def close(self) -> None:
        """The exchange is stopping: release held requests, forget the timer."""
        self._release.set()
        await self._cancel_timers()

    async def _cancel_timers(self) -> None:
        timers = [t for t in (self._up_again, self._down_soon) if t is not None]
        current = asyncio.current_task()
        for timer in timers:
            if timer is not current:
                timer.cancel()
        await asyncio.gather(*(t for t in timers if t is not current), return_exceptions=True)
        self._up_again = self._down_soon = None

    # -- FaultHooks --------------------------------------------------------------------------
    def clock_skew_ms(self) -> int:
        return self.active.clock_skew_ms

    def reject_order(self, account: str) -> SandboxError | None:
        if not self.active.reject_margin:
            return None
        self.injected["reject_margin"] += 1
        return errors.rejected(errors.MARGIN)

    def replace_tick(self, tick: object) -> bool:
        rate = self.active.feed_garbage_rate
        if not rate or self._rng.random() >= rate:
            return False
        assert isinstance(tick, Tick)
        t = tick
        kind = self._rng.choice(replies.GARBAGE_KINDS)
        self.injected[f"feed_garbage:{kind}"] += 1
        frame = replies.garbage_frame(kind, t.symbol, f"{t.bid:f}", f"{t.ask:f}")
        self._exchange.reference.publish_raw(t.symbol, frame)
        return True

    async def handle(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        f = self.active
        path: str = scope["path"]
        if not f.touches_http() or path.startswith("/admin/"):
            await app(scope, receive, send)
            return
        if f.latency_ms:
            self.injected["latency"] += 1
            await asyncio.sleep(f.latency_ms / 1000)
        if f.ban or f.rate_limit:
            now_ms = self._exchange.clock_ms()
            err = (
                replies.banned(now_ms + f.retry_after_s * 1000)
                if f.ban
                else replies.rate_limited(self._exchange.config.weight_limit_per_min)
            )
            self.injected["ban" if f.ban else "rate_limit"] += 1
            await replies.answer(send, err, {"Retry-After": f.retry_after_s})
            return
        body = await replies.read_body(receive)
        replay = replay_body(body, receive)
        method = scope["method"]
        params = replies.request_params(scope.get("query_string", b""), body)
        for capability in f.unsupported:
            hit = replies.unsupported_reply(capability, method, path, params)
            if hit is not None:
                self.injected[f"unsupported:{capability}"] += 1
                await replies.answer(send, hit[1])
                return
        rng = self._rng
        if f.error_rate and rng.random() < f.error_rate:
            self.injected["error"] += 1
            if (method, path) in replies.ORDER_MUTATIONS and rng.random() < 0.5:
                self.injected["error_executed"] += 1
                await replies.run(app, scope, replay)
            await replies.answer(send, replies.unknown_status(rng))
            return
        if f.timeout_rate and rng.random() < f.timeout_rate:
            self.injected["timeout"] += 1
            captured = await replies.run(app, scope, replay)
            await self._hold(receive, f.hang_s)
            await replies.replay_to(send, captured)
            return
        if f.malformed_rate and rng.random() < f.malformed_rate:
            captured = await replies.run(app, scope, replay)
            status = captured[0]["status"] if captured else 500
            if status >= 300:  # an error reply stays as it is: only a good reply gets damaged
                await replies.replay_to(send, captured)
                return
            kind = rng.choice(f.malformed_kinds)
            self.injected[f"malformed:{kind}"] += 1
            raw = b"".join(m.get("body", b"") for m in captured[1:])
            status, content_type, damaged = replies.mangle(kind, status, raw, rng)
            await replies.send_raw(send, status, content_type, damaged)
            return
        await app(scope, replay, send)

    async def _hold(self, receive: Receive, limit_s: float) -> None:
        """Hold a reply until the client hangs up, the faults are cleared, or `limit_s`."""
        release = self._release
        waits = {asyncio.ensure_future(receive()), asyncio.ensure_future(release.wait())}
        try:
            await asyncio.wait(waits, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
