"""listenKeys and the user data websocket (ORDER_TRADE_UPDATE, ACCOUNT_UPDATE), as on Binance.

`UserData` is the engine's `EventSink`: the engine builds an account's payloads only while that
account has a socket open (`wants`), each payload is serialised once and queued to every socket
of the account; one sender task per socket writes it out, so the engine never waits on I/O.
Unlike market ticks, user events are never dropped silently: a socket that falls `QUEUE_LIMIT`
messages behind is closed (1008), and the client resyncs over REST as after any reconnect.

Lifecycle (Binance's): POST returns the account's key (the same one while it lives, extended),
PUT extends it by 60 minutes (-1125 if it is gone), DELETE ends it and its sockets; a key not
kept alive expires, its sockets get `listenKeyExpired` and are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import string
from collections import deque
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.routing import Route
from starlette.websockets import WebSocket, WebSocketDisconnect

from rocky_bot.sandbox.errors import SandboxError
from rocky_bot.sandbox.rest_gateway import Call, Endpoint, Gateway

log = structlog.get_logger()

LISTEN_KEY_TTL_MS = 60 * 60 * 1000
LISTEN_KEY_LENGTH = 64
QUEUE_LIMIT = 10_000
_GONE = (WebSocketDisconnect, OSError, RuntimeError)
_ALPHABET = string.ascii_letters + string.digits


def unknown_listen_key() -> SandboxError:
    return SandboxError(-1125, "This listenKey does not exist.")


@dataclass(slots=True)
class _Key:
    account: str
    expires_ms: int


class _Socket:
    __slots__ = ("close_code", "events", "key", "queue", "waiter", "websocket")

    def __init__(self, websocket: WebSocket, key: str, events: frozenset[str] | None) -> None:
        self.websocket = websocket
        self.key = key
        self.events = events  # None = every event type
        self.queue: deque[str] = deque()
        self.close_code: int | None = None
        self.waiter: asyncio.Future[None] | None = None

    def push(self, text: str) -> None:
        if len(self.queue) >= QUEUE_LIMIT:
            self.request_close(1008)
            return
        self.queue.append(text)
        self._wake()

    def request_close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
        self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def send_forever(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(*_GONE):
            while True:
                if self.queue:
                    await self.websocket.send_text(self.queue.popleft())
                elif self.close_code is not None:
                    await self.websocket.close(self.close_code)
                    return
                else:
                    self.waiter = loop.create_future()
                    await self.waiter


class UserData:
    """listenKeys per account and their sockets; implements the engine's `EventSink`."""

    def __init__(self, clock_ms: Any) -> None:
        self.clock_ms = clock_ms
        self._keys: dict[str, _Key] = {}
        self._key_of: dict[str, str] = {}  # account → its live key
        self._sockets: dict[str, set[_Socket]] = {}  # account → open sockets

    # -- EventSink --------------------------------------------------------------------
    def wants(self, account: str) -> bool:
        return account in self._sockets

    def emit(self, account: str, payload: dict[str, Any]) -> None:
        sockets = self._sockets.get(account)
        if not sockets:
            return
        text = json.dumps(payload, separators=(",", ":"))
        kind = payload.get("e")
        for sock in sockets:
            if sock.events is None or kind in sock.events:
                sock.push(text)

    # -- listenKey lifecycle ----------------------------------------------------------
    def create(self, account: str) -> str:
        key = self._key_of.get(account)
        if key is None:
            key = "".join(secrets.choice(_ALPHABET) for _ in range(LISTEN_KEY_LENGTH))
            self._key_of[account] = key
            self._keys[key] = _Key(account, 0)
        self._keys[key].expires_ms = self.clock_ms() + LISTEN_KEY_TTL_MS
        return key

    def keepalive(self, account: str, key: str | None) -> str:
        key = key or self._key_of.get(account)
        entry = self._keys.get(key) if key else None
        if key is None or entry is None or entry.account != account:
            raise unknown_listen_key()
        entry.expires_ms = self.clock_ms() + LISTEN_KEY_TTL_MS
        return key

    def delete(self, account: str, key: str | None) -> None:
        key = key or self._key_of.get(account)
        entry = self._keys.get(key) if key else None
        if key is None or entry is None or entry.account != account:
            raise unknown_listen_key()
        self._end(key, None)

    def account_of(self, key: str) -> str | None:
        entry = self._keys.get(key)
        return entry.account if entry is not None else None

    def expire(self, now_ms: int) -> int:
        """End keys not kept alive; their sockets get `listenKeyExpired`. Returns how many."""
        stale = [k for k, entry in self._keys.items() if entry.expires_ms <= now_ms]
        for key in stale:
            # Binance sends this event's time as a string, unlike every other event's.
            notice = {"e": "listenKeyExpired", "E": str(now_ms), "listenKey": key}
            self._end(key, json.dumps(notice, separators=(",", ":")))
        return len(stale)

    def _end(self, key: str, last_words: str | None) -> None:
        entry = self._keys.pop(key)
        if self._key_of.get(entry.account) == key:
            del self._key_of[entry.account]
        for sock in list(self._sockets.get(entry.account, ())):
            if sock.key == key:
                if last_words is not None:
                    sock.push(last_words)
                sock.request_close(1000)

    def close_all(self) -> None:
        for sockets in self._sockets.values():
            for sock in sockets:
                sock.request_close(1001)

    # -- websocket ----------------------------------------------------------------------
    async def handle(self, websocket: WebSocket, key: str, events: str | None = None) -> None:
        """Serve `/ws/<listenKey>` or `/private/ws?listenKey=` until either side closes."""
        account = self.account_of(key)
        if account is None:
            await websocket.close(code=1008)  # before accept: the handshake is refused
            return
        wanted = frozenset(e for e in events.replace("/", ",").split(",") if e) if events else None
        with contextlib.suppress(*_GONE):
            await websocket.accept()
        sock = _Socket(websocket, key, wanted or None)
        self._sockets.setdefault(account, set()).add(sock)
        sender = asyncio.create_task(sock.send_forever(), name="userdata_sender")
        log.info("user_stream_connected", account=account)
        receive: asyncio.Future[Any] | None = None
        try:
            while True:  # read until the client goes; anything it sends is ignored, as on Binance
                receive = asyncio.ensure_future(websocket.receive())
                await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
                if not receive.done() or receive.exception() is not None:
                    break
                if receive.result()["type"] == "websocket.disconnect":
                    break
        finally:
            if receive is not None and not receive.done():
                receive.cancel()
            sockets = self._sockets.get(account)
            if sockets is not None:
                sockets.discard(sock)
                if not sockets:
                    del self._sockets[account]
            sender.cancel()
            await asyncio.wait([sender])
            log.info("user_stream_gone", account=account)


def routes(gw: Gateway, users: UserData) -> list[Route]:
    """POST/PUT/DELETE /fapi/v1/listenKey: API key only, no signature (Binance's USER_STREAM)."""

    def create(call: Call) -> dict[str, str]:
        return {"listenKey": users.create(call.who)}

    def keepalive(call: Call) -> dict[str, str]:
        return {"listenKey": users.keepalive(call.who, call.opt("listenKey"))}

    def delete(call: Call) -> dict[str, str]:
        users.delete(call.who, call.opt("listenKey"))
        return {}

    return [
        gw.route(
            "/fapi/v1/listenKey",
            POST=Endpoint(create, "API_KEY"),
            PUT=Endpoint(keepalive, "API_KEY"),
            DELETE=Endpoint(delete, "API_KEY"),
        )
    ]
