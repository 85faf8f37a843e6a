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

`close()` (the fleet's stop) also DELETEs the listenKey, best-effort and bounded in time: the key
is a credential to the account's events, and left alone it stays valid for up to an hour after
the daemon is gone. Unless the account is shared (`delete_key` False): Binance gives every
client of an account the *same* key, so a shard by symbol that deleted it on its stop would cut
the user stream of every other shard running that account.

The connection itself (backoff, recycling, close racing the handshake) is the shared
`Reconnector`; this module says where to connect (a fresh listenKey each time) and what to do
with the events.

The listenKey is a bearer credential for the account's private events: it never appears in a log
line, including the reprs of connection errors, which can carry the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import structlog
from websockets.asyncio.client import ClientConnection

from rocky_bot.backoff import Backoff
from rocky_bot.exchange.errors import (
    ApiError,
    ExchangeError,
    MalformedReplyError,
    UnsupportedError,
)
from rocky_bot.exchange.user_events import parse_user_event
from rocky_bot.reconnect import LinkSettings, Outcome, Reconnector

__all__ = ["UserStream"]

log = structlog.get_logger()

#: HTTP statuses for "this exchange has no listenKey endpoint".
_UNAVAILABLE_STATUSES = frozenset({404, 405})
#: "This listenKey does not exist."
_KEY_GONE_CODE = -1125


class _Unavailable(Exception):
    """The exchange has no user data stream: `run()` returns, the account polls."""


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
        ping_interval_s: float | None = 20.0,
        delete_key: bool = True,
    ) -> None:
        self._client = client
        self._base = ws_base_url.rstrip("/")
        self._on_event = on_event
        self._on_reconnect = on_reconnect
        self._keepalive_s = keepalive_s
        self._close_timeout_s = close_timeout_s
        settings = LinkSettings(
            open_timeout_s=open_timeout_s, close_timeout_s=close_timeout_s,
            max_age_s=max_connection_age_s, stable_after_s=stable_after_s,
            backoff=Backoff(initial_s=backoff_initial_s, max_s=backoff_max_s),
            ping_interval_s=ping_interval_s,
        )  # fmt: skip
        self._link = Reconnector(
            "user_stream", settings, progress=lambda: self.events, rng=rng, clock=clock,
            scrub=self._scrub,
        )  # fmt: skip
        self._key: str | None = None  # the listenKey in use: a secret, never logged
        self._key_gone = False
        #: Delete the listenKey on close; False while another daemon shares the account's key.
        self.delete_key = delete_key
        self._unavailable_logged = False
        self.events = 0
        self.bad_messages = 0

    @property
    def connected(self) -> bool:
        return self._link.connection is not None

    async def close(self) -> None:
        """Stop: close the connection, then delete the listenKey (best-effort, bounded)."""
        await self._link.close()
        await self._delete_key()

    async def run(self) -> None:
        """Keep the stream connected until closed or cancelled; return at once if unavailable."""
        if self._client.capabilities.missing("user_stream"):
            self._unavailable("capability")
            return
        try:
            await self._link.run(self._dial, self._serve)
        except _Unavailable as exc:
            self._unavailable(str(exc))
            return
        if self._link.closed:
            await self._delete_key()  # a key that arrived after close() had deleted the last

    def _unavailable(self, reason: str) -> None:
        if not self._unavailable_logged:
            self._unavailable_logged = True
            log.warning("user_stream_unavailable", reason=reason, fallback="rest_polling")

    def _scrub(self, text: str) -> str:
        key = self._key
        return text.replace(key, "<listenKey>") if key else text

    async def _dial(self) -> str | None:
        """A fresh listenKey's URL (an active key comes back extended); None after a failure."""
        try:
            key = await self._client.new_listen_key()
        except UnsupportedError as exc:
            raise _Unavailable("capability") from exc
        except ApiError as exc:
            if exc.http_status in _UNAVAILABLE_STATUSES:
                raise _Unavailable(f"HTTP {exc.http_status}") from exc
            log.warning("listen_key_failed", error=str(exc))
            return None
        except ExchangeError as exc:
            log.warning("listen_key_failed", error=f"{type(exc).__name__}: {exc}")
            return None
        self._key = key
        return f"{self._base}/ws/{key}"

    async def _delete_key(self) -> None:
        key, self._key = self._key, None
        if key is None:
            return
        if not self.delete_key:
            log.info("listen_key_left", reason="shared with other shards; it expires by itself")
            return
        try:
            async with asyncio.timeout(self._close_timeout_s):
                await self._client.close_listen_key()
        except Exception as exc:  # best-effort: unanswered, refused, or the client closed already
            error = f"{type(exc).__name__}: {exc}".replace(key, "<listenKey>")
            log.warning("listen_key_close_failed", error=error)
        else:
            log.info("listen_key_closed")

    async def _serve(self, ws: ClientConnection) -> Outcome | None:
        """Re-snapshot over REST, then deliver events, keeping the key alive meanwhile."""
        self._key_gone = False
        keepalive = asyncio.create_task(self._keepalive(ws), name="listen-key-keepalive")
        try:
            try:
                await self._on_reconnect()
            except Exception:
                # The socket stays up: events keep flowing and the account's periodic reconcile
                # repairs what the snapshot missed.
                log.exception("user_stream_resync_failed")
            async for raw in ws:
                if self._handle(raw):
                    log.info("listen_key_expired", source="event")
                    return Outcome.PLANNED
            return Outcome.PLANNED if self._key_gone else None
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive

    def _handle(self, raw: str | bytes) -> bool:
        """Deliver one frame; True when it says the listenKey expired."""
        try:
            obj = json.loads(raw, parse_float=Decimal)  # numbers exact, as in REST replies
        except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth
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
