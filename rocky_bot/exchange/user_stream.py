"""UserStream: one account's Binance user data stream, so a fill is seen in milliseconds.

Lifecycle (binance-usdm.md §6): POST a listenKey (an account with an active key gets the same
key back, extended), connect to `{ws_base_url}/ws/{listenKey}`, PUT a keepalive every
`keepalive_s` (the key dies after 60 min without one). A `listenKeyExpired` event or a keepalive
answered with -1125 means the key is gone: take a new one and reconnect.

Why `on_reconnect` after *every* connect, the first included: events sent while we were not
connected are lost for good, so the account re-snapshots orders and positions over REST. The
socket is already open while it does, so events that race the snapshot are buffered and
delivered right after it; the account must therefore apply them idempotently (an order update
older than what the snapshot showed changes nothing).

An exchange without the stream (listenKey POST answered 404/405, or the client's capabilities say
so) is logged once and `run()` returns: the account keeps polling over REST.

The listenKey is a bearer credential for the account's private events: it never appears in a log
line, including the reprs of connection errors, which can carry the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from rocky_bot.backoff import jittered_backoff
from rocky_bot.exchange.errors import ApiError, ExchangeError, MalformedReplyError
from rocky_bot.exchange.parse import parse_user_event

__all__ = ["UserStream"]

log = structlog.get_logger()

#: HTTP statuses for "this exchange has no listenKey endpoint".
_UNAVAILABLE_STATUSES = frozenset({404, 405})
#: "This listenKey does not exist."
_KEY_GONE_CODE = -1125
_RECYCLED, _KEY_EXPIRED, _GOOD, _FAILED = "recycled", "key_expired", "good", "failed"


class UserStream:
    def __init__(
        self,
        client: Any,
        ws_base_url: str,
        on_event: Callable[[object], None],
        on_reconnect: Callable[[], Awaitable[None]],
        *,
        keepalive_s: float = 1800.0,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 60.0,
        open_timeout_s: float = 10.0,
        close_timeout_s: float = 2.0,
        max_connection_age_s: float = 23 * 3600,  # Binance drops connections at 24 h
        stable_after_s: float = 10.0,  # a connection this old counts as good: backoff resets
    ) -> None:
        self._client = client
        self._base = ws_base_url.rstrip("/")
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self._keepalive_s = keepalive_s
        self._clock = clock
        self._rng = rng or random.Random()
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._open_timeout_s = open_timeout_s
        self._close_timeout_s = close_timeout_s
        self._max_age_s = max_connection_age_s
        self._stable_after_s = stable_after_s
        self._ws: ClientConnection | None = None
        self._closed = asyncio.Event()
        self._key_gone = False
        self._unavailable_logged = False
        self.events = 0
        self.bad_messages = 0
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def close(self) -> None:
        self._closed.set()
        ws = self._ws
        if ws is not None:
            await ws.close()

    async def run(self) -> None:
        """Keep the stream connected until closed or cancelled; return at once if unavailable."""
        if self._client.capabilities.missing("user_stream"):
            self._unavailable("capability")
            return
        delays = self._backoff()
        while not self._closed.is_set():
            try:
                key = await self._client.new_listen_key()
            except ApiError as exc:
                if exc.http_status in _UNAVAILABLE_STATUSES:
                    self._unavailable(f"HTTP {exc.http_status}")
                    return
                log.warning("listen_key_failed", error=str(exc))
                outcome = _FAILED
            except ExchangeError as exc:
                log.warning("listen_key_failed", error=f"{type(exc).__name__}: {exc}")
                outcome = _FAILED
            else:
                if self._closed.is_set():
                    break
                outcome = await self._session(key)
            if self._closed.is_set():
                break
            if outcome != _FAILED:
                delays = self._backoff()  # a good connection resets the backoff
            if outcome in (_RECYCLED, _KEY_EXPIRED):
                continue  # planned: straight to a fresh key and connection
            delay = next(delays)
            log.info("user_stream_reconnect_scheduled", delay_s=round(delay, 3))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), delay)

    def _unavailable(self, reason: str) -> None:
        if not self._unavailable_logged:
            self._unavailable_logged = True
            log.warning("user_stream_unavailable", reason=reason, fallback="rest_polling")

    def _backoff(self) -> Iterator[float]:
        return jittered_backoff(
            initial_s=self._backoff_initial_s, max_s=self._backoff_max_s, rng=self._rng
        )

    async def _session(self, key: str) -> str:
        self._key_gone = False
        events_before = self.events
        opened = self._clock()
        try:
            async with connect(
                f"{self._base}/ws/{key}",
                open_timeout=self._open_timeout_s,
                close_timeout=self._close_timeout_s,
                compression=None,
            ) as ws:
                self._ws = ws
                if self._closed.is_set():  # close() raced the handshake
                    return _GOOD
                log.info("user_stream_connected")
                keepalive = asyncio.create_task(self._keepalive(ws), name="listen-key-keepalive")
                try:
                    return await self._read(ws, opened, events_before)
                finally:
                    keepalive.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await keepalive
        except (OSError, TimeoutError, WebSocketException) as exc:
            # The URL (and so the key) can appear in these messages: scrub it.
            error = f"{type(exc).__name__}: {exc}".replace(key, "<listenKey>")
            log.warning("user_stream_disconnected", error=error)
        finally:
            if self._ws is not None:
                self._ws = None
                self.reconnects += 1
        good = self.events > events_before or self._clock() - opened >= self._stable_after_s
        return _GOOD if good else _FAILED

    async def _read(self, ws: ClientConnection, opened: float, events_before: int) -> str:
        try:
            await self._on_reconnect()
        except Exception:
            # The socket stays up: events keep flowing and the account's periodic reconcile
            # repairs what the snapshot missed.
            log.exception("user_stream_resync_failed")
        try:
            async with asyncio.timeout(self._max_age_s) as age:
                async for raw in ws:
                    if self._handle(raw):
                        log.info("listen_key_expired", source="event")
                        return _KEY_EXPIRED
        except TimeoutError:
            if not age.expired():
                raise
            log.info("user_stream_recycled", age_s=round(self._clock() - opened, 1))
            return _RECYCLED
        if self._key_gone:
            return _KEY_EXPIRED
        if self._closed.is_set():
            log.info("user_stream_closed")
            return _GOOD
        log.warning("user_stream_disconnected", code=ws.close_code, reason=ws.close_reason)
        good = self.events > events_before or self._clock() - opened >= self._stable_after_s
        return _GOOD if good else _FAILED

    def _handle(self, raw: str | bytes) -> bool:
        """Deliver one frame; True when it says the listenKey expired."""
        try:
            obj = json.loads(raw)
        except ValueError:
            self.bad_messages += 1
            log.warning("user_stream_bad_message", problem="not JSON")
            return False
        if isinstance(obj, dict):
            inner = obj.get("data")
            event_type = obj.get("e", inner.get("e") if isinstance(inner, dict) else None)
            if event_type == "listenKeyExpired":
                return True
        try:
            event = parse_user_event(obj)
        except MalformedReplyError as exc:
            self.bad_messages += 1
            log.warning("user_stream_bad_message", problem=exc.problem)
            return False
        if event is not None:
            self.events += 1
            try:
                self._on_event(event)
            except Exception:
                log.exception("user_event_handler_failed")
        return False

    async def _keepalive(self, ws: ClientConnection) -> None:
        """PUT the listenKey every keepalive_s; -1125 (key gone) ends the connection."""
        delay = self._keepalive_s
        while True:
            await asyncio.sleep(delay)
            try:
                await self._client.keepalive_listen_key()
            except ApiError as exc:
                if exc.code == _KEY_GONE_CODE:
                    log.info("listen_key_expired", source="keepalive")
                    self._key_gone = True
                    await ws.close()
                    return
                log.warning("listen_key_keepalive_failed", error=str(exc))
                delay = min(self._keepalive_s, 60.0)  # the key lives 60 min: retry sooner
                continue
            except Exception as exc:  # transport trouble: the key outlives one missed PUT
                log.warning("listen_key_keepalive_failed", error=f"{type(exc).__name__}: {exc}")
                delay = min(self._keepalive_s, 60.0)
                continue
            delay = self._keepalive_s
