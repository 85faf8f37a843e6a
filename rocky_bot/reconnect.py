"""Keep one websocket open: dial, serve, reconnect with jittered backoff, recycle, close.

The market feed (feed/binance.py) and the user data stream (exchange/user_stream.py) each carried
a copy of this loop; this is the one both use. The caller says where to connect (`dial`, asked
again before every connection) and what to do with an open one (`serve`); the loop does the rest:

- **Backoff** from the one retry policy (`backoff.RECONNECT`, jittered): a connection that
  delivered something (`progress` moved) or lasted `stable_after_s` resets it.
- **Outcomes**: `GOOD` (useful, then closed: reconnect after a short delay), `FAILED` (nothing
  useful: the next delay grows), `PLANNED` (ended on purpose: at once, backoff reset).
- **Recycling** before `max_age_s` (Binance cuts every connection at 24 h): a planned close
  beats an unplanned drop.
- **Closing**: `close()` ends the loop at once, also while it waits between attempts, and a
  close that races a handshake still closes the socket the handshake opened.
- **Secrets**: URLs and errors pass through `scrub` before they reach a log line (a listenKey
  in the path is a bearer credential), and always lose any `user:password@` (a base URL from
  the keys file may carry one).

**Direct delivery** (`on_message`): a connection can hand each message to a plain function
from the socket's read callback, instead of queueing it for a task to `recv()`. The feed reads
hundreds of small frames a second, and each one queued cost a future, a task step and a second
trip through the event loop on top of the read that brought it (issue 14). Frames arrive in
order and are handed over in order; the connection's close is still seen by `serve`.

Why not websockets' `async for ws in connect(url)`: it dials one fixed URL (the user data
stream needs a fresh listenKey in each), it resets its backoff as soon as a handshake succeeds
(a server that accepts and at once closes would be redialled with no pause at all), and its
wait between attempts cannot be cut short by a stop. Each connection is still websockets'
`connect()`.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import partial

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidURI, WebSocketException
from websockets.frames import BINARY, CONT, TEXT, Frame

from rocky_bot.backoff import RECONNECT, Backoff
from rocky_bot.waits import wait_event

__all__ = ["DirectConnection", "LinkSettings", "Outcome", "Reconnector"]

log = structlog.get_logger()


class Outcome(Enum):
    """How one connection ended, which decides how soon to dial again."""

    GOOD = "good"  # it was useful: backoff resets
    FAILED = "failed"  # nothing useful came of it: the next delay grows
    PLANNED = "planned"  # we ended it on purpose (recycled, key expired): reconnect at once


@dataclass(frozen=True, slots=True)
class LinkSettings:
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    max_age_s: float = 23 * 3600  # Binance drops connections at 24 h
    #: A connection open this long counts as good even if it delivered nothing (None: never).
    stable_after_s: float | None = None
    backoff: Backoff = field(default=RECONNECT)
    #: websockets' keepalive ping (its default, 20 s); None leaves it to the server's pings.
    ping_interval_s: float | None = 20.0


def _as_is(text: str) -> str:
    return text


_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def _without_userinfo(text: str) -> str:
    """`ws://user:pw@host/...` → `ws://host/...`, wherever a URL appears in `text`."""
    return _USERINFO.sub("", text)


class DirectConnection(ClientConnection):
    """A client connection that hands each complete data message (the text's UTF-8 bytes, or
    the binary payload) to `on_message` from the read callback, through websockets'
    `create_connection` hook. Nothing is queued for `recv()`, so `serve`'s `async for` only
    waits for the close (and raises on an abnormal one, as before). A fragmented message is
    joined first; the protocol has already bounded its size (`max_size`)."""

    #: Messages one read may hand over before the connection lets the rest of the loop run.
    FAIR_SHARE = 16

    def __init__(self, *args: object, on_message: Callable[[bytes], None], **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.on_message = on_message
        self._parts: list[bytes] = []
        self._handed = 0

    def data_received(self, data: bytes) -> None:
        """As websockets' own, and fair under a flood: its queue paused reading once 16 frames
        waited, so the loop served other sockets between reads. After a read that carried more
        than `FAIR_SHARE` messages, reading pauses until the loop's next turn (without this, a
        tick flood starved the REST replies into timeouts)."""
        self._handed = 0
        super().data_received(data)
        if self._handed > self.FAIR_SHARE and not self.transport.is_closing():
            self.transport.pause_reading()
            self.loop.call_soon(self._resume)

    def _resume(self) -> None:
        if not self.transport.is_closing():
            self.transport.resume_reading()

    def process_event(self, event: object) -> None:
        if self.response is None or not isinstance(event, Frame):  # the handshake's reply
            return super().process_event(event)  # type: ignore[arg-type]
        opcode = event.opcode
        if opcode is TEXT or opcode is BINARY:
            data = event.data  # bytes, or a bytearray or memoryview of the read buffer
            if event.fin:
                self._handed += 1
                self.on_message(data if type(data) is bytes else bytes(data))
                return None
            self._parts = [bytes(data)]
        elif opcode is CONT:
            self._parts.append(bytes(event.data))
            if event.fin:
                data, self._parts = b"".join(self._parts), []
                self._handed += 1
                self.on_message(data)
        else:  # control frames: pongs acknowledge pings
            super().process_event(event)
        return None


class Reconnector:
    """One websocket kept open under `name` (the prefix of its log events)."""

    def __init__(
        self,
        name: str,
        settings: LinkSettings,
        *,
        progress: Callable[[], int],
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        scrub: Callable[[str], str] = _as_is,
    ) -> None:
        self.name = name
        self.settings = settings
        self.connection: ClientConnection | None = None
        self._progress = progress
        self._rng = rng
        self._clock = clock
        self._scrub = lambda text: _without_userinfo(scrub(text))
        self._closed = asyncio.Event()
        self._dropping: asyncio.Task[None] | None = None  # keeps a drop()'s close referenced

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def run(
        self,
        dial: Callable[[], Awaitable[str | None]],
        serve: Callable[[ClientConnection], Awaitable[Outcome | None]],
        *,
        on_message: Callable[[bytes], None] | None = None,
    ) -> None:
        """Connect to `await dial()` and `serve` each connection until `close()`.

        With `on_message`, every message goes to it as it is read (`DirectConnection`), from
        the first one after the handshake: set up what it needs in `dial`, not in `serve`.

        `dial` returning None means no URL this time (its failure is its own to log): the loop
        waits as after a failed connection. `serve` reads the connection until it ends and
        returns None (judge it by progress) or an `Outcome`. Exceptions from either propagate.
        """
        retry = self.settings.backoff.retrier(self._rng)
        while not self._closed.is_set():
            url = await dial()
            if self._closed.is_set():
                break
            factory = (
                None if on_message is None else partial(DirectConnection, on_message=on_message)
            )
            outcome = Outcome.FAILED if url is None else await self._connection(url, serve, factory)
            if self._closed.is_set():
                break
            if outcome is not Outcome.FAILED:
                retry.reset()
            if outcome is Outcome.PLANNED:
                continue
            delay = retry.next_delay()
            log.info(f"{self.name}_reconnect_scheduled", delay_s=round(delay, 3))
            await wait_event(self._closed, delay)

    async def close(self) -> None:
        """End `run()`: no new connection, the open one closed (its close handshake awaited)."""
        self._closed.set()
        ws = self.connection
        if ws is not None:
            await ws.close()

    def drop(self) -> None:
        """Close the open connection without waiting (a silent one): `run()` dials again."""
        ws = self.connection
        if ws is not None:
            self._dropping = asyncio.get_running_loop().create_task(ws.close())

    async def _connection(
        self,
        url: str,
        serve: Callable[[ClientConnection], Awaitable[Outcome | None]],
        factory: Callable[..., ClientConnection] | None,
    ) -> Outcome:
        s = self.settings
        before, opened, outcome = self._progress(), None, None
        try:
            # No permessage-deflate: inflating hundreds of small frames a second costs more CPU
            # than the bytes it saves.
            async with connect(
                url, open_timeout=s.open_timeout_s, close_timeout=s.close_timeout_s,
                compression=None, ping_interval=s.ping_interval_s,
                **({} if factory is None else {"create_connection": factory}),
            ) as ws:  # fmt: skip
                self.connection = ws
                if self._closed.is_set():  # close() raced the handshake
                    return Outcome.GOOD
                opened = self._clock()
                log.info(f"{self.name}_connected", url=self._scrub(url))
                try:
                    async with asyncio.timeout(s.max_age_s) as age:
                        outcome = await serve(ws)
                except TimeoutError:
                    if not age.expired():
                        raise
                    log.info(f"{self.name}_recycled", age_s=round(self._clock() - opened, 1))
                    return Outcome.PLANNED
                if self._closed.is_set():
                    log.info(f"{self.name}_closed")
                elif outcome is None:
                    log.warning(
                        f"{self.name}_disconnected", code=ws.close_code, reason=ws.close_reason
                    )
        except InvalidURI as exc:  # a configuration error: retrying cannot help
            raise InvalidURI(self._scrub(exc.uri), self._scrub(exc.msg)) from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            error = self._scrub(f"{type(exc).__name__}: {exc}")
            log.warning(f"{self.name}_disconnected", error=error)
        finally:
            self.connection = None
        return outcome or self._judge(before, opened)

    def _judge(self, progress_before: int, opened: float | None) -> Outcome:
        if self._progress() > progress_before:
            return Outcome.GOOD
        stable = self.settings.stable_after_s
        lasted = opened is not None and stable is not None and self._clock() - opened >= stable
        return Outcome.GOOD if lasted else Outcome.FAILED
